//! One workload's row under "Running pods": how many pods are ready, whether they use the newest
//! values, a rollout's progress, and its restart button.

use leptos::prelude::*;

use super::act::{Act, ActionButton, Request};
use super::format;
use crate::components::ui::Badge;
use crate::dto::{ClusterApp, PodsState, WorkloadRef};

#[component]
pub fn WorkloadRow(app: Memo<Option<ClusterApp>>, act: Act, id: WorkloadRef) -> impl IntoView {
    let WorkloadRef { kind, name } = id.clone();
    let workload = Memo::new(move |_| {
        app.with(|a| {
            a.iter()
                .flat_map(|a| &a.workloads)
                .find(|w| w.kind == id.kind && w.name == id.name)
                .cloned()
        })
    });
    let pods = Memo::new(move |_| workload.with(|w| w.as_ref().map(|w| w.pods.clone())));
    let offer = Memo::new(move |_| {
        app.with(|a| {
            let a = a.as_ref().filter(|a| a.may_act)?;
            let w = workload.with(|w| w.clone())?;
            format::restart_offer(format::is_pending(&a.live), &w)
        })
    });
    let refusal =
        Memo::new(move |_| workload.with(|w| w.as_ref().and_then(|w| w.restart_refusal.clone())));
    let now = act.now();
    let button = StoredValue::new(format!("workload:{kind}/{name}"));
    let kind = StoredValue::new(kind);
    let target = StoredValue::new(name.clone());
    let hook = name.clone();
    view! {
        <li class="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="workload" data-workload=hook
            data-pods-state=move || pods.with(|p| p.as_ref().map_or("up_to_date", format::pods_key))>
            <span class="font-medium">{name}</span>
            <span class="text-slate-500" data-testid="ready">
                {move || workload.with(|w| w.as_ref().map(format::ready).unwrap_or_default())}
            </span>
            {move || pods.with(|p| p.as_ref().map(|p| {
                let (text, tone) = format::pods_badge(p);
                view! { <Badge text tone /> }
            }))}
            // Follows the clock: listed in `format::clock_wording`.
            {move || pods.with(|p| p.as_ref().and_then(|p| format::pods_detail(p, now.get())))
                .map(|d| view! { <span class="text-slate-600">{d}</span> })}
            {move || pods.with(|p| match p {
                Some(PodsState::Restarting { updated, total, .. }) => Some(view! {
                    <progress class="h-2 w-32 accent-indigo-600" max=(*total).max(1) value=*updated
                        title=format!("{updated} of {total} pods updated") aria-label="Pods with the newest values"></progress>
                }),
                _ => None,
            })}
            {move || offer.get().map(|o| {
                view! {
                    <ActionButton act button=button.get_value() label=o.label() refusal=refusal.get()
                        on_click=move || act.run(button.get_value(), Request::Restart {
                            workload: Some(WorkloadRef::new(kind.get_value(), target.get_value())),
                            sync_first: o.sync_first(),
                        }) />
                    {refusal.get().map(|r| view! { <span class="text-slate-500" data-testid="restart-refusal">{r}</span> })}
                }
            })}
        </li>
    }
    .into_any()
}
