//! The committed `deploy/` manifests say what Keyway's code does: the Roles grant only the verbs
//! Keyway uses, nothing in the default file is cluster-wide, every served namespace gets the same
//! Role, and the admission policy names the very annotations `actions.rs` writes. The apiserver
//! side (that these are enforced) is tested in `server/tests/cluster_api/least_privilege.rs`.

use std::collections::BTreeSet;

use keyway_k8s::actions::{RESTARTED_AT, SYNC_REQUESTED_AT};
use serde::Deserialize;
use serde_yaml::Value;

const RBAC: &str = include_str!("../../../deploy/base/rbac.yaml");
const RBAC_CLUSTER_WIDE: &str = include_str!("../../../deploy/rbac-cluster-wide.yaml");
const POLICY: &str = include_str!("../../../deploy/base/admission-policy.yaml");
const CLUSTER_UP: &str = include_str!("../../../end2end/cluster/up");
const KEYWAY_USER: &str = "system:serviceaccount:keyway-system:keyway";

fn docs(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

fn kind(d: &Value) -> &str {
    d["kind"].as_str().unwrap()
}

fn of_kind<'a>(all: &'a [Value], k: &str) -> Vec<&'a Value> {
    all.iter().filter(|d| kind(d) == k).collect()
}

fn namespaces(all: &[&Value]) -> BTreeSet<String> {
    all.iter()
        .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_default_rbac_is_a_role_per_served_namespace_and_nothing_cluster_wide() {
    let all = docs(RBAC);
    let kinds: BTreeSet<&str> = all.iter().map(kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["Namespace", "ServiceAccount", "Role", "RoleBinding"]),
        "deploy/base/rbac.yaml must hold no ClusterRole or ClusterRoleBinding"
    );
    let roles = of_kind(&all, "Role");
    let bindings = of_kind(&all, "RoleBinding");
    // The namespaces the test world's Keyway serves (end2end/cluster/up's KEYWAY_SA_NAMESPACES).
    let served: BTreeSet<String> = CLUSTER_UP
        .lines()
        .find_map(|l| l.strip_prefix("export KEYWAY_SA_NAMESPACES="))
        .expect("end2end/cluster/up exports KEYWAY_SA_NAMESPACES")
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(namespaces(&roles), served);
    assert_eq!(namespaces(&bindings), served);
    for r in &roles {
        assert_eq!(
            r["rules"], roles[0]["rules"],
            "every Role carries the same rules"
        );
    }
    for b in &bindings {
        assert_eq!(b["roleRef"]["kind"], "Role");
        assert_eq!(b["subjects"][0]["name"], "keyway");
        assert_eq!(b["subjects"][0]["namespace"], "keyway-system");
    }
    let cluster_wide = docs(RBAC_CLUSTER_WIDE);
    assert_eq!(
        of_kind(&cluster_wide, "ClusterRole")[0]["rules"],
        roles[0]["rules"],
        "the opt-in cluster-wide grant is the same rules, no more"
    );
}

