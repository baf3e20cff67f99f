use std::collections::BTreeMap;

use keyway_app::dto::{AccessPlan, GroupChange, GroupTarget, KvHome, Levels, NewGroupKind};
use keyway_app::error::AppError;
use keyway_vault::{AclPolicy, EntitySummary, Group, GroupType, PolicyCas};

use super::super::state::{ReadPolicy, VaultState};
use super::*;

fn env() -> Namespace {
    "staging".parse().unwrap()
}

fn home() -> KvHome {
    KvHome {
        mount: "staging".into(),
        prefix: String::new(),
    }
}

fn group(id: &str, kind: GroupType, policies: &[&str]) -> Group {
    Group {
        id: id.into(),
        name: format!("name-{id}"),
        kind,
        policies: policies.iter().map(|p| p.to_string()).collect(),
        member_entity_ids: vec!["e1".into()],
        member_group_ids: vec![],
        alias: None,
        metadata: BTreeMap::new(),
        modify_index: 3,
    }
}

fn stored(name: &str, text: &str, version: Option<u64>) -> (String, ReadPolicy) {
    (
        name.to_owned(),
        ReadPolicy {
            stored: AclPolicy {
                name: name.into(),
                text: text.into(),
                version,
            },
            parsed: keyway_policy::parse(text).ok(),
            managed: keyway_policy::is_managed(text),
        },
    )
}

fn state(policies: Vec<(String, ReadPolicy)>) -> VaultState {
    VaultState {
        all_groups: true,
        groups: vec![
            group("g1", GroupType::Internal, &["other", "keyway-staging-view"]),
            group("g2", GroupType::External, &[]),
        ],
        policies: policies.into_iter().collect(),
        entities: vec![
            EntitySummary {
                id: "e1".into(),
                name: "dave".into(),
                aliases: vec![],
            },
            EntitySummary {
                id: "e2".into(),
                name: "erin".into(),
                aliases: vec![],
            },
        ],
        auth: vec![keyway_vault::AuthMethod {
            path: "sso".into(),
            kind: "oidc".into(),
            accessor: "auth_oidc_1".into(),
        }],
        cut: None,
    }
}

fn existing(id: &str, levels: Levels, members: Option<Vec<&str>>) -> GroupChange {
    GroupChange {
        target: GroupTarget::Existing {
            id: id.into(),
            seen: 3,
            seen_policies: vec![],
            seen_members: vec![],
        },
        levels,
        members: members.map(|m| m.into_iter().map(String::from).collect()),
    }
}

fn request(changes: Vec<GroupChange>) -> AccessPlan {
    AccessPlan {
        environment: "staging".into(),
        changes,
        policies_seen: Vec::new(),
        probe_user: None,
    }
}

fn edit() -> Levels {
    Levels {
        view: true,
        edit: true,
        restart: false,
    }
}

fn invalid(r: Result<Writes, AppError>) -> String {
    match r {
        Err(AppError::Invalid(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_change_replaces_only_this_environments_levels_and_writes_missing_policies_create_only() {
    let s = state(vec![]);
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", edit(), None)]),
    )
    .unwrap();
    let g = &w.groups[0];
    assert_eq!(
        g.policies,
        ["other", "keyway-staging-view", "keyway-staging-edit"]
    );
    assert_eq!(g.diff.policies_added, ["keyway-staging-edit"]);
    assert!(g.diff.policies_removed.is_empty());
    assert_eq!(g.members, None);
    let names: Vec<&str> = w.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["keyway-staging-view", "keyway-staging-edit"]);
    assert!(w
        .policies
        .iter()
        .all(|p| p.cas == PolicyCas::Create && p.before.is_none()));
    assert!(w.policies[1]
        .text
        .starts_with(keyway_policy::MANAGED_MARKER));
    assert_eq!(levels_of("staging", &g.policies), edit());
    assert_eq!(levels_of("dev", &g.policies), Levels::default());
}

#[test]
fn keyways_own_policies_are_left_when_current_and_rewritten_with_cas_when_drifted() {
    let view = generated(&env(), &home(), Level::View);
    let drifted = format!("{}\n# edited by hand\n", keyway_policy::MANAGED_MARKER);
    let s = state(vec![
        stored("keyway-staging-view", &view, Some(4)),
        stored("keyway-staging-edit", &drifted, Some(9)),
    ]);
    assert_eq!(
        policy_status(&s, &env(), &home(), Level::View),
        PolicyStatus::Current
    );
    assert_eq!(
        policy_status(&s, &env(), &home(), Level::Edit),
        PolicyStatus::Drifted
    );
    assert_eq!(
        policy_status(&s, &env(), &home(), Level::Restart),
        PolicyStatus::Missing
    );
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", edit(), None)]),
    )
    .unwrap();
    assert_eq!(w.policies.len(), 1);
    assert_eq!(w.policies[0].name, "keyway-staging-edit");
    assert_eq!(w.policies[0].cas, PolicyCas::Version(9));
    assert_eq!(w.policies[0].before.as_deref(), Some(drifted.as_str()));
    // A server without policy CAS (no version): written unconditionally, after a re-read.
    let s = state(vec![stored("keyway-staging-edit", &drifted, None)]);
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", edit(), None)]),
    )
    .unwrap();
    assert!(w.policies.iter().any(|p| p.cas == PolicyCas::None));
}

