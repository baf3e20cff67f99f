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

/// A small label.
#[component]
pub fn Badge(#[prop(into)] text: String, #[prop(optional, into)] tone: String) -> impl IntoView {
    let class = match tone.as_str() {
        "warn" => "badge bg-amber-100 text-amber-800",
        "bad" => "badge bg-red-100 text-red-800",
        "good" => "badge bg-emerald-100 text-emerald-800",
        _ => "badge bg-slate-100 text-slate-700",
    };
    view! { <span class=class>{text}</span> }
}
