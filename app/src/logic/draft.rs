//! The draft editor's model, free of signals: what a row of the draft holds, which changes the
//! draft asks the server for, what blocks the review, what the review lists, and how an imported
//! `.env` lands in the draft. The editor (`pages/secret/draft.rs`) only keeps these rows in
//! signals and renders them; every decision is made here, where a unit test can reach it.

use std::collections::BTreeMap;

use crate::dto::{Changes, KeyChanges};
use crate::logic::keys as rules;

/// One row of the draft, as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftRow {
    /// The key's name in the version the draft started from; `None` for a new key.
    pub original: Option<String>,
    /// The name as typed.
    pub key: String,
    /// The value as typed; `None` keeps the stored one.
    pub value: Option<String>,
    /// The stored value, once loaded for editing.
    pub loaded: Option<String>,
    pub removed: bool,
}

impl DraftRow {
    /// A key of the stored version, untouched.
    pub fn stored(key: &str) -> Self {
        DraftRow {
            original: Some(key.to_string()),
            key: key.to_string(),
            ..DraftRow::default()
        }
    }

    /// A key the user adds.
    pub fn added(key: String, value: String) -> Self {
        DraftRow {
            key,
            value: Some(value),
            ..DraftRow::default()
        }
    }

    /// The key's name as it would be saved: as typed, without spaces around it; a stored name
    /// left untouched stays exactly as stored (even one written outside Keyway with spaces, which
    /// the checks then refuse, so the user renames it rather than the server refusing the save).
    pub fn name(&self) -> &str {
        match &self.original {
            Some(orig) if self.key == *orig => orig,
            _ => self.key.trim(),
        }
    }

    /// The new name of a stored key the user renamed.
    pub fn renamed_to(&self) -> Option<&str> {
        let orig = self.original.as_deref()?;
        (self.name() != orig).then(|| self.name())
    }

    /// The value that would be saved, when the user changed it (typing the stored value back is
    /// no change).
    pub fn new_value(&self) -> Option<&str> {
        let v = self.value.as_deref()?;
        match self.loaded.as_deref() {
            Some(old) if old == v => None,
            _ => Some(v),
        }
    }
}

/// The changes the server applies for the draft.
pub fn changes(rows: &[DraftRow]) -> Changes {
    let mut c = Changes::default();
    for r in rows {
        let key = r.name().to_string();
        match &r.original {
            Some(orig) if r.removed => c.remove.push(orig.clone()),
            Some(orig) => {
                let target = match r.renamed_to() {
                    Some(to) => {
                        c.rename.push((orig.clone(), to.to_string()));
                        to.to_string()
                    }
                    None => orig.clone(),
                };
                if let Some(v) = r.new_value() {
                    c.set.insert(target, v.to_string());
                }
            }
            None if r.removed => {}
            None => {
                c.set.insert(key, r.value.clone().unwrap_or_default());
            }
        }
    }
    c
}

/// What stands in the way of the review (`errors`) and what only deserves a look (`warnings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checks {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Checks every kept row's name with the key rules the server applies too, and refuses a name
/// used twice.
pub fn check(rows: &[DraftRow]) -> Checks {
    let mut checks = Checks::default();
    let mut seen = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.removed) {
        match rules::check_key(r.name()) {
            Ok(Some(w)) => checks.warnings.push(w),
            Ok(None) => {}
            Err(e) => checks.errors.push(e),
        }
        *seen.entry(r.name()).or_insert(0) += 1;
    }
    for (k, n) in seen {
        if n > 1 && !k.is_empty() {
            checks
                .errors
                .push(format!("The key \"{k}\" appears {n} times; keep one."));
        }
    }
    checks
}

/// How the review classifies a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    Added,
    Changed,
    Renamed,
    Removed,
}

impl ReviewKind {
    pub fn label(self) -> &'static str {
        match self {
            ReviewKind::Added => "added",
            ReviewKind::Changed => "changed",
            ReviewKind::Renamed => "renamed",
            ReviewKind::Removed => "removed",
        }
    }
}

/// One line of the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub kind: ReviewKind,
    /// The key, or `old → new` for a rename.
    pub label: String,
    /// The value that would be saved, if the row sets one.
    pub value: Option<String>,
}

/// The review: one line per row that changes something, in the draft's order.
pub fn review(rows: &[DraftRow]) -> Vec<ReviewItem> {
    rows.iter()
        .filter_map(|r| {
            let key = r.name();
            let item = |kind, label: String, value: Option<&str>| ReviewItem {
                kind,
                label,
                value: value.map(str::to_string),
            };
            match &r.original {
                Some(orig) if r.removed => Some(item(ReviewKind::Removed, orig.clone(), None)),
                Some(orig) => match r.renamed_to() {
                    Some(to) => Some(item(
                        ReviewKind::Renamed,
                        format!("{orig} → {to}"),
                        r.new_value(),
                    )),
                    None => r
                        .new_value()
                        .map(|v| item(ReviewKind::Changed, orig.clone(), Some(v))),
                },
                None if r.removed => None,
                None => Some(item(
                    ReviewKind::Added,
                    key.to_string(),
                    Some(r.value.as_deref().unwrap_or_default()),
                )),
            }
        })
        .collect()
}

/// Where one imported `KEY=value` lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Import {
    /// The value replaces the one of the kept row at this index.
    Set(usize, String),
    /// A new row.
    Add(String, String),
}

/// An imported `.env`: a key the draft keeps gets the new value, any other key a new row.
pub fn import(rows: &[DraftRow], parsed: BTreeMap<String, String>) -> Vec<Import> {
    parsed
        .into_iter()
        .map(
            |(k, v)| match rows.iter().position(|r| !r.removed && r.name() == k) {
                Some(i) => Import::Set(i, v),
                None => Import::Add(k, v),
            },
        )
        .collect()
}

/// "added A, B; changed C; removed D", or `None` when no key changed.
pub fn describe(c: &KeyChanges) -> Option<String> {
    let list = |label: &str, keys: &[String]| {
        (!keys.is_empty()).then(|| format!("{label} {}", keys.join(", ")))
    };
    let parts: Vec<String> = [
        list("added", &c.added),
        list("changed", &c.changed),
        list("removed", &c.removed),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests;
