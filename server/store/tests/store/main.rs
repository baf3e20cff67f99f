//! Integration tests for keyway-store. Every test body is written once, generic over the backend,
//! and run twice by `on_both_backends!`: on a SQLite file in a temporary directory and on a fresh
//! PostgreSQL database created for that test (named by `KEYWAY_TEST_POSTGRES_URL`) and dropped
//! afterwards. One test binary, so the crate is linked once.

mod canonical;
mod common;
mod oracle;

mod append_only;
mod chain;
mod claims;
mod concurrency;
mod failure;
mod filters;
mod formats;
mod heads;
mod migrations;
mod observations;
mod queries;
mod reach;
mod replace;
mod search_keys;
mod time_ranges;
