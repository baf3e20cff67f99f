//! Version history: who saved each version, what changed, compare any two, roll back, undelete,
//! and delete the latest version behind a typed confirmation.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::PageCtx;
use crate::api::versions::{delete_latest, diff, rollback, undelete, versions};
use crate::components::ui::{Badge, ErrorBox, Tone};
use crate::dto::{DiffKind, KeyDiff, SecretView, VersionRow};

/// A change the history tab makes to the secret.
#[derive(Clone, Copy)]
enum VersionChange {
    Rollback(u64),
    Undelete(u64),
}

/// Two versions being compared, and the answer.
type Comparison = (u64, u64, Result<Vec<KeyDiff>, crate::error::AppError>);

/// The History tab. Long because it is one view tree (the version list, the comparison and the
/// changes share the page context and one pending action).
#[component]
pub fn History(ctx: PageCtx, view: SecretView) -> impl IntoView {
    let list = Resource::new(
        move || (ctx.secret.get(), ctx.reload.get()),
        |(secret, _)| versions(secret),
    );
    let compare: RwSignal<Option<Comparison>> = RwSignal::new(None);
    let from = RwSignal::new(view.version.saturating_sub(1));
    let to = RwSignal::new(view.version);
    let current = view.version;
    let caps = StoredValue::new(view.caps.clone());
    let show_diff = move |a: u64, b: u64| {
        spawn_local(async move {
            let r = diff(ctx.secret_untracked(), a, b).await;
            compare.set(Some((a, b, r)));
        });
    };
    // One change at a time: a double click must not roll back twice. Both buttons are disabled
    // while either runs (`pending`).
    let change = Action::new(move |change: &VersionChange| {
        let change = *change;
        async move {
            match change {
                VersionChange::Rollback(v) => {
                    match rollback(ctx.secret_untracked(), v, current).await {
                        Ok(s) => ctx.done(format!(
                            "Rolled back: version {} has the data of version {v}.",
                            s.version
                        )),
                        Err(e) => ctx.fail(e),
                    }
                }
                VersionChange::Undelete(v) => match undelete(ctx.secret_untracked(), v).await {
                    Ok(()) => ctx.done(format!("Version {v} is restored.")),
                    Err(e) => ctx.fail(e),
                },
            }
        }
    });
    let busy = change.pending();
    let run = move |c: VersionChange| {
        if !busy.get_untracked() {
            change.dispatch(c);
        }
    };
    let do_rollback = move |v: u64| run(VersionChange::Rollback(v));
    let do_undelete = move |v: u64| run(VersionChange::Undelete(v));
    view! {
        <div class="mt-4 card" data-testid="history">
            <h2 class="font-semibold">"Versions"</h2>
            <Transition fallback=|| view! { <p class="mt-2 text-slate-500">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <div class="mt-2"><ErrorBox error=e /></div> }.into_any(),
                    Ok(rows) => {
                        let versions: Vec<u64> = rows.iter().map(|r| r.version).collect();
                        view! {
                            <table class="mt-2 w-full text-sm">
                                <thead><tr class="text-left text-slate-500"><th class="py-1">"Version"</th><th>"Saved"</th><th>"By"</th><th></th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|row| view! {
                                        <VersionLine row caps=caps.get_value() busy on_diff=show_diff on_rollback=do_rollback on_undelete=do_undelete />
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <div class="mt-4 flex flex-wrap items-center gap-2 text-sm">
                                <span>"Compare version"</span>
                                <VersionSelect versions=versions.clone() value=from />
                                <span>"with"</span>
                                <VersionSelect versions value=to />
                                <button type="button" class="btn-secondary" data-testid="compare"
                                    on:click=move |_| show_diff(from.get_untracked(), to.get_untracked())>"Compare"</button>
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
            {move || compare.get().map(|(a, b, r)| view! { <DiffView from=a to=b result=r /> })}
        </div>
        <DeleteLatest ctx view />
    }
    .into_any()
}

#[component]
fn VersionSelect(versions: Vec<u64>, value: RwSignal<u64>) -> impl IntoView {
    view! {
        <select class="input w-auto" on:change=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(0))>
            <option value="0" selected=move || value.get() == 0>"(empty)"</option>
            {versions.into_iter().map(|v| view! {
                <option value=v.to_string() selected=move || value.get() == v>{v}</option>
            }).collect_view()}
        </select>
    }
    .into_any()
}

#[component]
fn VersionLine(
    row: VersionRow,
    caps: crate::dto::Caps,
    busy: Memo<bool>,
    on_diff: impl Fn(u64, u64) + Copy + Send + Sync + 'static,
    on_rollback: impl Fn(u64) + Copy + Send + Sync + 'static,
    on_undelete: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let v = row.version;
    let readable = !row.deleted && !row.destroyed;
    let compare_with = row.compare_with;
    view! {
        <tr class="border-t border-slate-100" data-testid=format!("version-{v}")>
            <td class="py-2 font-medium">
                {v} " "
                {row.current.then(|| view! { <Badge text="current" tone=Tone::Good /> })}
                {row.deleted.then(|| view! { <Badge text="deleted" tone=Tone::Bad /> })}
                {row.destroyed.then(|| view! { <Badge text="destroyed" tone=Tone::Bad /> })}
            </td>
            <td>{super::short_time(&row.created_time)}</td>
            <td>{row.author.clone().unwrap_or_else(|| "changed outside Keyway".into())}</td>
            <td class="text-right whitespace-nowrap">
                {readable.then(|| view! {
                    <button type="button" class="btn-link" on:click=move |_| on_diff(compare_with, v)>"Changes"</button>
                })}
                {(readable && !row.current && caps.update).then(|| view! {
                    <button type="button" class="btn-link ml-3" data-testid="rollback" disabled=move || busy.get() on:click=move |_| on_rollback(v)>"Roll back to this"</button>
                })}
                {(row.deleted && !row.destroyed && caps.undelete).then(|| view! {
                    <button type="button" class="btn-link ml-3" data-testid="undelete" disabled=move || busy.get() on:click=move |_| on_undelete(v)>"Undelete"</button>
                })}
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn DiffView(
    from: u64,
    to: u64,
    result: Result<Vec<KeyDiff>, crate::error::AppError>,
) -> impl IntoView {
    let title = if from == 0 {
        format!("Keys of version {to}")
    } else {
        format!("Version {from} → version {to}")
    };
    view! {
        <div class="mt-4 rounded border border-slate-200 p-3" data-testid="diff">
            <h3 class="text-sm font-semibold">{title}</h3>
            {match result {
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                Ok(items) => view! {
                    <ul class="mt-2 text-sm">
                        {items.into_iter().map(|d| {
                            let (label, class) = match d.kind {
                                DiffKind::Added => ("added", "text-emerald-700"),
                                DiffKind::Changed => ("changed", "text-amber-700"),
                                DiffKind::Removed => ("removed", "text-red-700"),
                                DiffKind::Same => ("unchanged", "text-slate-400"),
                            };
                            view! { <li><span class=format!("inline-block w-24 {class}")>{label}</span><span class="font-mono">{d.key}</span></li> }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
    .into_any()
}

#[component]
fn DeleteLatest(ctx: PageCtx, view: SecretView) -> impl IntoView {
    if view.version == 0 || view.deleted || !view.caps.delete {
        return ().into_any();
    }
    let typed = RwSignal::new(String::new());
    let path = view.secret.path.clone();
    let version = view.version;
    let matches = {
        let path = path.clone();
        move || typed.get().trim() == path
    };
    let delete = Action::new(move |confirmation: &String| {
        let confirmation = confirmation.clone();
        async move {
            match delete_latest(ctx.secret_untracked(), version, confirmation).await {
                Ok(()) => ctx.done(format!("Version {version} is deleted. Undelete it from the History tab if this was a mistake.")),
                Err(e) => ctx.fail(e),
            }
        }
    });
    let deleting = delete.pending();
    let run = move |_| {
        if !deleting.get_untracked() {
            delete.dispatch(typed.get_untracked());
        }
    };
    view! {
        <details class="mt-4 card border-red-200" data-testid="delete-latest">
            <summary class="cursor-pointer font-semibold text-red-700">{format!("Delete version {version}")}</summary>
            <p class="mt-2 text-sm text-slate-700">
                "Apps that sync this secret will lose its values: the cluster's copy is emptied when the latest version is deleted, and apps restarted after that start without them. The data stays recoverable with Undelete."
            </p>
            <label class="field mt-3">
                <span>"Type " <b class="font-mono">{path.clone()}</b> " to confirm"</span>
                <input class="input" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) data-testid="delete-confirm" />
            </label>
            <button type="button" class="btn-danger mt-3" disabled=move || !matches() || deleting.get() on:click=run data-testid="delete">"Delete the latest version"</button>
        </details>
    }
    .into_any()
}