#[test]
fn a_policy_of_keyways_name_that_keyway_did_not_write_is_never_overwritten() {
    let s = state(vec![stored(
        "keyway-staging-edit",
        "path \"x/*\" { capabilities = [\"read\"] }",
        Some(1),
    )]);
    assert_eq!(
        policy_status(&s, &env(), &home(), Level::Edit),
        PolicyStatus::Foreign
    );
    let why = invalid(plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", edit(), None)]),
    ));
    assert!(why.contains("did not write"), "{why}");
    // Removing the level needs no policy write, so it is allowed.
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", Levels::default(), None)]),
    )
    .unwrap();
    assert_eq!(w.groups[0].policies, ["other"]);
    assert!(w.policies.is_empty());
}

#[test]
fn an_unchanged_group_is_left_out_and_members_are_compared_as_sets() {
    let s = state(vec![]);
    let same = Levels {
        view: true,
        ..Default::default()
    };
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", same, Some(vec!["e1", "e1"]))]),
    )
    .unwrap();
    assert!(w.is_empty(), "{w:?}");
    let w = plan(
        &env(),
        &home(),
        &s,
        &request(vec![existing("g1", same, Some(vec!["e2", "e1"]))]),
    )
    .unwrap();
    assert_eq!(
        w.groups[0].members.as_deref(),
        Some(&["e1".to_string(), "e2".to_string()][..])
    );
    assert_eq!(w.groups[0].diff.members_added, ["erin"]);
}

#[test]
fn bad_plans_are_refused_before_anything_is_written() {
    let s = state(vec![]);
    let twice = request(vec![
        existing("g1", edit(), None),
        existing("g1", edit(), None),
    ]);
    assert!(invalid(plan(&env(), &home(), &s, &twice)).contains("twice"));
    let ext = request(vec![existing("g2", edit(), Some(vec!["e1"]))]);
    assert!(invalid(plan(&env(), &home(), &s, &ext)).contains("external group"));
    let ghost = request(vec![existing("g1", edit(), Some(vec!["e9"]))]);
    assert!(invalid(plan(&env(), &home(), &s, &ghost)).contains("not an entity"));
    let gone = request(vec![existing("g9", edit(), None)]);
    assert!(matches!(
        plan(&env(), &home(), &s, &gone),
        Err(AppError::NotFound(_))
    ));
    let new = |name: &str, kind: NewGroupKind, levels: Levels| GroupChange {
        target: GroupTarget::New {
            name: name.into(),
            kind,
        },
        levels,
        members: None,
    };
    let taken = request(vec![new("name-g1", NewGroupKind::Internal, edit())]);
    assert!(invalid(plan(&env(), &home(), &s, &taken)).contains("exists already"));
    let bad_name = request(vec![new("a b", NewGroupKind::Internal, edit())]);
    assert!(invalid(plan(&env(), &home(), &s, &bad_name)).contains("not a usable group name"));
    let nothing = request(vec![new("qa2", NewGroupKind::Internal, Levels::default())]);
    assert!(invalid(plan(&env(), &home(), &s, &nothing)).contains("no level"));
    let nowhere = NewGroupKind::External {
        mount: "ldap".into(),
        alias: "ops".into(),
    };
    assert!(invalid(plan(
        &env(),
        &home(),
        &s,
        &request(vec![new("ops", nowhere, edit())])
    ))
    .contains("no auth method"));
    let sso = NewGroupKind::External {
        mount: "sso".into(),
        alias: "ops".into(),
    };
    let w = plan(&env(), &home(), &s, &request(vec![new("ops", sso, edit())])).unwrap();
    assert_eq!(
        w.groups[0].alias,
        Some(("auth_oidc_1".into(), "ops".into()))
    );
    assert_eq!(w.groups[0].members, None);
    let many: Vec<GroupChange> = (0..=MAX_CHANGES)
        .map(|i| new(&format!("g{i}"), NewGroupKind::Internal, edit()))
        .collect();
    assert!(invalid(check_bounds(&request(many)).map(|()| Writes {
        policies: vec![],
        groups: vec![]
    }))
    .contains("at most"));
    let mut long = request(vec![]);
    long.probe_user = Some("x".repeat(NAME_MAX + 1));
    assert!(check_bounds(&long).is_err());
}
