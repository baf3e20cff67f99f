//! Test fixtures that start real servers.
//!
//! Keyway's adapters are tested against the real thing, not against mocks: a throwaway OpenBao dev
//! server per test ([`Bao`]) and the PostgreSQL that `./end2end/run test` starts
//! ([`postgres_url`]). Doubles are left to the few cases a real server cannot produce (timeouts,
//! partitions), and those live next to the tests that need them.

mod bao;
mod bao_setup;

pub use bao::Bao;

/// The PostgreSQL URL the test runner provides in `KEYWAY_TEST_POSTGRES_URL`.
///
/// Panics when it is unset: a test that needs PostgreSQL must fail loudly rather than skip
/// silently and report green.
pub fn postgres_url() -> String {
    match std::env::var("KEYWAY_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "KEYWAY_TEST_POSTGRES_URL is not set: run the tests through ./end2end/run test, \
             which starts PostgreSQL"
        ),
    }
}
