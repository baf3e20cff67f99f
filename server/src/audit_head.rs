//! Publishing the audit chain head outside the database.
//!
//! The chain shows a row changed in the middle, but whoever can write the database can also cut
//! rows off its end or rewrite it with fresh hashes. A head held elsewhere shows that: give it to
//! `keyway audit verify --head SEQ:HASH`. Keyway publishes the head at start and every
//! [`HEAD_EVERY`] to each [`HeadWitness`]; today that is the log ([`LogWitness`]), which log
//! shipping carries off the machine. Signed checkpoints ([`crate::checkpoint`]) hold the head in
//! Vault too, signed by a transit key, on their own schedule (every N rows or M minutes).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyway_store::{AuditLog, Checkpoint};

/// How often the head is published after the one at start.
pub const HEAD_EVERY: Duration = Duration::from_secs(10 * 60);

/// Somewhere the chain head is held outside the database.
#[async_trait]
pub trait HeadWitness: Send + Sync {
    /// Holds `head` (`None`: the log is still empty). An error is logged; it never stops Keyway.
    async fn publish(&self, head: Option<&Checkpoint>) -> Result<(), String>;
}

/// The witness Keyway has today: one info line in its own log.
pub struct LogWitness;

#[async_trait]
impl HeadWitness for LogWitness {
    async fn publish(&self, head: Option<&Checkpoint>) -> Result<(), String> {
        match head {
            Some(head) => tracing::info!(
                seq = head.seq,
                hash = %head.hash,
                "audit chain head {head} (check the log later with `keyway audit verify --head {head}`)"
            ),
            None => tracing::info!("audit chain head: the audit log is empty"),
        }
        Ok(())
    }
}

/// Reads the head and hands it to `witness`.
pub async fn publish_head(audit: &AuditLog, witness: &dyn HeadWitness) {
    let published = match audit.head().await {
        Ok(head) => witness.publish(head.map(Checkpoint::from).as_ref()).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = published {
        tracing::warn!(error = %e, "the audit chain head could not be published");
    }
}

/// Publishes the head now, then every `every`, for as long as Keyway runs.
pub async fn publish_now_and_every(
    audit: AuditLog,
    witness: Arc<dyn HeadWitness>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    publish_head(&audit, witness.as_ref()).await;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            publish_head(&audit, witness.as_ref()).await;
        }
    })
}
