//! Stakater Reloader's rule: does a change of one Secret make Reloader roll one workload?
//!
//! One pure function, [`reloads`], used by Keyway (to say "will restart automatically" instead
//! of "restart needed") and by the Reloader stand-in (to decide what to roll). Two copies of this
//! rule drifted once: Keyway ignored `search`/`match` and `ignore`, showed "Restart needed", and
//! a restart then rolled such workloads twice. The annotation forms are those of reference
//! `vso-vault.md` §4.1 (Reloader's `internal/pkg/constants` and `handler/upgrade.go`):
//!
//! - on the Secret, `reloader.stakater.com/ignore: "true"`: this Secret never triggers;
//! - `secrets.exclude.reloader.stakater.com/reload: "a,b"`: these Secrets never trigger;
//! - `secret.reloader.stakater.com/reload: "a,b"`: these Secrets trigger, referenced or not;
//! - `reloader.stakater.com/auto` or `secret.reloader.stakater.com/auto: "true"`: any Secret the
//!   pod template references triggers;
//! - `reloader.stakater.com/search: "true"`: a referenced Secret triggers if it carries
//!   `reloader.stakater.com/match: "true"` (`auto` wins when both are set).
//!
//! The workload's annotations and its pod template's count alike ([`merged_annotations`]; the
//! workload's win on a clash). ConfigMap annotations are out of scope: Keyway is about Secrets.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::api::ObjectMeta;

pub const AUTO: &str = "reloader.stakater.com/auto";
pub const SECRET_AUTO: &str = "secret.reloader.stakater.com/auto";
pub const SECRET_RELOAD: &str = "secret.reloader.stakater.com/reload";
pub const SEARCH: &str = "reloader.stakater.com/search";
/// On the Secret, for `search` mode.
pub const MATCH: &str = "reloader.stakater.com/match";
pub const EXCLUDE: &str = "secrets.exclude.reloader.stakater.com/reload";
/// On the Secret: never trigger.
pub const IGNORE: &str = "reloader.stakater.com/ignore";

/// Reloader's `annotations` reload strategy: the pod-template annotation it sets, a JSON object
/// naming the Secret and when Reloader saw it change (`observedAt`).
pub const LAST_RELOADED_FROM: &str = "reloader.stakater.com/last-reloaded-from";

/// The env var Reloader's default `env-vars` strategy sets on the first container that uses the
/// Secret: `STAKATER_<NAME>_SECRET`, the name upper-cased, anything but letters and digits as `_`
/// (reference §4.2). Its value is a hash of the Secret's data; a new value is a reload.
pub fn env_var_name(secret: &str) -> String {
    let up: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("STAKATER_{up}_SECRET")
}

/// Whether `name` is one of Reloader's Secret env vars ([`env_var_name`] of some Secret).
pub fn is_env_var(name: &str) -> bool {
    name.len() > "STAKATER__SECRET".len()
        && name.starts_with("STAKATER_")
        && name.ends_with("_SECRET")
}

/// What Reloader reads on the Secret itself: its two annotations, never a value. These are all
/// Keyway's Secret cache keeps of a Secret's annotations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretMarks {
    /// `reloader.stakater.com/match: "true"`.
    pub matched: bool,
    /// `reloader.stakater.com/ignore: "true"`.
    pub ignored: bool,
}

impl SecretMarks {
    pub fn from_annotations(a: &BTreeMap<String, String>) -> SecretMarks {
        SecretMarks {
            matched: is_true(a, MATCH),
            ignored: is_true(a, IGNORE),
        }
    }
}

fn is_true(a: &BTreeMap<String, String>, key: &str) -> bool {
    a.get(key).map(String::as_str) == Some("true")
}

fn lists(a: &BTreeMap<String, String>, key: &str, secret: &str) -> bool {
    a.get(key)
        .is_some_and(|v| v.split(',').any(|s| s.trim() == secret))
}

/// Whether Reloader rolls a workload with these annotations (the workload's and its pod
/// template's, [`merged_annotations`]) when `secret` changes. `referenced`: the pod template
/// reads the Secret (env, envFrom, a secret or projected volume).
pub fn reloads(
    workload: &BTreeMap<String, String>,
    secret: &str,
    marks: SecretMarks,
    referenced: bool,
) -> bool {
    if marks.ignored || lists(workload, EXCLUDE, secret) {
        return false;
    }
    if lists(workload, SECRET_RELOAD, secret) {
        return true;
    }
    let auto = is_true(workload, AUTO) || is_true(workload, SECRET_AUTO);
    let searched = is_true(workload, SEARCH) && marks.matched;
    referenced && (auto || searched)
}

