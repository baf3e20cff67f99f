//! Checking the chain: every row recomputed and linked, and every chain head published earlier
//! still where it was.
//!
//! Each row is hashed as its `format` says ([`super::hash`]), so rows written before the audit
//! page (format 1) and since (format 2) verify in one pass.
//!
//! The chain alone shows a row changed, removed or inserted in the middle, but not rows cut off
//! its end, nor a log rewritten from some row on with every hash recomputed (the hash is not
//! keyed: whoever can write the database can compute it). Only a head held outside the database
//! shows those: a [`Checkpoint`], the seq and hash of a row as they were when published. Keyway
//! writes the head to its own log at start and periodically; signed checkpoints held elsewhere
//! (the audit page issue) are the same type, handed to [`verify`] the same way.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::event::Recorded;
use super::hash::{row_hash, GENESIS_PREV_HASH};
use super::query::{fetch, Bind};
use super::row::{StoredRow, COLUMNS};
use crate::{Db, StoreError};

/// Rows read per round trip while verifying the chain.
const VERIFY_PAGE: i64 = 1000;

/// A chain head as published outside the database: the row at `seq` carried `hash`. Written
/// and read as `seq:hash` (what `keyway audit verify --head` takes and Keyway logs).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

impl From<Recorded> for Checkpoint {
    fn from(r: Recorded) -> Self {
        Checkpoint {
            seq: r.seq,
            hash: r.hash,
        }
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for Checkpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a chain head: write it as SEQ:HASH, as Keyway logs it");
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if seq < 1 || !hex {
            return Err(bad());
        }
        Ok(Checkpoint {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// What is wrong with the first bad row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Problem {
    /// Rows `expected..seq` are missing before it (deleted).
    Gap { expected: i64 },
    /// Its `prev_hash` is not the hash of the row before it.
    Mislinked,
    /// Its content no longer matches its own hash (changed after it was written).
    Altered,
    /// A published head names this row, and the hash it carries now is another one: the log was
    /// rewritten from this row or earlier.
    DiffersFromHead { published: String },
    /// A published head names a row that is no longer there: rows were cut off the end.
    HeadMissing,
}

/// The first row that is not as it should be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub problem: Problem,
    /// The row as stored, in a few words (time, actor, action, secret, outcome), when there is
    /// one.
    pub row: Option<String>,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match &self.problem {
            Problem::Gap { expected } if *expected == seq - 1 => {
                write!(f, "row {expected} is missing before row {seq}")?
            }
            Problem::Gap { expected } => write!(
                f,
                "rows {expected} to {} are missing before row {seq}",
                seq - 1
            )?,
            Problem::Mislinked => write!(
                f,
                "row {seq} does not link to the row before it (a row was replaced or inserted)"
            )?,
            Problem::Altered => write!(
                f,
                "row {seq} no longer matches its hash (it was changed after it was written)"
            )?,
            Problem::DiffersFromHead { published } => write!(
                f,
                "row {seq} is not the row published as the chain head {seq}:{published} \
                 (the log was rewritten from this row or earlier)"
            )?,
            Problem::HeadMissing => write!(
                f,
                "row {seq}, published as a chain head, is no longer in the log (rows were cut \
                 off its end)"
            )?,
        }
        if let Some(row) = &self.row {
            write!(f, "; it reads: {row}")?;
        }
        Ok(())
    }
}

/// The result of recomputing every hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    /// Rows checked.
    pub rows: u64,
    /// Every row is where it should be, links to the one before, carries its own hash, and every
    /// published head given is still in place.
    pub ok: bool,
    /// The seq of [`ChainReport::first_break`].
    pub first_bad_seq: Option<i64>,
    /// The first row that is out of sequence, mislinked, altered, or differs from a published
    /// head.
    pub first_break: Option<ChainBreak>,
    /// The newest row: the head to publish.
    pub head: Option<Checkpoint>,
    /// How many published heads were checked.
    pub heads_checked: usize,
}

