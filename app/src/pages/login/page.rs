//! The login page as the server renders it, for the server only (see `super`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::auth::Login;
use crate::components::ui::ErrorBox;
use crate::dto::{LoginKind, LoginMethod};
use crate::error::AppError;
use crate::error::LoginProblem;
use crate::links::{login_href, OIDC_START};

/// The page. Its route renders it whole before sending it (`SsrMode::Async` in `App`), so it
/// needs no script to show its form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let wanted_kind = query.get_str("method").and_then(LoginKind::parse);
    let wanted_mount = query.get("mount");
    // From a closed list of codes: a crafted link cannot put its own words here.
    let problem = query
        .get_str("problem")
        .and_then(LoginProblem::parse)
        .map(LoginProblem::error);
    let methods = async move {
        // Asked of the backend directly: a server function's answer would set this page's status.
        let options = match crate::backend::backend() {
            Ok(backend) => backend.login_options().await,
            Err(e) => Err(e),
        };
        // What a failed single sign-on left in this browser's session (never from the URL).
        let notice = match crate::backend::backend() {
            Ok(backend) => backend.take_login_notice().await,
            Err(_) => None,
        };
        let notice = notice.map(|text| {
            view! {
                <div class="mt-4" data-testid="sign-in-problem">
                    <ErrorBox error=AppError::Invalid(text) />
                </div>
            }
        });
        match options {
            Err(e) => view! { {notice} <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
            Ok(opts) => {
                let (sso, forms): (Vec<LoginMethod>, Vec<LoginMethod>) = opts
                    .methods
                    .into_iter()
                    .partition(|m| m.kind == LoginKind::Oidc);
                let (chosen, typed_mount) = choose(&forms, wanted_kind, wanted_mount.as_deref());
                view! {
                    {notice}
                    {(!sso.is_empty()).then(|| view! {
                        <div class="mt-4 space-y-2">
                            {sso.iter().map(|m| view! { <SignInWith method=m.clone() /> }).collect_view()}
                        </div>
                    })}
                    {(!sso.is_empty() && !forms.is_empty()).then(|| view! {
                        <p class="mt-4 text-center text-sm text-slate-500">"or"</p>
                    })}
                    <nav class="mt-4 flex flex-wrap gap-2" aria-label="Login method">
                        {forms.iter().enumerate().map(|(i, m)| {
                            let here = i == chosen;
                            view! {
                                <a
                                    href=login_href(Some(m.kind), &m.mount, None)
                                    class=if here { "tab tab-active" } else { "tab" }
                                    aria-current=here.then_some("page")
                                >
                                    {method_label(m)}
                                </a>
                            }
                        }).collect_view()}
                    </nav>
                    {forms.get(chosen).cloned().map(|method| view! { <LoginForm method typed_mount /> })}
                }
                .into_any()
            }
        }
    };
    view! {
        <div class="mx-auto mt-10 max-w-md">
            <div class="card">
                <h1 class="text-xl font-semibold">"Log in to Keyway"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Use your Vault identity. Keyway acts with your own Vault permissions."
                </p>
                {problem.map(|e| view! { <div class="mt-4"><ErrorBox error=e /></div> })}
                <Suspense fallback=|| ()>{Suspend::new(methods)}</Suspense>
            </div>
        </div>
    }
}

/// The method the URL asks for: its kind at its mount, else its kind, else the first one; and the
/// mount to fill in when the URL names one that Vault does not list for it (typed by the user).
fn choose(
    methods: &[LoginMethod],
    kind: Option<LoginKind>,
    mount: Option<&str>,
) -> (usize, Option<String>) {
    let kind_ok = |m: &LoginMethod| kind.is_none_or(|k| m.kind == k);
    if let Some(i) = methods
        .iter()
        .position(|m| kind_ok(m) && mount.is_none_or(|x| m.mount == x))
    {
        return (i, None);
    }
    let i = kind
        .and_then(|k| methods.iter().position(|m| m.kind == k))
        .unwrap_or(0);
    let typed = mount
        .filter(|m| !m.is_empty() && methods.get(i).is_some_and(|c| c.mount != *m))
        .map(str::to_string);
    (i, typed)
}