#[test]
fn keyway_is_granted_list_watch_and_two_patches_and_no_other_verb() {
    let all = docs(RBAC);
    let mut grants: BTreeSet<(String, String)> = BTreeSet::new();
    for rule in of_kind(&all, "Role")[0]["rules"].as_sequence().unwrap() {
        for res in rule["resources"].as_sequence().unwrap() {
            for verb in rule["verbs"].as_sequence().unwrap() {
                grants.insert((
                    res.as_str().unwrap().to_string(),
                    verb.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = [
        ("secrets", "list watch"),
        ("pods", "list watch"),
        ("replicasets", "list watch"),
        ("events", "list watch"),
        ("vaultstaticsecrets", "list watch patch"),
        ("deployments", "list watch patch"),
        ("statefulsets", "list watch patch"),
        ("daemonsets", "list watch patch"),
    ]
    .iter()
    .flat_map(|(r, vs)| vs.split(' ').map(move |v| (r.to_string(), v.to_string())))
    .collect();
    assert_eq!(grants, expected);
}

/// The policy document (ValidatingAdmissionPolicy) named `name`, as YAML text and parsed.
fn policy(name: &str) -> (String, Value) {
    let d = docs(POLICY)
        .into_iter()
        .find(|d| kind(d) == "ValidatingAdmissionPolicy" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("policy {name} in deploy/base/admission-policy.yaml"));
    (serde_yaml::to_string(&d).unwrap(), d)
}

#[test]
fn the_admission_policy_names_the_annotations_keyway_writes_and_only_its_account() {
    for (name, key, resources) in [
        (
            "keyway-restart-only",
            RESTARTED_AT,
            vec!["deployments", "statefulsets", "daemonsets"],
        ),
        (
            "keyway-sync-only",
            SYNC_REQUESTED_AT,
            vec!["vaultstaticsecrets"],
        ),
    ] {
        let (text, p) = policy(name);
        assert!(
            text.contains(&format!("'{key}'")),
            "{name} must allow exactly the annotation {key} (actions.rs)"
        );
        assert_eq!(p["spec"]["failurePolicy"], "Fail");
        assert_eq!(
            p["spec"]["matchConditions"][0]["expression"],
            format!("request.userInfo.username == '{KEYWAY_USER}'")
        );
        let rule = &p["spec"]["matchConstraints"]["resourceRules"][0];
        let got: Vec<&str> = rule["resources"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, resources);
        assert_eq!(
            rule["operations"],
            serde_yaml::from_str::<Value>("[CREATE, UPDATE, DELETE]").unwrap()
        );
        let binding = docs(POLICY)
            .into_iter()
            .find(|d| {
                kind(d) == "ValidatingAdmissionPolicyBinding" && d["spec"]["policyName"] == name
            })
            .unwrap_or_else(|| panic!("a binding of {name}"));
        assert_eq!(
            binding["spec"]["validationActions"],
            serde_yaml::from_str::<Value>("[Deny]").unwrap()
        );
    }
}

const RBAC_ONBOARDING: &str = include_str!("../../../deploy/rbac-onboarding.yaml");

#[test]
fn the_onboarding_grant_is_create_and_patch_of_three_kinds_where_keyway_serves() {
    let all = docs(RBAC_ONBOARDING);
    let kinds: BTreeSet<&str> = all.iter().map(kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["Role", "RoleBinding"]),
        "nothing cluster-wide"
    );
    let roles = of_kind(&all, "Role");
    let served = namespaces(&of_kind(&docs(RBAC), "Role"));
    assert_eq!(
        namespaces(&roles),
        served,
        "the same namespaces as deploy/base/rbac.yaml"
    );
    assert_eq!(namespaces(&of_kind(&all, "RoleBinding")), served);
    let mut grants = BTreeSet::new();
    for r in &roles {
        assert_eq!(
            r["rules"], roles[0]["rules"],
            "every Role carries the same rules"
        );
        for rule in r["rules"].as_sequence().unwrap() {
            for res in rule["resources"].as_sequence().unwrap() {
                for verb in rule["verbs"].as_sequence().unwrap() {
                    grants.insert((res.as_str().unwrap(), verb.as_str().unwrap()));
                }
            }
        }
    }
    let expected: BTreeSet<(&str, &str)> = ["serviceaccounts", "vaultauths", "vaultstaticsecrets"]
        .into_iter()
        .flat_map(|r| [(r, "create"), (r, "patch")])
        .collect();
    assert_eq!(grants, expected);
}

#[test]
fn the_onboarding_admission_policy_covers_what_onboarding_creates_and_only_keyways_account() {
    let (text, p) = policy("keyway-onboard-create-only");
    assert!(text.contains("app.kubernetes.io/managed-by"), "{text}");
    // Reloader's annotation, the one workload annotation onboarding sets (restart-only policy).
    let (restart_text, _) = policy("keyway-restart-only");
    assert!(restart_text.contains(&format!("'{}'", keyway_k8s::reloader::AUTO)));
    assert_eq!(p["spec"]["failurePolicy"], "Fail");
    assert_eq!(
        p["spec"]["matchConditions"][0]["expression"],
        format!("request.userInfo.username == '{KEYWAY_USER}'")
    );
    let resources: BTreeSet<&str> = p["spec"]["matchConstraints"]["resourceRules"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|r| r["resources"].as_sequence().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(resources, BTreeSet::from(["serviceaccounts", "vaultauths"]));
    // The label the renderer puts on every object is the one the policies require.
    let (label, value) = keyway_k8s::onboard::MANAGED_BY;
    assert!(POLICY.contains(&format!("'{label}'")) && value == "keyway");
}
