//! The static bundle and compression, through Keyway's real router: `/pkg/` files come
//! precompressed (brotli when asked), a hashed file name is cached `immutable`, a conditional
//! request gets a 304, HTML pages are compressed, and server-function answers under `/api` are
//! never compressed and stay `no-store` (BREACH; see `compress_page` in server/src/http.rs).

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::{TestApp, ORIGIN};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A content hash as cargo-leptos writes it (22 characters of base64url).
const HASH: &str = "Xb3cd_ef-0123456789ABC";
const WASM: &[u8] = b"\0asm\x01\0\0\0 the plain module";
const WASM_BR: &[u8] = b"brotli bytes of the module";
const WASM_GZ: &[u8] = b"gzip bytes of the module";

/// Writes a small fake bundle into the app's site root; returns the hashed wasm's URL path.
fn write_bundle(app: &TestApp) -> String {
    let pkg = PathBuf::from(&*app.state.leptos.site_root).join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let name = format!("keyway.{HASH}.wasm");
    std::fs::write(pkg.join(&name), WASM).unwrap();
    std::fs::write(pkg.join(format!("{name}.br")), WASM_BR).unwrap();
    std::fs::write(pkg.join(format!("{name}.gz")), WASM_GZ).unwrap();
    std::fs::write(pkg.join("plain.js"), "export const plain = 1;").unwrap();
    format!("/pkg/{name}")
}

