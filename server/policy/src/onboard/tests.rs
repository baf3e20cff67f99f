use super::*;
use crate::{parse, Acl, Capability};

fn billing() -> AppVault {
    AppVault::new("dev", "billing", "dev", "billing/config", "billing").unwrap()
}

#[test]
fn the_app_policy_is_pinned_and_grants_read_on_its_one_data_path() {
    let hcl = billing().policy_hcl();
    assert_eq!(
        hcl,
        "# Managed by Keyway\n\
         # keyway-app.dev.billing: lets the Vault Secrets Operator read the secret of app billing in environment dev.\n\
         \n\
         path \"dev/data/billing/config\" {\n  capabilities = [\"read\"]\n}\n"
    );
    assert!(crate::is_managed(&hcl));
    let acl = Acl::new([&parse(&hcl).unwrap()]);
    assert!(acl
        .capabilities("dev/data/billing/config")
        .contains(Capability::Read));
    for other in [
        "dev/data/billing/config/more",
        "dev/data/billing",
        "dev/metadata/billing/config",
        "dev/data/other/config",
    ] {
        assert!(acl.capabilities(other).is_empty(), "{other}");
    }
    assert!(!acl
        .capabilities("dev/data/billing/config")
        .contains(Capability::Update));
}

#[test]
fn the_role_binds_one_service_account_in_one_namespace_to_that_policy() {
    let role = serde_json::to_value(billing().role()).unwrap();
    assert_eq!(
        role,
        serde_json::json!({
            "bound_service_account_names": ["billing"],
            "bound_service_account_namespaces": ["dev"],
            "audience": "vault",
            "token_policies": ["keyway-app.dev.billing"],
            "token_ttl": "1h",
            "token_max_ttl": "24h",
        })
    );
    assert_eq!(billing().role_name(), "keyway-app.dev.billing");
}

#[test]
fn names_vault_would_read_as_patterns_or_more_than_one_rule_are_refused() {
    let refused = [
        ("dev", "billing", "dev", "billing/*", "billing"),
        ("dev", "billing", "dev", "+/config", "billing"),
        ("dev", "billing", "dev", "billing/../other", "billing"),
        ("dev", "billing", "dev", "/billing", "billing"),
        ("dev", "billing", "dev/", "billing", "billing"),
        ("dev", "billing", "dev", "a\"\npath \"*\" {", "billing"),
        ("dev", "billing", "dev", "billing", "*"),
        ("dev", "billing", "dev", "billing", "bill*"),
        ("*", "billing", "dev", "billing", "billing"),
        ("dev.x", "billing", "dev", "billing", "billing"),
        (
            "dev",
            "a\npath \"*\" { capabilities = [\"sudo\"] }",
            "dev",
            "billing",
            "billing",
        ),
        ("dev", "", "dev", "billing", "billing"),
    ];
    for (ns, app, mount, path, sa) in refused {
        assert!(
            AppVault::new(ns, app, mount, path, sa).is_err(),
            "{ns} {app} {mount} {path} {sa}"
        );
    }
    let ok = AppVault::new("dev", "web.v2", "kv_Team", "Team_A/web-1.conf", "web").unwrap();
    assert_eq!(parse(&ok.policy_hcl()).unwrap().rules.len(), 1);
}

#[test]
fn an_app_policy_name_is_never_an_environment_policy_name() {
    // A dash would make the app `view` of `dev` the view policy of a namespace `app-dev`.
    for app in ["view", "x-view", "a.b-edit"] {
        let name = app_policy_name("dev", app);
        assert_eq!(crate::generate::environment_of(&name), None, "{name}");
    }
    assert_ne!(app_policy_name("a-b", "c"), app_policy_name("a", "b-c"));
}
