//! `GET /audit/export.csv` and `/audit/export.jsonl`: the audit history's filtered rows,
//! downloaded. A plain route rather than a server function so the answer can stream (a server
//! function's answer is built whole); the filters are the page's own URL parameters
//! (`AuditQuery::from_pairs`), and the service decides what the caller may see.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderValue, Request, StatusCode},
    response::{IntoResponse, Response},
};
use keyway_app::dto::{AuditFormat, AuditQuery};
use keyway_app::error::AppError;

use super::{app_error_response, request_backend, AppState};

pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request<Body>,
) -> Response {
    let Some(format) = file.strip_prefix("export.").and_then(AuditFormat::parse) else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    // The export writes an audit row, so it is held to the rule every state-changing request
    // is (`same_origin`): a link on another site cannot make a logged-in browser export. A
    // script sends `Origin: <KEYWAY_PUBLIC_URL>`.
    if !super::same_origin(&req, &state.public_origin) {
        return app_error_response(&AppError::Denied(
            "Export the audit log from Keyway's own audit page (a script sends Keyway's address as its Origin header).".into(),
        ));
    }
    let (parts, _) = req.into_parts();
    let raw = parts.uri.query().unwrap_or_default();
    if raw.len() > 8 * 1024 {
        return app_error_response(&AppError::too_large());
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let query = AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let backend = request_backend(&state, Some(&parts));
    let core = state.core.clone();
    let stream = backend
        .with_caller(|caller| core.audit_export(caller, query, format))
        .await;
    let stream = match stream {
        Ok(s) => s,
        Err(e) => return app_error_response(&e),
    };
    let (content_type, name) = match format {
        AuditFormat::Csv => ("text/csv; charset=utf-8", "keyway-audit.csv"),
        AuditFormat::JsonLines => ("application/x-ndjson; charset=utf-8", "keyway-audit.jsonl"),
    };
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
