//! Error boxes, notices and badges with one look across pages.

use leptos::prelude::*;

use crate::error::AppError;

/// Shows an error as the plain sentence it carries, with the next step where there is one.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let next = match &error {
        AppError::Unauthenticated => Some(
            view! {
                // rel=external: the plain-HTML login page comes from the server, not the router.
                <a href=crate::links::LOGIN rel="external" class="ml-2 font-medium underline">"Log in"</a>
            }
            .into_any(),
        ),
        AppError::Unavailable(_) => Some(
            view! {
                <span class="ml-2">"Try again in a moment."</span>
            }
            .into_any(),
        ),
        _ => None,
    };
    view! {
        <div role="alert" class="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="error">
            {error.to_string()}
            {next}
        </div>
    }
}

/// A green confirmation line.
#[component]
pub fn Notice(#[prop(into)] text: String) -> impl IntoView {
    view! {
        <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-800" data-testid="notice">
            {text}
        </div>
    }
}

/// What a [`Badge`]'s colour says. One enum, so a page cannot ask for a colour the badge does not
/// know (a misspelt string used to fall back to grey without a word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tone {
    /// Plain information.
    #[default]
    Neutral,
    /// All is well.
    Good,
    /// Needs attention, nothing is broken.
    Warn,
    /// Broken or refused.
    Bad,
    /// New or about to change (the access editor's marks).
    Change,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "badge bg-slate-100 text-slate-700",
            Tone::Good => "badge bg-emerald-100 text-emerald-800",
            Tone::Warn => "badge bg-amber-100 text-amber-800",
            Tone::Bad => "badge bg-red-100 text-red-800",
            Tone::Change => "badge bg-indigo-100 text-indigo-800",
        }
    }
}

/// A small label.
#[component]
pub fn Badge(#[prop(into)] text: String, #[prop(optional)] tone: Tone) -> impl IntoView {
    view! { <span class=tone.class()>{text}</span> }
}
