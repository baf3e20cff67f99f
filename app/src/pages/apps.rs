//! The apps overview: every app in the cluster whose secret the user may read, one page of 25 at
//! a time, with its environment, the secret it copies (a link to its secret page), whether the newest
//! version is live there and how many of its workloads run it.
//!
//! The search text and the page live in the URL (`/apps?q=pay&page=2`, built by
//! `links::apps_href`), so a link or a reload shows the same list and the back button works. The
//! page in the URL counts from 1, as the page shows it; the server's counts from 0.
//!
//! The list refreshes every 15 s while the page is open, with the secret page's clock
//! (`secret::cluster::poll`), and takes its badges and wording from the same place as the
//! secret page's cluster panel (`secret::cluster::format`), so a state reads the same on both.
//! A refresh redraws only the answer: the search box sits outside it and keeps its focus and text.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use leptos_router::{lazy_route, LazyRoute};

use crate::api::cluster::cluster_apps;
use crate::components::ui::{Badge, ErrorBox};
use crate::dto::{AppsPage, ClusterAppSummary};
use crate::error::AppError;
use crate::links::{apps_href, secret_href};
use crate::pages::secret::cluster::format;
use crate::pages::secret::cluster::poll::Poll;

/// How long typing must pause before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// The page number in the URL, counted from 1; anything unreadable is the first page.
fn page_param(raw: Option<&str>) -> u32 {
    raw.and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// The route (see `App`): the page's code is a wasm chunk of its own.
pub struct AppsRoute;

#[lazy_route]
impl LazyRoute for AppsRoute {
    fn data() -> Self {
        AppsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AppsOverview /> }.into_any()
    }
}

#[component]
fn AppsOverview() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params
            .read()
            .get_str("q")
            .map(|q| q.trim().to_string())
            .unwrap_or_default()
    });
    let page = Memo::new(move |_| page_param(params.read().get_str("page")));
    // Created here, outside the reactive blocks below, so the server render asks only once.
    let poll = Poll::new();
    let apps = Resource::new(
        move || (query.get(), page.get(), poll.refetch.get()),
        move |(q, page, n)| cluster_apps(q, page - 1, poll.background(n)),
    );
    // Nothing here moves fast enough to look more often than every 15 s.
    poll.start(|| false);

    let navigate = use_navigate();
    // Searching replaces the history entry (one per search, not one per pause in typing);
    // paging adds one, so "back" returns to the previous page.
    let go = move |q: &str, page: u32, replace: bool| {
        navigate(
            &apps_href(q, page),
            NavigateOptions {
                replace,
                scroll: !replace,
                ..Default::default()
            },
        )
    };
    view! {
        <nav class="text-sm text-slate-500">
            <A href="/" attr:class="hover:underline">"Secrets"</A>
            " / "
            <span class="font-medium text-slate-800">"Apps"</span>
        </nav>
        <h1 class="mt-2 text-2xl font-semibold">"Apps in the cluster"</h1>
        <SearchBox query go=go.clone() />
        <Transition fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || {
                let go = go.clone();
                apps.get()
                    .map(move |r| match r {
                        Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                        Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                        // The search text of this answer: a newer one has not been answered yet.
                        Ok(list) => view! { <Results list query=query.get_untracked() go /> }.into_any(),
                    })
            }}
        </Transition>
    }
    .into_any()
}

/// The search box: searches 250 ms after typing stops, or at once on Enter, from page 1.
#[component]
fn SearchBox(query: Memo<String>, go: impl Fn(&str, u32, bool) + Clone + 'static) -> impl IntoView {
    let text = RwSignal::new(query.get_untracked());
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let cancel = move || {
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        timer.set_value(None);
    };
    let search = move |go: &dyn Fn(&str, u32, bool)| {
        let typed = text.get_untracked();
        // A trailing space is not a new search: stay on the same page.
        if typed.trim() != query.get_untracked() {
            go(&typed, 1, true);
        }
    };
    // Follow the URL when it changes from elsewhere (back button, a link), unless a search is
    // about to run: then the box holds newer text than the URL.
    Effect::new(move |_| {
        let q = query.get();
        if timer.get_value().is_none() && text.with_untracked(|t| t.trim() != q) {
            text.set(q);
        }
    });
    let go_typed = go.clone();
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        cancel();
        let go = go_typed.clone();
        let handle = set_timeout_with_handle(
            move || {
                timer.set_value(None);
                search(&go);
            },
            DEBOUNCE,
        );
        timer.set_value(handle.ok());
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        cancel();
        search(&go);
    };
    view! {
        <form role="search" class="mt-4" on:submit=on_submit>
            <label class="field">
                <span>"Search by environment, app or secret"</span>
                // `name` and `value`: before the wasm loads, Enter still searches (a plain GET).
                <input type="search" name="q" class="input" data-testid="apps-search" autocomplete="off"
                    placeholder="e.g. payments" value=text.get_untracked()
                    prop:value=move || text.get() on:input=on_input />
            </label>
        </form>
    }
}