async fn get(
    app: &TestApp,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

fn header(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(&name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn the_bundle_comes_precompressed_cached_for_a_year_and_revalidated_with_304() {
    let app = TestApp::spawn().await;
    let wasm = write_bundle(&app);

    let (status, h, body) = get(
        &app,
        &wasm,
        &[(header::ACCEPT_ENCODING, "gzip, deflate, br")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, header::CONTENT_ENCODING), "br");
    assert_eq!(body, WASM_BR, "the .br sibling is sent as it is");
    assert_eq!(header(&h, header::CONTENT_TYPE), "application/wasm");
    assert!(
        header(&h, header::VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "{h:?}"
    );
    assert_eq!(
        header(&h, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let etag = header(&h, header::ETAG).to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong ETag: {etag:?}"
    );
    // Every header is paid once per file, dozens of times per page load; nosniff acts on
    // scripts and stylesheets, not on a wasm module the loader fetches.
    for not_worth_it in [
        "x-content-type-options",
        "content-security-policy",
        "x-frame-options",
        "permissions-policy",
        "referrer-policy",
        "cross-origin-opener-policy",
        "x-request-id",
        "accept-ranges",
        "last-modified",
    ] {
        assert!(
            h.get(not_worth_it).is_none(),
            "a bundle file goes without {not_worth_it}: {h:?}"
        );
    }

    let (status, h, _) = get(&app, &wasm, &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, header::CONTENT_ENCODING), "gzip");
    assert_ne!(
        header(&h, header::ETAG),
        etag,
        "each encoding has its own ETag"
    );

    let (status, h, body) = get(&app, &wasm, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, WASM, "without Accept-Encoding the plain file");
    assert_eq!(header(&h, header::CONTENT_ENCODING), "");

    let br = (header::ACCEPT_ENCODING, "br");
    let (status, h, body) = get(&app, &wasm, &[br.clone(), (header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "If-None-Match with the current ETag"
    );
    assert!(body.is_empty());
    assert_eq!(header(&h, header::ETAG), etag);
    assert_eq!(
        header(&h, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );

    let (status, _, body) = get(
        &app,
        &wasm,
        &[br.clone(), (header::IF_NONE_MATCH, "\"stale\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "another ETag gets the file");
    assert_eq!(body, WASM_BR);

    // A hashed file sends no Last-Modified, yet a browser that kept one from elsewhere still
    // gets its answer from the file's time.
    let (status, _, body) = get(
        &app,
        &wasm,
        &[
            br.clone(),
            (header::IF_MODIFIED_SINCE, "Fri, 01 Jan 2100 00:00:00 GMT"),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "If-Modified-Since after the file's time"
    );
    assert!(body.is_empty());
}

#[tokio::test]
async fn unhashed_and_missing_files_are_not_kept() {
    let app = TestApp::spawn().await;
    write_bundle(&app);
    let (status, h, _) = get(&app, "/pkg/plain.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&h, header::CACHE_CONTROL),
        "no-cache",
        "revalidated on each use"
    );
    assert!(!header(&h, header::ETAG).is_empty());
    assert!(
        !header(&h, header::LAST_MODIFIED).is_empty(),
        "a file that is revalidated keeps its Last-Modified"
    );
    assert_eq!(
        header(&h, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "a script is never sniffed"
    );

    let (status, h, _) = get(&app, &format!("/pkg/keyway.{HASH}.js"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        header(&h, header::CACHE_CONTROL),
        "no-store",
        "a 404 is never cached"
    );
}

#[tokio::test]
async fn pages_are_compressed_and_server_function_answers_are_not() {
    let app = TestApp::spawn().await;
    let (status, h, _) = get(&app, "/login", &[(header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&h, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(
        header(&h, header::CONTENT_ENCODING),
        "br",
        "the page is compressed"
    );
    assert_eq!(header(&h, header::CACHE_CONTROL), "no-store");
    assert!(
        header(&h, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"),
        "a page keeps its document headers: {h:?}"
    );
    assert_eq!(header(&h, header::X_FRAME_OPTIONS), "DENY");

    // Logged in, so the answer is a real one; JSON bodies well above any size threshold.
    let client = app.login("alice", "alice-pass").await;
    for (endpoint, content_type, args) in [
        ("login_options", "application/json", "{}"),
        ("whoami", "application/json", "{}"),
        ("mounts", "application/json", "{}"),
    ] {
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::ORIGIN, ORIGIN)
            .header(header::ACCEPT, "application/json")
            .header(header::ACCEPT_ENCODING, "br, gzip")
            .header(header::CONTENT_TYPE, content_type);
        if let Some(c) = &client.cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Body::from(args)).unwrap();
        let (status, h, body) = client.send(req).await;
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        assert!(
            body.len() > 32,
            "{endpoint}: a body worth compressing: {body}"
        );
        assert_eq!(
            header(&h, header::CONTENT_ENCODING),
            "",
            "{endpoint} must not be compressed"
        );
        assert_eq!(header(&h, header::CACHE_CONTROL), "no-store", "{endpoint}");
    }
}

#[tokio::test]
async fn plain_html_pages_come_whole_without_wasm_and_other_pages_with_it() {
    let app = TestApp::spawn().await;
    for path in keyway_app::PLAIN_HTML_PAGES {
        let (status, h, body) = get(&app, path, &[]).await;
        let html = String::from_utf8(body).unwrap();
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains(".wasm") && !html.contains("modulepreload"),
            "{path} names no wasm: {html}"
        );
        assert!(html.contains(r#"data-hydrated="true""#), "{path}: {html}");
        assert!(
            !html.contains("<template"),
            "{path} arrives whole, without a script to put parts in place: {html}"
        );
        // A document keeps every header a document obeys.
        assert!(!header(&h, header::CONTENT_SECURITY_POLICY).is_empty());
        assert_eq!(header(&h, header::REFERRER_POLICY), "same-origin");
        assert_eq!(header(&h, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(!header(&h, "x-request-id".parse().unwrap()).is_empty());
    }
    // Any other page (here the not-found one) loads the wasm and is hydrated by it.
    let (status, _, body) = get(&app, "/no-such-page", &[]).await;
    let html = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("modulepreload") && html.contains(".wasm"),
        "{html}"
    );
    assert!(!html.contains("data-hydrated"), "{html}");
}
