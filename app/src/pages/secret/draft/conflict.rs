//! The draft editor's conflict panel.

use leptos::prelude::*;

use crate::dto::{Changes, ConflictInfo};
use crate::logic::diff;
use crate::logic::draft as model;

/// A save that met a newer version: what changed meanwhile, a side to choose for keys both
/// changed, and the choice to apply the draft on the newer version or drop it.
#[component]
pub fn ConflictPanel(
    info: ConflictInfo,
    changes: Changes,
    on_merge: impl Fn((Changes, u64)) + Copy + Send + Sync + 'static,
    on_discard: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let theirs_keep: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let changes = StoredValue::new(changes);
    let current = info.current_version;
    let meanwhile = model::describe(&info.theirs).unwrap_or_else(|| "changed no key".into());
    view! {
        <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" role="alert" data-testid="conflict">
            <p class="font-medium">
                {info.headline()}
            </p>
            <p class="mt-1">"Meanwhile they " {meanwhile} "."</p>
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
