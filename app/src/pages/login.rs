//! The login page: the methods Vault offers, then a form for the chosen one.
//!
//! The form is a plain HTML form driven by a server action, so it works before the wasm has
//! loaded and without JavaScript at all.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::auth::{login_options, Login};
use crate::components::ui::ErrorBox;
use crate::dto::{LoginKind, LoginMethod};

/// The route (see `App`): the page's code is a wasm chunk of its own.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        LoginRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage /> }.into_any()
    }
}

#[component]
fn LoginPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| login_options());
    let login = ServerAction::<Login>::new();
    let chosen = RwSignal::new(0usize);
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
                                                    view! {
                                                        <button
                                                            type="button"
                                                            role="tab"
                                                            class=move || if chosen.get() == i { "tab tab-active" } else { "tab" }
                                                            on:click=move |_| chosen.set(i)
                                                        >
                                                            {label}
                                                        </button>
                                                    }
                                                })
                                                .collect_view()}
                                        </div>
                                        {move || {
                                            let m = methods.with_value(|ms| ms.get(chosen.get()).cloned());
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
