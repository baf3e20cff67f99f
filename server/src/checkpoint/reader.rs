//! Reading the checkpoints back and verifying the chain against them, for the audit page (cached
//! briefly, so a page view does not re-walk a million rows) and for `keyway audit verify`.
//!
//! Every version of the kv-v2 secret is read (the newest [`MAX_READ`], a few at a time), and
//! each must open as a checkpoint of this log signed by a trusted key. One that does not (forged,
//! altered, deleted in Vault, not a checkpoint at all) is a [`CheckpointProblem`], reported, never
//! skipped in silence. The rest are handed to `AuditLog::verify_against`: a head no longer in the
//! log, or a row that differs from the one signed, is the first break.
//!
//! Reading only the newest versions is enough to catch any rewrite: every hash covers the one
//! before it, so the newest checkpoint alone shows a change anywhere below it. Older ones only
//! narrow down where the break starts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use keyway_store::{ChainReport, Checkpoint};
use keyway_vault::SecretString;
use tokio::time::Instant;

use super::note::{self, NoteKey};
use super::{CheckpointError, Checkpoints, On, NOTE_KEY};

/// Most versions one verification reads (the newest ones).
pub const MAX_READ: usize = 10_000;
/// How many versions are read at once.
const READS_AT_ONCE: usize = 4;
/// How often the background verifier re-checks the whole chain for the audit page.
pub const VERIFY_EVERY: Duration = Duration::from_secs(5 * 60);
/// How long a verification result is reused by [`Checkpoints::verify_with_checkpoints`].
pub const VERIFY_CACHE: Duration = Duration::from_secs(60);
/// How long a failed verification (Vault or the database unreachable) is reused.
const ERROR_CACHE: Duration = Duration::from_secs(10);

/// The chain verified against the signed checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// The chain itself, checked against every checkpoint that verified.
    pub chain: ChainReport,
    /// How many checkpoints verified and were checked against the chain.
    pub checkpoints: usize,
    /// The newest of them.
    pub newest: Option<VerifiedCheckpoint>,
    /// The versions that are not valid checkpoints, oldest first.
    pub problems: Vec<CheckpointProblem>,
    /// Older versions left unread (beyond [`MAX_READ`]).
    pub not_read: usize,
    /// When this verification ran.
    pub checked_at: jiff::Timestamp,
}

/// A checkpoint that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub kv_version: u64,
    /// The head it signs: row #seq.
    pub seq: i64,
    /// When Vault stored it.
    pub at: Option<jiff::Timestamp>,
    /// The key whose signature verified: `transit key transit/keyway-audit v1`.
    pub signed_by: String,
}

/// A version of the checkpoint secret that is not a valid checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointProblem {
    pub kv_version: u64,
    /// What is wrong, as the end of a sentence ("its signature by … does not verify …").
    pub problem: String,
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checkpoint version {}: {}",
            self.kv_version, self.problem
        )
    }
}

impl VerifyOutcome {
    /// The chain is whole, matches every checkpoint, and every checkpoint verified.
    pub fn whole(&self) -> bool {
        self.chain.ok && self.problems.is_empty()
    }

    /// One sentence for those who may not read the whole log: whether it is whole, up to
    /// which row, against how many checkpoints; never a row's content or a checkpoint's.
    pub fn brief(&self) -> String {
        match (&self.chain.first_break, &self.chain.head) {
            (Some(found), _) => format!(
                "The audit log is NOT whole from row #{}; your platform team can see why.",
                found.seq
            ),
            (None, _) if !self.problems.is_empty() => {
                "A signed checkpoint of the audit log is not valid; your platform team can see why."
                    .to_owned()
            }
            (None, Some(head)) => format!(
                "Chain verified up to #{} ({} signed checkpoint{}).",
                head.seq,
                self.checkpoints,
                if self.checkpoints == 1 { "" } else { "s" }
            ),
            (None, None) => "The audit log is empty.".to_owned(),
        }
    }

