//! The wasm entry point: hydrates the page the server rendered.
// Leptos view types nest deeply; the default limit of 128 is too low for the editor page.
#![recursion_limit = "256"]

/// Called by the loader script in the page's head once the main wasm is instantiated.
///
/// The routes are lazy (wasm chunks of their own), so hydration is asynchronous: it first loads
/// the chunks of the lazy parts the server rendered (`pages::load_server_rendered_parts`; these
/// are not preloaded, so they delay hydration by their fetch), then the chunk of the page being
/// shown (already preloaded by a `<link>` in the head).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        // The chunks of lazy parts the server rendered must be in before their part hydrates.
        keyway_app::pages::load_server_rendered_parts().await;
        leptos::mount::hydrate_from_async(body.clone(), keyway_app::App)
            .await
            .forget();
        // A marker browser tests wait for before clicking what needs the wasm: set only once
        // hydration has really finished, lazy chunks included.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
