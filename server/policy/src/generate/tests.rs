use super::*;
use crate::parse::{parse, Policy};
use crate::CapSet;

fn scope(prefix: &str) -> Scope {
    Scope {
        namespace: "payments".into(),
        mount: "dev".into(),
        prefix: prefix.into(),
    }
}

#[test]
fn names_and_words() {
    assert_eq!(policy_name("payments", Level::View), "keyway-payments-view");
    assert_eq!(policy_name("web", Level::Restart), "keyway-web-restart");
    for l in Level::ALL {
        assert_eq!(Level::parse(l.as_str()), Some(l));
    }
    assert_eq!(Level::parse("admin"), None);
}

#[test]
fn view_under_a_prefix() {
    assert_eq!(
        generate(&scope("payments/"), Level::View),
        r#"# Managed by Keyway
# keyway-payments-view: see key names and versions and reveal values in environment payments, kv-v2 mount dev, paths under payments/.

path "dev/data/payments/*" {
  capabilities = ["read"]
}

path "dev/metadata/payments/*" {
  capabilities = ["read", "list"]
}

path "dev/subkeys/payments/*" {
  capabilities = ["read"]
}
"#
    );
}

#[test]
fn view_of_a_whole_mount() {
    assert_eq!(
        generate(&scope(""), Level::View),
        r#"# Managed by Keyway
# keyway-payments-view: see key names and versions and reveal values in environment payments, kv-v2 mount dev, every path.

path "dev/data/*" {
  capabilities = ["read"]
}

path "dev/metadata/*" {
  capabilities = ["read", "list"]
}

path "dev/subkeys/*" {
  capabilities = ["read"]
}
"#
    );
}

#[test]
fn edit_under_a_prefix() {
    assert_eq!(
        generate(&scope("payments/"), Level::Edit),
        r#"# Managed by Keyway
# keyway-payments-edit: see and reveal values, write versions, roll back, soft-delete and undelete in environment payments, kv-v2 mount dev, paths under payments/.

path "dev/data/payments/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}

path "dev/metadata/payments/*" {
  capabilities = ["read", "list"]
}

path "dev/subkeys/payments/*" {
  capabilities = ["read"]
}

path "dev/delete/payments/*" {
  capabilities = ["update"]
}

path "dev/undelete/payments/*" {
  capabilities = ["update"]
}
"#
    );
}

#[test]
fn edit_of_a_whole_mount() {
    let text = generate(&scope(""), Level::Edit);
    assert!(text.contains("path \"dev/data/*\" {\n  capabilities = [\"create\", \"read\", \"update\", \"patch\", \"delete\"]\n}"));
    assert!(text.contains("path \"dev/undelete/*\" {\n  capabilities = [\"update\"]\n}"));
    assert!(!text.contains("destroy"));
}

#[test]
fn restart_under_a_prefix() {
    assert_eq!(
        generate(&scope("payments/"), Level::Restart),
        r#"# Managed by Keyway
# keyway-payments-restart: see and reveal values, restart and sync apps in environment payments, kv-v2 mount dev, paths under payments/.

path "dev/data/payments/*" {
  capabilities = ["read"]
}

path "dev/metadata/payments/*" {
  capabilities = ["read", "list"]
}

path "dev/subkeys/payments/*" {
  capabilities = ["read"]
}

path "keyway/restart/payments/*" {
  capabilities = ["update"]
}
"#
    );
}

#[test]
fn restart_of_a_whole_mount() {
    let text = generate(&scope(""), Level::Restart);
    assert!(text.contains("path \"dev/data/*\" {\n  capabilities = [\"read\"]\n}"));
    assert!(text.contains("path \"keyway/restart/payments/*\" {\n  capabilities = [\"update\"]\n}"));
}

#[test]
fn generated_text_is_managed_and_parses_back_to_its_rules() {
    for prefix in ["", "payments/"] {
        for level in Level::ALL {
            let text = generate(&scope(prefix), level);
            assert!(is_managed(&text));
            let parsed = parse(&text).unwrap();
            let want: Vec<(String, CapSet)> = rules(&scope(prefix), level)
                .into_iter()
                .map(|(p, caps)| (p, CapSet::of(&caps)))
                .collect();
            let got: Vec<(String, CapSet)> =
                parsed.rules.into_iter().map(|r| (r.path, r.caps)).collect();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn quotes_cannot_break_out_of_a_path() {
    let s = Scope {
        namespace: "x".into(),
        mount: "a\"b".into(),
        prefix: "".into(),
    };
    let p = parse(&generate(&s, Level::View)).unwrap();
    assert_eq!(p.rules[0].path, "a\"b/data/*");
}

#[test]
fn is_managed_reads_the_first_non_empty_line() {
    assert!(is_managed("\n  # Managed by Keyway\npath \"a\" {}"));
    assert!(!is_managed("# Managed by someone\n# Managed by Keyway"));
    assert!(!is_managed("path \"a\" {}\n# Managed by Keyway"));
    assert!(!is_managed(""));
}

#[test]
fn levels_read_back_from_generated_policies() {
    let s = scope("payments/");
    let of = |levels: &[Level]| {
        let policies: Vec<Policy> = levels
            .iter()
            .map(|l| parse(&generate(&s, *l)).unwrap())
            .collect();
        Acl::new(&policies)
    };
    let at = |acl: &Acl, path: &str| levels_at(acl, &s, "api", path);
    let none = LevelSet::default();
    let view = LevelSet { view: true, ..none };
    assert_eq!(at(&of(&[]), "payments/api"), none);
    assert_eq!(at(&of(&[Level::View]), "payments/api"), view);
    assert_eq!(
        at(&of(&[Level::Edit]), "payments/api"),
        LevelSet {
            view: true,
            edit: true,
            restart: false
        }
    );
    assert_eq!(
        at(&of(&[Level::Restart]), "payments/api"),
        LevelSet {
            view: true,
            edit: false,
            restart: true
        }
    );
    let all = of(&Level::ALL);
    assert!(Level::ALL
        .into_iter()
        .all(|l| at(&all, "payments/api").contains(l)));
    // Outside the prefix nothing holds; another environment's restart grant neither.
    assert_eq!(at(&all, "billing/api"), none);
    let other = Scope {
        namespace: "billing".into(),
        ..s.clone()
    };
    assert!(!levels_at(&all, &other, "api", "payments/api").restart);
}

#[test]
fn edit_needs_every_edit_right() {
    let s = scope("payments/");
    let p = parse(
        "path \"dev/data/payments/*\" {\n capabilities = [\"create\", \"read\", \"update\"]\n}\n\
         path \"dev/metadata/payments/*\" {\n capabilities = [\"read\"]\n}\n\
         path \"dev/subkeys/payments/*\" {\n capabilities = [\"read\"]\n}\n\
         path \"dev/delete/payments/*\" {\n capabilities = [\"update\"]\n}",
    )
    .unwrap();
    let got = levels_at(&Acl::new([&p]), &s, "api", "payments/api");
    assert!(got.view && !got.edit, "no undelete: {got:?}");
}

#[test]
fn a_policy_name_gives_back_its_environment() {
    for level in Level::ALL {
        assert_eq!(
            environment_of(&policy_name("dev-eu", level)).as_deref(),
            Some("dev-eu")
        );
    }
    for other in [
        "keyway-",
        "keyway--view",
        "dev-editor",
        "keyway-dev-admin",
        "readonly",
    ] {
        assert_eq!(environment_of(other), None, "{other}");
    }
}
