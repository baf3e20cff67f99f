//! Links to pages, with names percent-encoded so any mount or secret path round-trips.
//!
//! An environment (a kv-v2 mount) may itself contain `/` (`teams/payments`): it is encoded as one
//! path segment. An app path keeps its `/` separators; each of its segments is encoded.

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/env/<env>/app/<app>` for one app's page.
pub fn app_href(env: &str, app: &str) -> String {
    let app: Vec<String> = app.split('/').map(encode_segment).collect();
    format!("/env/{}/app/{}", encode_segment(env), app.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_with_slashes_stay_one_segment_and_odd_names_are_escaped() {
        assert_eq!(
            app_href("dev", "webapp/config"),
            "/env/dev/app/webapp/config"
        );
        assert_eq!(
            app_href("teams/payments", "svc/api"),
            "/env/teams%2Fpayments/app/svc/api"
        );
        assert_eq!(
            app_href("dev", "a b/c?d#e%"),
            "/env/dev/app/a%20b/c%3Fd%23e%25"
        );
    }
}
