//! The wasm entry point: hydrates the page the server rendered.
// Leptos view types nest deeply; the default limit of 128 is too low for the editor page.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(keyway_app::App);
    // A marker browser tests wait for before clicking what needs the wasm.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
