//! The key-name index, `audit_key`: one entry per name a row lists in `keys_added`,
//! `keys_changed` or `keys_removed`, so "every row that touched `DB_URL`" is an index range and
//! not a scan of every row's JSON.
//!
//! It is only an index. What is hashed, and what a key filter finally answers from, is the row's
//! own key lists: a query by key reads the candidates the index names and keeps a row only if its
//! parsed lists hold exactly that name. So an entry cut short ([`INDEX_NAME_CHARS`]), a name whose
//! JSON spelling differs from its text (`"`, `\`), or an entry forged by someone with the
//! database can neither make a row match that does not, nor (entries cannot be deleted: triggers)
//! hide one that does.

use std::collections::BTreeSet;

use super::row::{Row, StoredRow};

/// The longest prefix of a name the index holds, in characters: 256 characters are at most
/// 1 KiB, well under PostgreSQL's btree entry limit (~2.7 KB), and longer than any key name
/// Kubernetes allows (253).
pub(crate) const INDEX_NAME_CHARS: usize = 256;

/// What the index holds for `name`.
pub(crate) fn index_name(name: &str) -> String {
    name.chars().take(INDEX_NAME_CHARS).collect()
}

/// The index entries of a row about to be appended, from its stored key lists (the same JSON the
/// migration's backfill reads), each once.
pub(crate) fn index_names(row: &StoredRow) -> BTreeSet<String> {
    [&row.keys_added, &row.keys_changed, &row.keys_removed]
        .into_iter()
        .flat_map(|json| serde_json::from_str::<Vec<String>>(json).unwrap_or_default())
        .map(|name| index_name(&name))
        .collect()
}

/// Whether `row` lists exactly `name` as added, changed or removed.
pub(crate) fn row_has_key(row: &Row, name: &str) -> bool {
    [&row.keys_added, &row.keys_changed, &row.keys_removed]
        .into_iter()
        .any(|keys| keys.iter().any(|k| k == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_indexed_by_its_first_characters() {
        let long = "é".repeat(INDEX_NAME_CHARS + 5);
        assert_eq!(index_name(&long).chars().count(), INDEX_NAME_CHARS);
        assert_eq!(index_name("DB_URL"), "DB_URL");
    }
}
