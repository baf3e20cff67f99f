//! Single sign-on's two stops in the browser, same tab, no script:
//!
//! - `POST /auth/oidc/start` (the login page's "Sign in with" form; a POST, so the cross-site
//!   guard refuses one from another site): Keyway makes a `client_nonce`, asks Vault for the
//!   provider URL (`Core::oidc_start`), keeps the sign-in in this browser's pre-login session
//!   (`crate::sessions::pending`) and sends the browser on to the provider (a page that
//!   refreshes to it: see `to_the_provider`);
//! - `GET /auth/oidc/callback?state&code` (or `error`, `error_description`), where the provider
//!   sends the browser back: the sign-in is taken from the session by its state (so once), the
//!   code exchanged through Vault (`Core::oidc_finish`), the session started like every login's
//!   (`RequestBackend::begin_session`), and the browser sent to `/`.
//!
//! Every failure ends on `/login` with its sentence kept in the session (`OidcProblem::message`),
//! never in the URL, so the code and state leave the address bar at once and a crafted link
//! cannot put words on the login page. Only a session the store already holds keeps one: a
//! request without one (a crafted link, a client making up mounts) must not create a row each
//! time, so a callback without one goes to `/login` with no sentence and a start without one
//! shows its sentence on a page of its own (`not_started`). Every parameter is bounded. The
//! request log names the path only (`super::request_id`), so code and state are never logged; the answers are
//! `no-store` like every other (`super::security_headers`).

use axum::{
    body::Body,
    extract::State,
    http::Request,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use keyway_app::links::{LOGIN, OIDC_CALLBACK, OIDC_START};
use keyway_vault::SecretString;
use tower_sessions::Session;

use super::{request_backend, AppState};
use crate::service::oidc::OidcProblem;
use crate::service::TokenOrigin;
use crate::sessions::pending::{PendingSignIn, PendingSignIns, NOTICE_KEY, PENDING_KEY};

/// The start form holds one short field.
const FORM_MAX_BYTES: usize = 4 * 1024;
/// The whole callback query, and each parameter of it.
const QUERY_MAX_BYTES: usize = 8 * 1024;
const STATE_MAX_BYTES: usize = 512;
const CODE_MAX_BYTES: usize = 4 * 1024;
const ERROR_MAX_BYTES: usize = 64;
const DESCRIPTION_MAX_BYTES: usize = 1024;
/// The most of a provider's `error_description` the login page shows.
const DESCRIPTION_SHOWN_CHARS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(OIDC_START, post(start))
        .route(OIDC_CALLBACK, get(callback))
}

async fn start(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let backend = request_backend(&state, Some(&parts));
    let Some(session) = backend.session.clone() else {
        return Redirect::to(LOGIN).into_response();
    };
    let mount = match axum::body::to_bytes(body, FORM_MAX_BYTES).await {
        Ok(bytes) => url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "mount")
            .map(|(_, v)| v.trim().trim_matches('/').to_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    use keyway_app::logic::limits::{check_chars, NAME_MAX_CHARS};
    if mount.is_empty() || check_chars("mount", &mount, NAME_MAX_CHARS).is_err() {
        return not_started(&session, OidcProblem::NotOffered).await;
    }
    let nonce = client_nonce();
    let core = &backend.core;
    let started = match core
        .oidc_start(&state.oidc, &mount, &nonce, &backend.meta)
        .await
    {
        Ok(started) => started,
        Err(problem) => return not_started(&session, problem).await,
    };
    let now = backend.rules.clock.now();
    let mut pending = read_pending(&session).await;
    let sealed_nonce = state
        .sealer
        .seal(&nonce, &PendingSignIn::nonce_binding(&started.state));
    pending.add(
        PendingSignIn {
            state: started.state,
            mount,
            sealed_nonce,
            started_at: now,
        },
        now,
    );
    if let Err(e) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(error = %e, "could not keep an OIDC sign-in in the session");
        return not_started(
            &session,
            OidcProblem::Failed(keyway_app::error::AppError::Unavailable(
                "Your session could not be saved. Try again in a moment.".into(),
            )),
        )
        .await;
    }
    to_the_provider(&started.auth_url)
}

