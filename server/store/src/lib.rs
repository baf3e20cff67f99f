//! Keyway's database: one pool over SQLite or PostgreSQL, the embedded migrations, the audit
//! log, and the restart claims replicas share ([`RestartClaims`]).
//!
//! The audit log is the reason this crate exists. Keyway promises that nothing is lost and that
//! every mutating action is audited, refused if it cannot be: so the log is append-only and
//! hash-chained, both enforced by the database itself (triggers, unique constraints, and a write
//! path serialised by `BEGIN IMMEDIATE` on SQLite or an advisory lock on PostgreSQL), so several
//! replicas writing at once can never fork or break the chain.
//!
//! Rows hold who, what, where and which key *names*, never a value: there is no field for one.

mod claims;
mod db;
mod error;
mod schema;

pub mod audit;
pub mod observations;

pub use audit::{
    Action, AuditLog, ChainBreak, ChainReport, Checkpoint, Filter, Intent, NewEvent, Outcome,
    Problem, Reach, Recorded, Row, DETAIL_MAX_CHARS, GENESIS_PREV_HASH,
};
pub use claims::{ClaimId, ClaimKey, RestartClaims};
pub use db::{Backend, Db};
pub use error::StoreError;
