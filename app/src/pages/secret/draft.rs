//! The draft editor: edit, add, rename and remove keys, import `.env`, review the diff by key,
//! then save one new version with check-and-set. A conflict shows what changed meanwhile and lets
//! the user apply the draft onto the newer version, choosing a side for keys both touched.
//!
//! What the draft means (its changes, its checks, its review) is decided by the pure model in
//! `logic::draft`; this module keeps the rows in signals and renders them.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::keys::MASK;
use super::{PageCtx, Tab};
use crate::api::secrets::{reveal, save};
use crate::components::ui::ErrorBox;
use crate::dto::{Changes, ConflictInfo, RevealPurpose, Saved, SecretView};
use crate::error::AppError;
use crate::logic::dotenv;
use crate::logic::draft::{self as model, DraftRow, Import, ReviewKind};

mod conflict;
use conflict::ConflictPanel;

/// One row of the draft: [`DraftRow`]'s fields, each in a signal so each re-renders on its own,
/// and an id that keys the row in the list.
#[derive(Clone, Copy)]
struct Row {
    id: usize,
    original: Option<StoredValue<String>>,
    key: RwSignal<String>,
    value: RwSignal<Option<String>>,
    loaded: RwSignal<Option<String>>,
    removed: RwSignal<bool>,
}

impl Row {
    fn new(id: usize, row: DraftRow) -> Self {
        Row {
            id,
            original: row.original.map(StoredValue::new),
            key: RwSignal::new(row.key),
            value: RwSignal::new(row.value),
            loaded: RwSignal::new(row.loaded),
            removed: RwSignal::new(row.removed),
        }
    }

    fn original(&self) -> Option<String> {
        self.original.map(|o| o.get_value())
    }

    /// The row as the model sees it (a tracked read of every field).
    fn snapshot(&self) -> DraftRow {
        DraftRow {
            original: self.original(),
            key: self.key.get(),
            value: self.value.get(),
            loaded: self.loaded.get(),
            removed: self.removed.get(),
        }
    }
}

fn snapshots(rows: &[Row]) -> Vec<DraftRow> {
    rows.iter().map(Row::snapshot).collect()
}

/// What a landed save tells the user.
fn saved_notice(saved: &Saved) -> String {
    let what = model::describe(&saved.changes).unwrap_or_else(|| "no key changed".into());
    format!("Saved version {} ({what}).", saved.version)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Edit,
    Review,
}

/// The editor's state, shared by its parts.
#[derive(Clone, Copy)]
struct Draft {
    ctx: PageCtx,
    rows: RwSignal<Vec<Row>>,
    next_id: StoredValue<usize>,
    /// The version the draft applies to (the newer one after a merge).
    base_version: RwSignal<u64>,
    step: RwSignal<Step>,
    /// A save that met a newer version, with the changes it sent.
    conflict: RwSignal<Option<(ConflictInfo, Changes)>>,
    /// What Save sends: the reviewed changes, or after a merge the merged ones.
    reviewed: StoredValue<Changes>,
    error: RwSignal<Option<AppError>>,
    /// Rows added from an event handler must belong to the editor, not to whatever owner is
    /// current then (the edit step's, disposed when the review step replaces it).
    owner: StoredValue<Owner>,
    save: Action<(Changes, u64), ()>,
    /// A save is running (the action's `pending`, made once).
    saving: Memo<bool>,
}

