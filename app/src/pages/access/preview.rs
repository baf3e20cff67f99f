//! Preview, then apply: the policy texts that change (as a diff against Vault's), each group's
//! changes, and the effective-access table; "Apply" sends exactly the previewed plan and shows
//! what was written, or what someone else changed meanwhile.

use leptos::prelude::*;

use super::draft::{self, DraftGroup};
use crate::api::access::{apply_access, preview_access};
use crate::components::ui::ErrorBox;
use crate::dto::{
    AccessApplied, AccessPlan, AccessPreview, DiffLine, EffectiveRow, Reach, Subject,
};
use crate::error::AppError;

#[component]
pub fn Preview(
    env: String,
    seen: Vec<crate::dto::SeenPolicy>,
    groups: RwSignal<Vec<DraftGroup>>,
    probe: RwSignal<String>,
    previewed: RwSignal<Option<AccessPlan>>,
    reload: RwSignal<u32>,
    done: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let env = StoredValue::new(env);
    let seen = StoredValue::new(seen);
    let answer: RwSignal<Option<Result<AccessPreview, AppError>>> = RwSignal::new(None);
    let applied: RwSignal<Option<Result<AccessApplied, AppError>>> = RwSignal::new(None);
    let ask = Action::new(move |plan: &AccessPlan| {
        let plan = plan.clone();
        async move {
            let r = preview_access(plan.clone()).await;
            if r.is_ok() {
                previewed.set(Some(plan));
            }
            applied.set(None);
            answer.set(Some(r));
        }
    });
    let apply = Action::new(move |plan: &AccessPlan| {
        let plan = plan.clone();
        async move {
            let r = apply_access(plan).await;
            if let Ok(AccessApplied::Done { steps }) = &r {
                done.set(Some(steps.clone()));
                reload.update(|n| *n += 1);
            }
            applied.set(Some(r));
        }
    });
    let busy = Memo::new(move |_| ask.pending().get() || apply.pending().get());
    let nothing = Memo::new(move |_| groups.with(|g| !g.iter().any(DraftGroup::changed)));
    view! {
        <div class="mt-3 flex gap-2">
            <button type="button" class="btn-secondary" data-testid="preview"
                disabled=move || busy.get() || (nothing.get() && probe.with(|p| p.trim().is_empty()))
                on:click=move |_| { ask.dispatch(draft::plan(&env.get_value(), &groups.get_untracked(), &seen.get_value(), &probe.get_untracked())); }>
                "Preview the change"
            </button>
            <button type="button" class="btn-primary" data-testid="apply"
                disabled=move || busy.get() || nothing.get() || previewed.with(|p| p.is_none())
                on:click=move |_| { if let Some(p) = previewed.get_untracked() { apply.dispatch(p); } }>
                "Apply"
            </button>
        </div>
        {move || previewed.with(|p| p.is_none()).then(|| answer.with(|a| a.is_some()).then(|| view! {
            <p class="mt-2 text-sm text-amber-700">"You changed something since this preview: preview again before applying."</p>
        })).flatten()}
        {move || applied.get().map(|r| match r {
            Err(e) => view! { <div class="mt-3"><ErrorBox error=e /></div> }.into_any(),
            Ok(AccessApplied::Done { .. }) => ().into_any(),
            Ok(AccessApplied::Conflict { changes, done }) => view! {
                <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" role="alert" data-testid="access-conflict">
                    <p class="font-medium">
                        {if done.is_empty() { "Not applied: this access is being changed by someone else." } else { "Stopped partway: someone else changed this access while it was being applied." }}
                    </p>
                    <ul class="mt-1 list-disc pl-5">{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                    {(!done.is_empty()).then(|| view! {
                        <p class="mt-1">{format!("Already written before that was seen: {}.", done.join("; "))}</p>
                    })}
                    <button type="button" class="btn-secondary mt-2" on:click=move |_| reload.update(|n| *n += 1)>
                        "Reload and start again"
                    </button>
                </div>
            }.into_any(),
        })}
        {move || answer.get().map(|r| match r {
            Err(e) => view! { <div class="mt-3"><ErrorBox error=e /></div> }.into_any(),
            Ok(p) => view! { <PreviewView preview=p /> }.into_any(),
        })}
    }
    .into_any()
}

#[component]
fn PreviewView(preview: AccessPreview) -> impl IntoView {
    view! {
        <div class="mt-3 space-y-4" data-testid="access-preview">
            {preview.unchanged.then(|| view! { <p class="text-sm text-slate-600">"Nothing would change in Vault."</p> })}
            {(!preview.warnings.is_empty()).then(|| view! {
                <ul class="list-disc pl-5 text-sm text-amber-700">{preview.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })}
            {preview.policies.into_iter().map(|p| view! {
                <div data-testid=format!("policy-diff-{}", p.name)>
                    <h3 class="text-sm font-semibold">
                        {if p.created { format!("New policy {}", p.name) } else { format!("Policy {} changes", p.name) }}
                    </h3>
                    <pre class="mt-1 overflow-x-auto rounded bg-slate-900 p-2 text-xs leading-5 text-slate-100">
                        {p.lines.into_iter().map(|l| match l {
                            DiffLine::Same(t) => view! { <span class="block">{format!("  {t}")}</span> }.into_any(),
                            DiffLine::Added(t) => view! { <span class="block bg-green-900 text-green-100"><span class="sr-only">"added: "</span>{format!("+ {t}")}</span> }.into_any(),
                            DiffLine::Removed(t) => view! { <span class="block bg-red-900 text-red-100"><span class="sr-only">"removed: "</span>{format!("- {t}")}</span> }.into_any(),
                        }).collect_view()}
                    </pre>
                </div>
            }).collect_view()}
            {(!preview.groups.is_empty()).then(|| view! {
                <div>
                    <h3 class="text-sm font-semibold">"Groups"</h3>
                    <ul class="mt-1 space-y-1 text-sm" data-testid="group-diffs">
                        {preview.groups.into_iter().map(|g| {
                            let mut parts = Vec::new();
                            if g.created { parts.push("created".to_string()); }
                            if let Some(a) = &g.alias { parts.push(format!("linked to {} on {}", a.name, a.mount)); }
                            if !g.policies_added.is_empty() { parts.push(format!("gets {}", g.policies_added.join(", "))); }
                            if !g.policies_removed.is_empty() { parts.push(format!("loses {}", g.policies_removed.join(", "))); }
                            if !g.members_added.is_empty() { parts.push(format!("new members: {}", g.members_added.join(", "))); }
                            if !g.members_removed.is_empty() { parts.push(format!("members leaving: {}", g.members_removed.join(", "))); }
                            view! { <li><span class="font-medium">{g.name.clone()}</span>": "{parts.join("; ")}</li> }
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <Effective rows=preview.effective />
        </div>
    }
    .into_any()
}

fn reach_text(r: Reach) -> String {
    match r {
        Reach::None => "no".into(),
        Reach::All => "yes".into(),
        Reach::Some { apps, of } => format!("{apps} of {of} apps"),
    }
}

#[component]
fn Effective(rows: Vec<EffectiveRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="text-sm text-slate-600">"Nobody named here has any access before or after."</p> }.into_any();
    }
    view! {
        <div>
            <h3 class="text-sm font-semibold">"Effective access"</h3>
            <p class="text-xs text-slate-500">"What each group or user may do, computed from every policy they hold, Keyway's and hand-written ones alike (marked “outside Keyway”)."</p>
            <table class="mt-1 w-full text-sm" data-testid="effective">
                <thead>
                    <tr class="text-left text-slate-500">
                        <th class="py-1">"Who"</th><th>"Environment"</th>
                        {crate::dto::Level::ALL.iter().map(|l| view! { <th>{l.label()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let who = match &r.subject {
                            Subject::Group(g) => format!("group {g}"),
                            Subject::User(u) => format!("user {u}"),
                        };
                        let id = format!("effective-{}-{}", match &r.subject { Subject::Group(n) | Subject::User(n) => n.clone() }, r.environment);
                        view! {
                            <tr class="border-t border-slate-100 align-top" data-testid=id>
                                <td class="py-1">{who}{r.note.clone().map(|n| view! { <span class="block text-xs text-amber-700">{n}</span> })}</td>
                                <td>{r.environment.clone()}</td>
                                {r.levels.into_iter().map(|l| {
                                    let text = if l.before == l.after {
                                        reach_text(l.after)
                                    } else {
                                        format!("{} → {}", reach_text(l.before), reach_text(l.after))
                                    };
                                    let changed = l.before != l.after;
                                    view! {
                                        <td class:font-semibold=changed data-testid=format!("reach-{}", l.level.as_str())>
                                            {text}
                                            {l.outside.then(|| view! { <span class="block text-xs text-slate-500">"outside Keyway"</span> })}
                                        </td>
                                    }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
