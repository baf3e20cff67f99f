//! One environment's access, editable: the groups with Keyway levels here (a checkbox per
//! level, an internal group's members), adding a group, and what reaches the environment from
//! outside Keyway (read-only). Any edit clears the last preview, so "Apply" always sends the plan
//! that was previewed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::draft::{self, DraftGroup};
use super::preview::Preview;
use crate::api::access::find_entities;
use crate::components::ui::{Badge, ErrorBox, Tone};
use crate::dto::{
    AccessPlan, EntityChoice, EnvironmentAccess, ExternalAlias, Level, Member, PolicyStatus,
};
use crate::error::AppError;

#[component]
pub fn Editor(
    access: EnvironmentAccess,
    reload: RwSignal<u32>,
    done: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let env = StoredValue::new(access.environment.clone());
    let groups = RwSignal::new(draft::groups_of(&access));
    let others = StoredValue::new(access.other_groups.clone());
    let probe = RwSignal::new(String::new());
    // The plan last previewed; None after any edit.
    let previewed: RwSignal<Option<AccessPlan>> = RwSignal::new(None);
    let edit = move |f: &dyn Fn(&mut Vec<DraftGroup>)| {
        groups.update(|g| f(g));
        previewed.set(None);
    };
    let home = access.home.clone();
    let where_ = if home.prefix.is_empty() {
        format!("the kv mount {}", home.mount)
    } else {
        format!("the folder {} of the kv mount {}", home.prefix, home.mount)
    };
    let policies = access.policies.clone();
    let seen = StoredValue::new(
        access
            .policies
            .iter()
            .map(|p| p.seen.clone())
            .collect::<Vec<_>>(),
    );
    let outside = access.outside.clone();
    let auth_mounts = access.auth_mounts.clone();
    view! {
        <p class="mt-1 text-slate-600">{format!("Secrets of this environment live in {where_}.")}</p>
        {(!access.also_reaches.is_empty()).then(|| view! {
            <p class="mt-2 text-sm text-amber-700" data-testid="access-also-reaches">
                {format!(
                    "Access given here also reaches the secrets of {}: their place in Vault lies inside this one's.",
                    access.also_reaches.join(", ")
                )}
            </p>
        })}
        {access.cut.clone().map(|c| view! { <p class="mt-2 text-sm text-amber-700">{c}</p> })}
        {move || done.get().map(|steps| view! {
            <div class="mt-3 rounded-md border border-green-300 bg-green-50 p-3 text-sm" role="status" data-testid="access-applied">
                <p class="font-medium">"Applied. The page shows Vault's state again."</p>
                <ul class="mt-1 list-disc pl-5">{steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            </div>
        })}
        <section class="mt-4 card" data-testid="access-groups">
            <h2 class="font-semibold">"Groups with access"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {Level::ALL.iter().map(|l| format!("{}: {}.", l.label(), l.meaning())).collect::<Vec<_>>().join(" ")}
            </p>
            <table class="mt-3 w-full text-sm">
                <thead>
                    <tr class="text-left text-slate-500">
                        <th class="py-1">"Group"</th>
                        {Level::ALL.iter().map(|l| view! { <th class="px-2 text-center">{l.label()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For each=move || groups.get() key=|g| (g.key(), g.levels, g.members.clone()) let:g>
                        <GroupRow group=g edit=Callback::new(move |f: EditFn| edit(&*f)) />
                    </For>
                </tbody>
            </table>
            {move || groups.with(|g| g.is_empty()).then(|| view! {
                <p class="mt-2 text-sm text-slate-600">"No group has a Keyway level here yet. Add one below."</p>
            })}
            <AddGroup others=others.get_value() auth_mounts groups edit=Callback::new(move |f: EditFn| edit(&*f)) />
        </section>
        <section class="mt-4 card" data-testid="access-outside">
            <h2 class="font-semibold">"Also reaching this environment (not written by Keyway)"</h2>
            {if outside.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No hand-written policy gives access here."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 w-full text-sm">
                        <thead><tr class="text-left text-slate-500"><th class="py-1">"Policy"</th><th>"Gives"</th><th>"Held by"</th></tr></thead>
                        <tbody>
                            {outside.into_iter().map(|o| {
                                let gives = o.levels.iter().map(|l| l.label()).collect::<Vec<_>>().join(", ");
                                let held = if o.groups.is_empty() {
                                    "no group (tokens, login methods or entities may hold it directly)".to_string()
                                } else {
                                    o.groups.join(", ")
                                };
                                view! {
                                    <tr class="border-t border-slate-100" data-testid=format!("outside-{}", o.policy)>
                                        <td class="py-1 font-mono">{o.policy.clone()}</td>
                                        <td>{gives}</td>
                                        <td>{held}{o.note.clone().map(|n| view! { <span class="block text-xs text-amber-700">{n}</span> })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="mt-4 card">
            <h2 class="font-semibold">"Keyway's policies here"</h2>
            <ul class="mt-2 space-y-1 text-sm">
                {policies.into_iter().map(|p| {
                    let (text, tone) = match p.state {
                        PolicyStatus::Missing => ("not written yet", Tone::Neutral),
                        PolicyStatus::Current => ("up to date", Tone::Good),
                        PolicyStatus::Drifted => ("differs from what Keyway writes: the next change that grants this level rewrites it", Tone::Warn),
                        PolicyStatus::Foreign => ("a policy of this name was not written by Keyway: this level cannot be granted until it is renamed", Tone::Bad),
                    };
                    view! { <li data-testid=format!("policy-{}", p.name)><span class="font-mono">{p.name.clone()}</span>" "<Badge text=text tone=tone /></li> }
                }).collect_view()}
            </ul>
        </section>
        <section class="mt-4 card">
            <h2 class="font-semibold">"Review the change"</h2>
            <label class="field mt-2 max-w-sm">
                <span>"Also show the access of this user (optional)"</span>
                <input class="input" data-testid="probe-user" autocomplete="off" placeholder="e.g. dave"
                    prop:value=move || probe.get()
                    on:input=move |ev| { probe.set(event_target_value(&ev)); previewed.set(None); } />
            </label>
            <Preview env=env.get_value() seen=seen.get_value() groups probe previewed reload done />
        </section>
    }
    .into_any()
}

/// A change to the page's groups.
pub type EditFn = std::sync::Arc<dyn Fn(&mut Vec<DraftGroup>) + Send + Sync>;

#[component]
fn GroupRow(group: DraftGroup, edit: Callback<EditFn>) -> impl IntoView {
    let key = StoredValue::new(group.key());
    let name = group.name.clone();
    let describe = if group.external {
        match &group.alias {
            Some(a) => format!("external: {} on {}", a.name, a.mount),
            None => "external, not linked to an identity provider group yet".into(),
        }
    } else {
        let n = group.members.as_ref().map_or(0, Vec::len);
        format!("{n} member{}", if n == 1 { "" } else { "s" })
    };
    let set_level = move |level: Level, on: bool| {
        let key = key.get_value();
        edit.run(std::sync::Arc::new(move |gs: &mut Vec<DraftGroup>| {
            if let Some(g) = gs.iter_mut().find(|g| g.key() == key) {
                g.levels.toggle(level, on);
            }
        }));
    };
    let members = group.members.clone();
    let changed = group.changed();
    view! {
        <tr class="border-t border-slate-100 align-top" data-testid=format!("group-{name}")>
            <td class="py-2">
                <span class="font-medium">{name.clone()}</span>
                {group.is_new().then(|| view! { " " <Badge text="new" tone=Tone::Change /> })}
                {changed.then(|| view! { " " <Badge text="changed" tone=Tone::Change /> })}
                <span class="block text-xs text-slate-500">{describe}</span>
                {members.map(|list| view! { <Members name=name.clone() list key=key.get_value() edit /> })}
            </td>
            {Level::ALL.into_iter().map(|level| {
                let on = group.levels.has(level);
                let label = format!("{} for {}", level.label(), name);
                view! {
                    <td class="px-2 text-center">
                        <input type="checkbox" class="h-4 w-4" aria-label=label
                            data-testid=format!("level-{}-{}", name, level.as_str())
                            prop:checked=on
                            on:change=move |ev| set_level(level, event_target_checked(&ev)) />
                    </td>
                }
            }).collect_view()}
        </tr>
    }
    .into_any()
}

#[component]
fn Members(name: String, list: Vec<Member>, key: String, edit: Callback<EditFn>) -> impl IntoView {
    let key = StoredValue::new(key);
    let query = RwSignal::new(String::new());
    let found: RwSignal<Option<Result<Vec<EntityChoice>, AppError>>> = RwSignal::new(None);
    let search = move || {
        let q = query.get_untracked();
        spawn_local(async move {
            found.set(Some(find_entities(q).await));
        });
    };
    let add = move |m: Member| {
        let key = key.get_value();
        edit.run(std::sync::Arc::new(move |gs: &mut Vec<DraftGroup>| {
            if let Some(g) = gs.iter_mut().find(|g| g.key() == key) {
                g.add_member(m.clone());
            }
        }));
        found.set(None);
        query.set(String::new());
    };
    let remove = move |id: String| {
        let key = key.get_value();
        edit.run(std::sync::Arc::new(move |gs: &mut Vec<DraftGroup>| {
            if let Some(g) = gs.iter_mut().find(|g| g.key() == key) {
                g.remove_member(&id);
            }
        }));
    };
    view! {
        <ul class="mt-1 flex flex-wrap gap-1">
            {list.into_iter().map(|m| {
                let id = m.entity_id.clone();
                view! {
                    <li class="badge bg-slate-100 text-slate-700">
                        {m.label.clone()}
                        <button type="button" class="ml-1 text-slate-500 hover:text-red-700"
                            aria-label=format!("Remove {} from {}", m.label, name)
                            on:click=move |_| remove(id.clone())>"×"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
        <div class="mt-1 flex gap-1">
            <input class="input w-48" aria-label=format!("Find a member for {name}") placeholder="Find a person"
                data-testid=format!("member-search-{name}")
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); search(); } />
            <button type="button" class="btn-secondary" on:click=move |_| search()>"Find"</button>
        </div>
        {move || found.get().map(|r| match r {
            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            Ok(list) if list.is_empty() => view! { <p class="text-xs text-slate-500">"Nobody found. A person appears here once they have logged in to Vault (or the platform team created their entity)."</p> }.into_any(),
            Ok(list) => view! {
                <ul class="mt-1 space-y-1">
                    {list.into_iter().map(|e| {
                        let m = Member { entity_id: e.id.clone(), label: e.label.clone() };
                        view! {
                            <li><button type="button" class="btn-link" data-testid=format!("add-member-{}", e.label)
                                on:click=move |_| add(m.clone())>{format!("Add {}", e.label)}</button></li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        })}
    }
    .into_any()
}

#[component]
fn AddGroup(
    others: Vec<crate::dto::GroupAccess>,
    auth_mounts: Vec<String>,
    groups: RwSignal<Vec<DraftGroup>>,
    edit: Callback<EditFn>,
) -> impl IntoView {
    let others = StoredValue::new(others);
    let picked = RwSignal::new(String::new());
    let new_name = RwSignal::new(String::new());
    let external = RwSignal::new(false);
    let first_mount = auth_mounts.first().cloned().unwrap_or_default();
    let mount = RwSignal::new(first_mount);
    let alias = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let shown = move |id: &str| groups.with(|gs| gs.iter().any(|g| g.key() == format!("id:{id}")));
    let add_existing = move |_| {
        let id = picked.get_untracked();
        let Some(g) = others.with_value(|o| o.iter().find(|g| g.id == id).cloned()) else {
            problem.set(Some("Pick a group first.".into()));
            return;
        };
        problem.set(None);
        edit.run(std::sync::Arc::new(move |gs: &mut Vec<DraftGroup>| {
            if !gs.iter().any(|d| d.key() == format!("id:{}", g.id)) {
                gs.push(DraftGroup::read(&g));
            }
        }));
        picked.set(String::new());
    };
    let add_new = move |_| {
        let name = new_name.get_untracked().trim().to_string();
        if name.is_empty() {
            problem.set(Some("Give the new group a name.".into()));
            return;
        }
        let ext = external.get_untracked().then(|| ExternalAlias {
            name: alias.get_untracked().trim().to_string(),
            mount: mount.get_untracked(),
        });
        if ext
            .as_ref()
            .is_some_and(|a| a.name.is_empty() || a.mount.is_empty())
        {
            problem.set(Some(
                "An external group needs its auth method and its group name there.".into(),
            ));
            return;
        }
        if groups.with_untracked(|gs| gs.iter().any(|g| g.name == name)) {
            problem.set(Some(format!("{name} is already on this page.")));
            return;
        }
        problem.set(None);
        edit.run(std::sync::Arc::new(move |gs: &mut Vec<DraftGroup>| {
            gs.push(DraftGroup::new_group(name.clone(), ext.clone()));
        }));
        new_name.set(String::new());
        alias.set(String::new());
    };
    view! {
        <div class="mt-4 grid gap-4 border-t border-slate-100 pt-3 md:grid-cols-2">
            <div>
                <h3 class="text-sm font-semibold">"Add an existing group"</h3>
                <div class="mt-1 flex gap-2">
                    <select class="input" aria-label="Group to add" data-testid="pick-group"
                        on:change=move |ev| picked.set(event_target_value(&ev))>
                        <option value="" selected=move || picked.get().is_empty()>"Choose a group…"</option>
                        {move || others.get_value().into_iter().filter(|g| !shown(&g.id)).map(|g| {
                            let id = g.id.clone();
                            view! { <option value=id.clone() selected=move || picked.get() == id>{g.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <button type="button" class="btn-secondary" data-testid="add-group" on:click=add_existing>"Add"</button>
                </div>
            </div>
            <div>
                <h3 class="text-sm font-semibold">"Or create a group"</h3>
                <div class="mt-1 grid gap-2">
                    <input class="input" aria-label="New group name" placeholder="e.g. payments-devs" data-testid="new-group-name"
                        prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" prop:checked=move || external.get()
                            on:change=move |ev| external.set(event_target_checked(&ev)) />
                        "Members come from an identity provider group (LDAP, OIDC)"
                    </label>
                    {move || external.get().then(|| view! {
                        <div class="flex gap-2">
                            <select class="input w-auto" aria-label="Auth method" on:change=move |ev| mount.set(event_target_value(&ev))>
                                {auth_mounts.clone().into_iter().map(|m| {
                                    let v = m.clone();
                                    view! { <option value=m.clone() selected=move || mount.get() == v>{m.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <input class="input" aria-label="Group name at the identity provider" placeholder="e.g. ops"
                                prop:value=move || alias.get() on:input=move |ev| alias.set(event_target_value(&ev)) />
                        </div>
                    })}
                    <button type="button" class="btn-secondary justify-self-start" data-testid="create-group" on:click=add_new>"Add new group"</button>
                </div>
            </div>
            {move || problem.get().map(|p| view! { <p class="text-sm text-red-700" role="alert">{p}</p> })}
        </div>
    }
    .into_any()
}
