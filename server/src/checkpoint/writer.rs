//! Signing the head and writing it to kv-v2, and the task that does so every N rows or M minutes.
//!
//! One checkpoint:
//!
//! 1. read the head (nothing to sign on an empty log) and the newest checkpoint in Vault;
//! 2. if that one already covers the head (another replica signed it), stop there;
//! 3. if the log no longer agrees with it (its row is gone, or carries another hash), sign
//!    nothing: a log MUST NOT sign a checkpoint inconsistent with an earlier one
//!    (`tlog-checkpoint`), and the break is for an operator to look at (`keyway audit verify`);
//! 4. sign the note text with transit, check the signature locally against the key version that
//!    made it, and write the note with check-and-set on the version read in 1, so two replicas
//!    never overwrite each other (the loser's head is signed by the next round);
//! 5. the first time in this process, warn if the secret keeps fewer than [`MAX_VERSIONS`]
//!    versions (the platform team sets it; Keyway's token may only read it).
//!
//! The task looks at the head every [`CHECK_EVERY`] (one indexed query), and talks to Vault
//! only when a checkpoint is due; after a failure it waits [`RETRY_AFTER`] (or the period, if
//! shorter) before trying again.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use keyway_store::{Checkpoint, Filter};
use keyway_vault::{KvData, SecretString, VaultError};
use tokio::time::Instant;

use super::note::{self, CheckpointBody, NoteKey, Opened};
use super::{CheckpointError, CheckpointStatus, Checkpoints, LastCheckpoint, On, NOTE_KEY};

/// How often the task looks at the chain head.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// The wait after a failed checkpoint before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// How many versions the checkpoint secret keeps (its metadata's `max_versions`). kv-v2's own
/// default keeps 10, and `0` means that default, not "all" (checked on OpenBao 2.7.2). Vault
/// rewrites the secret's whole version list at every write, and on integrated storage (raft) one
/// entry may not exceed 1 MiB by default, which a list of ~40,000 versions would: so a bounded
/// number, the same as a verification reads ([`super::MAX_READ`]). At one checkpoint per 10
/// minutes that is about 69 days; Vault's audit log keeps every write beyond that.
pub const MAX_VERSIONS: u64 = 10_000;

/// What one checkpoint attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signed {
    /// A new checkpoint was signed and written.
    Written(LastCheckpoint),
    /// The newest checkpoint in Vault already covers the head.
    UpToDate(LastCheckpoint),
    /// The audit log is empty: nothing to sign.
    EmptyLog,
    /// Another Keyway wrote a checkpoint between our read and our write; the next round signs.
    Raced,
}

impl Checkpoints {
    /// Signs the head now if the newest checkpoint does not cover it, and records the outcome in
    /// [`Checkpoints::status`].
    pub async fn checkpoint_now(&self) -> Result<Signed, CheckpointError> {
        let result = self.sign_head().await;
        match &result {
            Ok(Signed::Written(last)) | Ok(Signed::UpToDate(last)) => {
                self.set_status(Some(last.clone()), None)
            }
            Ok(Signed::EmptyLog) | Ok(Signed::Raced) => self.set_status(None, None),
            Err(e) => {
                tracing::warn!(error = %e, "the audit chain head could not be checkpointed");
                self.set_status(None, Some(e.to_string()));
            }
        }
        result
    }

