//! The static bundle under `/pkg/` (wasm, its chunks, js, css), as cheap on the wire as it gets.
//!
//! - Compressed: `cargo leptos build --release --precompress` writes a `.br` and a `.gz` beside
//!   every file; the one the browser accepts is sent with its `Content-Encoding` and
//!   `Vary: Accept-Encoding`.
//! - Cached: a file whose name carries its content hash (`hash-files = true`, e.g.
//!   `keyway.Xb3…Q.wasm`) never changes, so it is `immutable` for a year; a new build has new
//!   names, and the page names the files of one build only, so a browser never mixes two builds.
//!   A file without a hash is revalidated on each use (`no-cache`).
//! - Revalidated: every answer has an `ETag`; `If-None-Match` and `If-Modified-Since` are
//!   answered `304 Not Modified` without a body.
//! - Lean headers: a page load fetches dozens of these files, and every header is paid once per
//!   file (`end2end/bench/bundle`), so a file gets only the headers a browser acts on there. A
//!   hashed file goes without `Last-Modified` (its `ETag` validates it, and it is never
//!   revalidated anyway); no file says `Accept-Ranges` (nobody fetches a part of a chunk); scripts
//!   and stylesheets get `nosniff`, the wasm chunks not (it acts on scripts and stylesheets only,
//!   and the loader fetches the chunks); and the response is marked [`BundleFile`], so the layers
//!   outside (`http::guard`, `http::request_id`) add nothing: what only a document obeys
//!   (referrer, framing, opener, permissions, CSP; the stylesheet fetches nothing of its own),
//!   and the request id (it is in the log).
//!
//! leptos_axum's file handler cannot be used for this: it forwards only `Accept-Encoding` to
//! `ServeDir`, so conditional requests always got the whole file.

use std::hash::{Hash, Hasher};
use std::path::Path;

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Request, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of any other static file: keep it, but ask before each use.
pub const REVALIDATE: &str = "no-cache";

/// Marks a response that is a file of the bundle (set by this module, read by `http::guard` and
/// `http::request_id`).
#[derive(Clone, Copy, Debug)]
pub struct BundleFile;

/// Whether `res` is a file of the bundle.
pub fn is_bundle_file(res: &Response) -> bool {
    res.extensions().get::<BundleFile>().is_some()
}

/// The service for `/pkg/`, serving `pkg_dir`.
pub fn service(pkg_dir: &Path) -> Router {
    // The bundle is flat: a directory is never a file of it (and no redirect is answered).
    let files = ServeDir::new(pkg_dir)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(caching))
}

/// Adds the caching headers and answers `If-None-Match` from the `ETag`.
async fn caching(mut req: Request<Body>, next: Next) -> Response {
    let immutable = has_content_hash(req.uri().path());
    let wasm = req.uri().path().ends_with(".wasm");
    let if_none_match = req.headers_mut().remove(header::IF_NONE_MATCH);
    if if_none_match.is_some() {
        // RFC 9110 13.2.2: with If-None-Match, If-Modified-Since is ignored.
        req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    }
    let mut res = next.run(req).await;
    if !matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        return res;
    }
    let tag = etag(res.headers());
    if let (Some(tag), Some(wanted)) = (&tag, &if_none_match) {
        if res.status() == StatusCode::OK && matches_any(wanted, tag) {
            let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
            for name in [header::LAST_MODIFIED, header::CONTENT_ENCODING] {
                if let Some(v) = res.headers().get(&name) {
                    not_modified.headers_mut().insert(name, v.clone());
                }
            }
            res = not_modified;
        }
    }
    let h = res.headers_mut();
    if let Some(tag) = tag {
        h.insert(header::ETAG, tag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.remove(header::ACCEPT_RANGES);
    if immutable {
        h.remove(header::LAST_MODIFIED);
    }
    if !wasm {
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    res.extensions_mut().insert(BundleFile);
    res
}

/// A strong validator of the exact bytes sent: the file's modification time and length, and
/// the encoding (the `.br` and the plain file are different representations).
fn etag(headers: &HeaderMap) -> Option<HeaderValue> {
    let modified = headers.get(header::LAST_MODIFIED)?;
    let length = headers.get(header::CONTENT_LENGTH)?;
    let encoding = headers.get(header::CONTENT_ENCODING);
    let mut hasher = std::hash::DefaultHasher::new();
    (modified.as_bytes(), length.as_bytes()).hash(&mut hasher);
    let suffix = encoding.and_then(|e| e.to_str().ok()).unwrap_or("identity");
    HeaderValue::from_str(&format!("\"{:016x}-{suffix}\"", hasher.finish())).ok()
}

/// Whether an `If-None-Match` list names `tag` (weak comparison, RFC 9110 13.1.2).
fn matches_any(wanted: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(wanted) = wanted.to_str() else {
        return false;
    };
    let tag = tag.to_str().unwrap_or_default();
    wanted
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

/// True when the file name has a segment that is a cargo-leptos content hash: 22 characters of
/// unpadded base64url (an MD5), as in `keyway.<hash>.wasm` or `__wasm_split.<hash>.js`. The
/// placeholder a build without hashing leaves (`______________________`) is not one.
pub fn has_content_hash(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut segments = name.split('.');
    segments.next(); // the stem comes first, the hash after it
    segments.any(|s| {
        s.len() == 22
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !s.bytes().all(|b| b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hashes_are_recognised() {
        assert!(has_content_hash("/keyway.Xb3cd_ef-0123456789ABC.wasm"));
        assert!(has_content_hash("/__wasm_split.Xb3cd_ef-0123456789ABC.js"));
        assert!(has_content_hash("/split_1.Xb3cd_ef-0123456789ABC.wasm"));
        assert!(!has_content_hash("/keyway.wasm"));
        assert!(!has_content_hash("/keyway_bg.wasm"));
        assert!(!has_content_hash("/__wasm_split.______________________.js"));
        assert!(!has_content_hash("/Xb3cd_ef-0123456789ABC.js"));
        assert!(!has_content_hash("/keyway.Xb3cd_ef-0123456789AB.css"));
    }

    #[test]
    fn if_none_match_lists() {
        let tag = HeaderValue::from_static("\"abc-br\"");
        let m = |s: &'static str| matches_any(&HeaderValue::from_static(s), &tag);
        assert!(m("\"abc-br\""));
        assert!(m("W/\"abc-br\""));
        assert!(m("\"x\", \"abc-br\""));
        assert!(m("*"));
        assert!(!m("\"abc-gzip\""));
    }
}
