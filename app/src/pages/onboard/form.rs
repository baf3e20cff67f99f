//! The onboarding form itself: its fields, the default each takes from the environment, and the
//! two buttons (Preview, then Apply). Any change to a field drops the preview, so what is applied
//! is always what was last previewed.

use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::api::onboard::{apply_onboarding, preview_onboarding};
use crate::dto::{
    ClusterSide, InitialKeys, OnboardDefaults, OnboardForm as Form, OnboardRestart,
    DEFAULT_REFRESH_AFTER,
};

/// How the pods pick up a change, as the radio buttons name it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RestartChoice {
    None,
    Reloader,
    Operator,
}

/// One row of the initial keys.
#[derive(Clone)]
struct KeyRow {
    id: u32,
    name: RwSignal<String>,
    value: RwSignal<String>,
}

#[component]
pub fn OnboardForm(defaults: OnboardDefaults) -> impl IntoView {
    let environment = defaults.environment.clone();
    let home = defaults.home.clone();
    let workloads = StoredValue::new(defaults.workloads.clone());
    let app = RwSignal::new(String::new());
    let mount = RwSignal::new(home.mount.clone());
    let path = RwSignal::new(String::new());
    let service_account = RwSignal::new(String::new());
    let new_service_account = RwSignal::new(true);
    let restart = RwSignal::new(RestartChoice::None);
    let reloader_target = RwSignal::new(0usize);
    let operator_targets = RwSignal::new(BTreeSet::<usize>::new());
    let refresh_after = RwSignal::new(DEFAULT_REFRESH_AFTER.to_owned());
    let next_row = StoredValue::new(1u32);
    let rows = RwSignal::new(vec![KeyRow {
        id: 0,
        name: RwSignal::new(String::new()),
        value: RwSignal::new(String::new()),
    }]);
    let side = RwSignal::new(if defaults.cluster {
        ClusterSide::Keyway
    } else {
        ClusterSide::GitOps
    });

    let env = environment.clone();
    let form = Memo::new(move |_| {
        let pick = |i: usize| workloads.with_value(|w| w.get(i).cloned());
        Form {
            environment: env.clone(),
            app: app.get().trim().to_owned(),
            mount: mount.get(),
            path: path.get(),
            service_account: service_account.get(),
            new_service_account: new_service_account.get(),
            restart: match restart.get() {
                RestartChoice::None => OnboardRestart::None,
                RestartChoice::Reloader => pick(reloader_target.get())
                    .map(OnboardRestart::Reloader)
                    .unwrap_or_default(),
                RestartChoice::Operator => OnboardRestart::Operator(
                    operator_targets
                        .get()
                        .into_iter()
                        .filter_map(pick)
                        .collect(),
                ),
            },
            refresh_after: refresh_after.get(),
            keys: InitialKeys(
                rows.get()
                    .iter()
                    .filter(|r| !r.name.get().trim().is_empty())
                    .map(|r| (r.name.get().trim().to_owned(), r.value.get()))
                    .collect(),
            ),
            cluster_side: side.get(),
        }
    });
    let preview = Action::new(|f: &Form| preview_onboarding(f.clone()));
    let apply = Action::new(|f: &Form| apply_onboarding(f.clone()));
    // What is applied is what was previewed: a changed field drops both answers.
    Effect::new(move |_| {
        form.track();
        preview.value().set(None);
        apply.value().set(None);
    });

    let prefix = home.prefix.clone();
    let default_path = move || {
        let a = app.get();
        let a = a.trim();
        format!("{prefix}{}/config", if a.is_empty() { "<app>" } else { a })
    };
    let default_sa = move || {
        let a = app.get();
        if a.trim().is_empty() {
            "the app's name".to_owned()
        } else {
            a.trim().to_owned()
        }
    };
    let has_workloads = !defaults.workloads.is_empty();
    let cluster = defaults.cluster;
    let auth_mount = defaults.auth_mount.clone();
    view! {
        <form class="mt-4 grid gap-4" data-testid="onboard-form" on:submit=move |ev| {
            ev.prevent_default();
            preview.dispatch(form.get_untracked());
        }>
            <section class="card grid gap-3" aria-labelledby="onboard-app">
                <h2 id="onboard-app" class="font-semibold">"The app"</h2>
                <label class="field">
                    <span>"App name"</span>
                    <input class="input" required autocomplete="off" data-testid="onboard-app"
                        placeholder="billing" prop:value=move || app.get()
                        on:input=move |ev| app.set(event_target_value(&ev)) />
                    <small class="text-slate-500">"Lowercase letters, digits and '-'. Its operator objects and Kubernetes Secret are named so."</small>
                </label>
                <div class="grid gap-3 sm:grid-cols-2">
                    <label class="field">
                        <span>"kv mount"</span>
                        <input class="input" autocomplete="off" data-testid="onboard-mount"
                            prop:value=move || mount.get() on:input=move |ev| mount.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">
                        <span>"Secret path"</span>
                        <input class="input" autocomplete="off" data-testid="onboard-path"
                            placeholder=default_path prop:value=move || path.get()
                            on:input=move |ev| path.set(event_target_value(&ev)) />
                    </label>
                </div>
                <p class="text-sm text-slate-500">{format!(
                    "{environment}'s secrets live in mount {}{}; the app's secret must be there.",
                    home.mount,
                    if home.prefix.is_empty() { String::new() } else { format!(", folder {}", home.prefix) }
                )}</p>
            </section>

            <section class="card grid gap-3" aria-labelledby="onboard-login">
                <h2 id="onboard-login" class="font-semibold">"How the operator logs in to Vault"</h2>
                <label class="field">
                    <span>"Service account"</span>
                    <input class="input" autocomplete="off" data-testid="onboard-sa"
                        placeholder=default_sa prop:value=move || service_account.get()
                        on:input=move |ev| service_account.set(event_target_value(&ev)) />
                </label>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" data-testid="onboard-new-sa" prop:checked=move || new_service_account.get()
                        on:change=move |ev| new_service_account.set(event_target_checked(&ev)) />
                    "Create this service account (leave unticked when the app's pods already run as it)"
                </label>
                <p class="text-sm text-slate-500">{format!("Vault's login role is written under auth/{auth_mount}, bound to this service account in {}.", defaults.environment)}</p>
            </section>

            <section class="card grid gap-3" aria-labelledby="onboard-restart">
                <h2 id="onboard-restart" class="font-semibold">"How the pods pick up a change"</h2>
                <fieldset class="grid gap-1 text-sm">
                    <legend class="sr-only">"Restart"</legend>
                    <label class="flex items-center gap-2">
                        <input type="radio" name="restart" data-testid="onboard-restart-none"
                            prop:checked=move || restart.get() == RestartChoice::None
                            on:change=move |_| restart.set(RestartChoice::None) />
                        "Nothing restarts them (restart from Keyway, or the app reads its files live)"
                    </label>
                    <label class="flex items-center gap-2">
                        <input type="radio" name="restart" data-testid="onboard-restart-reloader" disabled=!has_workloads
                            prop:checked=move || restart.get() == RestartChoice::Reloader
                            on:change=move |_| restart.set(RestartChoice::Reloader) />
                        "Reloader restarts one workload"
                    </label>
                    <label class="flex items-center gap-2">
                        <input type="radio" name="restart" data-testid="onboard-restart-operator" disabled=!has_workloads
                            prop:checked=move || restart.get() == RestartChoice::Operator
                            on:change=move |_| restart.set(RestartChoice::Operator) />
                        "The operator restarts the workloads I pick"
                    </label>
                    {(!has_workloads).then(|| view! { <small class="text-slate-500">"No workload runs in this environment yet, so none can be picked; choose \"Nothing\" and restart from Keyway later."</small> })}
                </fieldset>
                <Show when=move || restart.get() == RestartChoice::Reloader>
                    <label class="field">
                        <span>"Workload"</span>
                        <select class="input" data-testid="onboard-reloader-target"
                            on:change=move |ev| reloader_target.set(event_target_value(&ev).parse().unwrap_or(0))>
                            {workloads.get_value().into_iter().enumerate().map(|(i, w)| view! {
                                <option value=i.to_string() selected=move || reloader_target.get() == i>{format!("{} {}", w.kind, w.name)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=move || restart.get() == RestartChoice::Operator>
                    <fieldset class="grid gap-1 text-sm" data-testid="onboard-operator-targets">
                        <legend class="font-medium">"Workloads"</legend>
                        {workloads.get_value().into_iter().enumerate().map(|(i, w)| view! {
                            <label class="flex items-center gap-2">
                                <input type="checkbox" prop:checked=move || operator_targets.get().contains(&i)
                                    on:change=move |ev| operator_targets.update(|s| { if event_target_checked(&ev) { s.insert(i); } else { s.remove(&i); } }) />
                                {format!("{} {}", w.kind, w.name)}
                            </label>
                        }).collect_view()}
                    </fieldset>
                </Show>
                <label class="field max-w-xs">
                    <span>"Refresh every"</span>
                    <input class="input" autocomplete="off" data-testid="onboard-refresh"
                        prop:value=move || refresh_after.get() on:input=move |ev| refresh_after.set(event_target_value(&ev)) />
                    <small class="text-slate-500">"How often the operator reads Vault again: 30s, 5m, 1h."</small>
                </label>
            </section>

            <section class="card grid gap-3" aria-labelledby="onboard-keys">
                <h2 id="onboard-keys" class="font-semibold">"First keys (optional)"</h2>
                <p class="text-sm text-slate-500">"Written as the secret's first version when it has none yet. Values are sent once, to Vault, and never shown or logged."</p>
                <For each=move || rows.get() key=|r| r.id let:row>
                    <div class="grid gap-2 sm:grid-cols-[1fr_2fr_auto]" data-testid="onboard-key-row">
                        <input class="input" autocomplete="off" aria-label="Key name" placeholder="KEY_NAME" data-testid="onboard-key-name"
                            prop:value=move || row.name.get() on:input=move |ev| row.name.set(event_target_value(&ev)) />
                        <input class="input" type="password" autocomplete="off" aria-label="Value" data-testid="onboard-key-value"
                            prop:value=move || row.value.get() on:input=move |ev| row.value.set(event_target_value(&ev)) />
                        <button type="button" class="btn-link" on:click=move |_| rows.update(|rs| rs.retain(|r| r.id != row.id))>"Remove"</button>
                    </div>
                </For>
                <div>
                    <button type="button" class="btn-secondary" data-testid="onboard-add-key" on:click=move |_| {
                        let id = next_row.get_value();
                        next_row.set_value(id + 1);
                        rows.update(|rs| rs.push(KeyRow { id, name: RwSignal::new(String::new()), value: RwSignal::new(String::new()) }));
                    }>"Add a key"</button>
                </div>
            </section>

            <section class="card grid gap-2 text-sm" aria-labelledby="onboard-side">
                <h2 id="onboard-side" class="font-semibold">"Who creates the cluster objects"</h2>
                <label class="flex items-center gap-2">
                    <input type="radio" name="side" data-testid="onboard-side-keyway" disabled=!cluster
                        prop:checked=move || side.get() == ClusterSide::Keyway
                        on:change=move |_| side.set(ClusterSide::Keyway) />
                    "Keyway creates them now"
                </label>
                <label class="flex items-center gap-2">
                    <input type="radio" name="side" data-testid="onboard-side-gitops"
                        prop:checked=move || side.get() == ClusterSide::GitOps
                        on:change=move |_| side.set(ClusterSide::GitOps) />
                    "We commit them to our GitOps repository (Keyway gives the folder and waits for them)"
                </label>
            </section>

            <div>
                <button type="submit" class="btn-primary" data-testid="onboard-preview"
                    disabled=move || preview.pending().get()>
                    {move || if preview.pending().get() { "Preparing the preview…" } else { "Preview" }}
                </button>
            </div>
        </form>
        <super::preview::PreviewPanel preview apply form />
    }
}