    async fn sign_head(&self) -> Result<Signed, CheckpointError> {
        let on = self.on()?;
        let s = &on.settings;
        let Some(head) = on.audit.head().await.map_err(audit)? else {
            return Ok(Signed::EmptyLog);
        };
        let head = Checkpoint::from(head);
        let token = on.token().await?;
        let transit = on.transit_key(&token).await?;
        let transit_keys = on.transit_note_keys(&transit)?;
        let trusted = if s.pinned.is_some() {
            on.pinned_keys()?
        } else {
            transit_keys.clone()
        };

        let newest = on
            .vault
            .kv_read(&token, &s.kv.mount, &s.kv.path, None)
            .await
            .map_err(|e| {
                CheckpointError::vault(
                    format!("read the newest checkpoint from kv {}", s.kv),
                    e,
                    &s.token,
                )
            })?;
        let cas = newest.as_ref().map_or(0, |v| v.meta.version);
        let opened = newest.as_ref().and_then(|v| {
            let text = v.data.as_ref()?.get(NOTE_KEY)?;
            match note::open(text, &s.origin, &trusted) {
                Ok(opened) => Some(opened),
                Err(e) => {
                    // Reported by every verification; a good checkpoint is written after it.
                    tracing::warn!(kv_version = v.meta.version, problem = %e, "the newest checkpoint in Vault does not verify");
                    None
                }
            }
        });
        if let (Some(opened), Some(version)) = (&opened, &newest) {
            let last = LastCheckpoint {
                seq: opened.body.head().seq,
                at: version.meta.created_time.parse().ok(),
                kv_version: version.meta.version,
            };
            self.consistent(on, &head, opened, last.kv_version).await?;
            if last.seq == head.seq {
                return Ok(Signed::UpToDate(last));
            }
        }

        let body = CheckpointBody::of_head(&s.origin, &head)
            .map_err(|e| CheckpointError::Audit(e.to_string()))?;
        let note = self
            .sign(on, &token, &body, &transit_keys, &trusted)
            .await?;
        let data: KvData = [(NOTE_KEY, note.as_str())].into_iter().collect();
        let written = match on
            .vault
            .kv_write(&token, &s.kv.mount, &s.kv.path, &data, cas)
            .await
        {
            Ok(meta) => meta,
            Err(VaultError::CasMismatch) => return Ok(Signed::Raced),
            Err(e) => {
                return Err(CheckpointError::vault(
                    format!("write the checkpoint to kv {}", s.kv),
                    e,
                    &s.token,
                ))
            }
        };
        tracing::info!(
            seq = head.seq,
            hash = %head.hash,
            kv = %s.kv,
            kv_version = written.version,
            "audit checkpoint signed by transit key {}: {}",
            s.key,
            note.trim_end().replace('\n', " | ")
        );
        let last = LastCheckpoint {
            seq: head.seq,
            at: written.created_time.parse().ok(),
            kv_version: written.version,
        };
        self.keep_versions(on, &token).await?;
        Ok(Signed::Written(last))
    }

    /// Transit's signature over `body`, checked here against the key version that made it
    /// (which must be trusted: pinned, when pins are set), as a signed note.
    async fn sign(
        &self,
        on: &On,
        token: &SecretString,
        body: &CheckpointBody,
        transit_keys: &[NoteKey],
        trusted: &[NoteKey],
    ) -> Result<String, CheckpointError> {
        let s = &on.settings;
        let signed = on
            .vault
            .transit_sign(token, &s.key.mount, &s.key.key, body.text().as_bytes())
            .await
            .map_err(|e| {
                CheckpointError::vault(format!("sign with transit key {}", s.key), e, &s.token)
            })?;
        let label = format!("transit key {} v{}", s.key, signed.key_version);
        let key = transit_keys
            .iter()
            .find(|k| k.label == label)
            .ok_or_else(|| {
                CheckpointError::Key(format!(
                    "Vault signed with {label}, whose public key it does not show."
                ))
            })?;
        if !trusted.iter().any(|t| t.public_key() == key.public_key()) {
            return Err(CheckpointError::Key(format!(
                "The {label} is not one of KEYWAY_AUDIT_CHECKPOINT_PUBLIC_KEY: Keyway signs no \
                 checkpoint a verifier would refuse. Add its public key to the setting."
            )));
        }
        let signature = <[u8; 64]>::try_from(signed.signature.as_slice()).map_err(|_| {
            CheckpointError::Key(format!("The {label} gave a signature that is not Ed25519."))
        })?;
        let text = note::signed_note(body, key, &signature);
        note::open(&text, &s.origin, std::slice::from_ref(key)).map_err(|e| {
            CheckpointError::Key(format!("Transit's signature does not check out: {e}."))
        })?;
        Ok(text)
    }