/// A workload's annotations and its pod template's, the workload's winning on a clash.
pub fn merged_annotations(
    meta: &ObjectMeta,
    template: &PodTemplateSpec,
) -> BTreeMap<String, String> {
    let mut a = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default();
    a.extend(meta.annotations.clone().unwrap_or_default());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NONE: SecretMarks = SecretMarks {
        matched: false,
        ignored: false,
    };
    const MATCHED: SecretMarks = SecretMarks {
        matched: true,
        ignored: false,
    };
    const IGNORED: SecretMarks = SecretMarks {
        matched: false,
        ignored: true,
    };

    /// (what, workload annotations, Secret marks, referenced, reloads)
    type Row = (
        &'static str,
        &'static [(&'static str, &'static str)],
        SecretMarks,
        bool,
        bool,
    );

    /// Every annotation form of reference §4.1, for the Secret `s1`.
    #[test]
    fn each_annotation_form_of_the_reference() {
        #[rustfmt::skip]
        let rows: &[Row] = &[
            // (what, workload annotations, Secret marks, referenced, reloads)
            ("no annotation", &[], NONE, true, false),
            ("auto", &[(AUTO, "true")], NONE, true, true),
            ("auto, Secret not referenced", &[(AUTO, "true")], NONE, false, false),
            ("auto false", &[(AUTO, "false")], NONE, true, false),
            ("secret auto", &[(SECRET_AUTO, "true")], NONE, true, true),
            ("secret auto, not referenced", &[(SECRET_AUTO, "true")], NONE, false, false),
            ("named list", &[(SECRET_RELOAD, "x, s1")], NONE, true, true),
            ("named list, not referenced", &[(SECRET_RELOAD, "s1")], NONE, false, true),
            ("named list, another Secret", &[(SECRET_RELOAD, "s10,x")], NONE, true, false),
            ("search without match", &[(SEARCH, "true")], NONE, true, false),
            ("search with match", &[(SEARCH, "true")], MATCHED, true, true),
            ("search with match, not referenced", &[(SEARCH, "true")], MATCHED, false, false),
            ("match without search", &[], MATCHED, true, false),
            ("auto wins over search", &[(AUTO, "true"), (SEARCH, "true")], NONE, true, true),
            ("auto with exclude", &[(AUTO, "true"), (EXCLUDE, "a, s1")], NONE, true, false),
            ("exclude of another Secret", &[(AUTO, "true"), (EXCLUDE, "a")], NONE, true, true),
            ("named and excluded", &[(SECRET_RELOAD, "s1"), (EXCLUDE, "s1")], NONE, true, false),
            ("auto, Secret ignored", &[(AUTO, "true")], IGNORED, true, false),
            ("named, Secret ignored", &[(SECRET_RELOAD, "s1")], IGNORED, true, false),
            ("search+match, Secret ignored", &[(SEARCH, "true")],
                SecretMarks { matched: true, ignored: true }, true, false),
        ];
        for (what, a, marks, referenced, want) in rows {
            assert_eq!(reloads(&ann(a), "s1", *marks, *referenced), *want, "{what}");
        }
    }

    #[test]
    fn secret_marks_read_only_true() {
        let m = SecretMarks::from_annotations(&ann(&[(MATCH, "true"), (IGNORE, "false")]));
        assert_eq!(m, MATCHED);
        let m = SecretMarks::from_annotations(&ann(&[(IGNORE, "true"), ("other", "true")]));
        assert_eq!(m, IGNORED);
    }

    #[test]
    fn annotations_on_the_workload_or_its_pod_template_count_alike() {
        let template = |a: &[(&str, &str)]| PodTemplateSpec {
            metadata: Some(ObjectMeta {
                annotations: Some(ann(a)),
                ..Default::default()
            }),
            spec: None,
        };
        let meta = |a: &[(&str, &str)]| ObjectMeta {
            annotations: Some(ann(a)),
            ..Default::default()
        };
        let on_template = merged_annotations(&meta(&[]), &template(&[(SEARCH, "true")]));
        assert!(reloads(&on_template, "s1", MATCHED, true));
        let on_workload = merged_annotations(&meta(&[(AUTO, "true")]), &template(&[]));
        assert!(reloads(&on_workload, "s1", NONE, true));
        let clash = merged_annotations(&meta(&[(AUTO, "false")]), &template(&[(AUTO, "true")]));
        assert!(!reloads(&clash, "s1", NONE, true), "the workload's wins");
    }
}
