//! Keyway's UI: the pages a developer sees, the server functions they call, and the types both
//! sides share. Compiled twice: with `ssr` into the server binary, with `hydrate` into wasm.
// Leptos view types nest deeply; the default limit of 128 is too low for the editor page.
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod browser;
pub mod components;
pub mod dto;
pub mod error;
pub mod links;
pub mod logic;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    let plain = served_without_wasm();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <AutoReload options=options.clone() />
                // `/pkg/keyway.<hash>.css` when the build hashes file names (hash.txt).
                <HashedStylesheet options=options.clone() id="leptos" />
                {(!plain).then(|| view! { <HydrationScripts options /> })}
                <MetaTags />
            </head>
            // `data-hydrated` says the page is interactive: set by the wasm once it has hydrated,
            // or here for a page that is complete as plain HTML.
            <body
                class="min-h-screen bg-slate-50 text-slate-900 antialiased"
                data-hydrated=plain.then_some("true")
            >
                <App />
            </body>
        </html>
    }
}

/// Pages that are plain HTML, whose every control is a link or a form posting to a server
/// function: the server renders them without any wasm, so one costs only its HTML and CSS, and
/// the wasm holds none of their code. The login page is one. A page joins with three things:
/// its path here; a plain (not `Lazy`) route with `ssr=SsrMode::Async`, so the page arrives whole
/// without a script; and, in the hydrate build, a component for that route that calls
/// `browser::load_from_server` (see `pages::login`). A server test checks each path.
pub const PLAIN_HTML_PAGES: &[&str] = &[links::LOGIN];

/// Whether the page being rendered is one of `PLAIN_HTML_PAGES`.
fn served_without_wasm() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .is_some_and(|p| PLAIN_HTML_PAGES.contains(&p.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// A CSP that allows exactly our own scripts (by nonce), our wasm and our stylesheet.
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::header::{HeaderName, HeaderValue};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.insert_header(HeaderName::from_static("content-security-policy"), value);
    }
}

/// The pages. Each route but the plain-HTML login page is a `Lazy` one: its page's code is a wasm
/// chunk of its own, fetched when the page is first shown (on a direct load, in parallel with the
/// main wasm), so a page costs nothing on the first load of another. README, "Architecture",
/// says how to add one.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Keyway" />
        <Router>
            <components::layout::Header />
            <main class="mx-auto max-w-5xl px-4 py-6">
                <Routes fallback=|| view! { <pages::NotFound /> }>
                    <Route path=path!("/") view={Lazy::<pages::home::HomeRoute>::new()} />
                    // Plain HTML, rendered by the server only and whole (`PLAIN_HTML_PAGES`).
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/apps") view={Lazy::<pages::apps::AppsRoute>::new()} />
                    <Route path=path!("/secrets/:mount/*path") view={Lazy::<pages::secret::SecretRoute>::new()} />
                    <Route path=path!("/audit") view={Lazy::<pages::audit::AuditRoute>::new()} />
                    <Route path=path!("/platform/access") view={Lazy::<pages::access::AccessIndexRoute>::new()} />
                    <Route path=path!("/platform/access/:env") view={Lazy::<pages::access::AccessRoute>::new()} />
                    <Route path=path!("/platform/fleet") view={Lazy::<pages::fleet::FleetRoute>::new()} />
                    <Route path=path!("/platform/onboard") view={Lazy::<pages::onboard::OnboardRoute>::new()} />
                </Routes>
            </main>
        </Router>
    }
}