    /// The log still holds the row `opened` signs, with the hash it signs.
    async fn consistent(
        &self,
        on: &On,
        head: &Checkpoint,
        opened: &Opened,
        kv_version: u64,
    ) -> Result<(), CheckpointError> {
        let signed = opened.body.head();
        let stop =
            "Keyway signs no new checkpoint until this is resolved; run `keyway audit verify`.";
        if signed.seq > head.seq {
            return Err(CheckpointError::Inconsistent(format!(
                "The audit log ends at row #{}, before row #{} that the newest signed checkpoint \
                 (version {kv_version} of kv {}) covers: rows were cut off its end. {stop}",
                head.seq, signed.seq, on.settings.kv
            )));
        }
        let filter = Filter {
            before_seq: Some(signed.seq + 1),
            limit: Some(1),
            ..Filter::default()
        };
        let row = on
            .audit
            .list(filter)
            .await
            .map_err(audit)?
            .into_iter()
            .next();
        if row.is_none_or(|r| r.seq != signed.seq || r.hash != signed.hash) {
            return Err(CheckpointError::Inconsistent(format!(
                "Row #{} of the audit log is not the row the newest signed checkpoint (version \
                 {kv_version} of kv {}) covers: the log was rewritten. {stop}",
                signed.seq, on.settings.kv
            )));
        }
        Ok(())
    }

    /// Once per process: says (a warning in the log) when the secret keeps fewer than
    /// [`MAX_VERSIONS`] versions, so older checkpoints would be dropped. Keyway does not set it:
    /// its token may only read this metadata, because one that may set it may also lower it
    /// (the platform team sets it once, as `end2end/demo/seed.sh` does).
    async fn keep_versions(&self, on: &On, token: &SecretString) -> Result<(), CheckpointError> {
        if self.max_versions_set.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let s = &on.settings;
        match on.vault.kv_metadata(token, &s.kv.mount, &s.kv.path).await {
            // 0 is the mount's default (10), not "all".
            Ok(Some(m)) if m.max_versions == 0 || m.max_versions < MAX_VERSIONS => {
                tracing::warn!(
                    kv = %s.kv,
                    max_versions = m.max_versions,
                    "the checkpoint secret keeps too few versions: older checkpoints will be dropped; \
                     set its max_versions to {MAX_VERSIONS} (README, signed checkpoints)"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(kv = %s.kv, error = %e, "could not read the checkpoint secret's settings")
            }
        }
        Ok(())
    }

    /// Starts the task that checkpoints every N rows or M minutes (when the head moved), looking
    /// at the head every `check_every`. Off: says so once in the log and starts nothing. The
    /// task ends when the last `Arc` is dropped.
    pub fn spawn(self: &Arc<Self>, check_every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        let Ok(on) = self.on() else {
            tracing::info!(
                "signed audit checkpoints are off: set KEYWAY_AUDIT_CHECKPOINT_KEY, \
                 KEYWAY_AUDIT_CHECKPOINT_KV and KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE to sign the \
                 audit chain head with a Vault transit key (README, \"Signed audit checkpoints\")"
            );
            return None;
        };
        let s = &on.settings;
        tracing::info!(
            key = %s.key,
            kv = %s.kv,
            every_rows = s.every_rows,
            every_minutes = s.every.as_secs() / 60,
            origin = %s.origin,
            "signed audit checkpoints on"
        );
        let (every_rows, every) = (s.every_rows, s.every);
        let me = Arc::downgrade(self);
        Some(tokio::spawn(async move {
            let mut covered: Option<i64> = None;
            let mut since = Instant::now();
            let mut next_try = Instant::now();
            let mut ticks = tokio::time::interval(check_every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(me) = me.upgrade() else { return };
                let now = Instant::now();
                if now < next_try {
                    continue;
                }
                let Ok(Some(head)) = me.on().expect("on").audit.head().await else {
                    continue;
                };
                let due = match covered {
                    None => true,
                    Some(seq) => {
                        head.seq > seq
                            && (head.seq - seq >= every_rows as i64 || now - since >= every)
                    }
                };
                if !due {
                    continue;
                }
                match me.checkpoint_now().await {
                    Ok(Signed::Written(last)) | Ok(Signed::UpToDate(last)) => {
                        covered = Some(last.seq);
                        since = now;
                    }
                    Ok(Signed::EmptyLog) | Ok(Signed::Raced) => {}
                    Err(_) => next_try = now + RETRY_AFTER.min(every),
                }
            }
        }))
    }
}

fn audit(e: keyway_store::StoreError) -> CheckpointError {
    CheckpointError::Audit(e.to_string())
}

impl CheckpointStatus {
    /// The newest checkpoint known, when on.
    pub fn last(&self) -> Option<&LastCheckpoint> {
        match self {
            CheckpointStatus::On { last, .. } => last.as_ref(),
            CheckpointStatus::Off => None,
        }
    }
}
