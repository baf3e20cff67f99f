//! "Live in the cluster" and "Running pods" on the Keys view: for each app that copies this
//! secret into the cluster, whether the newest version is live there, whether its running pods
//! use it, and the "Sync now" / "Restart" buttons, kept current without a page reload.
//!
//! The panel is independent of the rest of the page: it loads on its own (its own `Transition`),
//! a slow or failing cluster only shows a quiet line here, and it renders nothing at all when
//! Keyway has no cluster. Kubernetes words appear only in each app's collapsed "Details".
//!
//! Each refresh updates the panel in place (keyed lists and memos rather than re-rendering it),
//! so an opened "Details", a focused button and a running request survive the 2 s polling.

mod act;
mod app_card;
mod details;
pub(crate) mod format;
pub(crate) mod poll;
mod workload;

use leptos::prelude::*;

use self::app_card::AppCard;
use self::poll::Poll;
use super::PageCtx;
use crate::api::cluster::cluster_view;
use crate::dto::ClusterStatus;
use crate::error::AppError;
use crate::pages::{rendered_lazily, ServerRenderedPart};

/// What the parts of the panel share.
#[derive(Clone, Copy)]
struct Panel {
    page: PageCtx,
    poll: Poll,
    /// The newest answer from the server; kept while a later fetch fails.
    latest: Memo<Option<ClusterStatus>>,
}

/// The cluster status of the page's app and the clock that keeps it fresh.
///
/// Created once by the page, outside its reactive blocks: the server render builds those blocks
/// more than once, and a resource made inside them would ask the cluster once per build.
#[derive(Clone, Copy)]
pub struct Feed {
    poll: Poll,
    status: Resource<Result<ClusterStatus, AppError>>,
}

impl Feed {
    /// Asks again whenever the page reloads the secret (after a save, a rollback…), or the clock
    /// says so.
    pub fn new(ctx: PageCtx) -> Self {
        let poll = Poll::new();
        let status = Resource::new(
            move || (ctx.secret.get(), ctx.reload.get(), poll.refetch.get()),
            move |(secret, _, n)| cluster_view(secret, poll.background(n)),
        );
        Feed { poll, status }
    }
}

/// The panel; polls only while it is on screen.
#[component]
pub fn ClusterPanel(ctx: PageCtx, feed: Feed) -> impl IntoView {
    let Feed { poll, status } = feed;
    view! {
        <Transition fallback=|| ()>
            <PanelBody ctx poll status />
        </Transition>
    }
    .into_any()
}

#[component]
fn PanelBody(
    ctx: PageCtx,
    poll: Poll,
    status: Resource<Result<ClusterStatus, AppError>>,
) -> impl IntoView {
    // Read inside the Transition, so the server render waits for the first answer.
    let latest = Memo::new(
        move |previous: Option<&Option<ClusterStatus>>| match status.get() {
            Some(Ok(s)) => Some(s),
            _ => previous.cloned().flatten(),
        },
    );
    let failure = Memo::new(move |_| match status.get() {
        // The page itself sends the user to the login form.
        Some(Err(AppError::Unauthenticated)) => None,
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    });
    // The clock asks the memo, not the resource, so it reads nothing outside the Transition.
    poll.start(move || latest.with_untracked(|s| s.as_ref().is_some_and(format::moving)));
    let panel = Panel {
        page: ctx,
        poll,
        latest,
    };
    let stale = served_cards_stale(latest, poll.now);
    let configured = move || latest.with(|s| s.as_ref().is_some_and(|s| s.configured));
    let problem = move || latest.with(|s| s.as_ref().is_some_and(|s| s.problem.is_some()));
    let no_apps = move || latest.with(|s| s.as_ref().is_some_and(|s| s.apps.is_empty()));
    let some_apps = move || latest.with(|s| s.as_ref().is_some_and(|s| !s.apps.is_empty()));
    view! {
        {move || failure.get().map(|e| view! {
            <p class="mt-4 text-sm text-amber-800" data-testid="cluster-unavailable">
                "The cluster status could not be loaded: " {e}
            </p>
        })}
        <Show when=configured>
            <section class="mt-4 card" data-testid="cluster">
                <h2 class="font-semibold">"Live in the cluster"</h2>
                {move || problem().then(|| view! {
                    <p class="mt-2 text-sm text-amber-800" data-testid="cluster-problem">
                        "The cluster cannot be reached right now; what you see may be out of date."
                    </p>
                })}
                // With the cluster unreachable, an empty list says nothing about the app.
                {move || (no_apps() && !problem()).then(|| view! {
                    <p class="mt-2 text-sm text-slate-600" data-testid="cluster-none">{format::NOT_SET_UP}</p>
                })}
                <Show when=some_apps>
                    {move || rendered_lazily(ServerRenderedPart::ClusterAppCards, app_cards(panel), stale)}
                </Show>
            </section>
        </Show>
    }
    .into_any()
}

/// Whether cards rendered from the first answer (the ones the server rendered) no longer show
/// what the cards would show now: the status changed, or a word that follows the clock did
/// (`pages::rendered_lazily`). Once true it stays true and stops watching.
fn served_cards_stale(latest: Memo<Option<ClusterStatus>>, now: RwSignal<i64>) -> Signal<bool> {
    let served = latest.get_untracked();
    let served_words = served
        .as_ref()
        .map(|s| format::clock_wording(s, now.get_untracked()));
    Memo::new(move |before: Option<&bool>| {
        before == Some(&true)
            || latest.with(|s| {
                *s != served
                    || s.as_ref().map(|s| format::clock_wording(s, now.get())) != served_words
            })
    })
    .into()
}

/// The apps' cards, most of the panel's code, in a wasm chunk of their own: fetched only for a
/// secret that some app in the cluster uses, and then only once they are needed
/// (`pages::rendered_lazily`); never for a secret no app uses or on a Keyway without a cluster.
#[lazy]
fn app_cards(panel: Panel) -> AnyView {
    let apps = move || {
        panel.latest.with(|s| {
            s.iter()
                .flat_map(|s| &s.apps)
                .map(|a| crate::dto::AppRef::new(a.namespace.clone(), a.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="divide-y divide-slate-100">
            <For each=apps key=|k| k.clone() children=move |k| view! { <AppCard panel id=k /> } />
        </div>
    }
    .into_any()
}
