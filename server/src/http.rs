//! The axum router and the middleware every response passes through.
//!
//! - a request id on every request (logged, audited, echoed as `x-request-id` except on the
//!   bundle's files);
//! - cross-site protection: a state-changing request must come from Keyway's own origin;
//! - security headers, and `Cache-Control: no-store` on everything but the static bundle, so no
//!   page or server-function answer that may carry a value is kept by a browser or proxy;
//! - the audit log's exports, streamed (`audit_export`);
//! - single sign-on's two browser stops, start and callback (`oidc`);
//! - the static bundle under `/pkg/` precompressed and cached by content hash (`assets`);
//! - HTML pages compressed on the fly, server-function answers never (see `compress_page`).

mod assets;
mod audit_export;
mod oidc;
pub mod ready;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRef, State},
    http::{header, HeaderValue, Method, Request, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use keyway_app::backend::BackendHandle;
use keyway_app::{shell, App};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_sessions::{cookie::SameSite, Expiry, Session, SessionManagerLayer};

use crate::backend::RequestBackend;
use crate::sealing::Sealer;
use crate::service::{Core, RequestMeta};
use crate::sessions::{AnyStore, SessionRules};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub sealer: Sealer,
    pub leptos: LeptosOptions,
    pub db: keyway_store::Db,
    /// `scheme://host[:port]` that browsers must send as Origin.
    pub public_origin: String,
    /// Single sign-on: Keyway's callback URL and the role asked for at each OIDC mount.
    pub oidc: Arc<crate::service::oidc::OidcSettings>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// When sessions end, and the clock they are measured with.
    pub sessions: SessionRules,
    /// The session store (for the sweeper, and for tests that look at its rows).
    pub store: AnyStore,
    /// `/readyz`'s last Vault and database check, shared by every request for 2 s.
    pub ready: Arc<ready::ReadyCache>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The id of one request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Cookie settings for the session layer (the idle timeout is in [`AppState::sessions`]).
pub struct CookiePolicy {
    pub secure: bool,
    /// `__Host-keyway_session` outside dev mode (see `config::Checked::cookie_name`).
    pub name: &'static str,
    /// Served over https: every answer says so (Strict-Transport-Security).
    pub hsts: bool,
}

pub fn router(state: AppState, store: AnyStore, cookies: CookiePolicy) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_backend(&state)
    };
    let leptos_options = state.leptos.clone();
    let idle = time::Duration::try_from(state.sessions.idle).unwrap_or(time::Duration::minutes(30));
    // Path=/ and no Domain (the defaults) with Secure are what the `__Host-` prefix requires.
    let sessions = SessionManagerLayer::new(store)
        .with_name(cookies.name)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(cookies.secure)
        .with_expiry(Expiry::OnInactivity(idle));
    let pkg_dir = std::path::Path::new(&*state.leptos.site_root).join(&*state.leptos.site_pkg_dir);
    Router::new()
        .route("/healthz", get(ready::healthz))
        .route("/readyz", get(ready::readyz))
        .route("/env/{mount}/app/{*path}", get(old_secret_page))
        .route("/audit/{file}", get(audit_export::export))
        .merge(oidc::routes())
        .nest_service(
            &format!("/{}", state.leptos.site_pkg_dir),
            assets::service(&pkg_dir),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .route_layer(middleware::from_fn(crate::metrics::http::note_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(sessions)
        .layer(middleware::from_fn(bound_api))
        .layer(middleware::from_fn(deadline))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn_with_state(
            Hsts(cookies.hsts),
            security_headers,
        ))
        .layer(middleware::from_fn(request_id))
        .layer(middleware::from_fn_with_state(
            state.core.metrics.clone(),
            crate::metrics::http::observe,
        ))
        .layer(CompressionLayer::new().compress_when(compress_page))
        .with_state(state)
}

/// `/env/<mount>/app/<path>`, the address a secret page had before the glossary: a permanent
/// redirect to `/secrets/<mount>/<path>`, so bookmarks keep working.
async fn old_secret_page(
    axum::extract::Path((mount, path)): axum::extract::Path<(String, String)>,
) -> axum::response::Redirect {
    let secret = keyway_app::dto::SecretRef::new(mount, path);
    axum::response::Redirect::permanent(&keyway_app::links::secret_href(&secret))
}

/// Marks an answer that must never be compressed (set by `guard` on everything under `/api`).
#[derive(Clone, Copy)]
struct NoCompression;

/// Which answers are compressed on the fly: HTML pages only.
///
/// BREACH: when a compressed answer holds a secret next to text an attacker can influence (a
/// path, a search term) and the attacker can watch its length, the length reveals the secret
/// a character at a time. Server-function answers under `/api` carry secret values (reveal,
/// diff, export) next to such text, so they are never compressed. Pages are: the server
/// renders no value into them (values travel only in POST answers from `/api`), and the page
/// data it embeds for hydration holds key names and versions, not values. The bundle under
/// `/pkg/` is precompressed at build time and holds no user data at all.
fn compress_page(
    _status: StatusCode,
    _version: axum::http::Version,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> bool {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    html && extensions.get::<NoCompression>().is_none()
}

/// Provides the per-request backend to the Leptos render or server function.
fn provide_backend(state: &AppState) {
    let parts = use_context::<axum::http::request::Parts>();
    provide_context(BackendHandle(Arc::new(request_backend(
        state,
        parts.as_ref(),
    ))));
}

/// The per-request backend for a request with these `parts` (its session, request id and
/// client address): what the pages' server functions and the plain routes act through.
fn request_backend(state: &AppState, parts: Option<&axum::http::request::Parts>) -> RequestBackend {
    let session = parts.and_then(|p| p.extensions.get::<Session>().cloned());
    let meta = RequestMeta {
        request_id: parts
            .and_then(|p| p.extensions.get::<RequestId>())
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        client_addr: parts
            .map(|p| {
                crate::client_addr::client_addr(
                    p.extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip()),
                    // Every X-Forwarded-For header, in order, as one list: a proxy that adds a
                    // header of its own (instead of appending to the client's) is still the
                    // last hop read.
                    forwarded_for(&p.headers).as_deref(),
                    &state.trusted_proxies,
                )
            })
            .unwrap_or_default(),
    };
    RequestBackend {
        core: state.core.clone(),
        sealer: state.sealer.clone(),
        session,
        meta,
        rules: state.sessions.clone(),
        background: Default::default(),
    }
}

async fn request_id(mut req: Request<Body>, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut res = {
        let _enter = span.enter();
        tracing::debug!("started");
        drop(_enter);
        use tracing::Instrument;
        // The request's Vault calls carry its id (`keyway_vault::trail`): logins, and
        // everything a server function does on this task.
        keyway_vault::trail::within(&id, next.run(req))
            .instrument(span.clone())
            .await
    };
    span.in_scope(|| tracing::info!(status = res.status().as_u16(), "finished"));
    // A file of the bundle goes without (`assets`): its request id is in the log line above.
    if assets::is_bundle_file(&res) {
        return res;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Bounds every request body at `BODY_MAX_BYTES` (`keyway_app::logic::limits`): one announced
/// as larger is answered 413 unread, one that turns out larger is cut there (the server function
/// then fails with `AppError::TooLarge`).
///
/// And gives every server-function failure the status its `AppError` stands for. `server_fn`
/// answers a request that fails before the function runs (a body that does not decode, a
/// missing field) with 500 whatever the error; the function's own failures already carry theirs
/// (`keyway_app::api::respond`). So a malformed request is a 400 with a plain sentence, not a 500.
async fn bound_api(req: Request<Body>, next: Next) -> Response {
    use keyway_app::error::AppError;
    use keyway_app::logic::limits::BODY_MAX_BYTES;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_MAX_BYTES as u64) {
        return app_error_response(&AppError::too_large());
    }
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, BODY_MAX_BYTES)));
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // An error answer is a few hundred bytes of JSON; anything else is passed on as it was.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(e.status()).unwrap_or(parts.status);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// No request runs longer than this. Every Vault call has its own timeout
/// (`KEYWAY_VAULT_TIMEOUT_SECS`), every fan-out its own bounds (folders listed, capability
/// batches, reads in flight), and the longest legitimate request, "Sync now, then restart",
/// waits at most `SYNC_WAIT` (45 s) for the operator; this is the backstop above all of them.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(90);

