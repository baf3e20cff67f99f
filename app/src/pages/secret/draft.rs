//! The draft editor: edit, add, rename and remove keys, import `.env`, review the diff by key,
//! then save one new version with check-and-set. A conflict shows what changed meanwhile and lets
//! the user apply the draft onto the newer version, choosing a side for keys both touched.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::keys::MASK;
use super::{PageCtx, Tab};
use crate::api::secrets::{reveal, save};
use crate::components::ui::ErrorBox;
use crate::dto::{Changes, ConflictInfo, RevealPurpose, SecretView};
use crate::error::AppError;
use crate::logic::{diff, dotenv, keys as rules};

/// One row of the draft.
#[derive(Clone, Copy)]
struct Row {
    id: usize,
    /// The key's name in the version the draft started from; `None` for a new key.
    original: Option<StoredValue<String>>,
    key: RwSignal<String>,
    /// The new value; `None` keeps the stored one.
    value: RwSignal<Option<String>>,
    /// The stored value, once loaded for editing.
    loaded: RwSignal<Option<String>>,
    removed: RwSignal<bool>,
}

impl Row {
    fn new(id: usize, original: Option<String>, key: String, value: Option<String>) -> Self {
        Row {
            id,
            original: original.map(StoredValue::new),
            key: RwSignal::new(key),
            value: RwSignal::new(value),
            loaded: RwSignal::new(None),
            removed: RwSignal::new(false),
        }
    }

    fn original(&self) -> Option<String> {
        self.original.map(|o| o.get_value())
    }

    /// The value that would be saved, when the user changed it.
    fn new_value(&self) -> Option<String> {
        let v = self.value.get()?;
        match self.loaded.get() {
            Some(old) if old == v => None,
            _ => Some(v),
        }
    }
}

/// Turns the rows into the changes the server applies.
fn changes_of(rows: &[Row]) -> Changes {
    let mut c = Changes::default();
    for r in rows {
        let key = r.key.get().trim().to_string();
        match r.original() {
            Some(orig) if r.removed.get() => c.remove.push(orig),
            Some(orig) => {
                if key != orig {
                    c.rename.push((orig, key.clone()));
                }
                if let Some(v) = r.new_value() {
                    c.set.insert(key, v);
                }
            }
            None if r.removed.get() => {}
            None => {
                c.set.insert(key, r.value.get().unwrap_or_default());
            }
        }
    }
    c
}

/// Problems that block the review, and warnings that do not.
fn check_rows(rows: &[Row]) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.removed.get()) {
        let key = r.key.get().trim().to_string();
        match rules::check_key(&key) {
            Ok(Some(w)) => warnings.push(w),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        *seen.entry(key).or_insert(0) += 1;
    }
    for (k, n) in seen {
        if n > 1 && !k.is_empty() {
            errors.push(format!("The key \"{k}\" appears {n} times; keep one."));
        }
    }
    (errors, warnings)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Edit,
    Review,
}

