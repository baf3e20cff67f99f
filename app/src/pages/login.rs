//! The login page: the methods Vault offers, then a form for the chosen one.
//!
//! It is plain HTML, rendered by the server only (`page`): each method is a link
//! (`links::login_href`) and the form posts to the login server function, which sends a failed
//! attempt back here with a code saying why. So `/login` loads no wasm at all
//! (`crate::PLAIN_HTML_PAGES`), and the wasm holds none of the page's code: reached by a
//! client-side navigation (a page that finds the session ended), it is loaded from the server.

#[cfg(feature = "ssr")]
mod page;

#[cfg(feature = "ssr")]
pub use page::LoginPage;

/// In the browser: load the login page from the server (see the module doc).
#[cfg(not(feature = "ssr"))]
#[leptos::prelude::component]
pub fn LoginPage() -> impl leptos::prelude::IntoView {
    crate::browser::load_from_server();
}
