//! A lazy part of a page that the server renders too (today the cluster panel's app cards),
//! hydrated only once it is needed.
//!
//! The server renders the part in place. The browser hydrates the page without the part's code
//! and leaves the part's HTML as it came: inert, its buttons do nothing yet. The browser fetches
//! the part's chunk (`#[lazy]`) when the part is needed:
//! - the user reaches for it: points at it or moves the keyboard focus into it (pointer events
//!   cover touch), or clicks it;
//! - the HTML no longer shows what the part would show now (`stale`, given by the caller): its
//!   data changed, or one of its ages ("3 min ago") moved on. A part whose ages count seconds
//!   or minutes therefore loads within a second or a minute; one that says "2 h ago" within the
//!   hour: deferred, not avoided, but never on the way to an interactive page.
//!
//! A page without the part never fetches its code.
//!
//! Once the code is in, the part is hydrated on the server's HTML if that HTML still shows what
//! the part would show and nothing in the browser changed it since (a `<details>` opened
//! natively, a page translator's rewording). The elements stay the same, so a focused button keeps
//! its focus, and the last click on a control made while the code loaded (if at most
//! `REPLAY_WITHIN_MS` old) is made again on the same control. Otherwise the part is rendered
//! afresh in its place, and such a click is dropped: it was aimed at something that may no longer
//! be there.
//!
//! A part that appears after the page has hydrated (a client-side navigation, or a status that
//! now has apps) is rendered in the browser as soon as its chunk is in, like any `#[lazy]` part
//! (inside a `Suspense`: hydration ids no longer matter then).
//!
//! While the page hydrates, neither the server nor the browser wraps the part in a `Suspense`,
//! and the part may hold nothing that takes a hydration id (a `Resource`, `Suspense`,
//! `Transition` or `ErrorBoundary` in its first render): the server would take the id, the
//! browser, which skips the part while it hydrates the page, would not, and every later resource
//! of the page would read another one's data.

use leptos::prelude::*;

/// The lazy parts of pages that the server renders too (shown through `rendered_lazily`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerRenderedPart {
    /// The cluster panel's app cards (`secret::cluster`).
    ClusterAppCards,
}

impl ServerRenderedPart {
    /// The value of the `data-lazy-part` attribute that marks it in a page. The attribute
    /// `data-part-live="true"` is added once its code has loaded and runs (a hook for tests).
    fn marker(self) -> &'static str {
        match self {
            ServerRenderedPart::ClusterAppCards => "cluster-app-cards",
        }
    }
}

/// Shows `view`, the future of a `#[lazy]` part, that the server renders too. `stale` says when
/// the HTML the server rendered no longer shows what the part would show now.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn rendered_lazily(
    part: ServerRenderedPart,
    view: impl std::future::Future<Output = AnyView> + 'static,
    _stale: Signal<bool>,
) -> AnyView {
    // On the server a `#[lazy]` function's future is ready at once: no `Suspense` (see the
    // module's doc).
    let shown = ready_now(view).unwrap_or_else(|| {
        leptos::logging::warn!("the lazy part {part:?} was not ready on the server");
        ().into_any()
    });
    view! { <div data-lazy-part=part.marker() class=BUSY_CLASS>{shown}</div> }.into_any()
}

/// What the part's box looks like while its code loads (`aria-busy`).
const BUSY_CLASS: &str = "aria-busy:cursor-progress";

/// The value of `future` if it is ready at its first poll.
#[cfg(not(feature = "hydrate"))]
fn ready_now<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    static PAGE_HYDRATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Called by the wasm entry once the page has hydrated: a part shown from then on is rendered in
/// the browser. (Leptos' own "during hydration" flag is not reset by `hydrate_from_async`.)
#[cfg(feature = "hydrate")]
pub fn page_hydrated() {
    PAGE_HYDRATED.set(true);
}

/// Shows `view`, the future of a `#[lazy]` part, that the server renders too. `stale` says when
/// the HTML the server rendered no longer shows what the part would show now.
#[cfg(feature = "hydrate")]
pub(crate) fn rendered_lazily(
    part: ServerRenderedPart,
    view: impl std::future::Future<Output = AnyView> + 'static,
    stale: Signal<bool>,
) -> AnyView {
    if !PAGE_HYDRATED.get() {
        return inert_until_needed(part, view, stale);
    }
    let el = NodeRef::<leptos::html::Div>::new();
    let view = async move {
        let view = view.await;
        if let Some(div) = el.get_untracked() {
            let _ = div.set_attribute("data-part-live", "true");
        }
        view
    };
    let view = super::suspended(view, || ().into_any());
    view! { <div data-lazy-part=part.marker() class=BUSY_CLASS node_ref=el>{view}</div> }.into_any()
}

/// How long after a click its control is clicked again once the part's code runs. A click
/// older than this is dropped: the user has waited for nothing long enough to try again.
#[cfg(feature = "hydrate")]
const REPLAY_WITHIN_MS: f64 = 3_000.0;

