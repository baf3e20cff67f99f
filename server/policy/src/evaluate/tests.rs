use super::*;
use crate::capability::Capability::*;
use crate::parse::parse;

/// An ACL from policies written as `(pattern, words)` rules, one policy per slice.
fn acl(policies: &[&[(&str, &[&str])]]) -> Acl {
    let parsed: Vec<Policy> = policies
        .iter()
        .map(|rules| {
            let text: String = rules
                .iter()
                .map(|(p, words)| {
                    let words: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                    format!(
                        "path \"{p}\" {{\n  capabilities = [{}]\n}}\n",
                        words.join(",")
                    )
                })
                .collect();
            parse(&text).expect("test policy parses")
        })
        .collect();
    Acl::new(&parsed)
}

fn words(acl: &Acl, path: &str) -> Vec<&'static str> {
    acl.capabilities(path).to_words()
}

#[test]
fn no_rule_no_capability() {
    let a = acl(&[&[("a/b", &["read"])]]);
    assert_eq!(a.capabilities("a/c"), CapSet::empty());
    assert_eq!(words(&a, "zzz"), ["deny"]);
    assert_eq!(Acl::new([]).capabilities("a"), CapSet::empty());
}

#[test]
fn an_exact_rule_matches_only_its_path_and_beats_any_glob() {
    let a = acl(&[&[("a/b", &["read"]), ("a/*", &["update"]), ("a/+", &["list"])]]);
    assert_eq!(words(&a, "a/b"), ["read"]);
    assert_eq!(words(&a, "a/bc"), ["list"]);
    assert_eq!(words(&a, "a/b/c"), ["update"]);
}

#[test]
fn an_exact_rule_and_a_prefix_rule_of_the_same_text_never_merge() {
    let a = acl(&[&[("a/b", &["read"]), ("a/b*", &["update"])]]);
    assert_eq!(words(&a, "a/b"), ["read"]);
    assert_eq!(words(&a, "a/bc"), ["update"]);
    assert_eq!(a.winner("a/bc").unwrap().0, "a/b*");
}

#[test]
fn a_trailing_slash_falls_back_to_the_path_without_it() {
    // sys/capabilities asks as a LIST: `a/b/` is decided by the exact rule `a/b`.
    let a = acl(&[&[("a/b", &["list"]), ("a/*", &["read"])]]);
    assert_eq!(words(&a, "a/b/"), ["list"]);
    // Exact rules (with and without the slash) first, then globs on the full path, then globs
    // on the path without its slash.
    let b = acl(&[&[("x/+", &["read"])]]);
    assert_eq!(words(&b, "x/y/"), ["read"], "x/y/ fails x/+, x/y matches");
}

#[test]
fn an_exact_rule_granting_nothing_still_wins() {
    let a = acl(&[&[("a/b", &[]), ("a/*", &["read"])]]);
    assert_eq!(a.capabilities("a/b"), CapSet::empty());
    assert_eq!(words(&a, "a/c"), ["read"]);
}

#[test]
fn a_glob_matches_the_empty_suffix() {
    let a = acl(&[&[("kv/metadata/payments/*", &["list"])]]);
    assert_eq!(words(&a, "kv/metadata/payments/"), ["list"]);
    assert_eq!(words(&a, "kv/metadata/payments"), ["deny"]);
}

#[test]
fn only_the_longest_prefix_counts() {
    let a = acl(&[&[("a/*", &["read", "update"]), ("a/b*", &["list"])]]);
    assert_eq!(words(&a, "a/bc"), ["list"]);
    assert_eq!(words(&a, "a/c"), ["read", "update"]);
}

#[test]
fn priority_1_the_first_wildcard_later_in_the_pattern_wins() {
    let a = acl(&[&[("secret/a*", &["read"]), ("secret/+", &["list"])]]);
    assert_eq!(words(&a, "secret/ab"), ["read"]);
    let b = acl(&[&[("f/bar/+/baz", &["read"]), ("f/+/bar/baz", &["list"])]]);
    assert_eq!(words(&b, "f/bar/bar/baz"), ["read"]);
}

#[test]
fn priority_2_not_a_prefix_beats_a_prefix() {
    let a = acl(&[&[("foo/+", &["read"]), ("foo/*", &["list"])]]);
    assert_eq!(words(&a, "foo/x"), ["read"]);
    assert_eq!(words(&a, "foo/x/y"), ["list"]);
    let b = acl(&[&[("f/+/bar", &["read"]), ("f/+/ba*", &["list"])]]);
    assert_eq!(words(&b, "f/x/bar"), ["read"]);
    assert_eq!(words(&b, "f/x/bat"), ["list"]);
}

