//! Fleet health (`/platform/fleet`): the apps that need the platform team's attention in every
//! environment the caller's Vault policies let them see, with counts per environment, filters
//! (environment, problem, text: all in the URL, so a link shows the same list) and a link to
//! each app's secret page.

use leptos::prelude::*;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::fleet::fleet_health;
use crate::components::ui::{Badge, ErrorBox, Tone};
use crate::dto::{FleetPage, FleetProblem, FleetQuery};
use crate::error::AppError;
use crate::links::{fleet_href, secret_href};
use crate::pages::secret::short_time;

/// `/platform/fleet`: a lazy route (its code is a wasm chunk of its own).
pub struct FleetRoute;

#[lazy_route]
impl LazyRoute for FleetRoute {
    fn data() -> Self {
        FleetRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Fleet /> }.into_any()
    }
}

fn tone(p: FleetProblem) -> Tone {
    match p {
        FleetProblem::Failing => Tone::Bad,
        FleetProblem::NotSetUp | FleetProblem::NotRefreshed | FleetProblem::OldValues => Tone::Warn,
    }
}

#[component]
fn Fleet() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let get = |k: &str| {
            p.get_str(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        FleetQuery {
            environment: get("env"),
            problem: get("problem").and_then(|s| FleetProblem::parse(&s)),
            text: get("q").unwrap_or_default(),
            page: get("page")
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(1)
                - 1,
        }
    });
    let page = Resource::new(move || query.get(), fleet_health);
    view! {
        <h1 class="text-2xl font-semibold">"Fleet health"</h1>
        <p class="mt-1 text-slate-600">"Apps that need attention, in every environment you may see. Everything here comes from Keyway's view of the cluster, kept up to date as it changes; nothing is asked of the apps themselves."</p>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                Err(e) => view! { <div class="mt-4" data-testid="fleet-error"><ErrorBox error=e /></div> }.into_any(),
                Ok(p) if !p.configured => view! {
                    <p class="mt-4 text-slate-600">"Keyway is not connected to a cluster, so there is no fleet to show."</p>
                }.into_any(),
                Ok(p) => view! { <FleetView page=p query=query.get_untracked() /> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn FleetView(page: FleetPage, query: FleetQuery) -> impl IntoView {
    let environments: Vec<String> = page.counts.iter().map(|c| c.environment.clone()).collect();
    let q = query.clone();
    view! {
        {page.problem.clone().map(|p| view! { <p class="mt-3 text-sm text-amber-700" role="status">{p}</p> })}
        <section class="mt-4 card" aria-labelledby="fleet-counts">
            <h2 id="fleet-counts" class="font-semibold">"By environment"</h2>
            <table class="mt-2 w-full text-sm" data-testid="fleet-counts">
                <thead>
                    <tr class="text-left text-slate-500">
                        <th class="py-1">"Environment"</th><th>"Apps"</th>
                        {FleetProblem::ALL.iter().map(|p| view! { <th>{p.label()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {page.counts.iter().map(|c| {
                        let env = c.environment.clone();
                        let (row_id, env_href, label) = (format!("fleet-count-{env}"), fleet_href(Some(&env), None, "", 1), env.clone());
                        view! {
                            <tr class="border-t border-slate-100" data-testid=row_id>
                                <td class="py-1"><A href=env_href attr:class="font-medium text-indigo-700 hover:underline">{label}</A></td>
                                <td>{c.apps}</td>
                                {c.problems.iter().map(|(p, n)| {
                                    let n = *n;
                                    let href = fleet_href(Some(&env), Some(*p), "", 1);
                                    view! {
                                        <td data-testid=format!("count-{}", p.as_str())>
                                            {if n == 0 { view! { <span class="text-slate-400">"0"</span> }.into_any() } else {
                                                view! { <A href=href attr:class="font-medium text-indigo-700 hover:underline">{n}</A> }.into_any()
                                            }}
                                        </td>
                                    }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <Form method="GET" action="/platform/fleet" attr:role="search" attr:class="mt-4 flex flex-wrap items-end gap-2">
            <label class="field">
                <span>"Environment"</span>
                <select name="env" class="input w-auto" data-testid="fleet-env">
                    <option value="" selected=q.environment.is_none()>"All"</option>
                    {environments.into_iter().map(|e| {
                        let selected = q.environment.as_deref() == Some(e.as_str());
                        view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"Problem"</span>
                <select name="problem" class="input w-auto" data-testid="fleet-problem">
                    <option value="" selected=q.problem.is_none()>"Any"</option>
                    {FleetProblem::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=q.problem == Some(*p)>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field grow">
                <span>"App, environment or secret"</span>
                <input type="search" name="q" class="input" autocomplete="off" value=q.text.clone() data-testid="fleet-search" />
            </label>
            <button type="submit" class="btn-secondary">"Filter"</button>
        </Form>
        {if page.items.is_empty() {
            view! { <p class="mt-4 text-slate-600" data-testid="fleet-empty">"No app needs attention here."</p> }.into_any()
        } else {
            view! {
                <ul class="mt-4 divide-y divide-slate-100 card" data-testid="fleet-items">
                    {page.items.into_iter().map(|i| {
                        let id = format!("{}/{}", i.environment, i.app);
                        view! {
                        <li class="py-2" data-testid="fleet-item" data-app=id>
                            <div class="flex flex-wrap items-baseline gap-2">
                                <Badge text=i.problem.label() tone=tone(i.problem) />
                                <span class="text-xs uppercase tracking-wide text-slate-500">{i.environment.clone()}</span>
                                <A href=secret_href(&i.secret) attr:class="font-medium text-indigo-700 hover:underline">{i.app.clone()}</A>
                                <span class="text-xs text-slate-500">{format!("{}/{}", i.secret.mount, i.secret.path)}</span>
                                {i.since.as_deref().map(|t| view! { <span class="text-xs text-slate-500">{format!("since {}", short_time(t))}</span> })}
                            </div>
                            <p class="mt-1 text-sm text-slate-700" data-testid="fleet-sentence">{i.sentence.clone()}</p>
                        </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <div class="mt-3 flex items-center gap-3 text-sm">
            <span>{if page.matched == 1 { "1 app needs attention".to_owned() } else { format!("{} apps need attention", page.matched) }}</span>
            {(query.page > 0).then(|| view! {
                <A href=fleet_href(query.environment.as_deref(), query.problem, &query.text, query.page) attr:class="btn-link">"Previous"</A>
            })}
            {page.has_more.then(|| view! {
                <A href=fleet_href(query.environment.as_deref(), query.problem, &query.text, query.page + 2) attr:class="btn-link">"Next"</A>
            })}
        </div>
    }
    .into_any()
}
