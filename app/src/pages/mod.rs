//! One module per page, each a lazy route (see `App`) but the plain-HTML login page;
//! `on_first_open` and `rendered_lazily` show a lazy part of a page.

pub mod access;
pub mod apps;
pub mod audit;
pub mod fleet;
pub mod home;
pub mod login;
pub mod onboard;
pub mod secret;
mod served_part;

#[cfg(feature = "hydrate")]
pub use served_part::page_hydrated;
pub(crate) use served_part::{rendered_lazily, ServerRenderedPart};

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

/// Shows a lazy part of a page (the future of a `#[lazy]` fn) once its chunk has loaded, at once
/// from the second time on, with "Loading…" until then.
///
/// Only for parts the server never renders (a tab or dialog the user opens in the browser): on
/// the server it renders nothing.
pub(crate) fn on_first_open(part: impl std::future::Future<Output = AnyView> + 'static) -> AnyView {
    #[cfg(feature = "hydrate")]
    {
        suspended(part, || {
            view! { <p class="mt-4 text-slate-500">"Loading…"</p> }.into_any()
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        drop(part);
        ().into_any()
    }
}

/// `part` inside a `Suspense`. In the browser a part's future need not be `Send` (the browser runs
/// it on its only thread).
#[cfg(feature = "hydrate")]
fn suspended(
    part: impl std::future::Future<Output = AnyView> + 'static,
    fallback: fn() -> AnyView,
) -> AnyView {
    let part = send_wrapper::SendWrapper::new(part);
    view! { <Suspense fallback>{Suspend::new(part)}</Suspense> }.into_any()
}
