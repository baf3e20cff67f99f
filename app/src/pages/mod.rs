//! One module per page.

pub mod apps;
pub mod home;
pub mod login;
pub mod secret;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="card">
            <h1 class="text-xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">
                <a class="underline" href="/">"Back to your secrets"</a>
            </p>
        </div>
    }
}
