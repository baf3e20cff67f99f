//! One app in the cluster panel: its "live in cluster" line, its running pods, the buttons that
//! act on it, what they answered, and its details.
//!
//! The buttons and what they send live in `act`, shared with each workload's row.

use leptos::prelude::*;

use super::act::{Act, ActionButton, Request};
use super::details::Details;
use super::format::{self, Offer};
use super::workload::WorkloadRow;
use super::Panel;
use crate::components::ui::{Badge, ErrorBox, Notice};
use crate::dto::{AppRef, ClusterApp, WorkloadRef};

#[component]
pub fn AppCard(panel: Panel, id: AppRef) -> impl IntoView {
    let AppRef { namespace, name } = id.clone();
    let app = Memo::new(move |_| {
        panel.latest.with(|s| {
            s.iter()
                .flat_map(|s| &s.apps)
                .find(|a| a.namespace == id.namespace && a.name == id.name)
                .cloned()
        })
    });
    let live = Memo::new(move |_| app.with(|a| a.as_ref().map(|a| a.live.clone())));
    let may_act = Memo::new(move |_| app.with(|a| a.as_ref().is_some_and(|a| a.may_act)));
    let pending = Memo::new(move |_| live.with(|l| l.as_ref().is_some_and(format::is_pending)));
    let grant_path = Memo::new(move |_| app.with(|a| a.as_ref().map(|a| a.grant_path.clone())));
    let act = Act::new(panel, namespace.clone(), name.clone());
    let now = panel.poll.now;
    let workloads = move || {
        app.with(|a| {
            a.iter()
                .flat_map(|a| &a.workloads)
                .map(|w| WorkloadRef::new(w.kind, w.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let no_workloads = move || app.with(|a| a.as_ref().is_some_and(|a| a.workloads.is_empty()));
    view! {
        <article class="py-4 last:pb-0" data-testid="cluster-app" data-app=format!("{namespace}/{name}")
            data-live-state=move || live.with(|l| l.as_ref().map_or("unknown", format::live_key))>
            <div class="flex flex-wrap items-center gap-2">
                <h3 class="font-medium">{name.clone()}</h3>
                <span class="text-sm text-slate-500">{format!("in the {namespace} environment")}</span>
                {move || live.with(|l| l.as_ref().map(|l| {
                    let (text, tone) = format::live_badge(l);
                    view! { <Badge text tone /> }
                }))}
            </div>
            <div class="mt-1 flex flex-wrap items-center gap-3 text-sm">
                // Follows the clock: listed in `format::clock_wording`.
                <p data-testid="live-line">
                    {move || live.with(|l| l.as_ref().map(|l| format::live_line(l, now.get())).unwrap_or_default())}
                </p>
                {move || (may_act.get() && pending.get()).then(|| view! {
                    <ActionButton act button="sync" label="Sync now" primary=true
                        on_click=move || act.run("sync".into(), Request::SyncNow) />
                })}
            </div>
            <h4 class="mt-3 text-sm font-medium text-slate-700">"Running pods"</h4>
            {move || no_workloads().then(|| view! {
                <p class="mt-1 text-sm text-slate-500">"No running app reads this secret."</p>
            })}
            <ul class="mt-1 space-y-1.5">
                <For each=workloads key=|k| k.clone() children=move |k| view! { <WorkloadRow app act id=k /> } />
            </ul>
            <RestartAll app act />
            {move || (!may_act.get()).then(|| view! {
                <p class="mt-2 text-sm text-slate-500" data-testid="may-not-act">
                    "You may not restart or sync this app. Ask your platform team for "
                    <code class="font-mono">"update"</code> " on "
                    <code class="font-mono">{grant_path.get().unwrap_or_default()}</code> "."
                </p>
            })}
            {move || act.outcome().map(|o| match o {
                Ok(message) => view! { <div class="mt-2"><Notice text=message /></div> }.into_any(),
                Err(e) => view! { <div class="mt-2"><ErrorBox error=e /></div> }.into_any(),
            })}
            <Details app now />
        </article>
    }
    .into_any()
}

/// "Restart all": more than one workload, none restarting, and the user may act.
#[component]
fn RestartAll(app: Memo<Option<ClusterApp>>, act: Act) -> impl IntoView {
    let offer = Memo::new(move |_| {
        app.with(|a| {
            a.as_ref()
                .filter(|a| a.may_act)
                .and_then(format::restart_all_offer)
        })
    });
    // Every workload refuses a restart: say so rather than send a request bound to fail.
    let refusal = Memo::new(move |_| {
        app.with(|a| {
            a.as_ref()
                .is_some_and(|a| a.workloads.iter().all(|w| w.restart_refusal.is_some()))
                .then(|| "None of these can be restarted from Keyway.".to_string())
        })
    });
    move || {
        offer.get().map(|o: Offer| {
            view! {
                <div class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                    <ActionButton act button="all" label=o.label_all() refusal=refusal.get()
                        on_click=move || act.run("all".into(), Request::Restart {
                            workload: None,
                            sync_first: o.sync_first(),
                        }) />
                    {refusal.get().map(|r| view! { <span class="text-slate-500">{r}</span> })}
                </div>
            }
        })
    }
}