#[component]
pub fn Editor(ctx: PageCtx, view: SecretView) -> impl IntoView {
    let next_id = StoredValue::new(view.keys.len());
    let rows = RwSignal::new(
        view.keys
            .iter()
            .enumerate()
            .map(|(i, k)| Row::new(i, Some(k.clone()), k.clone(), None))
            .collect::<Vec<_>>(),
    );
    let base_version = RwSignal::new(view.version);
    let step = RwSignal::new(Step::Edit);
    let conflict: RwSignal<Option<ConflictInfo>> = RwSignal::new(None);
    let saving = RwSignal::new(false);
    let local_error: RwSignal<Option<AppError>> = RwSignal::new(None);
    let import_text = RwSignal::new(String::new());
    let import_errors: RwSignal<Vec<String>> = RwSignal::new(Vec::new());

    // Rows added from an event handler must belong to the editor, not to whatever owner is
    // current then (the edit step's, disposed when the review step replaces it).
    let owner = StoredValue::new(Owner::current().expect("the editor runs inside an owner"));
    let add_row = move |key: String, value: Option<String>| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        let row = owner.with_value(|o| o.with(|| Row::new(id, None, key, value)));
        rows.update(|rs| rs.push(row));
    };
    let import = move |text: String| match dotenv::parse(&text) {
        Err(errs) => import_errors.set(errs.iter().map(|e| e.to_string()).collect()),
        Ok(map) => {
            import_errors.set(Vec::new());
            let current = rows.get_untracked();
            for (k, v) in map {
                match current
                    .iter()
                    .find(|r| r.key.get_untracked() == k && !r.removed.get_untracked())
                {
                    Some(r) => r.value.set(Some(v)),
                    None => add_row(k, Some(v)),
                }
            }
            import_text.set(String::new());
        }
    };
    let load_value = move |row: Row| {
        let Some(orig) = row.original() else { return };
        let version = base_version.get_untracked();
        spawn_local(async move {
            match reveal(
                ctx.secret_untracked(),
                version,
                vec![orig.clone()],
                RevealPurpose::Edit,
            )
            .await
            {
                Ok(r) => {
                    let v = r.values.get(&orig).cloned().unwrap_or_default();
                    row.loaded.set(Some(v.clone()));
                    if row.value.get_untracked().is_none() {
                        row.value.set(Some(v));
                    }
                }
                Err(e) => local_error.set(Some(e)),
            }
        });
    };
    let do_save = move |changes: Changes, base: u64| {
        saving.set(true);
        local_error.set(None);
        spawn_local(async move {
            let result = save(ctx.secret_untracked(), base, changes).await;
            saving.set(false);
            match result {
                Ok(saved) => {
                    let c = &saved.changes;
                    let mut parts = Vec::new();
                    if !c.added.is_empty() {
                        parts.push(format!("added {}", c.added.join(", ")));
                    }
                    if !c.changed.is_empty() {
                        parts.push(format!("changed {}", c.changed.join(", ")));
                    }
                    if !c.removed.is_empty() {
                        parts.push(format!("removed {}", c.removed.join(", ")));
                    }
                    let what = if parts.is_empty() {
                        "no key changed".to_string()
                    } else {
                        parts.join("; ")
                    };
                    ctx.done(format!("Saved version {} ({what}).", saved.version));
                }
                Err(AppError::Conflict(info)) => conflict.set(Some(*info)),
                Err(e) => local_error.set(Some(e)),
            }
        });
    };

    let checks = Memo::new(move |_| check_rows(&rows.get()));
    let changes = Memo::new(move |_| changes_of(&rows.get()));

    view! {
        <div class="mt-4 card" data-testid="editor">
            <div class="flex items-center justify-between">
                <h2 class="font-semibold">
                    {move || if step.get() == Step::Edit { "Edit draft" } else { "Review changes" }}
                </h2>
                <span class="text-sm text-slate-500">"Based on version " {move || base_version.get()}</span>
            </div>
            {move || local_error.get().map(|e| view! { <div class="mt-3"><ErrorBox error=e /></div> })}
            {move || conflict.get().map(|info| view! { <ConflictPanel info changes=changes.get() on_merge=move |(c, v)| { conflict.set(None); do_save(c, v) } on_discard=move || { conflict.set(None); ctx.done("Your draft was discarded; showing the newest version.".into()) } /> })}
            <Show when=move || step.get() == Step::Edit>
                <div class="mt-3 space-y-3">
                    <For each=move || rows.get() key=|r| r.id let:row>
                        <RowEditor row on_load=load_value />
                    </For>
                    <button type="button" class="btn-secondary" on:click=move |_| add_row(String::new(), Some(String::new())) data-testid="add-key">"Add key"</button>
                </div>
                <details class="mt-4 rounded border border-slate-200 p-3">
                    <summary class="cursor-pointer text-sm font-medium">"Import a .env file"</summary>
                    <p class="mt-2 text-sm text-slate-600">"Paste KEY=value lines or choose a file. Existing keys get the new values; new keys are added. Nothing is saved until you review and save."</p>
                    <textarea class="input mt-2 h-28 font-mono" prop:value=move || import_text.get()
                        on:input=move |ev| import_text.set(event_target_value(&ev)) data-testid="import-text" placeholder="DATABASE_URL=postgres://…"></textarea>
                    <div class="mt-2 flex items-center gap-2">
                        <button type="button" class="btn-secondary" on:click=move |_| import(import_text.get_untracked()) data-testid="import-apply">"Add to draft"</button>
                        <input type="file" accept=".env,text/plain" class="text-sm" data-testid="import-file"
                            on:change=move |_ev| {
                                #[cfg(feature = "hydrate")]
                                {
                                    use wasm_bindgen::JsCast;
                                    if let Some(input) = _ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                        spawn_local(async move {
                                            if let Some(text) = crate::browser::read_chosen_file(&input).await {
                                                import(text);
                                            }
                                        });
                                    }
                                }
                            } />
                    </div>
                    <ul class="mt-2 text-sm text-red-700">{move || import_errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                </details>
                <ul class="mt-3 space-y-1 text-sm" data-testid="draft-checks">
                    {move || checks.get().0.into_iter().map(|e| view! { <li class="text-red-700">{e}</li> }).collect_view()}
                    {move || checks.get().1.into_iter().map(|w| view! { <li class="text-amber-700">{w}</li> }).collect_view()}
                </ul>
                <div class="mt-4 flex gap-2">
                    <button type="button" class="btn-primary" data-testid="review"
                        disabled=move || !checks.get().0.is_empty() || changes.get().is_empty()
                        on:click=move |_| step.set(Step::Review)>"Review changes"</button>
                    <button type="button" class="btn-secondary" on:click=move |_| ctx.tab.set(Tab::Keys)>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || step.get() == Step::Review>
                <Review rows=rows.get() />
                <div class="mt-4 flex gap-2">
                    <button type="button" class="btn-primary" data-testid="save" disabled=move || saving.get()
                        on:click=move |_| do_save(changes.get_untracked(), base_version.get_untracked())>
                        {move || if saving.get() { "Saving…".to_string() } else { format!("Save as version {}", base_version.get() + 1) }}
                    </button>
                    <button type="button" class="btn-secondary" on:click=move |_| step.set(Step::Edit)>"Back to editing"</button>
                </div>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
fn RowEditor(row: Row, on_load: impl Fn(Row) + Copy + Send + Sync + 'static) -> impl IntoView {
    let is_new = row.original.is_none();
    let original = row.original().unwrap_or_default();
    view! {
        <div class="rounded border border-slate-200 p-3" class:opacity-50=move || row.removed.get() data-testid="draft-row" data-key=original>
            <div class="flex gap-2">
                <input class="input font-mono" class:line-through=move || row.removed.get() placeholder="KEY_NAME" aria-label="Key name"
                    prop:value=move || row.key.get() on:input=move |ev| row.key.set(event_target_value(&ev)) data-testid="draft-key" />
                <button type="button" class="btn-secondary" on:click=move |_| row.removed.update(|r| *r = !*r) data-testid="draft-remove">
                    {move || if row.removed.get() { "Keep" } else { "Remove" }}
                </button>
            </div>
            <Show when=move || !row.removed.get()>
                {move || match row.value.get() {
                    None => view! {
                        <div class="mt-2 flex items-center gap-3 text-sm text-slate-500">
                            <span class="font-mono">{MASK}</span>
                            <span>"unchanged"</span>
                            <button type="button" class="btn-link" on:click=move |_| on_load(row) data-testid="draft-load">"Change value"</button>
                        </div>
                    }.into_any(),
                    Some(_) => view! {
                        <textarea class="input mt-2 h-20 font-mono" aria-label="Value" placeholder=if is_new { "value" } else { "new value" }
                            prop:value=move || row.value.get().unwrap_or_default()
                            on:input=move |ev| row.value.set(Some(event_target_value(&ev))) data-testid="draft-value"></textarea>
                    }.into_any(),
                }}
            </Show>
        </div>
    }
    .into_any()
}

/// The diff by key, values masked until the user shows them (they are the user's own draft).
#[component]
fn Review(rows: Vec<Row>) -> impl IntoView {
    let items: Vec<(String, &'static str, Option<String>)> = rows
        .iter()
        .filter_map(|r| {
            let key = r.key.get_untracked().trim().to_string();
            match r.original() {
                Some(orig) if r.removed.get_untracked() => Some((orig, "removed", None)),
                Some(orig) => {
                    let renamed = key != orig;
                    let value = r.new_value();
                    match (renamed, value) {
                        (false, None) => None,
                        (true, v) => Some((format!("{orig} → {key}"), "renamed", v)),
                        (false, Some(v)) => Some((key, "changed", Some(v))),
                    }
                }
                None if r.removed.get_untracked() => None,
                None => Some((
                    key,
                    "added",
                    Some(r.value.get_untracked().unwrap_or_default()),
                )),
            }
        })
        .collect();
    view! {
        <ul class="mt-3 divide-y divide-slate-100" data-testid="review-list">
            {items
                .into_iter()
                .map(|(label, kind, value)| {
                    let shown = RwSignal::new(false);
                    let tone = match kind {
                        "added" => "text-emerald-700",
                        "removed" => "text-red-700",
                        _ => "text-amber-700",
                    };
                    let has_value = value.is_some();
                    let value = StoredValue::new(value.unwrap_or_default());
                    view! {
                        <li class="flex items-start justify-between gap-4 py-2 text-sm" data-testid="review-item">
                            <div>
                                <span class=format!("font-medium {tone}")>{kind}</span>
                                " "
                                <span class="font-mono">{label}</span>
                                {has_value.then(|| view! {
                                    <div class="mt-1 font-mono break-all whitespace-pre-wrap text-slate-700">
                                        {move || if shown.get() { value.get_value() } else { MASK.to_string() }}
                                    </div>
                                })}
                            </div>
                            {has_value.then(|| view! {
                                <button type="button" class="btn-link" on:click=move |_| shown.update(|s| *s = !*s)>
                                    {move || if shown.get() { "Hide" } else { "Show" }}
                                </button>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn ConflictPanel(
    info: ConflictInfo,
    changes: Changes,
    on_merge: impl Fn((Changes, u64)) + Copy + Send + Sync + 'static,
    on_discard: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let theirs_keep: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let changes = StoredValue::new(changes);
    let current = info.current_version;
    let list = |label: &str, keys: &[String]| {
        (!keys.is_empty()).then(|| format!("{label} {}", keys.join(", ")))
    };
    let meanwhile: Vec<String> = [
        list("added", &info.theirs.added),
        list("changed", &info.theirs.changed),
        list("removed", &info.theirs.removed),
    ]
    .into_iter()
    .flatten()
    .collect();
    view! {
        <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" role="alert" data-testid="conflict">
            <p class="font-medium">
                {format!("Someone saved version {} while you were editing version {}. Nothing was overwritten.", info.current_version, info.base_version)}
            </p>
            <p class="mt-1">"Meanwhile they " {if meanwhile.is_empty() { "changed no key".to_string() } else { meanwhile.join("; ") }} "."</p>
            {(!info.overlapping.is_empty()).then(|| view! {
                <div class="mt-2">
                    <p>"You both changed these keys. Choose which value to keep:"</p>
                    <ul class="mt-1 space-y-1">
                        {info.overlapping.iter().map(|k| {
                            let k = StoredValue::new(k.clone());
                            view! {
                                <li class="flex items-center gap-3" data-testid="conflict-key">
                                    <span class="font-mono">{k.get_value()}</span>
                                    <label><input type="radio" name=format!("side-{}", k.get_value()) checked=true
                                        on:change=move |_| theirs_keep.update(|t| t.retain(|x| *x != k.get_value())) />" mine"</label>
                                    <label><input type="radio" name=format!("side-{}", k.get_value())
                                        on:change=move |_| theirs_keep.update(|t| t.push(k.get_value())) />" theirs"</label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <div class="mt-3 flex gap-2">
                <button type="button" class="btn-primary" data-testid="merge"
                    on:click=move |_| on_merge((diff::keep_theirs(&changes.get_value(), &theirs_keep.get_untracked()), current))>
                    {format!("Apply my draft on version {current}")}
                </button>
                <button type="button" class="btn-secondary" on:click=move |_| on_discard()>"Discard my draft"</button>
            </div>
        </div>
    }
    .into_any()
}