impl Draft {
    fn new(ctx: PageCtx, view: &SecretView) -> Self {
        let conflict = RwSignal::new(None);
        let error = RwSignal::new(None);
        // One save at a time: the button is disabled while it runs (`pending`).
        let save_action = Action::new(move |(changes, base): &(Changes, u64)| {
            let (changes, base) = (changes.clone(), *base);
            async move {
                error.set(None);
                match save(ctx.secret_untracked(), base, changes.clone()).await {
                    Ok(saved) => ctx.done(saved_notice(&saved)),
                    Err(AppError::Conflict(info)) => conflict.set(Some((*info, changes))),
                    Err(e) => error.set(Some(e)),
                }
            }
        });
        Draft {
            ctx,
            rows: RwSignal::new(
                view.keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| Row::new(i, DraftRow::stored(k)))
                    .collect(),
            ),
            next_id: StoredValue::new(view.keys.len()),
            base_version: RwSignal::new(view.version),
            step: RwSignal::new(Step::Edit),
            conflict,
            reviewed: StoredValue::new(Changes::default()),
            error,
            owner: StoredValue::new(Owner::current().expect("the editor runs inside an owner")),
            save: save_action,
            saving: save_action.pending(),
        }
    }

    fn add_row(self, key: String, value: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let row = self
            .owner
            .with_value(|o| o.with(|| Row::new(id, DraftRow::added(key, value))));
        self.rows.update(|rs| rs.push(row));
    }

    /// Puts an imported `.env` into the draft (see `model::import`).
    fn import(self, parsed: std::collections::BTreeMap<String, String>) {
        let current = self.rows.get_untracked();
        let now = untrack(|| snapshots(&current));
        for step in model::import(&now, parsed) {
            match step {
                Import::Set(i, v) => current[i].value.set(Some(v)),
                Import::Add(k, v) => self.add_row(k, v),
            }
        }
    }

    /// Fetches a stored value so the user can change it (audited as a reveal for editing).
    fn load_value(self, row: Row) {
        let Some(orig) = row.original() else { return };
        let version = self.base_version.get_untracked();
        let secret = self.ctx.secret_untracked();
        spawn_local(async move {
            match reveal(secret, version, vec![orig.clone()], RevealPurpose::Edit).await {
                Ok(r) => {
                    let v = r.values.get(&orig).cloned().unwrap_or_default();
                    row.loaded.set(Some(v.clone()));
                    if row.value.get_untracked().is_none() {
                        row.value.set(Some(v));
                    }
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }

    fn do_save(self, changes: Changes, base: u64) {
        if !self.saving.get_untracked() {
            self.save.dispatch((changes, base));
        }
    }
}

#[component]
pub fn Editor(ctx: PageCtx, view: SecretView) -> impl IntoView {
    let d = Draft::new(ctx, &view);
    let checks = Memo::new(move |_| model::check(&snapshots(&d.rows.get())));
    let changes = Memo::new(move |_| model::changes(&snapshots(&d.rows.get())));
    let (step, base_version, conflict) = (d.step, d.base_version, d.conflict);
    view! {
        <div class="mt-4 card" data-testid="editor">
            <div class="flex items-center justify-between">
                <h2 class="font-semibold">
                    {move || if step.get() == Step::Edit { "Edit draft" } else { "Review changes" }}
                </h2>
                <span class="text-sm text-slate-500">"Based on version " {move || base_version.get()}</span>
            </div>
            {move || d.error.get().map(|e| view! { <div class="mt-3"><ErrorBox error=e /></div> })}
            {move || conflict.get().map(|(info, sent)| view! { <ConflictPanel info changes=sent on_merge=move |(c, v)| { conflict.set(None); d.reviewed.set_value(c.clone()); base_version.set(v); d.do_save(c, v) } on_discard=move || { conflict.set(None); ctx.done("Your draft was discarded; showing the newest version.".into()) } /> })}
            <Show when=move || step.get() == Step::Edit>
                <div class="mt-3 space-y-3">
                    <For each=move || d.rows.get() key=|r| r.id let:row>
                        <RowEditor row on_load=move |r| d.load_value(r) />
                    </For>
                    <button type="button" class="btn-secondary" on:click=move |_| d.add_row(String::new(), String::new()) data-testid="add-key">"Add key"</button>
                </div>
                <ImportBox on_parsed=move |parsed| d.import(parsed) />
                <ul class="mt-3 space-y-1 text-sm" data-testid="draft-checks">
                    {move || checks.get().errors.into_iter().map(|e| view! { <li class="text-red-700">{e}</li> }).collect_view()}
                    {move || checks.get().warnings.into_iter().map(|w| view! { <li class="text-amber-700">{w}</li> }).collect_view()}
                </ul>
                <div class="mt-4 flex gap-2">
                    <button type="button" class="btn-primary" data-testid="review"
                        disabled=move || !checks.get().errors.is_empty() || changes.get().is_empty()
                        on:click=move |_| step.set(Step::Review)>"Review changes"</button>
                    <button type="button" class="btn-secondary" on:click=move |_| ctx.tab.set(Tab::Keys)>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || step.get() == Step::Review>
                <ReviewStep d />
            </Show>
        </div>
    }
    .into_any()
}

/// The review of the draft, and the save button.
#[component]
fn ReviewStep(d: Draft) -> impl IntoView {
    // What the review lists is exactly what Save sends: one snapshot for both, so nothing that
    // lands in the draft meanwhile (a file import finishing late) is saved unseen.
    let reviewed = untrack(|| snapshots(&d.rows.get()));
    d.reviewed.set_value(model::changes(&reviewed));
    let saving = d.saving;
    let base_version = d.base_version;
    view! {
        <Review items=model::review(&reviewed) />
        <div class="mt-4 flex gap-2">
            <button type="button" class="btn-primary" data-testid="save" disabled=move || saving.get()
                on:click=move |_| d.do_save(d.reviewed.get_value(), base_version.get_untracked())>
                {move || if saving.get() { "Saving…".to_string() } else { format!("Save as version {}", base_version.get() + 1) }}
            </button>
            <button type="button" class="btn-secondary" on:click=move |_| d.step.set(Step::Edit)>"Back to editing"</button>
        </div>
    }
}

/// "Import a .env file": pasted text or a chosen file, parsed here; what parses goes to
/// `on_parsed`, what does not is listed line by line.
#[component]
fn ImportBox(
    on_parsed: impl Fn(std::collections::BTreeMap<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let errors: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let import = move |input: String| match dotenv::parse(&input) {
        Err(errs) => errors.set(errs.iter().map(|e| e.to_string()).collect()),
        Ok(map) => {
            errors.set(Vec::new());
            on_parsed(map);
            text.set(String::new());
        }
    };
    view! {
        <details class="mt-4 rounded border border-slate-200 p-3">
            <summary class="cursor-pointer text-sm font-medium">"Import a .env file"</summary>
            <p class="mt-2 text-sm text-slate-600">"Paste KEY=value lines or choose a file. Existing keys get the new values; new keys are added. Nothing is saved until you review and save."</p>
            <textarea class="input mt-2 h-28 font-mono" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev)) data-testid="import-text" placeholder="DATABASE_URL=postgres://…"></textarea>
            <div class="mt-2 flex items-center gap-2">
                <button type="button" class="btn-secondary" on:click=move |_| import(text.get_untracked()) data-testid="import-apply">"Add to draft"</button>
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
            <ul class="mt-2 text-sm text-red-700">{move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
        </details>
    }
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
fn Review(items: Vec<model::ReviewItem>) -> impl IntoView {
    view! {
        <ul class="mt-3 divide-y divide-slate-100" data-testid="review-list">
            {items
                .into_iter()
                .map(|item| {
                    let shown = RwSignal::new(false);
                    let tone = match item.kind {
                        ReviewKind::Added => "text-emerald-700",
                        ReviewKind::Removed => "text-red-700",
                        ReviewKind::Changed | ReviewKind::Renamed => "text-amber-700",
                    };
                    let has_value = item.value.is_some();
                    let value = StoredValue::new(item.value.unwrap_or_default());
                    view! {
                        <li class="flex items-start justify-between gap-4 py-2 text-sm" data-testid="review-item">
                            <div>
                                <span class=format!("font-medium {tone}")>{item.kind.label()}</span>
                                " "
                                <span class="font-mono">{item.label}</span>
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
