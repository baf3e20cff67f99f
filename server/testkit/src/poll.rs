//! Waiting for something that happens elsewhere (a cluster controller, a watch, a server
//! starting) without sleeping a fixed time: poll with a deadline, fail with what was awaited.

use std::time::Duration;

use tokio::time::Instant;

/// How often [`eventually`] asks again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Polls `f` every [`POLL_INTERVAL`] until it returns Some, failing with `what` at the deadline.
/// `f` may be `|| async { … }` or an `async || { … }` that borrows its state mutably (a client
/// keeping its session cookie).
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut f: impl AsyncFnMut() -> Option<T>,
) -> T {
    until(what, within, async || f().await.ok_or_else(String::new)).await
}

/// Like [`eventually`], for an `f` that says what it saw instead (`Err`): the failure quotes the
/// last thing seen.
pub async fn until<T>(
    what: &str,
    within: Duration,
    mut f: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let seen = match f().await {
            Ok(v) => return v,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "not within {within:?}: {what}{}{seen}",
            if seen.is_empty() { "" } else { "; last: " }
        );
        tokio::time::sleep(POLL_INTERVAL).await; // poll interval, not a wait for an outcome
    }
}
