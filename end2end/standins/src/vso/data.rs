//! What VSO writes into the destination Secret, and the MAC it keeps in status: pure functions,
//! unit tested, so the controller around them stays thin.
//!
//! Copied from VSO (`helpers/secrets.go`, `helpers/hmac.go`): one Secret key per top-level kv
//! field (strings as they are, other JSON values as JSON), plus `_raw` holding the whole `data`
//! object of the Vault answer (the values *and* the version metadata, so every new kv version
//! changes the Secret); a field literally named `_raw` is refused. The MAC is HMAC-SHA256 over the
//! JSON of the data map (keys sorted, values as Go's `[]byte` JSON, i.e. base64), base64-encoded.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key VSO adds beside the kv fields.
pub const RAW_KEY: &str = "_raw";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    #[error("key '_raw' not permitted in Secret data")]
    RawKeyInData,
    #[error("the Vault answer has no data object")]
    NoData,
}

/// Secret data from a kv-v2 read answer's `data` object (`{"data": {...}, "metadata": {...}}`).
pub fn secret_data(kv_v2_data: &serde_json::Value) -> Result<BTreeMap<String, Vec<u8>>, DataError> {
    let fields = kv_v2_data
        .get("data")
        .and_then(|d| d.as_object())
        .ok_or(DataError::NoData)?;
    let mut out = BTreeMap::new();
    for (k, v) in fields {
        if k == RAW_KEY {
            return Err(DataError::RawKeyInData);
        }
        let bytes = match v {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other).expect("a JSON value always serialises"),
        };
        out.insert(k.clone(), bytes);
    }
    out.insert(
        RAW_KEY.to_string(),
        serde_json::to_vec(kv_v2_data).expect("a JSON value always serialises"),
    );
    Ok(out)
}

/// `status.secretMAC` for some Secret data.
pub fn mac(key: &[u8], data: &BTreeMap<String, Vec<u8>>) -> String {
    let as_json: BTreeMap<&str, String> = data
        .iter()
        .map(|(k, v)| (k.as_str(), B64.encode(v)))
        .collect();
    let message = serde_json::to_vec(&as_json).expect("a map of strings always serialises");
    let mut h = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    h.update(&message);
    B64.encode(h.finalize().into_bytes())
}

/// Parses `refreshAfter` (`^([0-9]+(\.[0-9]+)?(s|m|h))$`).
pub fn parse_refresh_after(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// When VSO reads Vault again: `refreshAfter` minus 10 % minus 0–10 % jitter (so 80–90 % of it);
/// 60 s when `refreshAfter` is empty and `hmacSecretData` is on; never when both are off.
/// `jitter` is in `[0, 1)`.
pub fn horizon(
    refresh_after: Option<&str>,
    hmac_secret_data: bool,
    jitter: f64,
) -> Option<Duration> {
    let base = match refresh_after.filter(|s| !s.is_empty()) {
        Some(s) => parse_refresh_after(s)?,
        None if hmac_secret_data => Duration::from_secs(60),
        None => return None,
    };
    Some(base.mul_f64(0.9 - 0.1 * jitter.clamp(0.0, 1.0)))
}

/// Go's `time.Duration.String()` for a horizon in messages ("Secret synced, horizon=26.5s").
pub fn go_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        let m = (s / 60.0).floor();
        format!("{}m{:.1}s", m as u64, s - m * 60.0)
    } else {
        format!("{s:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> serde_json::Value {
        json!({
            "data": {"username": "u", "port": 5432, "opts": {"a": true}},
            "metadata": {"version": 3, "created_time": "2026-11-28T10:00:00Z", "custom_metadata": null,
                          "deletion_time": "", "destroyed": false}
        })
    }

    #[test]
    fn one_key_per_field_plus_raw_with_the_version() {
        let d = secret_data(&answer()).unwrap();
        assert_eq!(d["username"], b"u");
        assert_eq!(d["port"], b"5432");
        assert_eq!(d["opts"], br#"{"a":true}"#);
        let raw: serde_json::Value = serde_json::from_slice(&d[RAW_KEY]).unwrap();
        assert_eq!(raw["metadata"]["version"], 3);
        assert_eq!(raw["data"]["username"], "u");
        assert_eq!(d.len(), 4);
    }

    #[test]
    fn a_field_named_raw_is_refused_and_a_deleted_version_has_no_fields() {
        let bad = json!({"data": {"_raw": "x"}, "metadata": {"version": 1}});
        assert_eq!(secret_data(&bad), Err(DataError::RawKeyInData));
        let deleted = json!({"data": null, "metadata": {"version": 2}});
        assert_eq!(secret_data(&deleted), Err(DataError::NoData));
    }

    #[test]
    fn mac_changes_with_any_byte_and_with_the_key() {
        let d = secret_data(&answer()).unwrap();
        let m = mac(b"k1", &d);
        assert_eq!(m, mac(b"k1", &d.clone()));
        assert_ne!(m, mac(b"k2", &d));
        let mut other = answer();
        other["metadata"]["version"] = json!(4); // same values, new version: still a change
        assert_ne!(m, mac(b"k1", &secret_data(&other).unwrap()));
    }

    #[test]
    fn horizon_is_80_to_90_percent_of_refresh_after() {
        assert_eq!(
            horizon(Some("30s"), true, 0.0),
            Some(Duration::from_secs(27))
        );
        assert_eq!(
            horizon(Some("30s"), true, 1.0),
            Some(Duration::from_secs(24))
        );
        assert_eq!(
            horizon(Some("1m"), false, 0.0),
            Some(Duration::from_secs(54))
        );
        assert_eq!(
            horizon(Some("0.5h"), true, 0.0),
            Some(Duration::from_secs(1620))
        );
        assert_eq!(horizon(None, true, 0.0), Some(Duration::from_secs(54)));
        assert_eq!(horizon(Some(""), false, 0.0), None);
        assert_eq!(horizon(None, false, 0.5), None);
        assert_eq!(parse_refresh_after("10x"), None);
        assert_eq!(parse_refresh_after(""), None);
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_millis(26_500)), "26.5s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30.0s");
    }
}