/// Ends a request at [`REQUEST_DEADLINE`] with a plain 503. An audited action cut off there
/// keeps its intent row without an outcome ("may or may not have landed"), as when Keyway stops.
async fn deadline(req: Request<Body>, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!("request cut off at the deadline");
            app_error_response(&keyway_app::error::AppError::Unavailable(format!(
                "Keyway gave up on this request after {} s. Try again; if it keeps happening, tell your platform team.",
                REQUEST_DEADLINE.as_secs()
            )))
        }
    }
}

/// An `AppError` as a server function would answer it, for a request refused before one runs.
fn app_error_response(e: &keyway_app::error::AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_string(e).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// True when a state-changing request carries proof it came from our own pages.
pub fn same_origin(req: &Request<Body>, public_origin: &str) -> bool {
    let h = req.headers();
    match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site") | Some("same-site") => return false,
        // Set by the browser itself; a page cannot forge it.
        Some("same-origin") => return true,
        _ => {}
    }
    if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == public_origin;
    }
    match h.get(header::REFERER).and_then(|v| v.to_str().ok()) {
        Some(r) => r == public_origin || r.starts_with(&format!("{public_origin}/")),
        None => false,
    }
}

/// Refuses a state-changing request that did not come from Keyway's own pages; marks `/api`
/// answers uncompressible. Its refusal gets the security headers like every answer (they are set
/// by [`security_headers`], outside it).
async fn guard(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(&req, &state.public_origin) {
        tracing::warn!(path = %req.uri().path(), "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            "This request did not come from Keyway's own pages and was refused.",
        )
            .into_response();
    }
    let path = req.uri().path();
    let is_api = path == "/api" || path.starts_with("/api/");
    let mut res = next.run(req).await;
    if is_api {
        res.extensions_mut().insert(NoCompression);
    }
    res
}

/// Whether answers carry Strict-Transport-Security (Keyway is served over https).
#[derive(Clone, Copy)]
struct Hsts(bool);

/// The security headers, on every answer (the guard's refusals included).
async fn security_headers(State(hsts): State<Hsts>, req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    if hsts.0 {
        // A year, the common floor for HSTS; no includeSubDomains: other hosts are not ours.
        set(
            res.headers_mut(),
            "strict-transport-security",
            "max-age=31536000",
        );
    }
    // A file of the bundle carries all its other headers already (`assets`).
    if assets::is_bundle_file(&res) {
        return res;
    }
    let h = res.headers_mut();
    set(h, "x-content-type-options", "nosniff");
    // Anything else, a missing file of the bundle included, is never kept.
    set(h, "cache-control", "no-store");
    set(h, "pragma", "no-cache");
    // same-origin: our own form posts keep their Referer (a fallback for the origin check);
    // no other site ever learns a Keyway URL.
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if !h.contains_key("content-security-policy") {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        );
    }
    res
}

/// All `X-Forwarded-For` headers of a request joined into one comma-separated list (RFC 7230
/// allows a list header to be split over several), or None without any.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<String> {
    let all: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!all.is_empty()).then(|| all.join(","))
}
