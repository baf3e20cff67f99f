//! The read view: key names with masked values; reveal one or all, copy without showing, export.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{PageCtx, Tab};
use crate::api::secrets::{export_env, reveal};
use crate::dto::{RevealPurpose, SecretView};
use crate::error::AppError;

pub const MASK: &str = "••••••••";

/// The Keys tab. Long because it is one view tree (the table, reveal, copy and export share
/// the revealed values); its rules live in `logic` and `api`.
#[component]
pub fn KeysView(ctx: PageCtx, view: SecretView) -> impl IntoView {
    let revealed: RwSignal<BTreeMap<String, String>> = RwSignal::new(BTreeMap::new());
    super::hide::hide_when_idle(revealed);
    let version = view.version;
    let can_edit = view.caps.can_write(view.version > 0) && !view.destroyed && !view.deleted;
    let can_read = view.caps.read;
    let fetch = move |keys: Vec<String>, purpose: RevealPurpose| {
        spawn_local(async move {
            match reveal(ctx.secret_untracked(), version, keys, purpose).await {
                Ok(r) => match purpose {
                    RevealPurpose::Copy => {
                        if let Some(v) = r.values.values().next() {
                            if crate::browser::copy_to_clipboard(v).await {
                                ctx.notice.set(Some("Copied to the clipboard.".into()));
                            } else {
                                ctx.fail(AppError::Invalid(
                                    "The browser did not allow copying. Use Reveal and copy the value by hand.".into(),
                                ));
                            }
                        }
                    }
                    _ => revealed.update(|m| m.extend(r.values)),
                },
                Err(e) => ctx.fail(e),
            }
        })
    };
    let export = move |_| {
        spawn_local(async move {
            let secret = ctx.secret_untracked();
            match export_env(secret.clone(), version).await {
                Ok(text) => {
                    let name = format!("{}.env", secret.path.replace('/', "-"));
                    crate::browser::download(&name, &text);
                }
                Err(e) => ctx.fail(e),
            }
        })
    };
    let keys = view.keys.clone();
    let empty = keys.is_empty();
    let edit_reason = if can_edit {
        None
    } else if view.destroyed {
        Some("This version was destroyed; roll back to an older version to edit.")
    } else if view.deleted {
        Some("The latest version is deleted: undelete it or roll back before editing.")
    } else {
        Some("Your Vault policies let you read this secret but not change it.")
    };
    view! {
        <div class="mt-4 card">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 class="font-semibold">"Keys"</h2>
                <div class="flex flex-wrap gap-2">
                    <button type="button" class="btn-secondary" disabled=!can_read || empty
                        on:click=move |_| fetch(Vec::new(), RevealPurpose::Show) data-testid="reveal-all">"Reveal all"</button>
                    <button type="button" class="btn-secondary" disabled=!can_read || empty on:click=export data-testid="export">"Export .env"</button>
                    <button type="button" class="btn-primary" disabled=!can_edit
                        title=edit_reason.unwrap_or("")
                        on:click=move |_| { ctx.notice.set(None); ctx.tab.set(Tab::Edit) } data-testid="edit">"Edit"</button>
                </div>
            </div>
            {edit_reason.map(|r| view! { <p class="mt-2 text-sm text-slate-500" data-testid="edit-reason">{r}</p> })}
            <Show when=move || revealed.with(|m| !m.is_empty())>
                <p class="mt-2 text-sm text-slate-500" data-testid="hide-note">
                    {format!("Shown values hide again after {} minutes without input.", super::hide::HIDE_AFTER_SECS / 60)}
                </p>
            </Show>
            {view.deleted.then(|| view! {
                <p class="mt-3 text-sm text-amber-800">
                    "The latest version is deleted, so apps syncing it have no values. Undelete it or roll back from the History tab."
                </p>
            })}
            {(empty && !view.deleted).then(|| view! { <p class="mt-3 text-sm text-slate-500">"No keys yet."</p> })}
            <table class="mt-3 w-full text-sm">
                <tbody>
                    {keys
                        .into_iter()
                        .map(|k| {
                            let key = StoredValue::new(k.clone());
                            let shown = move || revealed.with(|m| m.get(&key.get_value()).cloned());
                            view! {
                                <tr class="border-t border-slate-100 align-top" data-testid=format!("key-{k}")>
                                    <td class="py-2 pr-4 font-mono font-medium">{k.clone()}</td>
                                    <td class="py-2 pr-4 font-mono break-all whitespace-pre-wrap" data-testid="value">
                                        {move || shown().unwrap_or_else(|| MASK.to_string())}
                                    </td>
                                    <td class="py-2 text-right whitespace-nowrap">
                                        <button type="button" class="btn-link" disabled=!can_read
                                            on:click=move |_| {
                                                if shown().is_some() {
                                                    revealed.update(|m| { m.remove(&key.get_value()); });
                                                } else {
                                                    fetch(vec![key.get_value()], RevealPurpose::Show);
                                                }
                                            }>
                                            {move || if shown().is_some() { "Hide" } else { "Reveal" }}
                                        </button>
                                        <button type="button" class="btn-link ml-2" disabled=!can_read
                                            on:click=move |_| fetch(vec![key.get_value()], RevealPurpose::Copy)>"Copy"</button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
