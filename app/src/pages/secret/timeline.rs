//! The Timeline tab: per app, the secret's last versions, each with its way into the cluster:
//! written (by whom, through Keyway or outside it), live in the cluster, restarted (by whom), pods
//! up to date, and the time between the steps as the server put it into words. A wasm chunk of
//! its own (`timeline_tab` in `mod.rs`): few people open it.
//!
//! Steps arrive as the cluster takes them; **Refresh** (`timeline-refresh`) asks again.
//!
//! Stable hooks for tests: `timeline`, `timeline-refresh`, `timeline-app` (`data-app` = `namespace/name`, empty for
//! the writes alone), `timeline-version` (`data-version`), `step-written` (`data-by`: `keyway` or
//! `outside`), `step-live`, `step-restarted` (`data-by`: `keyway`, `reloader`, `vso`,
//! `outside`; `data-workload`), `step-running` (`data-workload`), `timeline-summary`.

use leptos::prelude::*;

use super::{short_time, PageCtx};
use crate::api::versions::timeline;
use crate::components::ui::ErrorBox;
use crate::dto::{AppTimeline, RestartedBy, VersionSteps, WrittenBy};

#[component]
pub fn Timeline(ctx: PageCtx) -> impl IntoView {
    let again = RwSignal::new(0u32);
    let data = Resource::new(
        move || (ctx.secret.get(), ctx.reload.get(), again.get()),
        |(secret, _, _)| timeline(secret),
    );
    view! {
        <div class="mt-4 space-y-4" data-testid="timeline">
            <div class="flex justify-end">
                <button type="button" class="btn-secondary" data-testid="timeline-refresh"
                    on:click=move |_| again.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    Ok(t) => view! {
                        {t.note.map(|n| view! { <p class="text-sm text-slate-500" data-testid="timeline-note">{n}</p> })}
                        {t.apps.into_iter().map(|a| view! { <AppSteps t=a /> }).collect_view()}
                    }
                    .into_any(),
                })}
            </Transition>
        </div>
    }
    .into_any()
}

#[component]
fn AppSteps(t: AppTimeline) -> impl IntoView {
    let id = t.app.as_ref().map(|a| a.to_string()).unwrap_or_default();
    let title = match &t.app {
        Some(a) => format!("App {} in {}", a.name, a.namespace),
        None => "Versions".to_string(),
    };
    let empty = t.versions.is_empty();
    view! {
        <section class="card" data-testid="timeline-app" data-app=id>
            <h2 class="font-semibold">{title}</h2>
            {empty.then(|| view! { <p class="mt-2 text-sm text-slate-500">"No versions yet."</p> })}
            <ol class="mt-2 space-y-3">
                {t.versions.into_iter().map(|v| view! { <VersionItem v /> }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

fn restarted_by_key(by: &RestartedBy) -> &'static str {
    match by {
        RestartedBy::Keyway { .. } => "keyway",
        RestartedBy::Reloader => "reloader",
        RestartedBy::Vso => "vso",
        RestartedBy::Outside => "outside",
    }
}

#[component]
fn VersionItem(v: VersionSteps) -> impl IntoView {
    let when = |t: &Option<String>| t.as_deref().map(short_time).unwrap_or_default();
    let (by_key, by_words) = match &v.written.by {
        WrittenBy::Keyway { user } => ("keyway", format!("by {user}")),
        WrittenBy::Outside => ("outside", "outside Keyway".to_string()),
    };
    view! {
        <li class="border-t border-slate-100 pt-2" data-testid="timeline-version" data-version=v.version>
            <div class="font-medium">"Version " {v.version}</div>
            <ul class="mt-1 text-sm text-slate-700">
                <li data-testid="step-written" data-by=by_key>
                    "Written " {when(&v.written.at)} " " {by_words}
                </li>
                {v.live.as_ref().map(|t| view! {
                    <li data-testid="step-live">"Live in the cluster " {short_time(t)}</li>
                })}
                {v.restarts.iter().map(|r| view! {
                    <li data-testid="step-restarted" data-by=restarted_by_key(&r.by) data-workload=r.workload.name.clone()>
                        "Restarted " <span class="font-mono">{r.workload.name.clone()}</span>
                        " by " {r.by.words()} ", " {short_time(&r.at)}
                    </li>
                }).collect_view()}
                {v.running.iter().map(|r| view! {
                    <li data-testid="step-running" data-workload=r.workload.name.clone()>
                        "Pods of " <span class="font-mono">{r.workload.name.clone()}</span>
                        " up to date " {short_time(&r.at)}
                    </li>
                }).collect_view()}
            </ul>
            {(!v.summary.is_empty()).then(|| view! {
                <p class="mt-1 text-sm text-slate-500" data-testid="timeline-summary">{v.summary.clone()}</p>
            })}
        </li>
    }
    .into_any()
}
