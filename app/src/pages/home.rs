//! The home page: the secrets the user's Vault policies let them see, grouped by their kv-v2
//! mount (the words are in the README's glossary). `/apps` shows the apps in the cluster that use them.

use leptos::prelude::*;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::secrets::mounts;
use crate::components::ui::{Badge, ErrorBox};
use crate::dto::Mount;
use crate::error::AppError;

/// The route (see `App`): the page's code is a wasm chunk of its own.
pub struct HomeRoute;

#[lazy_route]
impl LazyRoute for HomeRoute {
    fn data() -> Self {
        HomeRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <HomePage /> }.into_any()
    }
}

#[component]
fn HomePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params
            .read()
            .get_str("q")
            .map(|q| q.trim().to_string())
            .unwrap_or_default()
    });
    let mounts = Resource::new(move || query.get(), mounts);
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold">"Your secrets"</h1>
            <A href="/apps" attr:class="text-sm font-medium text-indigo-700 hover:underline" attr:data-testid="apps-link">
                "See your apps in the cluster"
            </A>
        </div>
        // A GET form: `/?q=…` (the router's `Form` navigates without a reload once hydrated).
        <Form method="GET" action="/" attr:role="search" attr:class="mt-4 flex gap-2">
            <label class="field grow">
                <span>"Find a secret by its path"</span>
                <input type="search" name="q" class="input" data-testid="secrets-search" autocomplete="off"
                    placeholder="e.g. payments" value=move || query.get() />
            </label>
            <button type="submit" class="btn-secondary self-end">"Search"</button>
        </Form>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || {
                mounts.get()
                    .map(|r| match r {
                        Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                        Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                        Ok(list) if list.iter().all(|m| m.secrets.is_empty()) && !query.get_untracked().is_empty() => {
                            view! {
                                <p class="mt-4 text-slate-600" data-testid="no-match">
                                    {format!("No secret you may open has “{}” in its path.", query.get_untracked())}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) if list.is_empty() => {
                            view! {
                                <p class="mt-4 text-slate-600">
                                    "Your Vault policies give you no secrets yet. Ask your platform team for access."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            view! {
                                <div class="mt-4 grid gap-4 md:grid-cols-2">
                                    {list.into_iter().map(|m| view! { <MountCard mount=m searched=!query.get_untracked().is_empty() /> }).collect_view()}
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
    .into_any()
}

#[component]
fn MountCard(mount: Mount, searched: bool) -> impl IntoView {
    let name = mount.name.clone();
    view! {
        <section class="card" data-testid=format!("mount-{name}")>
            <div class="flex items-baseline justify-between">
                <h2 class="text-lg font-semibold"><span class="mr-1 text-xs font-normal uppercase tracking-wide text-slate-500">"mount"</span>{mount.name.clone()}</h2>
                <span class="text-xs text-slate-500">{mount.description.clone()}</span>
            </div>
            {mount.note.clone().map(|n| view! { <p class="mt-2 text-sm text-amber-700">{n}</p> })}
            {mount.cut.then(|| {
                let said = if searched {
                    "Keyway stopped looking before it had seen every folder here, so there may be more matches. Type more of the path.".to_string()
                } else {
                    format!("Only the first {} secrets are listed here. Search to find the others.", mount.secrets.len())
                };
                view! { <p class="mt-2 text-sm text-amber-700" data-testid="list-cut">{said}</p> }
            })}
            <ul class="mt-3 divide-y divide-slate-100">
                {mount
                    .secrets
                    .into_iter()
                    .map(|s| {
                        let href = crate::links::secret_href(&s.secret);
                        view! {
                            <li class="flex items-center justify-between py-2">
                                <A href=href attr:class="font-medium text-indigo-700 hover:underline">
                                    {s.secret.path.clone()}
                                </A>
                                {(!s.can_edit).then(|| view! { <Badge text="read-only" /> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
