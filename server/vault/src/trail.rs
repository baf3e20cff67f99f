//! The link between Keyway's audit log and Vault's: every call carries Keyway's request id in the
//! `X-Keyway-Request-Id` header, and the `request_id` Vault answers a write with is kept for the
//! audit row that records it.
//!
//! Vault's audit device records a request header only once it is told to
//! (`sys/config/auditing/request-headers/X-Keyway-Request-Id`, a one-time setting the demo makes;
//! see the README). Then an auditor can go from a row of Keyway's history to the exact entries of
//! Vault's audit log, and back.
//!
//! The ids travel in a task-local [`Trail`] rather than through every method's arguments: the
//! HTTP layer and the per-request backend open one with [`within`] around everything a request
//! does, and the audit bracket opens a nested one with [`recording`] around the one audited call,
//! so the Vault request id it reads back is that call's and no other's. A call made outside any
//! trail (a background task) simply goes without the header.

use std::future::Future;
use std::sync::{Arc, Mutex};

/// The header Keyway's request id travels in. Vault's audit device lowercases it when recording
/// (`request.headers.x-keyway-request-id`).
pub const REQUEST_ID_HEADER: &str = "X-Keyway-Request-Id";

/// Longest request id sent: Keyway's own are UUIDs; anything longer is not sent at all rather
/// than cut, so a header never carries half an id.
const REQUEST_ID_MAX: usize = 128;

/// One request's trail: Keyway's request id, and the Vault request ids of the writes made in it.
#[derive(Clone, Debug, Default)]
struct Trail {
    keyway_request_id: Option<String>,
    vault_writes: Arc<Mutex<Vec<String>>>,
}

tokio::task_local! {
    static TRAIL: Trail;
}

/// Runs `fut` with Keyway's `request_id` sent to Vault on every call it makes.
pub async fn within<F: Future>(request_id: &str, fut: F) -> F::Output {
    let trail = Trail {
        keyway_request_id: usable(request_id),
        vault_writes: Default::default(),
    };
    TRAIL.scope(trail, fut).await
}

/// Runs `fut` (inside the current request's trail, if any) and returns, with its output, the
/// `request_id` Vault gave the last write `fut` made (POST, PUT, PATCH or DELETE): the id that
/// finds the change in Vault's audit log.
pub async fn recording<F: Future>(fut: F) -> (F::Output, Option<String>) {
    let keyway_request_id = TRAIL
        .try_with(|t| t.keyway_request_id.clone())
        .ok()
        .flatten();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let trail = Trail {
        keyway_request_id,
        vault_writes: writes.clone(),
    };
    let output = TRAIL.scope(trail, fut).await;
    let last = writes.lock().map(|w| w.last().cloned()).unwrap_or(None);
    (output, last)
}

/// The Keyway request id to send with a call made now, if any.
pub(crate) fn current_request_id() -> Option<String> {
    TRAIL
        .try_with(|t| t.keyway_request_id.clone())
        .ok()
        .flatten()
}

/// Notes the `request_id` of a write's answer in the current trail.
pub(crate) fn note_write(vault_request_id: &str) {
    let Some(id) = usable(vault_request_id) else {
        return;
    };
    let _ = TRAIL.try_with(|t| {
        if let Ok(mut writes) = t.vault_writes.lock() {
            // A long audited call (onboarding) makes a few dozen writes at most; keep a bound
            // anyway, since only the last one is read.
            if writes.len() >= 64 {
                writes.remove(0);
            }
            writes.push(id);
        }
    });
}

/// `id` if it can go in a header and a row as is: short, and printable ASCII without spaces.
fn usable(id: &str) -> Option<String> {
    let ok =
        !id.is_empty() && id.len() <= REQUEST_ID_MAX && id.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recorded_call_sees_the_request_id_and_keeps_only_its_own_writes() {
        let (outer_seen, inner) = within("req-1", async {
            note_write("before");
            let inner = recording(async {
                assert_eq!(current_request_id().as_deref(), Some("req-1"));
                note_write("v-1");
                note_write("v-2");
            })
            .await;
            (current_request_id(), inner)
        })
        .await;
        assert_eq!(outer_seen.as_deref(), Some("req-1"));
        assert_eq!(inner, ((), Some("v-2".to_owned())));
    }

    #[tokio::test]
    async fn outside_a_trail_nothing_is_sent_or_kept() {
        assert_eq!(current_request_id(), None);
        note_write("lost");
        let ((), last) = recording(async {}).await;
        assert_eq!(last, None);
        assert_eq!(within("bad id\n", current_request_id_async()).await, None);
        let long = "x".repeat(REQUEST_ID_MAX + 1);
        assert_eq!(within(&long, current_request_id_async()).await, None);
    }

    async fn current_request_id_async() -> Option<String> {
        current_request_id()
    }
}