#[test]
fn priority_2_between_plus_patterns_of_the_same_text() {
    let a = acl(&[&[("g/+/b", &["read"]), ("g/+/b*", &["list"])]]);
    assert_eq!(words(&a, "g/x/b"), ["read"]);
    assert_eq!(words(&a, "g/x/bc"), ["list"]);
}

#[test]
fn priority_3_fewer_plus_segments_win() {
    let a = acl(&[&[("a/+/b/c", &["read"]), ("a/+/+/c", &["list"])]]);
    assert_eq!(words(&a, "a/x/b/c"), ["read"]);
    assert_eq!(words(&a, "a/x/y/c"), ["list"]);
}

#[test]
fn priority_3_comes_before_length() {
    let a = acl(&[&[("a/+/x/c*", &["read"]), ("a/+/+/cc*", &["list"])]]);
    assert_eq!(words(&a, "a/q/x/ccc"), ["read"]);
}

#[test]
fn priority_4_comes_before_lexicographic_order() {
    let a = acl(&[&[("f/+/+/dddd", &["read"]), ("f/+/abc/+", &["list"])]]);
    assert_eq!(words(&a, "f/x/abc/dddd"), ["read"]);
}

#[test]
fn priority_4_longer_wins() {
    let a = acl(&[&[("f/+/bar/ba*", &["read"]), ("f/+/bar/b*", &["list"])]]);
    assert_eq!(words(&a, "f/x/bar/baz"), ["read"]);
    assert_eq!(words(&a, "f/x/bar/bz"), ["list"]);
}

#[test]
fn priority_5_lexicographically_larger_wins() {
    // Same first `+`, neither a prefix, two `+` each, same length: 'c' > '+'.
    let a = acl(&[&[("a/+/c/+", &["read"]), ("a/+/+/d", &["list"])]]);
    assert_eq!(words(&a, "a/x/c/d"), ["read"]);
}

#[test]
fn plus_matches_exactly_one_segment() {
    let a = acl(&[&[("kv/data/+/config", &["read"])]]);
    assert_eq!(words(&a, "kv/data/web/config"), ["read"]);
    assert_eq!(words(&a, "kv/data/web/x/config"), ["deny"]);
    assert_eq!(words(&a, "kv/data/config"), ["deny"]);
    assert_eq!(words(&a, "kv/data/web/config/x"), ["deny"]);
}

#[test]
fn plus_with_a_trailing_glob() {
    let a = acl(&[&[("kv/+/team/*", &["read"])]]);
    assert_eq!(words(&a, "kv/data/team/a/b"), ["read"]);
    assert_eq!(words(&a, "kv/data/team/"), ["read"]);
    assert_eq!(words(&a, "kv/data/team"), ["deny"]);
    let b = acl(&[&[("kv/+/te*", &["read"])]]);
    assert_eq!(words(&b, "kv/data/team/a"), ["read"]);
}

#[test]
fn the_same_pattern_in_several_policies_is_a_union() {
    let a = acl(&[&[("a/*", &["read"])], &[("a/*", &["list"])]]);
    assert_eq!(a.capabilities("a/x"), CapSet::of(&[Read, List]));
    let b = acl(&[&[("a/+", &["read"])], &[("a/+", &["update"])]]);
    assert_eq!(words(&b, "a/x"), ["read", "update"]);
}

#[test]
fn deny_wins_a_union_whatever_the_order() {
    for (first, second) in [(&["deny"][..], &["read"][..]), (&["read"], &["deny"])] {
        let a = acl(&[&[("a/*", first)], &[("a/*", second)]]);
        assert!(a.capabilities("a/x").is_deny());
    }
}

#[test]
fn a_more_specific_rule_is_not_overridden_by_a_broader_deny() {
    // Priority first, then deny inside the winner: a narrower grant beats a broad deny.
    let a = acl(&[&[("a/*", &["deny"])], &[("a/b/*", &["read"])]]);
    assert_eq!(words(&a, "a/b/c"), ["read"]);
    assert_eq!(words(&a, "a/c"), ["deny"]);
}

#[test]
fn different_patterns_do_not_merge() {
    let a = acl(&[&[("a/*", &["read"])], &[("a/b*", &["list"])]]);
    assert_eq!(words(&a, "a/bc"), ["list"]);
}

#[test]
fn templated_rules_are_skipped_and_leading_slashes_ignored() {
    let p = parse(
        "path \"kv/{{identity.entity.name}}/*\" {\n capabilities = [\"read\"]\n}\n\
         path \"kv/*\" {\n capabilities = [\"list\"]\n}",
    )
    .unwrap();
    let a = Acl::new([&p]);
    assert_eq!(words(&a, "kv/{{identity.entity.name}}/x"), ["list"]);
    assert_eq!(words(&a, "/kv/x"), ["list"]);
}