/// The answer that sends the browser on to the provider, in this tab: a page that refreshes to
/// it at once (and a link), not a redirect. The login page's CSP says `form-action 'self'`, and
/// browsers hold a form post's redirects to it too, so a 303 to the provider would be blocked.
fn to_the_provider(auth_url: &str) -> Response {
    let href = html_attr(auth_url);
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={href}\">\
         <title>Keyway: signing in</title></head><body>\
         <p>Taking you to your identity provider\u{2026} \
         <a id=\"continue\" href=\"{href}\">Continue</a></p></body></html>"
    );
    let mut res = axum::response::Html(page).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("0;url={auth_url}")) {
        res.headers_mut().insert("refresh", v);
    }
    res
}

/// Text for an HTML attribute value in double quotes.
fn html_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

async fn callback(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, _) = req.into_parts();
    let backend = request_backend(&state, Some(&parts));
    let Some(session) = backend.session.clone() else {
        return Redirect::to(LOGIN).into_response();
    };
    let answer = match ProviderAnswer::parse(parts.uri.query().unwrap_or("")) {
        Ok(answer) => answer,
        Err(problem) => return back_to_login(&session, problem).await,
    };
    let now = backend.rules.clock.now();
    let mut pending = read_pending(&session).await;
    let Some(sign_in) = answer.state.as_deref().and_then(|s| pending.take(s, now)) else {
        return back_to_login(&session, OidcProblem::Expired).await;
    };
    // Used up before Vault is asked: a second callback with this state finds nothing.
    let saved = if pending.is_empty() {
        session.remove_value(PENDING_KEY).await.map(|_| ())
    } else {
        session.insert(PENDING_KEY, &pending).await
    };
    if let Err(e) = saved {
        tracing::error!(error = %e, "could not update the OIDC sign-ins in the session");
        return back_to_login(&session, OidcProblem::Expired).await;
    }
    let core = &backend.core;
    let provider_problem = match (&answer.error, &answer.code) {
        (Some(error), _) if error == "access_denied" => Some(OidcProblem::Declined),
        (Some(error), _) => Some(OidcProblem::Provider {
            error: error.clone(),
            description: answer.description.clone().unwrap_or_default(),
        }),
        (None, None) => Some(OidcProblem::Malformed),
        (None, Some(_)) => None,
    };
    if let Some(problem) = provider_problem {
        core.oidc_refused(&sign_in.mount, &problem, &backend.meta)
            .await;
        return back_to_login(&session, problem).await;
    }
    let code = SecretString::from(answer.code.unwrap_or_default());
    let binding = PendingSignIn::nonce_binding(&sign_in.state);
    // Sealed under another session key (rotated since the sign-in started): start again.
    let Some(nonce) = state.sealer.open(&sign_in.sealed_nonce, &binding) else {
        return back_to_login(&session, OidcProblem::Expired).await;
    };
    let logged_in = match core
        .oidc_finish(&sign_in.mount, &sign_in.state, &code, &nonce, &backend.meta)
        .await
    {
        Ok(logged_in) => logged_in,
        Err(problem) => return back_to_login(&session, problem).await,
    };
    match backend.begin_session(logged_in, TokenOrigin::Issued).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => back_to_login(&session, OidcProblem::Failed(e)).await,
    }
}

/// What the provider put on the callback URL, each parameter bounded.
#[derive(Debug, Default, PartialEq, Eq)]
struct ProviderAnswer {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    /// Printable characters only, cut at [`DESCRIPTION_SHOWN_CHARS`].
    description: Option<String>,
}