    /// One or two sentences for the audit page: "Chain verified up to #N (M checkpoints, …)",
    /// or "First bad row #K: reason", and the first bad checkpoint, if any.
    pub fn summary(&self) -> String {
        let mut text = match (&self.chain.first_break, &self.chain.head) {
            (Some(found), _) => format!("First bad row #{}: {found}.", found.seq),
            (None, Some(head)) => {
                let mut t = format!(
                    "Chain verified up to #{} ({} checkpoint{}",
                    head.seq,
                    self.checkpoints,
                    if self.checkpoints == 1 { "" } else { "s" }
                );
                if let Some(newest) = &self.newest {
                    t.push_str(&format!(", the newest at #{}", newest.seq));
                    if let Some(at) = newest.at {
                        t.push_str(&format!(" signed {}", at.strftime("%Y-%m-%d %H:%M UTC")));
                    }
                    t.push_str(&format!(" by {}", newest.signed_by));
                }
                t.push_str(").");
                t
            }
            (None, None) => "The audit log is empty.".to_owned(),
        };
        if let Some(first) = self.problems.first() {
            let more = self.problems.len() - 1;
            text.push_str(&format!(" A signed checkpoint is not valid: {first}."));
            if more > 0 {
                text.push_str(&format!(" ({more} more.)"));
            }
        }
        text
    }
}

/// What the last verification gave: its outcome, or when and why it could not run.
pub type LastVerified = Result<Arc<VerifyOutcome>, (jiff::Timestamp, String)>;

/// One verification's result, and when it ran.
type Verified = (Instant, Result<Arc<VerifyOutcome>, CheckpointError>);

/// The last verification, shared by page views.
#[derive(Default)]
pub(super) struct Cache(tokio::sync::Mutex<Option<Verified>>);

impl Checkpoints {
    /// The chain verified against every signed checkpoint in Vault, reused for
    /// [`VERIFY_CACHE`] (a failure for a few seconds). Concurrent callers share one run.
    pub async fn verify_with_checkpoints(&self) -> Result<Arc<VerifyOutcome>, CheckpointError> {
        let mut cached = self.cache.0.lock().await;
        if let Some((at, result)) = cached.as_ref() {
            let keep = if result.is_ok() {
                VERIFY_CACHE
            } else {
                ERROR_CACHE
            };
            if at.elapsed() < keep {
                return result.clone();
            }
        }
        let result = self.verify_now(&[]).await.map(Arc::new);
        *cached = Some((Instant::now(), result.clone()));
        {
            let mut last = self.last_verified.lock().expect("never poisoned");
            match &result {
                Ok(outcome) => *last = Some(Ok(outcome.clone())),
                // The failure replaces the last result: a page must not go on saying "verified"
                // while verification fails (a tampered row that no longer reads, Vault down).
                Err(e) => *last = Some(Err((jiff::Timestamp::now(), e.to_string()))),
            }
        }
        result
    }

    /// The newest verification's result (`None` before the first ended), without waiting: the
    /// outcome, or when and why it could not run.
    pub fn last_verified(&self) -> Option<LastVerified> {
        self.last_verified.lock().expect("never poisoned").clone()
    }

    /// Verifies now and then every `every`, in the background, so that the audit page only
    /// reads the last result: a page view never waits for (nor can anyone's page views cause)
    /// a re-hash of the whole log.
    pub fn spawn_verifier(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.verify_with_checkpoints().await {
                    tracing::warn!(error = %e, "the audit chain could not be verified");
                }
            }
        })
    }

    /// The same, run now, with `also` (heads published elsewhere, as `keyway audit verify
    /// --head` takes them) checked too.
    /// With checkpoints off, the chain is checked against `also` alone (the page still says
    /// whether it is whole, only without the protection of signatures).
    pub async fn verify_now(&self, also: &[Checkpoint]) -> Result<VerifyOutcome, CheckpointError> {
        let Ok(on) = self.on() else {
            let chain = self
                .audit
                .verify_against(also)
                .await
                .map_err(|e| CheckpointError::Audit(e.to_string()))?;
            return Ok(VerifyOutcome {
                chain,
                checkpoints: 0,
                newest: None,
                problems: Vec::new(),
                not_read: 0,
                checked_at: jiff::Timestamp::now(),
            });
        };
        let token = on.token().await?;
        let keys = on.known_keys(&token).await?;
        let read = on.read_all(&token, &keys).await?;
        let mut heads: Vec<_> = read.verified.iter().map(|(_, body)| body.head()).collect();
        heads.extend_from_slice(also);
        let chain = on
            .audit
            .verify_against(&heads)
            .await
            .map_err(|e| CheckpointError::Audit(e.to_string()))?;
        let newest = read.verified.last().map(|(v, body)| VerifiedCheckpoint {
            kv_version: v.kv_version,
            seq: body.head().seq,
            at: v.at,
            signed_by: v.signed_by.clone(),
        });
        Ok(VerifyOutcome {
            chain,
            checkpoints: read.verified.len(),
            newest,
            problems: read.problems,
            not_read: read.not_read,
            checked_at: jiff::Timestamp::now(),
        })
    }
}

