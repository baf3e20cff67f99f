use super::*;
use crate::capability::Capability::*;

fn one(hcl: &str) -> Rule {
    let mut p = parse(hcl).expect("parses");
    assert_eq!(p.rules.len(), 1, "{hcl}");
    p.rules.remove(0)
}

#[test]
fn capabilities_and_comments() {
    let p = parse(
        "# a comment\n// another\n/* and a block */\n\
         path \"secret/data/*\" { capabilities = [\"read\", \"list\",] }\n\
         path \"secret/metadata/x\" {\n  capabilities = [\"update\"] # trailing\n}\n",
    )
    .unwrap();
    assert_eq!(p.rules.len(), 2);
    assert_eq!(p.rules[0].path, "secret/data/*");
    assert_eq!(p.rules[0].caps, CapSet::of(&[Read, List]));
    assert_eq!(p.rules[1].caps, CapSet::of(&[Update]));
    assert!(!p.rules[0].templated && !p.rules[0].has_parameters);
}

#[test]
fn an_empty_policy_has_no_rules() {
    assert_eq!(parse("").unwrap(), Policy::default());
    assert_eq!(parse("# only a comment\n").unwrap(), Policy::default());
    assert!(parse("name = \"ignored\"").unwrap().rules.is_empty());
}

#[test]
fn legacy_policy_words_map_as_openbao_maps_them() {
    let caps = |w: &str| one(&format!("path \"a\" {{ policy = \"{w}\" }}")).caps;
    assert_eq!(caps("read"), CapSet::of(&[Read, List]));
    assert_eq!(
        caps("write"),
        CapSet::of(&[Create, Read, Update, Delete, List])
    );
    assert_eq!(
        caps("sudo"),
        CapSet::of(&[Create, Read, Update, Delete, List, Sudo])
    );
    assert_eq!(caps("deny"), CapSet::deny());
    let both = one("path \"a\" {\n policy = \"read\"\n capabilities = [\"update\"]\n}");
    assert_eq!(both.caps, CapSet::of(&[Read, List, Update]));
}

#[test]
fn deny_among_capabilities_makes_a_deny_rule() {
    assert_eq!(
        one("path \"a\" { capabilities = [\"read\", \"deny\"] }").caps,
        CapSet::deny()
    );
}

#[test]
fn an_empty_capability_list_is_a_rule_that_grants_nothing() {
    let r = one("path \"a\" { capabilities = [] }");
    assert_eq!(r.caps, CapSet::empty());
    assert!(!r.caps.is_deny());
    assert!(one("path \"a\" {}").caps.is_empty());
}

#[test]
fn request_conditions_are_flagged() {
    for key in [
        "allowed_parameters = { \"ttl\" = [] }",
        "denied_parameters = { \"*\" = [] }",
        "required_parameters = [\"name\"]",
        "min_wrapping_ttl = \"1m\"",
        "max_wrapping_ttl = \"90s\"",
    ] {
        let r = one(&format!(
            "path \"a\" {{\n capabilities = [\"read\"]\n {key}\n}}"
        ));
        assert!(r.has_parameters, "{key}");
        assert_eq!(r.caps, CapSet::of(&[Read]));
    }
    assert!(!one("path \"a\" {\n comment = \"why\"\n capabilities = []\n}").has_parameters);
}

#[test]
fn identity_templates_are_flagged() {
    let r = one(
        "path \"kv/data/{{identity.entity.aliases.auth_oidc_1.metadata.ns}}/*\" { capabilities = [\"read\"] }",
    );
    assert!(r.templated);
}

#[test]
fn one_leading_slash_is_stripped() {
    assert_eq!(one("path \"/a/b\" { capabilities = [] }").path, "a/b");
}

#[test]
fn errors_are_sentences_that_name_the_place() {
    let err = |hcl: &str| parse(hcl).unwrap_err().to_string();
    assert_eq!(
        err("path \"kv/data/x\" { capabilities = [\"read\", \"write\"] }"),
        "path \"kv/data/x\": unknown capability \"write\""
    );
    assert_eq!(
        err("path \"a\" { policy = \"admin\" }"),
        "path \"a\": invalid policy \"admin\" (use \"read\", \"write\", \"sudo\" or \"deny\")"
    );
    assert_eq!(
        err("path \"a\" { capabilities = \"read\" }"),
        "path \"a\": `capabilities` must be a list of quoted words, like [\"read\"]"
    );
    assert_eq!(
        err("path \"a\" { capabilitys = [\"read\"] }"),
        "path \"a\": unknown key `capabilitys`"
    );
    assert_eq!(
        err("path \"a/+*\" { capabilities = [] }"),
        "path \"a/+*\": invalid use of wildcards ('+*' is forbidden)"
    );
    assert_eq!(
        err("listener \"tcp\" {}"),
        "Top-level `listener` is not allowed: a policy holds only `path \"...\" { ... }` blocks"
    );
    assert_eq!(
        err("capabilities = [\"read\"]"),
        "Top-level `capabilities` is not allowed: a policy holds only `path \"...\" { ... }` blocks"
    );
    assert!(err("path \"a\" \"b\" {}").starts_with("A `path` block needs exactly one"));
    assert!(err("{\"path\": {}}").starts_with("JSON policies"));
    let syntax = err("path \"a\" {\n  capabilities = [\"read\"\n");
    assert!(
        syntax.starts_with("The policy is not valid HCL, at line "),
        "{syntax}"
    );
    assert!(!syntax.contains('\n'), "one line: {syntax}");
    // HCL 1 (Vault's parser) allows two attributes on one line; HCL 2 does not.
    let one_line = err("path \"a\" { policy = \"read\", capabilities = [] }");
    assert!(
        one_line.starts_with("The policy is not valid HCL, at line 1, column"),
        "{one_line}"
    );
}
