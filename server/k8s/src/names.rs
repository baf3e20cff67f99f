//! Kubernetes' name rules, checked on what a client sends before Keyway looks anything up, asks
//! Vault or writes an audit row: a name the apiserver could never hold is a malformed request
//! (422, no row), not a refusal to record (issue 9, point 1).
//!
//! Namespaces are DNS-1123 labels; VaultStaticSecrets, Deployments, StatefulSets and DaemonSets
//! are named by DNS-1123 subdomains (reference: `k8s.io/apimachinery/pkg/util/validation`).

/// The longest namespace name (a DNS-1123 label).
pub const NAMESPACE_MAX: usize = 63;
/// The longest object name (a DNS-1123 subdomain).
pub const OBJECT_NAME_MAX: usize = 253;

/// Why a name is not one Kubernetes could hold, in plain words; None when it is fine.
/// `what` names the field ("environment", "app", "workload").
pub fn namespace_problem(what: &str, name: &str) -> Option<String> {
    problem(what, name, NAMESPACE_MAX, false)
}

/// Like [`namespace_problem`], for an object's name (dots allowed between parts).
pub fn object_name_problem(what: &str, name: &str) -> Option<String> {
    problem(what, name, OBJECT_NAME_MAX, true)
}

fn problem(what: &str, name: &str, max: usize, dots: bool) -> Option<String> {
    if name.is_empty() {
        return Some(format!("The {what} name is empty."));
    }
    if name.len() > max {
        return Some(format!(
            "The {what} name is {} characters long; Kubernetes allows at most {max}.",
            name.len()
        ));
    }
    let parts: Vec<&str> = if dots {
        name.split('.').collect()
    } else {
        vec![name]
    };
    let label_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    if parts.into_iter().all(label_ok) {
        return None;
    }
    // Quoting a name the client made up is safe: it is at most `max` characters by now.
    Some(format!(
        "\"{name}\" is not a valid {what} name: Kubernetes names use lowercase letters, digits and '-'{}, and start and end with a letter or digit.",
        if dots { " (and '.' between parts)" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_kubernetes_accepts_pass_and_the_rest_say_why() {
        for ok in ["dev", "a", "payments-2", &"x".repeat(63)] {
            assert_eq!(namespace_problem("environment", ok), None, "{ok}");
        }
        for ok in ["web.app", "api-v2.internal", &"y".repeat(253)] {
            assert_eq!(object_name_problem("app", ok), None, "{ok}");
        }
        let long = "x".repeat(64);
        assert_eq!(
            namespace_problem("environment", &long).unwrap(),
            "The environment name is 64 characters long; Kubernetes allows at most 63."
        );
        assert!(object_name_problem("app", &"y".repeat(254)).is_some());
        for bad in [
            "", "Dev", "-dev", "dev-", "d_v", "d v", "dév", "web.app", "../x",
        ] {
            assert!(namespace_problem("environment", bad).is_some(), "{bad}");
        }
        for bad in ["web..app", ".web", "web.", "Web", "web/app", "web\napp"] {
            assert!(object_name_problem("app", bad).is_some(), "{bad}");
        }
        assert_eq!(
            namespace_problem("environment", "").unwrap(),
            "The environment name is empty."
        );
    }
}