/// What reading the versions gave.
struct Read {
    /// Oldest first.
    verified: Vec<(VerifiedCheckpoint, note::CheckpointBody)>,
    problems: Vec<CheckpointProblem>,
    not_read: usize,
}

/// One version, read.
enum Version {
    Good(VerifiedCheckpoint, note::CheckpointBody),
    Bad(CheckpointProblem),
}

impl On {
    async fn read_all(
        &self,
        token: &SecretString,
        keys: &[NoteKey],
    ) -> Result<Read, CheckpointError> {
        let s = &self.settings;
        let vault_error = |doing: String| {
            let source = &s.token;
            move |e| CheckpointError::vault(doing, e, source)
        };
        let Some(meta) = self
            .vault
            .kv_metadata(token, &s.kv.mount, &s.kv.path)
            .await
            .map_err(vault_error(format!(
                "read the checkpoint versions of kv {}",
                s.kv
            )))?
        else {
            return Ok(Read {
                verified: Vec::new(),
                problems: Vec::new(),
                not_read: 0,
            });
        };
        // Versions Vault no longer has, below the newest: pruned because max_versions was
        // lowered (Keyway's own token may not change it), or the metadata was rewritten. Up to
        // MAX_VERSIONS of them are kept on purpose; fewer is history cut short, reported.
        // Vault prunes down to max_versions exactly (0: the mount's default, 10 unless the
        // mount says more, so 10 is the safe floor): fewer kept than that, with the oldest gone,
        // is history someone cut.
        let kept = meta.versions.len() as u64;
        let first = meta.versions.keys().next().copied().unwrap_or(1);
        let may_keep = if meta.max_versions == 0 {
            10
        } else {
            meta.max_versions
        };
        let mut pruned = Vec::new();
        if first > 1 && kept < may_keep {
            pruned.push(CheckpointProblem {
                kv_version: first - 1,
                problem: format!(
                    "versions 1 to {} are no longer in Vault, though the secret may keep {may_keep}: \
                     its history was cut short (max_versions lowered, or its metadata rewritten)",
                    first - 1
                ),
            });
        }
        let all: Vec<_> = meta.versions.into_iter().collect();
        let not_read = all.len().saturating_sub(MAX_READ);
        let versions = all.into_iter().skip(not_read);
        let read: Vec<Version> = stream::iter(versions)
            .map(|(version, info)| async move {
                if info.destroyed || info.deletion_time.is_some() {
                    let what = if info.destroyed {
                        "destroyed"
                    } else {
                        "deleted"
                    };
                    return Ok(Version::Bad(CheckpointProblem {
                        kv_version: version,
                        problem: format!("it was {what} in Vault, so it cannot be checked"),
                    }));
                }
                let found = self
                    .vault
                    .kv_read(token, &s.kv.mount, &s.kv.path, Some(version))
                    .await
                    .map_err(vault_error(format!(
                        "read version {version} of kv {}",
                        s.kv
                    )))?;
                Ok(self.open_version(version, found, keys))
            })
            .buffered(READS_AT_ONCE)
            .try_collect()
            .await?;
        let mut out = Read {
            verified: Vec::new(),
            problems: pruned,
            not_read,
        };
        for version in read {
            match version {
                Version::Good(v, body) => out.verified.push((v, body)),
                Version::Bad(problem) => {
                    tracing::warn!(kv = %s.kv, kv_version = problem.kv_version, problem = %problem.problem, "a signed audit checkpoint is not valid");
                    out.problems.push(problem)
                }
            }
        }
        Ok(out)
    }

    fn open_version(
        &self,
        version: u64,
        found: Option<keyway_vault::KvVersion>,
        keys: &[NoteKey],
    ) -> Version {
        let bad = |problem: String| {
            Version::Bad(CheckpointProblem {
                kv_version: version,
                problem,
            })
        };
        let Some(found) = found else {
            return bad("Vault no longer has it".into());
        };
        let Some(data) = found.data else {
            return bad("it was deleted in Vault, so it cannot be checked".into());
        };
        let Some(text) = data.get(NOTE_KEY) else {
            return bad(format!("it has no \"{NOTE_KEY}\" key"));
        };
        match note::open(text, &self.settings.origin, keys) {
            Ok(opened) => Version::Good(
                VerifiedCheckpoint {
                    kv_version: version,
                    seq: opened.body.head().seq,
                    at: found.meta.created_time.parse().ok(),
                    signed_by: opened.signed_by,
                },
                opened.body,
            ),
            Err(e) => bad(e.to_string()),
        }
    }
}
