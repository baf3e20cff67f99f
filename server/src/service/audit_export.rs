//! The audit history exported: every row a filter matches and the caller may see
//! ([`super::audit_view`]'s rule), as CSV or as JSON lines, streamed a batch at a time so an
//! export of a million rows never sits in memory. The export itself is an audited action.
//!
//! CSV is written for spreadsheets that will open it: every cell quoted, and a cell that starts
//! like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so a key
//! name or a detail can never run as a formula (OWASP's "CSV injection"). JSON lines carry every
//! column of each row, hashes included, so an export can be checked against the chain
//! elsewhere.

use std::sync::Arc;

use futures::Stream;
use keyway_app::dto::{AuditFormat, AuditQuery};
use keyway_app::error::AppError;
use keyway_store::{Action, Filter, Row};

use super::audit_view::{check_query, Visibility};
use super::{audit_error, Caller, Core};

/// Rows per streamed chunk (and per visibility check).
const CHUNK: usize = 500;

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "seq",
    "time",
    "actor",
    "actor_entity",
    "action",
    "environment",
    "app",
    "mount",
    "path",
    "version_before",
    "version_after",
    "keys_added",
    "keys_changed",
    "keys_removed",
    "outcome",
    "detail",
    "client_addr",
    "request_id",
    "vault_request_id",
    "intent_seq",
    "prev_hash",
    "hash",
];

/// One CSV cell: quoted, quotes doubled, and defused when a spreadsheet would read it as a
/// formula.
pub fn csv_cell(value: &str) -> String {
    let risky = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    let mut out = String::with_capacity(value.len() + 3);
    out.push('"');
    if risky {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
    out
}

fn line(cells: &[String]) -> String {
    let mut s = cells.join(",");
    s.push_str("\r\n");
    s
}

/// The CSV header line.
pub fn csv_header() -> String {
    line(&CSV_HEADER.iter().map(|h| csv_cell(h)).collect::<Vec<_>>())
}

/// One row as a CSV line, in [`CSV_HEADER`]'s order.
pub fn csv_row(r: &Row) -> String {
    let int = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let cells = [
        r.seq.to_string(),
        r.at.clone(),
        r.actor_name.clone(),
        r.actor_entity.clone(),
        r.action.clone(),
        text(&r.environment),
        text(&r.app),
        r.mount.clone(),
        r.path.clone(),
        int(r.version_before),
        int(r.version_after),
        r.keys_added.join("; "),
        r.keys_changed.join("; "),
        r.keys_removed.join("; "),
        r.outcome.as_str().to_owned(),
        text(&r.detail),
        text(&r.client_addr),
        text(&r.request_id),
        text(&r.vault_request_id),
        int(r.intent_seq),
        r.prev_hash.clone(),
        r.hash.clone(),
    ];
    line(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>())
}

/// One row as a JSON line.
pub fn json_line(r: &Row) -> String {
    let mut s = serde_json::to_string(r).expect("a row always serialises");
    s.push('\n');
    s
}

/// A streamed export: its bytes, a chunk at a time; an error midway ends the stream with an
/// error, so the download is marked failed rather than silently cut.
pub type ExportStream =
    std::pin::Pin<Box<dyn Stream<Item = Result<Vec<u8>, std::io::Error>> + Send>>;

struct Cursor {
    core: Arc<Core>,
    caller: Caller,
    vis: Visibility,
    filter: Filter,
    format: AuditFormat,
    /// The first chunk, read before the answer started (so a failure there is a plain error);
    /// taken when sent.
    first: Option<Vec<Row>>,
    /// Where the next chunk starts (rows older than this seq); `None`: no chunk after the one
    /// in hand.
    older: Option<i64>,
}

impl Core {
    /// Every row `query` matches that `caller` may see, as `format`, streamed. Audited before
    /// the first byte: an export the log could not record is refused.
    pub async fn audit_export(
        self: Arc<Self>,
        caller: Caller,
        query: AuditQuery,
        format: AuditFormat,
    ) -> Result<ExportStream, AppError> {
        let checked = check_query(
            &AuditQuery {
                before: None,
                ..query
            },
            time::OffsetDateTime::now_utc(),
        )?;
        let mut vis = self.audit_visibility(&caller).await?;
        let event = self
            .audit_event(&caller, Action::AuditExport)
            .detail(format!("as {}: {}", format.extension(), checked.summary));
        self.audit.record(event).await.map_err(audit_error)?;
        let filter = self.reach_of(&caller, &vis, checked.filter).await?;
        let first = self
            .scan_visible(&caller, &mut vis, &filter, CHUNK, CHUNK)
            .await?;
        let cursor = Cursor {
            older: first.older,
            first: Some(first.rows),
            core: self,
            caller,
            vis,
            filter,
            format,
        };
        let header = match format {
            AuditFormat::Csv => csv_header().into_bytes(),
            AuditFormat::JsonLines => Vec::new(),
        };
        let head = futures::stream::once(async move { Ok(header) });
        let body = futures::stream::unfold(cursor, |mut c| async move {
            let rows = match c.first.take() {
                Some(rows) => rows,
                None => {
                    let filter = Filter {
                        before_seq: Some(c.older?),
                        ..c.filter.clone()
                    };
                    match c
                        .core
                        .scan_visible(&c.caller, &mut c.vis, &filter, CHUNK, CHUNK)
                        .await
                    {
                        Ok(s) => {
                            c.older = s.older;
                            s.rows
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "an audit export stopped midway");
                            c.older = None;
                            let err = std::io::Error::other("the audit log could not be read");
                            return Some((Err(err), c));
                        }
                    }
                }
            };
            let mut chunk = String::new();
            for r in &rows {
                chunk.push_str(&match c.format {
                    AuditFormat::Csv => csv_row(r),
                    AuditFormat::JsonLines => json_line(r),
                });
            }
            Some((Ok(chunk.into_bytes()), c))
        });
        use futures::StreamExt;
        Ok(Box::pin(head.chain(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_defused_and_quotes_survive() {
        assert_eq!(csv_cell("DB_URL"), "\"DB_URL\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for risky in ["+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(risky).starts_with("\"'"), "{risky:?}");
        }
        assert_eq!(csv_cell("a,b\nc"), "\"a,b\nc\"");
        assert_eq!(csv_cell(""), "\"\"");
    }

    #[test]
    fn a_row_has_a_cell_per_column_and_key_names_only() {
        let row = Row {
            seq: 7,
            action: "secret.save".into(),
            mount: "dev".into(),
            path: "webapp/config".into(),
            keys_added: vec!["=cmd".into(), "B".into()],
            ..Row::default()
        };
        let line = csv_row(&row);
        assert!(line.ends_with("\r\n"));
        assert!(line.contains("\"'=cmd; B\""), "{line}");
        // Every cell is quoted and none holds a comma outside its quotes here, so the count is
        // the column count.
        assert_eq!(line.trim_end().split("\",\"").count(), CSV_HEADER.len());
        let json: serde_json::Value = serde_json::from_str(json_line(&row).trim()).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(
            json["keys_added"][0], "=cmd",
            "JSON is exact; only CSV is defused"
        );
    }
}