/// One answer: the notes, the table and the pager.
#[component]
fn Results(
    list: AppsPage,
    query: String,
    go: impl Fn(&str, u32, bool) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    if !list.configured {
        return view! {
            <p class="mt-4 text-slate-600" data-testid="apps-not-configured">
                "This Keyway is not connected to a cluster."
            </p>
        }
        .into_any();
    }
    let problem = list.problem.is_some().then(|| {
        view! {
            <p class="mt-4 text-sm text-amber-800" data-testid="apps-problem">
                "The cluster cannot be reached right now; what you see may be out of date."
            </p>
        }
    });
    // While the cluster cannot be reached, an empty list proves nothing: the line above says so.
    let empty = (list.items.is_empty() && list.problem.is_none()).then(|| {
        let text = if list.page > 0 {
            "No more apps: this page is empty.".to_string()
        } else if query.is_empty() {
            "No app in the cluster uses a secret you can read.".to_string()
        } else {
            format!("No app matches “{query}”.")
        };
        view! { <p class="mt-4 text-slate-600" data-testid="apps-empty">{text}</p> }
    });
    let table = (!list.items.is_empty()).then(|| {
        view! {
            <div class="mt-4 card overflow-x-auto p-0">
                <table class="w-full text-sm" data-testid="apps-table">
                    <thead>
                        <tr class="border-b border-slate-200 text-left text-slate-500">
                            <th class="px-4 py-2 font-medium">"Environment"</th>
                            <th class="px-4 py-2 font-medium">"App"</th>
                            <th class="px-4 py-2 font-medium">"Secret"</th>
                            <th class="px-4 py-2 font-medium">"Live in cluster"</th>
                            <th class="px-4 py-2 font-medium">"Running pods"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {list.items.into_iter().map(|app| view! { <AppRow app /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
    });
    let pager = (list.page > 0 || table.is_some())
        .then(|| view! { <Pager page=list.page has_more=list.has_more query go /> });
    view! { {problem} {empty} {table} {pager} }.into_any()
}

#[component]
fn AppRow(app: ClusterAppSummary) -> impl IntoView {
    let (badge, tone) = format::live_badge(&app.live);
    let phrase = format::live_phrase(&app.live);
    let href = secret_href(&app.secret);
    view! {
        <tr data-testid="apps-row" data-app=format!("{}/{}", app.namespace, app.name)
            data-live-state=format::live_key(&app.live)>
            <td class="px-4 py-2 text-slate-600">{app.namespace.clone()}</td>
            <td class="px-4 py-2 font-medium">{app.name.clone()}</td>
            <td class="px-4 py-2">
                <A href=href attr:class="text-indigo-700 hover:underline">
                    {app.secret.to_string()}
                </A>
            </td>
            <td class="px-4 py-2">
                <Badge text=badge tone />
                {phrase.map(|p| view! { <span class="ml-2 text-slate-600">{p}</span> })}
            </td>
            <td class="px-4 py-2 text-slate-600">
                {format::pods_summary(app.workloads_up_to_date, app.workloads)}
            </td>
        </tr>
    }
}

/// Previous / Next; `page` is the server's, counted from 0.
#[component]
fn Pager(
    page: u32,
    has_more: bool,
    query: String,
    go: impl Fn(&str, u32, bool) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let query = StoredValue::new(query);
    let go_previous = go.clone();
    view! {
        <div class="mt-4 flex items-center gap-3 text-sm">
            <button type="button" class="btn-secondary" disabled=page == 0
                on:click=move |_| go_previous(&query.get_value(), page, false)>
                "Previous"
            </button>
            <span class="text-slate-600" data-testid="apps-page">{format!("Page {}", page + 1)}</span>
            <button type="button" class="btn-secondary" disabled=!has_more
                on:click=move |_| go(&query.get_value(), page + 2, false)>
                "Next"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "ssr"))]
mod render_tests;
