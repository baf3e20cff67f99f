//! The one error type of this crate.
//!
//! Its `Display` is a plain sentence a person can act on, safe to show to a user; the database's
//! own error is kept as the `source` for the logs. Neither ever contains a secret value: rows have
//! no field for one, and connection URLs are never echoed.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend this crate knows.
    #[error("The database URL must start with sqlite: or postgres://.")]
    UnsupportedUrl,

    /// The pool could not be opened (bad URL, server down, wrong password, unwritable file).
    #[error("The database could not be opened.")]
    Connect(#[source] sqlx::Error),

    /// An embedded migration failed; boot must stop.
    #[error("The database schema could not be brought up to date, so Keyway will not start.")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    /// The schema is behind and this role may not change it: it serves a database whose owner is
    /// another role, which has not run this version's migrations yet.
    #[error(
        "The database schema is behind this version of Keyway, and Keyway's database role may not \
         change it: run `keyway migrate` as the role that owns the schema \
         (KEYWAY_DATABASE_MIGRATE_URL), then start Keyway again."
    )]
    MigrateDenied(#[source] sqlx::migrate::MigrateError),

    /// An event or intent could not be appended. The caller must not carry out the action.
    #[error("The audit log could not be written, so the change was not made.")]
    AuditWrite(#[source] sqlx::Error),

    /// The action was carried out but its outcome row could not be appended; the intent row stays
    /// listed by `pending_intents()`.
    #[error(
        "The change was made, but its outcome could not be added to the audit log; \
         it is listed there as pending."
    )]
    AuditOutcome(#[source] sqlx::Error),

    /// A query over the audit log failed.
    #[error("The audit log could not be read.")]
    AuditRead(#[source] sqlx::Error),

    /// A stored row could not be understood (it was altered outside Keyway, or written by a newer
    /// version).
    #[error("Audit log row {seq} could not be read: {reason}.")]
    Corrupt { seq: i64, reason: &'static str },

    /// The caller asked for something the audit log does not allow (a programming error, or a
    /// time filter out of range).
    #[error("This audit log request is not valid: {0}.")]
    Invalid(&'static str),

    /// A restart claim could not be taken or given back ([`crate::RestartClaims`]). The caller
    /// must not restart: another replica may hold the claim.
    #[error("The restart could not be recorded in the database, so nothing was restarted.")]
    Claim(#[source] sqlx::Error),

    /// Cluster observations (the timeline, [`crate::observations`]) could not be written or read.
    #[error("The cluster timeline could not be read or written.")]
    Observations(#[source] sqlx::Error),

    /// A plain database call (health check) failed.
    #[error("The database did not answer.")]
    Unavailable(#[source] sqlx::Error),
}
