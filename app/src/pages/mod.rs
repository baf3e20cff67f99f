//! One module per page, each a lazy route (see `App`) but the plain-HTML login page;
//! `on_first_open` and `rendered_lazily` show a lazy part of a page.

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

/// The lazy parts of pages that the server renders too (shown through `rendered_lazily`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerRenderedPart {
    /// The cluster panel's app cards (`secret::cluster`).
    ClusterAppCards,
}

impl ServerRenderedPart {
    pub const ALL: [ServerRenderedPart; 1] = [ServerRenderedPart::ClusterAppCards];

    /// The value of the `data-lazy-part` attribute that marks it in a page.
    fn marker(self) -> &'static str {
        match self {
            ServerRenderedPart::ClusterAppCards => "cluster-app-cards",
        }
    }

    /// Loads its chunk (at once if it is already in).
    #[cfg(feature = "hydrate")]
    async fn load(self) {
        match self {
            ServerRenderedPart::ClusterAppCards => secret::cluster::load_app_cards().await,
        }
    }
}

/// Loads the chunk of every server-rendered lazy part the page holds. The wasm entry awaits it
/// before hydrating: hydration inside a `Suspense` cannot wait, and a part whose chunk is not in
/// at its first poll would be hydrated as missing, against the server's HTML.
#[cfg(feature = "hydrate")]
pub async fn load_server_rendered_parts() {
    let document = document();
    for part in ServerRenderedPart::ALL {
        let selector = format!("[data-lazy-part={}]", part.marker());
        if document.query_selector(&selector).ok().flatten().is_some() {
            part.load().await;
        }
    }
}

/// Shows a lazy part of a page that the server renders too, when the page has something for it:
/// the server renders it in place, marked as `part`; the browser loads its chunk before
/// hydrating the page (`load_server_rendered_parts`). Shown later in the browser, it appears once
/// its chunk has loaded. Pages without it never fetch its code.
pub(crate) fn rendered_lazily(
    part: ServerRenderedPart,
    view: impl std::future::Future<Output = AnyView> + Send + 'static,
) -> AnyView {
    view! { <div data-lazy-part=part.marker()>{suspended(view, || ().into_any())}</div> }.into_any()
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

/// `part` inside a `Suspense` (on the server, where it is `Send`).
#[cfg(not(feature = "hydrate"))]
fn suspended(
    part: impl std::future::Future<Output = AnyView> + Send + 'static,
    fallback: fn() -> AnyView,
) -> AnyView {
    view! { <Suspense fallback>{Suspend::new(part)}</Suspense> }.into_any()
}
