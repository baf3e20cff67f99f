//! The platform team's access pages: the environments whose access the caller may manage
//! (`/platform/access`) and one environment's groups × levels (`/platform/access/<env>`), with
//! the change previewed (policy text diffs, group changes, effective access) before it is
//! applied. Vault decides everything: the pages only show what the caller's token may do.

mod draft;
mod editor;
mod preview;

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_params_map;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::access::{access_to, platform_pages};
use crate::components::ui::ErrorBox;
use crate::error::AppError;

/// `/platform/access`: a lazy route (its code is a wasm chunk of its own).
pub struct AccessIndexRoute;

#[lazy_route]
impl LazyRoute for AccessIndexRoute {
    fn data() -> Self {
        AccessIndexRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AccessIndex /> }.into_any()
    }
}

#[component]
fn AccessIndex() -> impl IntoView {
    let menu = Resource::new(|| (), |_| platform_pages());
    view! {
        <h1 class="text-2xl font-semibold">"Access"</h1>
        <p class="mt-1 text-slate-600">"Who may view, edit and restart in each environment. Keyway writes the Vault policies and groups; you review every change before it is applied."</p>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || menu.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                Ok(m) if m.access.is_empty() => view! {
                    <p class="mt-4 text-slate-600" data-testid="no-platform-access">
                        "Managing access is for the platform team: your Vault policies do not let you write Keyway's policies (keyway-<environment>-*) and identity groups."
                    </p>
                }.into_any(),
                Ok(m) => view! {
                    <ul class="mt-4 grid gap-2 md:grid-cols-3" data-testid="access-environments">
                        {m.access.into_iter().map(|env| view! {
                            <li class="card">
                                <A href=crate::links::access_href(&env) attr:class="font-medium text-indigo-700 hover:underline">{env.clone()}</A>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

/// `/platform/access/:env`.
pub struct AccessRoute;

#[lazy_route]
impl LazyRoute for AccessRoute {
    fn data() -> Self {
        AccessRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AccessPage /> }.into_any()
    }
}

#[component]
fn AccessPage() -> impl IntoView {
    let params = use_params_map();
    let env = Memo::new(move |_| params.read().get("env").unwrap_or_default());
    // Bumped after an apply or on "Reload", so the page reads Vault again.
    let reload = RwSignal::new(0u32);
    // What the last apply wrote, shown above the re-read page.
    let done = RwSignal::new(None::<Vec<String>>);
    let access = Resource::new(move || (env.get(), reload.get()), |(env, _)| access_to(env));
    view! {
        <nav class="text-sm"><A href=crate::links::ACCESS attr:class="text-indigo-700 hover:underline">"Access"</A></nav>
        <h1 class="mt-1 text-2xl font-semibold">{move || format!("Access to {}", env.get())}</h1>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || access.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4" data-testid="access-error"><ErrorBox error=e /></div> }.into_any(),
                Ok(a) => view! { <editor::Editor access=a reload done /> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}
