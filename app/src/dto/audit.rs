//! The audit history page (`/audit`) and its exports: which rows to show (every filter is in the
//! URL, so a link reproduces the view; none of them is ever a value) and the rows as shown.
//!
//! The actions and outcomes a filter may name come from the server with their labels
//! ([`AuditPage::actions`], [`AuditPage::outcomes`]): their spelling lives once, in the audit
//! store, and the page only echoes it.

use serde::{Deserialize, Serialize};

use super::SecretRef;

/// The time range of the view. The page opens on the last 24 hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditRange {
    Hour,
    #[default]
    Day,
    Week,
    Month,
    /// Every row, however old.
    All,
    /// `from` / `to` of the query.
    Custom,
}

impl AuditRange {
    pub const ALL: [AuditRange; 6] = [
        AuditRange::Hour,
        AuditRange::Day,
        AuditRange::Week,
        AuditRange::Month,
        AuditRange::All,
        AuditRange::Custom,
    ];

    /// In URLs (`range=24h`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditRange::Hour => "1h",
            AuditRange::Day => "24h",
            AuditRange::Week => "7d",
            AuditRange::Month => "30d",
            AuditRange::All => "all",
            AuditRange::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditRange::Hour => "Last hour",
            AuditRange::Day => "Last 24 hours",
            AuditRange::Week => "Last 7 days",
            AuditRange::Month => "Last 30 days",
            AuditRange::All => "All time",
            AuditRange::Custom => "From … to …",
        }
    }

    /// The length of a preset, in seconds (`None` for all time and custom).
    pub fn seconds(self) -> Option<i64> {
        match self {
            AuditRange::Hour => Some(3600),
            AuditRange::Day => Some(86_400),
            AuditRange::Week => Some(7 * 86_400),
            AuditRange::Month => Some(30 * 86_400),
            AuditRange::All | AuditRange::Custom => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Which rows to show. Text filters are exact (an actor's display name, an app's name, a key
/// name); empty lists mean any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub range: AuditRange,
    /// With [`AuditRange::Custom`]: UTC, `2026-12-04T10:00` or RFC 3339; either may be left open.
    pub from: Option<String>,
    pub to: Option<String>,
    pub actor: Option<String>,
    /// Stored spellings (`secret.save`), as [`AuditPage::actions`] lists them.
    pub actions: Vec<String>,
    pub environment: Option<String>,
    pub app: Option<String>,
    pub key: Option<String>,
    /// `ok`, `denied`, `conflict`, `error`, `pending`.
    pub outcomes: Vec<String>,
    /// Paging: rows older than this row number (the page's [`AuditPage::older`]).
    pub before: Option<i64>,
}

/// A value a filter may take, with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChoice {
    pub value: String,
    pub label: String,
}

/// One row as shown. Key names only: the log has no column a value could be in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// The row's number in the chain.
    pub seq: i64,
    /// UTC, RFC 3339 with milliseconds.
    pub at: String,
    pub actor: String,
    /// Vault entity id (empty when unknown).
    pub actor_entity: String,
    pub action: String,
    pub action_label: String,
    pub environment: Option<String>,
    pub app: Option<String>,
    pub secret: Option<SecretRef>,
    pub version_before: Option<i64>,
    pub version_after: Option<i64>,
    pub keys_added: Vec<String>,
    pub keys_changed: Vec<String>,
    pub keys_removed: Vec<String>,
    /// `ok`, `denied`, `conflict`, `error`, or `pending` (no outcome recorded).
    pub outcome: String,
    pub detail: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// Vault's `request_id` of the call this row records, where Vault gave one: it finds the
    /// call in Vault's own audit log.
    pub vault_request_id: Option<String>,
}

/// Whether the chain is whole, as last checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerified {
    pub whole: bool,
    /// One sentence: "Chain verified up to #1,234 against 12 signed checkpoints." or the first
    /// row that does not match and why.
    pub sentence: String,
    /// When the check ran (RFC 3339).
    pub checked_at: String,
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The `before` of the next (older) page, when there may be one.
    pub older: Option<i64>,
    /// What the caller's Vault policies let them see, in one sentence.
    pub reach: String,
    /// The range actually shown, in words ("since 2026-12-03 18:00 UTC").
    pub range: String,
    pub actions: Vec<AuditChoice>,
    pub outcomes: Vec<AuditChoice>,
    /// The environments Keyway serves, to filter by (what each shows is still the visibility rule).
    pub environments: Vec<String>,
    pub verified: Option<AuditVerified>,
    /// Signed checkpoints: on (and the last one) or off, in one sentence.
    pub checkpoints: String,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditFormat {
    Csv,
    JsonLines,
}

impl AuditFormat {
    /// The file extension, also the last segment of the export's address.
    pub fn extension(self) -> &'static str {
        match self {
            AuditFormat::Csv => "csv",
            AuditFormat::JsonLines => "jsonl",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [AuditFormat::Csv, AuditFormat::JsonLines]
            .into_iter()
            .find(|f| f.extension() == s)
    }
}

impl AuditQuery {
    /// The query read back from URL parameters, as [`crate::links::audit_href`] writes them
    /// (`range`, `from`, `to`, `actor`, `action` (repeated), `env`, `app`, `key`, `outcome`
    /// (repeated), `before`). Unknown parameters are ignored and blank ones mean "any"; the
    /// server checks the values themselves.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = AuditQuery::default();
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        for (k, v) in pairs {
            match k {
                "range" => q.range = AuditRange::parse(v.trim()).unwrap_or_default(),
                "from" => q.from = text(v),
                "to" => q.to = text(v),
                "actor" => q.actor = text(v),
                "action" => q.actions.extend(text(v)),
                "env" => q.environment = text(v),
                "app" => q.app = text(v),
                "key" => q.key = text(v),
                "outcome" => q.outcomes.extend(text(v)),
                "before" => q.before = v.trim().parse().ok().filter(|n: &i64| *n > 0),
                _ => {}
            }
        }
        q
    }

    /// The URL parameters of this query, in a fixed order (the default range left out).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.range != AuditRange::default() {
            out.push(("range", self.range.as_str().to_owned()));
        }
        let mut one = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        };
        if self.range == AuditRange::Custom {
            one("from", &self.from);
            one("to", &self.to);
        }
        one("actor", &self.actor);
        one("env", &self.environment);
        one("app", &self.app);
        one("key", &self.key);
        out.extend(self.actions.iter().map(|a| ("action", a.clone())));
        out.extend(self.outcomes.iter().map(|o| ("outcome", o.clone())));
        if let Some(b) = self.before {
            out.push(("before", b.to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_survives_its_url() {
        let q = AuditQuery {
            range: AuditRange::Custom,
            from: Some("2026-12-01T10:00".into()),
            to: None,
            actor: Some("alice".into()),
            actions: vec!["secret.save".into(), "restart".into()],
            environment: Some("dev".into()),
            app: Some("vault-kv-app".into()),
            key: Some("DB \"URL\"".into()),
            outcomes: vec!["denied".into()],
            before: Some(42),
        };
        let pairs = q.to_pairs();
        let back = AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        assert_eq!(back, q);
        assert_eq!(AuditQuery::from_pairs([]), AuditQuery::default());
        assert!(AuditQuery::default().to_pairs().is_empty());
    }

    #[test]
    fn blank_and_nonsense_parameters_mean_any() {
        let q = AuditQuery::from_pairs([
            ("range", "forever"),
            ("actor", "  "),
            ("before", "-3"),
            ("action", ""),
            ("other", "x"),
        ]);
        assert_eq!(q, AuditQuery::default());
    }
}