impl ProviderAnswer {
    /// The known parameters (others are ignored); a query or parameter over its bound, a
    /// parameter given twice or an error code that is not a plain word is `Malformed`.
    fn parse(query: &str) -> Result<ProviderAnswer, OidcProblem> {
        if query.len() > QUERY_MAX_BYTES {
            return Err(OidcProblem::Malformed);
        }
        let mut answer = ProviderAnswer::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let (slot, max) = match &*key {
                "state" => (&mut answer.state, STATE_MAX_BYTES),
                "code" => (&mut answer.code, CODE_MAX_BYTES),
                "error" => (&mut answer.error, ERROR_MAX_BYTES),
                "error_description" => (&mut answer.description, DESCRIPTION_MAX_BYTES),
                _ => continue,
            };
            if slot.is_some() || value.len() > max {
                return Err(OidcProblem::Malformed);
            }
            *slot = Some(value.into_owned());
        }
        if let Some(error) = &answer.error {
            let word = |b: u8| b.is_ascii_alphanumeric() || b"_-.".contains(&b);
            if error.is_empty() || !error.bytes().all(word) {
                return Err(OidcProblem::Malformed);
            }
        }
        answer.description = answer.description.map(|d| {
            let shown: String = d
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(DESCRIPTION_SHOWN_CHARS)
                .collect();
            let cut = d.chars().count() > DESCRIPTION_SHOWN_CHARS;
            format!("{}{}", shown.trim(), if cut { "…" } else { "" })
        });
        Ok(answer)
    }
}

/// 32 random bytes, hex: what binds Vault's callback to the sign-in this browser started.
fn client_nonce() -> SecretString {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

async fn read_pending(session: &Session) -> PendingSignIns {
    session
        .get::<PendingSignIns>(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Whether the request came with a session the store holds (one a started sign-in or a login
/// made). Loads it first: an unknown cookie's id is forgotten then.
async fn stored(session: &Session) -> bool {
    let _ = session.get_value(NOTICE_KEY).await;
    session.id().is_some()
}

/// A start that failed: its sentence left for the login page in the browser's session, or,
/// without one, on a page of its own (no session row is made for it).
async fn not_started(session: &Session, problem: OidcProblem) -> Response {
    if stored(session).await {
        return back_to_login(session, problem).await;
    }
    let said = html_attr(&problem.message());
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Keyway: not signed in</title></head><body>\
         <p id=\"notice\">{said}</p><p><a href=\"{LOGIN}\">Back to the login page</a></p>\
         </body></html>"
    );
    axum::response::Html(page).into_response()
}

/// Leaves the problem's sentence for the login page and sends the browser there (a clean URL).
/// Without a stored session (a crafted link), just there: no row is made for a sentence.
async fn back_to_login(session: &Session, problem: OidcProblem) -> Response {
    if !stored(session).await {
        return Redirect::to(LOGIN).into_response();
    }
    if let Err(e) = session.insert(NOTICE_KEY, problem.message()).await {
        tracing::error!(error = %e, "could not keep the sign-in's problem for the login page");
    }
    Redirect::to(LOGIN).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_address_is_quoted_for_html() {
        assert_eq!(
            html_attr("https://idp/a?x=1&y=\"<'>"),
            "https://idp/a?x=1&amp;y=&quot;&lt;&#39;&gt;"
        );
    }

    #[test]
    fn the_provider_answer_is_bounded_and_plain() {
        let a = ProviderAnswer::parse("state=s1&code=c1&x=y").unwrap();
        assert_eq!(
            (a.state.as_deref(), a.code.as_deref()),
            (Some("s1"), Some("c1"))
        );
        let too_long = format!("state=s&code={}", "c".repeat(CODE_MAX_BYTES + 1));
        assert_eq!(
            ProviderAnswer::parse(&too_long),
            Err(OidcProblem::Malformed)
        );
        assert_eq!(
            ProviderAnswer::parse("state=a&state=b"),
            Err(OidcProblem::Malformed)
        );
        assert_eq!(
            ProviderAnswer::parse("state=a&error=%3Cb%3E"),
            Err(OidcProblem::Malformed)
        );
        let long = format!(
            "state=a&error=server_error&error_description={}%0A",
            "d".repeat(300)
        );
        let d = ProviderAnswer::parse(&long).unwrap().description.unwrap();
        assert_eq!(d.chars().count(), DESCRIPTION_SHOWN_CHARS + 1);
        assert!(d.ends_with('…'));
    }
}