/// How long after the part was first needed clicks on its controls are held for the code. A load
/// that takes longer has likely failed: later clicks reach the inert HTML as they are (a
/// `<details>` still opens natively; the part is then rendered afresh if its code does come).
/// A held click older than `REPLAY_WITHIN_MS` when the code comes is dropped.
#[cfg(feature = "hydrate")]
const HOLD_CLICKS_FOR_MS: f64 = 10_000.0;

/// What a click can be aimed at, and so made again. Not links: a replayed click carries no
/// modifier keys (a Ctrl-click would open in the same tab), and the router acts on them itself.
#[cfg(feature = "hydrate")]
const CONTROLS: &str = "button, summary, input, select, textarea, label";

/// The part as the server rendered it, until it is needed.
#[cfg(feature = "hydrate")]
fn inert_until_needed(
    part: ServerRenderedPart,
    view: impl std::future::Future<Output = AnyView> + 'static,
    stale: Signal<bool>,
) -> AnyView {
    use wasm_bindgen::JsCast;

    let el = NodeRef::<leptos::html::Div>::new();
    // The part's own reactive owner, a child of the page's: disposed with it.
    let owner = StoredValue::new_local(Owner::new());
    let view = StoredValue::new_local(Some(view));
    // When the part was first needed (ms since the epoch).
    let needed_at = StoredValue::new(None::<f64>);
    // The part's HTML as the page hydrated, to see whether anything changed it since.
    let served_html = StoredValue::new(None::<String>);
    // What hydrating (or rendering) the part made, kept as long as the page shows it.
    let mounted = StoredValue::new_local(None::<<AnyView as leptos::tachys::view::Render>::State>);
    // The control a click landed on while the code loaded, and when.
    let clicked = StoredValue::new_local(None::<(web_sys::HtmlElement, f64)>);
    let activate = move || {
        let (Some(owner), Some(div)) = (owner.try_get_value(), el.get_untracked()) else {
            return; // the page is gone
        };
        let Some(Some(view)) = view.try_update_value(Option::take) else {
            return; // needed before
        };
        needed_at.set_value(Some(js_sys::Date::now()));
        let div: web_sys::Element = div.unchecked_into();
        let _ = div.set_attribute("aria-busy", "true");
        // The lazy function's body runs when the future is polled: under the part's owner.
        let view = owner.with(|| leptos::reactive::computed::ScopedFuture::new_untracked(view));
        leptos::task::spawn_local(async move {
            let view = view.await;
            // The page may have gone while the code loaded (its owner disposed `mounted`): what
            // was made goes with it.
            if mounted.try_with_value(|_| ()).is_none() {
                return;
            }
            let untouched = served_html.try_with_value(|h| h.as_deref() == Some(&div.inner_html()));
            let reuse_html = !stale.get_untracked() && untouched == Some(true);
            let state = owner.with(|| mount(view, &div, reuse_html));
            mounted.set_value(Some(state));
            let _ = div.remove_attribute("aria-busy");
            let _ = div.set_attribute("data-part-live", "true");
            if let Some((control, at)) = clicked.try_update_value(Option::take).flatten() {
                if reuse_html && js_sys::Date::now() - at <= REPLAY_WITHIN_MS {
                    control.click();
                }
            }
        });
    };
    Effect::new(move |_| {
        if let Some(div) = el.get() {
            if served_html.with_value(Option::is_none) {
                served_html.set_value(Some(div.inner_html()));
            }
            // No children: the server rendered nothing there (its future was not ready).
            if stale.get() || !div.has_child_nodes() {
                activate();
            }
        }
    });
    let on_click = move |ev: web_sys::MouseEvent| {
        if mounted.with_value(Option::is_some) {
            return;
        }
        activate();
        let waited = needed_at
            .get_value()
            .map_or(0.0, |t| js_sys::Date::now() - t);
        let plain = ev.button() == 0
            && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key())
            && !ev.default_prevented();
        let control = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest(CONTROLS).ok().flatten())
            .and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok());
        if let (Some(control), true) = (control, plain && waited <= HOLD_CLICKS_FOR_MS) {
            // Nothing in the HTML acts yet: keep the click for when it does.
            ev.prevent_default();
            clicked.set_value(Some((control, js_sys::Date::now())));
        }
    };
    // No children: the page's hydration claims the div and leaves the server's HTML in it alone.
    view! {
        <div data-lazy-part=part.marker() class=BUSY_CLASS node_ref=el
            on:pointerover=move |_| activate() on:focusin=move |_| activate()
            on:click=on_click></div>
    }
    .into_any()
}

/// Hydrates `view` on the HTML inside `div` (`reuse_html`), or renders it there afresh.
#[cfg(feature = "hydrate")]
fn mount(
    view: AnyView,
    div: &web_sys::Element,
    reuse_html: bool,
) -> <AnyView as leptos::tachys::view::Render>::State {
    use leptos::tachys::hydration::Cursor;
    use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

    if reuse_html {
        let cursor = Cursor::new(div.clone());
        view.hydrate::<true>(&cursor, &PositionState::new(Position::FirstChild))
    } else {
        div.set_inner_html("");
        let mut state = view.build();
        state.mount(div, None);
        state
    }
}
