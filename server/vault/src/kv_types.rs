//! The kv-v2 values Keyway hands out: secret data that cannot leak through `Debug`, and the
//! version metadata read next to it.
//!
//! [`KvData`] holds every value as a string, because the portal edits strings. Vault itself
//! stores any JSON: a value that is not a JSON string (number, bool, null, array, object) is
//! turned into its compact JSON text on read (`5` → `"5"`, `{"a":[1]}` → `"{\"a\":[1]}"`), and
//! is written back as that string. Saving such a secret therefore changes the JSON type of those
//! values; callers that care can spot them with [`KvData::get`] before saving.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The key/value pairs of one secret version. `Debug` prints key names only; the type is not
/// `Serialize`, so values cannot slip into a JSON log or an API response by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KvData(BTreeMap<String, String>);

impl KvData {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }

    /// From Vault's JSON object; non-string values become compact JSON text (see module doc).
    pub(crate) fn from_json(object: &Map<String, Value>) -> Self {
        KvData(
            object
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect(),
        )
    }

    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

impl fmt::Debug for KvData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KvData").field(&self.0.keys()).finish()
    }
}

impl From<BTreeMap<String, String>> for KvData {
    fn from(map: BTreeMap<String, String>) -> Self {
        KvData(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for KvData {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        KvData(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// One version of a secret as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvVersion {
    /// `None` when this version is soft-deleted or destroyed (see `meta`).
    pub data: Option<KvData>,
    pub meta: VersionMeta,
    /// Keys whose values Vault holds as numbers, booleans, objects or arrays (shown as JSON text
    /// in `data`). Writing `data` back would turn them into strings.
    pub non_string_keys: Vec<String>,
}

/// The metadata Vault returns with a read, a subkeys read and a write.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionMeta {
    pub version: u64,
    pub created_time: String,
    /// RFC 3339 time of the soft delete; `None` when not deleted (Vault sends `""`).
    #[serde(default, deserialize_with = "empty_is_none")]
    pub deletion_time: Option<String>,
    #[serde(default)]
    pub destroyed: bool,
}

/// A secret's metadata (`GET <mount>/metadata/<path>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KvMetadata {
    pub current_version: u64,
    /// 0 until versions have been pruned by `max_versions` (observed on OpenBao 2.7).
    pub oldest_version: u64,
    /// 0 = the mount's setting (whose own 0 means 10).
    pub max_versions: u64,
    pub cas_required: bool,
    #[serde(deserialize_with = "versions_by_number")]
    pub versions: BTreeMap<u64, VersionInfo>,
}

/// One entry of [`KvMetadata::versions`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    pub created_time: String,
    #[serde(default, deserialize_with = "empty_is_none")]
    pub deletion_time: Option<String>,
    #[serde(default)]
    pub destroyed: bool,
}

fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.filter(|s| !s.is_empty()))
}

fn versions_by_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<u64, VersionInfo>, D::Error> {
    let by_text: Option<BTreeMap<String, VersionInfo>> = Option::deserialize(d)?;
    by_text
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            k.parse()
                .map(|n| (n, v))
                .map_err(|_| serde::de::Error::custom("version key is not a number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_key_names_but_never_values() {
        let data: KvData = [("password", "hunter2"), ("user", "app")]
            .into_iter()
            .collect();
        let shown = format!("{data:?}");
        assert_eq!(shown, r#"KvData(["password", "user"])"#);
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn non_string_json_values_become_compact_json_text() {
        let object =
            serde_json::json!({"n": 5, "b": true, "o": {"a": [1, 2]}, "s": "x", "z": null});
        let data = KvData::from_json(object.as_object().unwrap());
        assert_eq!(data.get("n"), Some("5"));
        assert_eq!(data.get("b"), Some("true"));
        assert_eq!(data.get("o"), Some(r#"{"a":[1,2]}"#));
        assert_eq!(data.get("s"), Some("x"));
        assert_eq!(data.get("z"), Some("null"));
    }
}
