//! The header every page shares: product name, the platform pages the user's Vault policies open
//! (none for a developer), who is logged in, log out.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::access::platform_pages;
use crate::api::auth::whoami;

#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    // Re-asked on every navigation, so the header follows logins and logouts.
    let user = Resource::new(move || location.pathname.get(), |_| whoami());
    // Asked again only when the user changes (one Vault capabilities call), not per navigation.
    let who = Memo::new(move |_| {
        user.get()
            .and_then(|r| r.ok().flatten())
            .map(|u| u.display_name)
    });
    let menu = Resource::new(
        move || who.get(),
        |who| async move {
            match who {
                Some(_) => platform_pages().await.unwrap_or_default(),
                None => Default::default(),
            }
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
                        menu.get().filter(|m| !m.is_empty()).map(|m| {
                            view! {
                                <nav aria-label="Platform" class="flex grow gap-4 pl-6 text-sm font-medium">
                                    {(!m.access.is_empty()).then(|| view! {
                                        <A href=crate::links::ACCESS attr:class="text-slate-700 hover:text-indigo-700">"Access"</A>
                                    })}
                                    {(!m.fleet.is_empty()).then(|| view! {
                                        <A href=crate::links::fleet_href(None, None, "", 1) attr:class="text-slate-700 hover:text-indigo-700">"Fleet health"</A>
                                    })}
                                </nav>
                            }
                        })
                    }}
                </Transition>
                <Transition fallback=|| ()>
                    {move || {
                        user.get()
                            .and_then(|r| r.ok().flatten())
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
