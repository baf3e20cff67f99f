//! The header every page shares: product name, the audit log, the platform pages the user's
//! Vault policies open (none for a developer), who is logged in, log out.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::access::platform_pages;
use crate::api::auth::whoami;

#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    // Who is logged in and the platform pages their policies open, asked together on every
    // navigation (so the header follows logins, logouts and policy changes). One resource, not
    // a menu resource keyed on the user's: a resource fed by another one can resolve after the
    // server has rendered the header, and the hydrated page then differs from the server's.
    let header = Resource::new(
        move || location.pathname.get(),
        |_| async move {
            let user = whoami().await.ok().flatten();
            let menu = match user {
                Some(_) => platform_pages().await.unwrap_or_default(),
                None => Default::default(),
            };
            (user, menu)
        },
    );
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl items-center justify-between px-4 py-3">
                <A href="/" attr:class="flex items-center gap-2 text-lg font-semibold text-slate-900">
                    <span class="inline-block h-6 w-6 rounded bg-indigo-600 text-center text-sm leading-6 text-white">"K"</span>
                    "Keyway"
                </A>
                <Transition fallback=|| ()>
                    {move || {
                        // The audit log is for everyone logged in (each sees the rows Vault lets
                        // them); the platform pages only for those their policies open.
                        header.get().filter(|(u, _)| u.is_some()).map(|(_, m)| {
                            view! {
                                <nav aria-label="Pages" class="flex grow gap-4 pl-6 text-sm font-medium">
                                    <A href=crate::links::AUDIT attr:class="text-slate-700 hover:text-indigo-700">"Audit log"</A>
                                    {(!m.access.is_empty()).then(|| view! {
                                        <A href=crate::links::ACCESS attr:class="text-slate-700 hover:text-indigo-700">"Access"</A>
                                    })}
                                    {(!m.fleet.is_empty()).then(|| view! {
                                        <A href=crate::links::fleet_href(None, None, "", 1) attr:class="text-slate-700 hover:text-indigo-700">"Fleet health"</A>
                                    })}
                                    {(!m.onboard.is_empty()).then(|| view! {
                                        <A href=crate::links::ONBOARD attr:class="text-slate-700 hover:text-indigo-700">"Onboard an app"</A>
                                    })}
                                </nav>
                            }
                        })
                    }}
                </Transition>
                <Transition fallback=|| ()>
                    {move || {
                        header.get()
                            .and_then(|(u, _)| u)
                            .map(|u| {
                                view! {
                                    <div class="flex items-center gap-3 text-sm">
                                        <span class="text-slate-600" data-testid="whoami">
                                            {u.display_name}
                                        </span>
                                        // A plain form, not an ActionForm: logging out reloads the
                                        // page anyway, and every page's main wasm stays without
                                        // the form-encoding code.
                                        <form method="post" action="/api/logout">
                                            <button
                                                type="submit"
                                                class="btn-secondary"
                                                data-testid="logout"
                                            >
                                                "Log out"
                                            </button>
                                        </form>
                                    </div>
                                }
                            })
                    }}
                </Transition>
            </div>
        </header>
    }
}
