//! Keeping the cluster panel current without a page reload: a clock that ticks every second (so
//! ages and countdowns move) and decides when to ask the server again: every 2 s while something
//! is on its way or a button was just used, every 15 s otherwise. Browser only; the server render
//! shows one answer and starts nothing. The apps overview uses the same clock, never in a hurry.
//!
//! A fetch the clock started is a background poll ([`Poll::background`]): the server does not
//! count it as the user's activity, so an unattended screen still reaches the idle timeout.

use leptos::prelude::*;

use super::format::{poll_period, HURRY_FOR};

/// The current time in Unix seconds, from the browser's clock in the browser.
pub fn now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// The panel's clock and its "ask again" signal.
#[derive(Clone, Copy)]
pub struct Poll {
    /// Unix seconds, updated every second in the browser.
    pub now: RwSignal<i64>,
    /// Bumped to fetch the cluster status again.
    pub refetch: RwSignal<u32>,
    /// Look fast until this time (set when a button was used).
    hurry_until: RwSignal<i64>,
    /// When the last fetch was asked for.
    last: StoredValue<i64>,
    /// The `refetch` value the last fetch was made with.
    seen: StoredValue<u32>,
}

impl Poll {
    pub fn new() -> Self {
        let t = now();
        Poll {
            now: RwSignal::new(t),
            refetch: RwSignal::new(0),
            hurry_until: RwSignal::new(0),
            last: StoredValue::new(t),
            seen: StoredValue::new(0),
        }
    }

    /// For a resource's fetcher, given the `refetch` value it runs with: true when the clock
    /// (or a hurry after a button, itself the user's activity) bumped it, false when the page or
    /// the user changed something else (first load, another secret, a search).
    pub fn background(&self, refetch: u32) -> bool {
        let seen = self.seen.get_value();
        self.seen.set_value(refetch);
        refetch != seen
    }

    /// Asks again at once, then often for a while: a button was just used.
    pub fn hurry(&self) {
        let t = now();
        self.hurry_until.set(t + HURRY_FOR);
        self.fetch(t);
    }

    fn fetch(&self, t: i64) {
        self.last.set_value(t);
        self.refetch.update(|n| *n += 1);
    }

    /// One tick of the clock; `moving` says whether the last answer shows something on its way.
    fn tick(&self, moving: bool) {
        let t = now();
        self.now.set(t);
        let fast = moving || t < self.hurry_until.get_untracked();
        if t - self.last.get_value() >= poll_period(fast) {
            self.fetch(t);
        }
    }

    /// Starts the clock in the browser; it stops when the component that called this unmounts.
    /// `moving` is asked once a second, untracked.
    pub fn start(self, moving: impl Fn() -> bool + Clone + 'static) {
        // Effects run only in the browser (after hydration), never in the server render.
        Effect::new(move |_| {
            let moving = moving.clone();
            let handle = set_interval_with_handle(
                move || self.tick(moving()),
                std::time::Duration::from_secs(1),
            )
            .ok();
            on_cleanup(move || {
                if let Some(h) = handle {
                    h.clear();
                }
            });
        });
    }
}
