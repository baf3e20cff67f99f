//! The header every page shares: product name, who is logged in, log out.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::auth::whoami;

#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    // Re-asked on every navigation, so the header follows logins and logouts.
    let user = Resource::new(move || location.pathname.get(), |_| whoami());
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl items-center justify-between px-4 py-3">
                <A href="/" attr:class="flex items-center gap-2 text-lg font-semibold text-slate-900">
                    <span class="inline-block h-6 w-6 rounded bg-indigo-600 text-center text-sm leading-6 text-white">"K"</span>
                    "Keyway"
                </A>
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
