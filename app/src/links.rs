//! Links to pages, with names percent-encoded so any mount or secret path round-trips.
//!
//! A mount may itself contain `/` (`teams/payments`): it is encoded as one path segment. A secret's
//! path keeps its `/` separators; each of its segments is encoded.
//! The apps overview keeps its search text and page in the query string, encoded the same way, and
//! so does the login page its chosen method and the reason of a failed attempt.

use crate::dto::{LoginKind, SecretRef};
use crate::error::LoginProblem;

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/secrets/<mount>/<path>` for one secret's page (the route in `App`).
pub fn secret_href(secret: &SecretRef) -> String {
    let path: Vec<String> = secret.path.split('/').map(encode_segment).collect();
    format!(
        "/secrets/{}/{}",
        encode_segment(&secret.mount),
        path.join("/")
    )
}

/// The platform team's onboarding page.
pub const ONBOARD: &str = "/platform/onboard";

/// The platform team's access page: the environments whose access the caller manages.
pub const ACCESS: &str = "/platform/access";

/// `/platform/access/<environment>`: one environment's access.
pub fn access_href(environment: &str) -> String {
    format!("{ACCESS}/{}", encode_segment(environment))
}

/// `/platform/fleet?env=…&problem=…&q=…&page=…` (page from 1; empty filters left out).
pub fn fleet_href(
    environment: Option<&str>,
    problem: Option<crate::dto::FleetProblem>,
    text: &str,
    page: u32,
) -> String {
    let mut params = Vec::new();
    if let Some(e) = environment {
        params.push(format!("env={}", encode_segment(e)));
    }
    if let Some(p) = problem {
        params.push(format!("problem={}", p.as_str()));
    }
    if !text.trim().is_empty() {
        params.push(format!("q={}", encode_segment(text.trim())));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/platform/fleet".to_owned()
    } else {
        format!("/platform/fleet?{}", params.join("&"))
    }
}

/// The audit history page.
pub const AUDIT: &str = "/audit";

fn with_params(base: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return base.to_owned();
    }
    let params: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_segment(v)))
        .collect();
    format!("{base}?{}", params.join("&"))
}

/// `/audit?…`: the history page showing `query` (read back by `AuditQuery::from_pairs`).
pub fn audit_href(query: &crate::dto::AuditQuery) -> String {
    with_params(AUDIT, &query.to_pairs())
}

/// `/audit/export.<csv|jsonl>?…`: every row `query` matches (paging left out), streamed.
pub fn audit_export_href(
    query: &crate::dto::AuditQuery,
    format: crate::dto::AuditFormat,
) -> String {
    let all = crate::dto::AuditQuery {
        before: None,
        ..query.clone()
    };
    with_params(
        &format!("{AUDIT}/export.{}", format.extension()),
        &all.to_pairs(),
    )
}

/// The login page (plain HTML: `crate::PLAIN_HTML_PAGES`).
pub const LOGIN: &str = "/login";

/// Where the login page's "Sign in with" buttons post (the server's OIDC routes; the provider
/// sends the browser back to [`OIDC_CALLBACK`]).
pub const OIDC_START: &str = "/auth/oidc/start";

/// Where the identity provider sends the browser back to, below the public origin (the redirect
/// URI a Vault role's `allowed_redirect_uris` must hold is `<origin>` followed by it).
pub const OIDC_CALLBACK: &str = "/auth/oidc/callback";

/// `/login?method=<kind>&mount=<mount>[&problem=<code>]`: the login page with that method at that
/// mount chosen (the mount filled in when Vault does not list it), saying why the last attempt
/// failed.
pub fn login_href(kind: Option<LoginKind>, mount: &str, problem: Option<LoginProblem>) -> String {
    let mut params = Vec::new();
    if let Some(kind) = kind {
        params.push(format!("method={}", kind.as_str()));
    }
    params.push(format!("mount={}", encode_segment(mount)));
    if let Some(p) = problem {
        params.push(format!("problem={}", p.code()));
    }
    format!("{LOGIN}?{}", params.join("&"))
}

/// `/apps?q=<query>&page=<page>` for the apps overview. `page` counts from 1, as the page shows
/// it; an empty search and the first page are left out, so the plain overview is just `/apps`.
pub fn apps_href(query: &str, page: u32) -> String {
    let mut params = Vec::new();
    let query = query.trim();
    if !query.is_empty() {
        params.push(format!("q={}", encode_segment(query)));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/apps".to_string()
    } else {
        format!("/apps?{}", params.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_with_slashes_stay_one_segment_and_odd_names_are_escaped() {
        assert_eq!(
            secret_href(&SecretRef::new("dev", "webapp/config")),
            "/secrets/dev/webapp/config"
        );
        assert_eq!(
            secret_href(&SecretRef::new("teams/payments", "svc/api")),
            "/secrets/teams%2Fpayments/svc/api"
        );
        assert_eq!(
            secret_href(&SecretRef::new("dev", "a b/c?d#e%")),
            "/secrets/dev/a%20b/c%3Fd%23e%25"
        );
    }

    #[test]
    fn a_login_method_link_names_its_mount_escaped() {
        assert_eq!(
            login_href(Some(LoginKind::Userpass), "userpass", None),
            "/login?method=userpass&mount=userpass"
        );
        assert_eq!(
            login_href(
                Some(LoginKind::Ldap),
                "ldap/corp",
                Some(LoginProblem::BadCredentials)
            ),
            "/login?method=ldap&mount=ldap%2Fcorp&problem=bad-credentials"
        );
        assert_eq!(
            login_href(None, "", Some(LoginProblem::UnknownMethod)),
            "/login?mount=&problem=unknown-method"
        );
    }

    #[test]
    fn the_overview_link_keeps_search_and_page_and_leaves_out_defaults() {
        assert_eq!(apps_href("", 1), "/apps");
        assert_eq!(apps_href("  ", 0), "/apps");
        assert_eq!(apps_href("pay", 1), "/apps?q=pay");
        assert_eq!(apps_href("", 3), "/apps?page=3");
        assert_eq!(
            apps_href(" a&b=c d/é ", 2),
            "/apps?q=a%26b%3Dc%20d%2F%C3%A9&page=2"
        );
    }
}
