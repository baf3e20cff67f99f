//! Onboarding (`/platform/onboard`): one form creates a new app's Vault policy and login role,
//! its secret's first version, and its cluster objects (by Keyway's account, or as a Kustomize
//! folder for the team's GitOps repository), after a preview of all of it in full. Then the page
//! follows the app until it is live ([`follow`]).
//!
//! Which environments are offered is the platform menu (Vault decides); the form's defaults come
//! from the environment (its kv home, its workloads). Values of the initial keys go to the server
//! in the request body only; they are never shown in the preview.

mod follow;
mod form;
mod preview;

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::access::platform_pages;
use crate::api::onboard::onboarding_defaults;
use crate::components::ui::ErrorBox;
use crate::error::AppError;

/// `/platform/onboard`: a lazy route (its code is a wasm chunk of its own).
pub struct OnboardRoute;

#[lazy_route]
impl LazyRoute for OnboardRoute {
    fn data() -> Self {
        OnboardRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Onboard /> }.into_any()
    }
}

#[component]
fn Onboard() -> impl IntoView {
    let menu = Resource::new(|| (), |_| platform_pages());
    let params = use_query_map();
    let chosen = RwSignal::new(params.read_untracked().get_str("env").map(str::to_owned));
    view! {
        <h1 class="text-2xl font-semibold">"Onboard an app"</h1>
        <p class="mt-1 text-slate-600">"One form gives a new app its place in Vault, the login its operator uses, and what copies its secret into the cluster. Everything is shown in full before anything is written."</p>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || menu.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                Ok(m) if m.onboard.is_empty() => view! {
                    <p class="mt-4 text-slate-600" data-testid="onboard-none">"Onboarding apps is for the platform team: your Vault policies do not let you onboard into any environment."</p>
                }.into_any(),
                Ok(m) => {
                    if chosen.get_untracked().is_none_or(|c| !m.onboard.contains(&c)) {
                        chosen.set(m.onboard.first().cloned());
                    }
                    let envs = m.onboard.clone();
                    view! {
                        <label class="field mt-4 max-w-xs">
                            <span>"Environment"</span>
                            <select class="input" data-testid="onboard-env"
                                on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                                {envs.into_iter().map(|e| {
                                    let selected = chosen.get_untracked().as_deref() == Some(e.as_str());
                                    view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <Environment chosen />
                    }.into_any()
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The form for the chosen environment, from its defaults.
#[component]
fn Environment(chosen: RwSignal<Option<String>>) -> impl IntoView {
    let defaults = Resource::new(
        move || chosen.get(),
        |env| async move {
            match env {
                Some(e) => onboarding_defaults(e).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || defaults.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4" data-testid="onboard-error"><ErrorBox error=e /></div> }.into_any(),
                Ok(None) => ().into_any(),
                Ok(Some(d)) => view! { <form::OnboardForm defaults=d /> }.into_any(),
            })}
        </Suspense>
    }
}