impl ChainReport {
    fn flag(&mut self, seq: i64, problem: Problem, row: Option<&StoredRow>) {
        if self.ok {
            self.ok = false;
            self.first_bad_seq = Some(seq);
            self.first_break = Some(ChainBreak {
                seq,
                problem,
                row: row.map(summary),
            });
            tracing::warn!(seq, "audit chain broken");
        }
    }
}

fn summary(r: &StoredRow) -> String {
    let mut s = format!("{} {} {}", r.at, r.actor_name, r.action);
    if !r.mount.is_empty() || !r.path.is_empty() {
        s.push_str(&format!(" {}/{}", r.mount, r.path));
    }
    s.push_str(&format!(" {}", r.outcome));
    s
}

/// Recomputes every hash and link, oldest first, and checks each of `heads` against the row it
/// names.
pub(crate) async fn verify(db: &Db, heads: &[Checkpoint]) -> Result<ChainReport, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {VERIFY_PAGE}");
    let mut published: BTreeMap<i64, &str> =
        heads.iter().map(|h| (h.seq, h.hash.as_str())).collect();
    let mut report = ChainReport {
        rows: 0,
        ok: true,
        first_bad_seq: None,
        first_break: None,
        head: None,
        heads_checked: published.len(),
    };
    let mut expected_seq = 1;
    let mut expected_prev = GENESIS_PREV_HASH.to_owned();
    // Formats only ever go up along the chain: a format-1 row after a format-2 one was made to
    // look old (format 1 hashes less), so it is not vouched for.
    let mut newest_format = 1;
    loop {
        let page = fetch(db, &sql, &[Bind::Int(expected_seq - 1)]).await?;
        let page_len = page.len();
        for row in page {
            report.rows += 1;
            // A head older than this row, never seen: its row is in a gap, flagged at this row.
            published.retain(|seq, _| *seq >= row.seq);
            if row.seq != expected_seq {
                let problem = Problem::Gap {
                    expected: expected_seq,
                };
                report.flag(row.seq, problem, Some(&row));
            } else if row.prev_hash != expected_prev {
                report.flag(row.seq, Problem::Mislinked, Some(&row));
            } else if row.format < newest_format
                || row_hash(&row).as_deref() != Some(row.hash.as_str())
            {
                // Also a format this Keyway does not know: nothing here can vouch for it.
                report.flag(row.seq, Problem::Altered, Some(&row));
            }
            newest_format = newest_format.max(row.format);
            if let Some(hash) = published.remove(&row.seq) {
                if hash != row.hash {
                    let problem = Problem::DiffersFromHead {
                        published: hash.to_owned(),
                    };
                    report.flag(row.seq, problem, Some(&row));
                }
            }
            // Carry on from what is stored, so one bad row does not flag every row after it.
            expected_seq = row.seq + 1;
            expected_prev = row.hash.clone();
            report.head = Some(Checkpoint {
                seq: row.seq,
                hash: row.hash,
            });
        }
        if (page_len as i64) < VERIFY_PAGE {
            break;
        }
    }
    if let Some((&seq, _)) = published.iter().next() {
        report.flag(seq, Problem::HeadMissing, None);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_head_reads_back_as_written_and_nonsense_is_refused_plainly() {
        let hash = "ab".repeat(32);
        let head: Checkpoint = format!("42:{hash}").parse().unwrap();
        assert_eq!(head.seq, 42);
        assert_eq!(head.to_string(), format!("42:{hash}"));
        let (negative, not_hex) = (format!("-1:{hash}"), format!("42:{}", "zz".repeat(32)));
        for bad in ["42", "x:ab", "0:ab", &negative, "42:abc", &not_hex] {
            let err = bad.parse::<Checkpoint>().unwrap_err();
            assert!(err.contains("SEQ:HASH"), "{bad}: {err}");
        }
    }
}
