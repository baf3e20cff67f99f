//! Key-name and size rules, taken from what Kubernetes and VSO accept.
//!
//! A kv-v2 secret ends up as a Kubernetes Secret (one key per field plus VSO's `_raw`), so its key
//! names must be valid Secret keys and the whole must fit the Secret size limit. Keys that are
//! valid Secret keys but not environment-variable names work, yet `envFrom` silently skips them:
//! that is a warning, not a refusal.

use std::collections::BTreeMap;

/// Kubernetes' limit on one Secret (etcd object) in bytes.
pub const SECRET_LIMIT_BYTES: usize = 1024 * 1024;
/// Kubernetes' limit on a Secret key's length.
pub const KEY_MAX_LEN: usize = 253;

/// Checks a key name; `Ok(Some(warning))` for names that work but deserve a warning.
pub fn check_key(name: &str) -> Result<Option<String>, String> {
    if name.is_empty() {
        return Err("A key name cannot be empty.".into());
    }
    if name == "_raw" {
        return Err("The key name \"_raw\" is reserved: the cluster uses it to keep a copy of the whole secret. Pick another name.".into());
    }
    if name.len() > KEY_MAX_LEN {
        return Err(format!(
            "The key name \"{}…\" is {} characters long; at most {KEY_MAX_LEN} are allowed.",
            name.chars().take(20).collect::<String>(),
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("\"{name}\" cannot be used as a key name."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "The key name \"{name}\" contains {}; use only letters, digits, '-', '_' and '.'.",
            describe_char(bad)
        ));
    }
    if !is_env_name(name) {
        return Ok(Some(format!(
            "\"{name}\" is not a valid environment variable name, so apps that load this secret as environment variables (envFrom) will skip it."
        )));
    }
    Ok(None)
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c => format!("'{c}'"),
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a shell and `envFrom` accept.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The size the Kubernetes Secret will have: every key and value, plus VSO's `_raw` field, which
/// holds the whole secret again as JSON, plus room for metadata.
pub fn estimated_secret_bytes(data: &BTreeMap<String, String>) -> usize {
    let fields: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
    let raw = serde_json::to_string(data)
        .map(|s| s.len())
        .unwrap_or(fields * 2);
    fields + raw + 512
}

/// Refuses data that would not fit into a Kubernetes Secret.
pub fn check_size(data: &BTreeMap<String, String>) -> Result<(), String> {
    let size = estimated_secret_bytes(data);
    if size > SECRET_LIMIT_BYTES {
        return Err(format!(
            "This secret would take about {} KiB in the cluster (the values are stored twice: once per key and once as a whole), over the 1024 KiB limit. Remove or shorten some values.",
            size.div_ceil(1024)
        ));
    }
    Ok(())
}

/// Checks every key of a full secret; returns all refusals at once so the user can fix them in
/// one go.
pub fn check_all(data: &BTreeMap<String, String>) -> Result<Vec<String>, Vec<String>> {
    // Counted first: one sentence instead of one per key of a flood.
    super::limits::check_key_count(data.len(), "This secret would have").map_err(|e| vec![e])?;
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for key in data.keys() {
        match check_key(key) {
            Ok(Some(w)) => warnings.push(w),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if let Err(e) = check_size(data) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_env_style_names_pass_without_warning() {
        for k in ["DATABASE_URL", "_x", "a1", "password"] {
            assert_eq!(check_key(k), Ok(None), "{k}");
        }
    }

    #[test]
    fn secret_key_names_that_envfrom_skips_get_a_warning() {
        for k in ["tls.crt", "my-key", "1abc"] {
            let w = check_key(k).unwrap().expect("warning");
            assert!(w.contains("envFrom"), "{w}");
        }
    }

    #[test]
    fn invalid_names_are_refused_with_what_to_fix() {
        assert!(check_key("").unwrap_err().contains("empty"));
        assert!(check_key("_raw").unwrap_err().contains("reserved"));
        assert!(check_key("a b").unwrap_err().contains("a space"));
        assert!(check_key("a/b").unwrap_err().contains("'/'"));
        assert!(check_key("..").is_err());
        assert!(check_key(&"a".repeat(254)).unwrap_err().contains("254"));
        assert_eq!(check_key(&"a".repeat(253)), Ok(None));
    }

    #[test]
    fn size_limit_counts_the_raw_copy() {
        let mut data = BTreeMap::new();
        data.insert("big".to_string(), "x".repeat(600 * 1024));
        // 600 KiB alone fits in 1 MiB, but twice (field + _raw) does not.
        let err = check_size(&data).unwrap_err();
        assert!(err.contains("KiB"), "{err}");
        data.insert("big".to_string(), "x".repeat(400 * 1024));
        assert!(check_size(&data).is_ok());
    }

    #[test]
    fn check_all_reports_every_problem() {
        let mut data = BTreeMap::new();
        data.insert("a b".to_string(), "1".to_string());
        data.insert("_raw".to_string(), "1".to_string());
        data.insert("tls.crt".to_string(), "1".to_string());
        assert_eq!(check_all(&data).unwrap_err().len(), 2);
        data.remove("a b");
        data.remove("_raw");
        assert_eq!(check_all(&data).unwrap().len(), 1);
    }
}
