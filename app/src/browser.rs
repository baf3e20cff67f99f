//! The few browser APIs the pages use (clipboard, file download, file read), with no-op stand-ins
//! for the server render, where they never run.

/// Loads the current URL from the server as a new page, in place of this one in the history: for
/// a plain-HTML page (`crate::PLAIN_HTML_PAGES`) the router reached by a client-side navigation.
/// It asks for the path without a trailing slash, exactly as the server lists it (which serves
/// it without wasm, so this runs once), on this origin.
pub fn load_from_server() {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let path = location.pathname().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        let path = match path.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        let origin = location.origin().unwrap_or_default();
        let _ = location.replace(&format!("{origin}{path}{search}"));
    }
}

/// Copies text to the clipboard without showing it; `false` when the browser refused.
pub async fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return false;
        };
        let navigator = window.navigator();
        // Absent on pages that are not a secure context.
        let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
            .map(|v| !v.is_undefined())
            .unwrap_or(false);
        if !has_clipboard {
            return false;
        }
        let promise = navigator.clipboard().write_text(text);
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Offers text as a file download, built in memory (nothing goes through a URL or a cache).
pub fn download(filename: &str, text: &str) {
    download_as(filename, text, "text/plain");
}

/// [`download`] with another media type (`application/x-tar` for an archive of text files).
pub fn download_as(filename: &str, text: &str, media_type: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(media_type);
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if let Ok(a) = doc.create_element("a") {
                if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
                    a.set_href(&url);
                    a.set_download(filename);
                    a.click();
                }
            }
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (filename, text, media_type);
}

/// Reads the first file chosen in an `<input type=file>` as text.
#[cfg(feature = "hydrate")]
pub async fn read_chosen_file(input: &web_sys::HtmlInputElement) -> Option<String> {
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    text.as_string()
}