fn method_label(m: &LoginMethod) -> String {
    if m.mount == m.kind.as_str() {
        m.kind.label().to_string()
    } else {
        format!("{} ({})", m.kind.label(), m.mount)
    }
}

/// A single sign-on method: one button, a same-origin form post to the server's
/// `/auth/oidc/start`, which sends the browser on to the identity provider in this tab.
#[component]
fn SignInWith(method: LoginMethod) -> impl IntoView {
    view! {
        <form method="post" action=OIDC_START data-testid="sign-in-with">
            <input type="hidden" name="mount" value=method.mount.clone() />
            <button type="submit" class="btn-primary w-full">
                {format!("Sign in with {}", method.provider_name())}
            </button>
        </form>
    }
}

/// The form for one method, posted to the login server function; `typed_mount` is a mount path
/// the user typed last time, shown again.
#[component]
fn LoginForm(method: LoginMethod, typed_mount: Option<String>) -> impl IntoView {
    let kind = method.kind;
    let open = typed_mount.is_some();
    let mount = typed_mount.unwrap_or(method.mount);
    view! {
        <form method="post" action=Login::url() class="mt-4 space-y-3" data-testid="login-form">
            <input type="hidden" name="method" value=kind.as_str() />
            {(kind != LoginKind::Token).then(|| view! {
                <label class="field">
                    <span>"Username"</span>
                    <input name="username" autocomplete="username" required class="input" />
                </label>
            })}
            <label class="field">
                <span>{if kind == LoginKind::Token { "Vault token" } else { "Password" }}</span>
                <input
                    name="secret"
                    type="password"
                    required
                    class="input"
                    autocomplete=if kind == LoginKind::Token { "off" } else { "current-password" }
                />
            </label>
            // What Keyway does with a pasted token (see the server's `TokenOrigin::Pasted`):
            // revoking it would revoke every token made with it, so it is only forgotten.
            {(kind == LoginKind::Token).then(|| view! {
                <p class="text-sm text-slate-600" data-testid="pasted-token-note">
                    "Keyway keeps this token only for your session. Logging out, or the session \
                     timing out, makes Keyway forget it; it does not revoke it, so it and any \
                     tokens made with it keep working until they expire. Revoke it yourself \
                     (vault token revoke -self) when you no longer need it."
                </p>
            })}
            <details class="text-sm text-slate-600" open=open>
                <summary class="cursor-pointer">"Mount path"</summary>
                <label class="field mt-2">
                    <span>"Auth method mounted at"</span>
                    <input name="mount" value=mount class="input" />
                </label>
            </details>
            <button type="submit" class="btn-primary w-full">"Log in"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: LoginKind, mount: &str) -> LoginMethod {
        LoginMethod {
            kind,
            mount: mount.into(),
            description: String::new(),
        }
    }

    #[test]
    fn the_url_picks_the_method_and_keeps_a_typed_mount() {
        let ms = [
            m(LoginKind::Userpass, "userpass"),
            m(LoginKind::Token, "token"),
            m(LoginKind::Ldap, "ldap"),
        ];
        assert_eq!(choose(&ms, None, None), (0, None));
        assert_eq!(
            choose(&ms, Some(LoginKind::Token), Some("token")),
            (1, None)
        );
        assert_eq!(choose(&ms, None, Some("ldap")), (2, None));
        // LDAP at a mount Vault does not list: the LDAP form, with that mount filled in.
        assert_eq!(
            choose(&ms, Some(LoginKind::Ldap), Some("corp-ldap")),
            (2, Some("corp-ldap".into()))
        );
        assert_eq!(choose(&ms, Some(LoginKind::Ldap), Some("")), (2, None));
    }
}
