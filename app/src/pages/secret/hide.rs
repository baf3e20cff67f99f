//! Revealed values hide again after [`HIDE_AFTER_SECS`] without input on the page (a key, a
//! click, a pointer move, a scroll), so a screen left alone does not keep showing them — the
//! session itself may well outlive that (the idle timeout counts minutes of requests, and input
//! on the page sends none). Browser only: the server render reveals nothing.

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::cluster::poll::now;

/// Three minutes: long enough to read and copy a value by hand, short enough for a walk away.
pub const HIDE_AFTER_SECS: i64 = 180;

/// Clears `revealed` once [`HIDE_AFTER_SECS`] pass without input; stops with the component.
pub fn hide_when_idle(revealed: RwSignal<BTreeMap<String, String>>) {
    // Effects run only in the browser (after hydration), never in the server render.
    Effect::new(move |_| {
        let last_input = StoredValue::new(now());
        let touch = move || last_input.set_value(now());
        let listeners = [
            window_event_listener(leptos::ev::keydown, move |_| touch()),
            window_event_listener(leptos::ev::pointerdown, move |_| touch()),
            window_event_listener(leptos::ev::pointermove, move |_| touch()),
            window_event_listener(leptos::ev::wheel, move |_| touch()),
        ];
        let timer = set_interval_with_handle(
            move || {
                let idle = now() - last_input.get_value() >= HIDE_AFTER_SECS;
                if idle && revealed.with_untracked(|m| !m.is_empty()) {
                    revealed.set(BTreeMap::new());
                }
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            for l in listeners {
                l.remove();
            }
            if let Some(t) = timer {
                t.clear();
            }
        });
    });
}
