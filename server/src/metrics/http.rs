//! `keyway_http_requests_total` and `keyway_http_request_duration_seconds`, by route template.
//!
//! The route is axum's [`MatchedPath`] — the template a page or API route was declared with
//! (`/secrets/{mount}/{*path}`), or a server function's fixed endpoint — never the raw path. It
//! is only known once the router has matched, inside it, so [`note_route`] (a route layer) writes
//! it into a slot that [`observe`] (outside the router) put in the request. A request no route
//! matched (the fallback: unknown paths, missing files) counts as `other`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{Method, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::{HttpLabels, Metrics, RouteLabels};

/// Where [`note_route`] leaves the matched route for [`observe`].
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

/// The route label of a request that matched no route.
pub const OTHER_ROUTE: &str = "other";

/// Outermost: times the request and counts it once it is answered.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let route = slot
        .0
        .get()
        .cloned()
        .unwrap_or_else(|| OTHER_ROUTE.to_owned());
    metrics
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status_class: status_class(res.status().as_u16()),
        })
        .inc();
    res
}

/// Inside the router, on matched routes only: notes the route template.
pub async fn note_route(req: Request<Body>, next: Next) -> Response {
    if let (Some(slot), Some(matched)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(matched.as_str().to_owned());
    }
    next.run(req).await
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
