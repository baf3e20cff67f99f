//! An app's collapsed "Details": the one place the panel names Kubernetes objects (namespace,
//! VaultStaticSecret, Secret, workload kinds), with the operator's own conditions, events and
//! failure text, for the developer or platform engineer who wants to look underneath.
//!
//! The `<details>` element stays in place across refreshes (only its content is rebuilt), so it
//! stays open while the panel polls. Few people open it: its content is a wasm chunk of its own
//! (`#[lazy]`), fetched the first time it opens, and the server does not render it.

use leptos::prelude::*;

use super::format::ago;
use crate::dto::{ClusterApp, ClusterCondition, ClusterEvent, LiveState};
use crate::pages::on_first_open;

#[component]
pub fn Details(app: Memo<Option<ClusterApp>>, now: RwSignal<i64>) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="mt-3 text-sm" data-testid="cluster-details" on:toggle=move |_| opened.set(true)>
            <summary class="cursor-pointer text-slate-600">"Details"</summary>
            {move || opened.get().then(|| on_first_open(details_body(app, now)))}
        </details>
    }
    .into_any()
}

/// What "Details" shows, kept current while the panel polls.
#[lazy]
fn details_body(app: Memo<Option<ClusterApp>>, now: RwSignal<i64>) -> AnyView {
    (move || app.with(|a| a.as_ref().map(|a| body(a, now)))).into_any()
}

/// A time as a live age.
fn age(now: RwSignal<i64>, at: i64) -> impl IntoView {
    move || ago(now.get(), at)
}

fn body(app: &ClusterApp, now: RwSignal<i64>) -> AnyView {
    let d = &app.details;
    let workloads = app
        .workloads
        .iter()
        .map(|w| format!("{} {}", w.kind, w.name))
        .collect::<Vec<_>>()
        .join(", ");
    let failing = match &app.live {
        LiveState::Failing { detail, .. } => Some(detail.clone()),
        _ => None,
    };
    let changed = d.secret_changed;
    view! {
        <div class="mt-2 space-y-3 rounded border border-slate-200 bg-slate-50 p-3">
            <dl class="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
                <dt class="text-slate-500">"Namespace"</dt>
                <dd class="font-mono">{app.namespace.clone()}</dd>
                <dt class="text-slate-500">"VaultStaticSecret"</dt>
                <dd class="font-mono">{app.name.clone()}</dd>
                <dt class="text-slate-500">"Secret"</dt>
                <dd class="font-mono">{d.secret.clone()}</dd>
                <dt class="text-slate-500">"refreshAfter"</dt>
                <dd class="font-mono">{d.refresh_after.clone().unwrap_or_else(|| "not set".into())}</dd>
                <dt class="text-slate-500">"Synced version"</dt>
                <dd>{d.synced_version.map_or_else(|| "none".to_string(), |v| v.to_string())}</dd>
                <dt class="text-slate-500">"Secret last changed"</dt>
                <dd>{changed.map_or_else(|| "unknown".into_any(), |t| age(now, t).into_any())}</dd>
                <dt class="text-slate-500">"Workloads"</dt>
                <dd class="font-mono">{if workloads.is_empty() { "none".to_string() } else { workloads }}</dd>
            </dl>
            {failing.map(|detail| view! {
                <div data-testid="failing-detail">
                    <h5 class="font-medium">"What the operator reports"</h5>
                    <p class="mt-1 font-mono text-xs break-all whitespace-pre-wrap text-red-800">{detail}</p>
                </div>
            })}
            <Conditions rows=d.conditions.clone() now />
            <Events rows=d.events.clone() now />
        </div>
    }
    .into_any()
}

#[component]
fn Conditions(rows: Vec<ClusterCondition>, now: RwSignal<i64>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="text-slate-500">"No conditions reported."</p> }.into_any();
    }
    view! {
        <div>
            <h5 class="font-medium">"Conditions"</h5>
            <table class="mt-1 w-full text-xs">
                <thead>
                    <tr class="text-left text-slate-500">
                        <th class="py-1 pr-3">"Type"</th><th class="pr-3">"Status"</th><th class="pr-3">"Reason"</th>
                        <th class="pr-3">"Message"</th><th>"Changed"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|c| view! {
                        <tr class="border-t border-slate-200 align-top">
                            <td class="py-1 pr-3 font-mono">{c.kind}</td>
                            <td class="pr-3">{c.status}</td>
                            <td class="pr-3">{c.reason}</td>
                            <td class="pr-3 break-all">{c.message}</td>
                            <td class="whitespace-nowrap">{age(now, c.at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn Events(rows: Vec<ClusterEvent>, now: RwSignal<i64>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="text-slate-500">"No recent events."</p> }.into_any();
    }
    view! {
        <div>
            <h5 class="font-medium">"Recent events"</h5>
            <ul class="mt-1 space-y-1 text-xs">
                {rows.into_iter().map(|e| {
                    let (class, kind) = if e.warning {
                        ("rounded bg-amber-100 px-2 py-1 text-amber-900", "Warning")
                    } else {
                        ("px-2 py-1 text-slate-700", "Normal")
                    };
                    view! {
                        <li class=class data-testid="cluster-event" data-warning=e.warning.to_string()>
                            <span class="font-medium">{kind} " " {e.reason}</span>
                            " " {e.message} " "
                            <span class="text-slate-500">"(" {age(now, e.at)} ")"</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}
