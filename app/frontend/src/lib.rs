//! The wasm entry point: hydrates the page the server rendered.
// Leptos view types nest deeply; the default limit of 128 is too low for the editor page.
#![recursion_limit = "256"]

/// Called by the loader script in the page's head once the main wasm is instantiated.
///
/// The routes are lazy (wasm chunks of their own), so hydration is asynchronous: it waits for the
/// chunk of the page being shown (already preloaded by a `<link>` in the head). The lazy parts the
/// server rendered are hydrated later, when needed (`pages::rendered_lazily`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), keyway_app::App)
            .await
            .forget();
        keyway_app::pages::page_hydrated();
        // A marker browser tests wait for before clicking what needs the wasm: set only once
        // hydration has really finished, the page's chunk included (a server-rendered lazy part
        // marks itself `data-part-live` once its own code runs).
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
