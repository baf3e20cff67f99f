//! The audit history (`/audit`): who changed what, when, and how it ended, for whoever Vault lets
//! see it. Every filter is in the URL (a link reproduces the view; key names and people's names
//! only, never a value); pages go back in time by row number (keyset), newest first; the export
//! links download the whole filtered set with the same visibility. The banner says whether the
//! chain of rows is whole, as last verified, and whether signed checkpoints are on.

use leptos::prelude::*;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::audit::audit_history;
use crate::components::ui::{Badge, ErrorBox, Tone};
use crate::dto::{AuditFormat, AuditPage, AuditQuery, AuditRange, AuditRow};
use crate::error::AppError;
use crate::links::{audit_export_href, audit_href, secret_href, AUDIT};
use crate::pages::secret::short_time;

/// `/audit`: a lazy route (its code is a wasm chunk of its own).
pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        AuditRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Audit /> }.into_any()
    }
}

fn outcome_tone(outcome: &str) -> Tone {
    match outcome {
        "ok" => Tone::Good,
        "denied" | "error" => Tone::Bad,
        "conflict" | "pending" => Tone::Warn,
        _ => Tone::Neutral,
    }
}

#[component]
fn Audit() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let keys = [
            "range", "from", "to", "actor", "action", "env", "app", "key", "outcome", "before",
        ];
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for k in keys {
            for v in p.get_all(k).unwrap_or_default() {
                pairs.push((k, v));
            }
        }
        AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
    });
    let page = Resource::new(move || query.get(), audit_history);
    view! {
        <h1 class="text-2xl font-semibold">"Audit log"</h1>
        <p class="mt-1 text-slate-600">"Who did what, when, and how it ended. Values are never recorded: only key names and versions."</p>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4" data-testid="audit-error"><ErrorBox error=e /></div> }.into_any(),
                Ok(p) => view! { <AuditView page=p query=query.get_untracked() /> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn AuditView(page: AuditPage, query: AuditQuery) -> impl IntoView {
    let q = query.clone();
    let verified = page.verified.clone();
    let older = page.older.map(|before| {
        audit_href(&AuditQuery {
            before: Some(before),
            ..query.clone()
        })
    });
    let newest = query.before.is_some().then(|| {
        audit_href(&AuditQuery {
            before: None,
            ..query.clone()
        })
    });
    view! {
        <section class="mt-4 card text-sm" aria-label="Integrity" data-testid="audit-integrity">
            {verified.map(|v| {
                let tone = if v.whole { Tone::Good } else { Tone::Bad };
                let label = if v.whole { "Verified" } else { "Not verified" };
                view! {
                    <p data-testid="audit-verified" data-whole=v.whole.to_string()>
                        <Badge text=label tone=tone />" "{v.sentence.clone()}
                        <span class="text-slate-500">{format!(" (checked {})", short_time(&v.checked_at))}</span>
                    </p>
                }
            })}
            <p class="mt-1 text-slate-600" data-testid="audit-checkpoints">{page.checkpoints.clone()}</p>
            <p class="mt-1 text-slate-600" data-testid="audit-reach">{page.reach.clone()}</p>
        </section>
        <Form method="GET" action=AUDIT attr:role="search" attr:class="mt-4 card grid gap-3 sm:grid-cols-3">
            <label class="field">
                <span>"When"</span>
                <select name="range" class="input" data-testid="audit-range">
                    {AuditRange::ALL.iter().map(|r| view! {
                        <option value=r.as_str() selected=q.range == *r>{r.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"From (UTC, with “From … to …”)"</span>
                <input type="datetime-local" name="from" class="input" value=q.from.clone().unwrap_or_default() data-testid="audit-from" />
            </label>
            <label class="field">
                <span>"To (UTC)"</span>
                <input type="datetime-local" name="to" class="input" value=q.to.clone().unwrap_or_default() data-testid="audit-to" />
            </label>
            <label class="field">
                <span>"Who (Vault name)"</span>
                <input type="search" name="actor" class="input" autocomplete="off" value=q.actor.clone().unwrap_or_default() data-testid="audit-actor" />
            </label>
            <label class="field">
                <span>"Environment"</span>
                <select name="env" class="input" data-testid="audit-env">
                    <option value="" selected=q.environment.is_none()>"All"</option>
                    {page.environments.iter().map(|e| {
                        let selected = q.environment.as_deref() == Some(e.as_str());
                        view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"App"</span>
                <input type="search" name="app" class="input" autocomplete="off" value=q.app.clone().unwrap_or_default() data-testid="audit-app" />
            </label>
            <label class="field">
                <span>"Key name"</span>
                <input type="search" name="key" class="input" autocomplete="off" value=q.key.clone().unwrap_or_default() data-testid="audit-key" />
            </label>
            <fieldset class="field sm:col-span-2">
                <legend class="text-sm font-medium text-slate-700">"Action"</legend>
                <div class="flex flex-wrap gap-x-4 gap-y-1 text-sm">
                    {page.actions.iter().map(|a| {
                        let checked = q.actions.contains(&a.value);
                        view! {
                            <label class="inline-flex items-center gap-1">
                                <input type="checkbox" name="action" value=a.value.clone() checked=checked data-testid=format!("audit-action-{}", a.value) />
                                {a.label.clone()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <fieldset class="field">
                <legend class="text-sm font-medium text-slate-700">"Outcome"</legend>
                <div class="flex flex-wrap gap-x-4 gap-y-1 text-sm">
                    {page.outcomes.iter().map(|o| {
                        let checked = q.outcomes.contains(&o.value);
                        view! {
                            <label class="inline-flex items-center gap-1">
                                <input type="checkbox" name="outcome" value=o.value.clone() checked=checked data-testid=format!("audit-outcome-{}", o.value) />
                                {o.label.clone()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="flex items-end gap-3 sm:col-span-3">
                <button type="submit" class="btn-primary" data-testid="audit-filter">"Show"</button>
                <A href=AUDIT attr:class="btn-link">"Reset"</A>
                <span class="grow"></span>
                <a href=audit_export_href(&query, AuditFormat::Csv) download="keyway-audit.csv" class="btn-secondary" data-testid="audit-export-csv">"Export CSV"</a>
                <a href=audit_export_href(&query, AuditFormat::JsonLines) download="keyway-audit.jsonl" class="btn-secondary" data-testid="audit-export-jsonl">"Export JSON lines"</a>
            </div>
        </Form>
        <p class="mt-3 text-sm text-slate-600" data-testid="audit-range-shown">{page.range.clone()}</p>
        {if page.rows.is_empty() {
            let text = if page.older.is_some() {
                "No row you may see among the rows read so far; “Older” reads further back."
            } else {
                "No row matches these filters."
            };
            view! { <p class="mt-4 text-slate-600" data-testid="audit-empty">{text}</p> }.into_any()
        } else {
            view! {
                <div class="mt-2 overflow-x-auto">
                    <table class="w-full text-sm" data-testid="audit-rows">
                        <thead>
                            <tr class="text-left text-slate-500">
                                <th class="py-1 pr-2">"#"</th><th class="pr-2">"When"</th><th class="pr-2">"Who"</th><th class="pr-2">"Action"</th>
                                <th class="pr-2">"Where"</th><th class="pr-2">"Versions"</th><th class="pr-2">"Keys"</th><th class="pr-2">"Outcome"</th><th>"Request"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.rows.into_iter().map(|r| view! { <Row row=r /> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <div class="mt-3 flex items-center gap-3 text-sm">
            {newest.map(|href| view! { <A href=href attr:class="btn-link">"Newest"</A> })}
            {older.map(|href| view! { <A href=href attr:class="btn-link" attr:data-testid="audit-older">"Older"</A> })}
        </div>
    }
    .into_any()
}

fn versions(r: &AuditRow) -> String {
    match (r.version_before, r.version_after) {
        (Some(b), Some(a)) if a != b => format!("v{b} → v{a}"),
        (Some(b), Some(_)) | (Some(b), None) => format!("v{b}"),
        (None, Some(a)) => format!("→ v{a}"),
        (None, None) => String::new(),
    }
}

#[component]
fn Row(row: AuditRow) -> impl IntoView {
    let r = row;
    let versions = versions(&r);
    let keys = [
        ("+", r.keys_added.clone(), "text-emerald-700"),
        ("~", r.keys_changed.clone(), "text-amber-700"),
        ("−", r.keys_removed.clone(), "text-red-700"),
    ];
    let entity = (!r.actor_entity.is_empty()).then(|| format!("Vault entity {}", r.actor_entity));
    let place = [r.environment.clone(), r.app.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
    let request = [
        r.request_id.clone().map(|id| format!("Keyway {id}")),
        r.vault_request_id.clone().map(|id| format!("Vault {id}")),
        r.client_addr.clone().map(|a| format!("from {a}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    let outcome_label = if r.outcome == "pending" {
        "no outcome".to_owned()
    } else {
        r.outcome.clone()
    };
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid="audit-row" data-seq=r.seq.to_string() data-action=r.action.clone() data-actor=r.actor.clone()>
            <td class="py-1 pr-2 text-slate-500">{r.seq}</td>
            <td class="pr-2 whitespace-nowrap">{short_time(&r.at)}</td>
            <td class="pr-2" title=entity>{r.actor.clone()}</td>
            <td class="pr-2">{r.action_label.clone()}</td>
            <td class="pr-2">
                <div>{place}</div>
                {r.secret.clone().map(|s| view! {
                    <A href=secret_href(&s) attr:class="text-xs text-indigo-700 hover:underline">{s.to_string()}</A>
                })}
            </td>
            <td class="pr-2 whitespace-nowrap">{versions}</td>
            <td class="pr-2" data-testid="audit-keys">
                {keys.into_iter().filter(|(_, k, _)| !k.is_empty()).map(|(mark, k, class)| view! {
                    <div class=class>{format!("{mark} {}", k.join(", "))}</div>
                }).collect_view()}
            </td>
            <td class="pr-2">
                <Badge text=outcome_label tone=outcome_tone(&r.outcome) />
                {r.detail.clone().map(|d| view! { <div class="text-xs text-slate-600">{d}</div> })}
            </td>
            <td class="text-xs text-slate-500 break-all">
                {request.into_iter().map(|t| view! { <div>{t}</div> }).collect_view()}
            </td>
        </tr>
    }
}
