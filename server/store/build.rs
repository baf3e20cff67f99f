//! `sqlx::migrate!` embeds the SQL files at compile time; this makes cargo rebuild the crate when
//! a migration is added or edited, instead of silently embedding a stale set.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
