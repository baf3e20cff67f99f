//! Applying a draft to a version and comparing versions, by key name.
//!
//! The server applies [`Changes`] onto the data of the version the user started from; conflicts are
//! explained by comparing the base version with the newer one. Only key names leave this module.

use std::collections::BTreeMap;

use crate::dto::{Changes, DiffKind, KeyChanges, KeyDiff};

/// Applies a draft onto `base`: removals first, then every rename at once (so swaps, chains and
/// "remove A, rename B to A" work), then new values.
pub fn apply(
    base: &BTreeMap<String, String>,
    changes: &Changes,
) -> Result<BTreeMap<String, String>, String> {
    let mut data = base.clone();
    for key in &changes.remove {
        data.remove(key);
    }
    let mut moved = Vec::new();
    for (from, to) in changes.rename.iter().filter(|(a, b)| a != b) {
        let value = data.remove(from).ok_or_else(|| {
            format!("The key \"{from}\" cannot be renamed: it is not in this version.")
        })?;
        moved.push((to, value));
    }
    for (to, value) in moved {
        if data.contains_key(to.as_str()) {
            return Err(format!(
                "A key cannot be renamed to \"{to}\": that key already exists."
            ));
        }
        data.insert(to.clone(), value);
    }
    for (key, value) in &changes.set {
        data.insert(key.clone(), value.clone());
    }
    Ok(data)
}

/// Key names added, changed and removed from `old` to `new`.
pub fn key_changes(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> KeyChanges {
    let mut out = KeyChanges::default();
    for (k, v) in new {
        match old.get(k) {
            None => out.added.push(k.clone()),
            Some(o) if o != v => out.changed.push(k.clone()),
            _ => {}
        }
    }
    out.removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    out
}

/// Every key of both versions with what happened to it.
pub fn key_diff(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<KeyDiff> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let kind = match (old.get(k), new.get(k)) {
                (None, Some(_)) => DiffKind::Added,
                (Some(_), None) => DiffKind::Removed,
                (Some(a), Some(b)) if a != b => DiffKind::Changed,
                _ => DiffKind::Same,
            };
            KeyDiff {
                key: k.clone(),
                kind,
            }
        })
        .collect()
}

/// Keys the draft touches that the other side changed too.
pub fn overlapping(changes: &Changes, theirs: &KeyChanges) -> Vec<String> {
    let theirs = theirs.all();
    changes
        .touched()
        .into_iter()
        .filter(|k| theirs.contains(k))
        .collect()
}

/// Drops the draft's edits on the given keys, so the other side's values win for them. A rename
/// goes as a whole, with any new value set on its target.
pub fn keep_theirs(changes: &Changes, keys: &[String]) -> Changes {
    let (kept_renames, dropped): (Vec<_>, Vec<_>) = changes
        .rename
        .iter()
        .cloned()
        .partition(|(a, b)| !keys.contains(a) && !keys.contains(b));
    let dropped_targets: Vec<&String> = dropped.iter().map(|(_, to)| to).collect();
    Changes {
        set: changes
            .set
            .iter()
            .filter(|(k, _)| !keys.contains(k) && !dropped_targets.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        remove: changes
            .remove
            .iter()
            .filter(|k| !keys.contains(k))
            .cloned()
            .collect(),
        rename: kept_renames,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_draft_keeps_values_it_never_saw() {
        let base = map(&[("user", "u"), ("password", "p"), ("old", "o")]);
        let changes = Changes {
            set: map(&[("new", "n"), ("user", "u2")]),
            remove: vec!["old".into()],
            rename: vec![("password".into(), "PASSWORD".into())],
        };
        let out = apply(&base, &changes).unwrap();
        assert_eq!(out, map(&[("PASSWORD", "p"), ("new", "n"), ("user", "u2")]));
    }

    #[test]
    fn renaming_a_missing_key_or_onto_an_existing_one_is_refused() {
        let base = map(&[("a", "1"), ("b", "2")]);
        let missing = Changes {
            rename: vec![("zz".into(), "y".into())],
            ..Default::default()
        };
        assert!(apply(&base, &missing)
            .unwrap_err()
            .contains("not in this version"));
        let clash = Changes {
            rename: vec![("a".into(), "b".into())],
            ..Default::default()
        };
        assert!(apply(&base, &clash).unwrap_err().contains("already exists"));
    }

    #[test]
    fn swaps_chains_and_rename_onto_a_removed_key_work() {
        let base = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let swap = Changes {
            rename: vec![("a".into(), "b".into()), ("b".into(), "a".into())],
            ..Default::default()
        };
        assert_eq!(
            apply(&base, &swap).unwrap(),
            map(&[("a", "2"), ("b", "1"), ("c", "3")])
        );
        let chain = Changes {
            rename: vec![
                ("a".into(), "b".into()),
                ("b".into(), "c".into()),
                ("c".into(), "d".into()),
            ],
            ..Default::default()
        };
        assert_eq!(
            apply(&base, &chain).unwrap(),
            map(&[("b", "1"), ("c", "2"), ("d", "3")])
        );
        let replace = Changes {
            remove: vec!["a".into()],
            rename: vec![("b".into(), "a".into())],
            ..Default::default()
        };
        assert_eq!(
            apply(&base, &replace).unwrap(),
            map(&[("a", "2"), ("c", "3")])
        );
    }

    #[test]
    fn keeping_theirs_drops_a_rename_together_with_its_new_value() {
        let changes = Changes {
            set: map(&[("NEW", "v"), ("other", "o")]),
            remove: vec![],
            rename: vec![("old".into(), "NEW".into())],
        };
        let merged = keep_theirs(&changes, &["old".to_string()]);
        assert!(merged.rename.is_empty());
        assert_eq!(merged.set, map(&[("other", "o")]));
    }

    #[test]
    fn key_changes_name_added_changed_and_removed_keys() {
        let old = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = map(&[("a", "1"), ("b", "20"), ("d", "4")]);
        let c = key_changes(&old, &new);
        assert_eq!(c.added, vec!["d"]);
        assert_eq!(c.changed, vec!["b"]);
        assert_eq!(c.removed, vec!["c"]);
        let kinds: Vec<DiffKind> = key_diff(&old, &new).iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![
                DiffKind::Same,
                DiffKind::Changed,
                DiffKind::Removed,
                DiffKind::Added
            ]
        );
    }

    #[test]
    fn overlap_and_keep_theirs_let_the_user_merge() {
        let changes = Changes {
            set: map(&[("a", "mine"), ("b", "mine")]),
            remove: vec!["c".into()],
            rename: vec![],
        };
        let theirs = KeyChanges {
            changed: vec!["a".into()],
            removed: vec!["c".into()],
            ..Default::default()
        };
        let both = overlapping(&changes, &theirs);
        assert_eq!(both, vec!["a", "c"]);
        let merged = keep_theirs(&changes, &["a".to_string()]);
        assert_eq!(merged.set, map(&[("b", "mine")]));
        assert_eq!(merged.remove, vec!["c"]);
    }
}
