//! The login page: the methods Vault offers, then a form for the chosen one.
//!
//! It is plain HTML, rendered by the server only: each method is a link (`/login?method=<mount>`)
//! and the form posts to the login server function, which answers a failed attempt by sending
//! the browser back here with the error in the URL. So `/login` loads no wasm at all
//! (`crate::served_without_wasm`), and the wasm holds none of its code: reached by a client-side
//! navigation (a page that finds the session ended), it is loaded from the server.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// In the browser: load the login page from the server (see the module doc).
#[cfg(feature = "hydrate")]
#[component]
pub fn LoginPage() -> impl IntoView {
    crate::browser::load_from_server();
}

#[cfg(not(feature = "hydrate"))]
pub use server_rendered::LoginPage;

#[cfg(not(feature = "hydrate"))]
mod server_rendered {
    use leptos::prelude::*;
    use leptos_router::{components::A, hooks::use_query_map};

    use crate::api::auth::{login_options, Login};
    use crate::components::ui::ErrorBox;
    use crate::dto::{LoginKind, LoginMethod};
    use crate::links::login_href;

    #[component]
    pub fn LoginPage() -> impl IntoView {
        let options = Resource::new(|| (), |_| login_options());
        let login = ServerAction::<Login>::new();
        let query = use_query_map();
        // The method whose mount the URL names, else the first one.
        let chosen = move |methods: &[LoginMethod]| {
            query.with(|q| {
                q.get_str("method")
                    .and_then(|m| methods.iter().position(|x| x.mount == m))
                    .unwrap_or(0)
            })
        };
        view! {
            <div class="mx-auto mt-10 max-w-md">
                <div class="card">
                    <h1 class="text-xl font-semibold">"Log in to Keyway"</h1>
                    <p class="mt-1 text-sm text-slate-600">
                        "Use your Vault identity. Keyway acts with your own Vault permissions."
                    </p>
                    <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                        {move || {
                            options
                                .get()
                                .map(|r| match r {
                                    Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                                    Ok(opts) => {
                                        let methods = StoredValue::new(opts.methods.clone());
                                        view! {
                                            <div class="mt-4 flex flex-wrap gap-2" role="tablist">
                                                {opts
                                                    .methods
                                                    .iter()
                                                    .enumerate()
                                                    .map(|(i, m)| {
                                                        let label = method_label(m);
                                                        let selected = move || methods.with_value(|ms| chosen(ms) == i);
                                                        view! {
                                                            <A
                                                                href=login_href(&m.mount)
                                                                attr:role="tab"
                                                                attr:aria-selected=move || if selected() { "true" } else { "false" }
                                                                attr:class=move || if selected() { "tab tab-active" } else { "tab" }
                                                            >
                                                                {label}
                                                            </A>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </div>
                                            {move || {
                                                let m = methods.with_value(|ms| ms.get(chosen(ms)).cloned());
                                                m.map(|m| view! { <LoginForm method=m login=login /> })
                                            }}
                                        }
                                            .into_any()
                                    }
                                })
                        }}
                    </Suspense>
                    {move || {
                        login
                            .value()
                            .get()
                            .and_then(|r| r.err())
                            .map(|e| view! { <div class="mt-4"><ErrorBox error=e /></div> })
                    }}
                </div>
            </div>
        }
    }

    fn method_label(m: &LoginMethod) -> String {
        if m.mount == m.kind.as_str() {
            m.kind.label().to_string()
        } else {
            format!("{} ({})", m.kind.label(), m.mount)
        }
    }

    #[component]
    fn LoginForm(method: LoginMethod, login: ServerAction<Login>) -> impl IntoView {
        let kind = method.kind;
        let pending = login.pending();
        view! {
        <ActionForm action=login attr:class="mt-4 space-y-3" attr:data-testid="login-form">
            <input type="hidden" name="method" value=kind.as_str() />
            {(kind != LoginKind::Token)
                .then(|| {
                    view! {
                        <label class="field">
                            <span>"Username"</span>
                            <input name="username" autocomplete="username" required class="input" />
                        </label>
                    }
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
            <details class="text-sm text-slate-600">
                <summary class="cursor-pointer">"Mount path"</summary>
                <label class="field mt-2">
                    <span>"Auth method mounted at"</span>
                    <input name="mount" value=method.mount.clone() class="input" />
                </label>
            </details>
            <button type="submit" class="btn-primary w-full" disabled=move || pending.get()>
                {move || if pending.get() { "Logging in…" } else { "Log in" }}
            </button>
        </ActionForm>
    }
    .into_any()
    }
}
