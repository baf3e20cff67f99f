//! The home page: the secrets the user's Vault policies let them see, grouped by their kv-v2
//! mount (the words are in the README's glossary). `/apps` shows the apps in the cluster that use them.

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use crate::api::secrets::environments;
use crate::components::ui::{Badge, ErrorBox};
use crate::dto::Environment;
use crate::error::AppError;

#[component]
pub fn HomePage() -> impl IntoView {
    let envs = Resource::new(|| (), |_| environments());
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-semibold">"Your secrets"</h1>
            <A href="/apps" attr:class="text-sm font-medium text-indigo-700 hover:underline" attr:data-testid="apps-link">
                "See your apps in the cluster"
            </A>
        </div>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || {
                envs.get()
                    .map(|r| match r {
                        Err(AppError::Unauthenticated) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
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
                                    {list.into_iter().map(|e| view! { <EnvCard env=e /> }).collect_view()}
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
fn EnvCard(env: Environment) -> impl IntoView {
    let name = env.name.clone();
    view! {
        <section class="card" data-testid=format!("env-{name}")>
            <div class="flex items-baseline justify-between">
                <h2 class="text-lg font-semibold"><span class="mr-1 text-xs font-normal uppercase tracking-wide text-slate-500">"mount"</span>{env.name.clone()}</h2>
                <span class="text-xs text-slate-500">{env.description.clone()}</span>
            </div>
            {env.note.clone().map(|n| view! { <p class="mt-2 text-sm text-amber-700">{n}</p> })}
            <ul class="mt-3 divide-y divide-slate-100">
                {env
                    .apps
                    .into_iter()
                    .map(|a| {
                        let href = crate::links::app_href(&a.env, &a.app);
                        view! {
                            <li class="flex items-center justify-between py-2">
                                <A href=href attr:class="font-medium text-indigo-700 hover:underline">
                                    {a.app.clone()}
                                </A>
                                {(!a.can_edit).then(|| view! { <Badge text="read-only" /> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
