//! The platform team's access pages against a real OpenBao seeded by the demo's own seed: who
//! sees them, a grant from preview to a member's first edit, two engineers at once, Keyway's
//! refusal to overwrite a hand-written policy, external groups, and the audit trail.

mod common;

use common::TestApp;
use keyway_store::Outcome;
use serde_json::{json, Value};

/// The access page of `env` as `who` sees it.
async fn access(c: &mut common::Client<'_>, env: &str) -> Value {
    c.ok("environment_access", json!({"environment": env}))
        .await
}

/// The group named `name` in an access page (with levels here, or among the others).
fn group<'a>(page: &'a Value, name: &str) -> &'a Value {
    page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page["other_groups"].as_array().unwrap())
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name} in {page}"))
}

/// A change to an existing group as read on `page`.
fn existing(page: &Value, name: &str, levels: Value, members: Option<Vec<String>>) -> Value {
    let g = group(page, name);
    let seen_members: Vec<Value> = g["kind"]["Internal"]["members"]
        .as_array()
        .map(|m| m.iter().map(|m| m["entity_id"].clone()).collect())
        .unwrap_or_default();
    json!({
        "target": {"Existing": {"id": g["id"], "seen": g["seen"], "seen_policies": g["policies"], "seen_members": seen_members}},
        "levels": levels,
        "members": members,
    })
}

/// A plan with Keyway's policies as `page` read them.
fn plan_on(page: &Value, changes: Vec<Value>, probe: Option<&str>) -> Value {
    let seen: Vec<Value> = page["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["seen"].clone())
        .collect();
    json!({"plan": {"environment": page["environment"], "changes": changes, "policies_seen": seen, "probe_user": probe}})
}

/// A plan that says nothing of how the policies read (what a forged call might send).
fn plan(env: &str, changes: Vec<Value>, probe: Option<&str>) -> Value {
    json!({"plan": {"environment": env, "changes": changes, "policies_seen": [], "probe_user": probe}})
}

/// A JSON list of strings, sorted (Vault stores a group's policies sorted).
fn sorted(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn edit() -> Value {
    json!({"view": true, "edit": true, "restart": false})
}

#[tokio::test]
async fn developers_see_no_platform_page_and_every_platform_endpoint_refuses_them() {
    let app = TestApp::demo(&[]).await;
    for (user, pass) in [
        ("alice", "alice-pass"),
        ("carol", "carol-pass"),
        ("dave", "dave-pass"),
    ] {
        let mut c = app.login(user, pass).await;
        let menu = c.ok("platform_menu", json!({})).await;
        assert_eq!(
            menu,
            json!({"access": [], "fleet": [], "onboard": []}),
            "{user}"
        );
        let (code, body) = c
            .call("environment_access", json!({"environment": "dev"}))
            .await;
        assert_eq!(code, 403, "{user}: {body}");
        assert!(
            body["Denied"].as_str().unwrap().contains("platform team"),
            "{body}"
        );
        let change = json!({"target": {"New": {"name": "mine", "kind": "Internal"}}, "levels": edit(), "members": []});
        for endpoint in ["preview_access", "apply_access"] {
            let (code, body) = c
                .call(endpoint, plan("dev", vec![change.clone()], None))
                .await;
            assert_eq!(code, 403, "{user} {endpoint}: {body}");
        }
        // Vault itself refuses the entity list to a developer's token.
        let (code, _) = c.call("find_entities", json!({"query": "a"})).await;
        assert_eq!(code, 403, "{user} find_entities");
    }
    let rows = app.audit_rows().await;
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "access.change")
        .collect();
    assert_eq!(
        refused.len(),
        3,
        "one refused apply per developer: {refused:?}"
    );
    assert!(refused.iter().all(|r| r.outcome == Outcome::Denied));
    // Nothing was created in Vault.
    let status = app
        .bao
        .root_request_status("GET", "identity/group/name/mine", json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_grant_is_previewed_applied_and_lets_a_member_edit() {
    let app = TestApp::demo(&[]).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let menu = platform.ok("platform_menu", json!({})).await;
    assert_eq!(menu["access"], json!(["dev", "staging"]));

    let page = access(&mut platform, "staging").await;
    assert_eq!(page["home"], json!({"mount": "staging", "prefix": ""}));
    assert!(page["groups"].as_array().unwrap().is_empty(), "{page}");
    // The demo's hand-written policies reach staging: shown, read-only.
    let outside: Vec<&str> = page["outside"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["policy"].as_str().unwrap())
        .collect();
    assert!(outside.contains(&"staging-editor"), "{outside:?}");
    assert!(outside.contains(&"readonly"), "{outside:?}");
    assert!(!outside.contains(&"dev-editor"), "{outside:?}");

    // dave (in qa) cannot touch staging yet.
    let mut dave = app.login("dave", "dave-pass").await;
    let secret = json!({"mount": "staging", "path": "webapp/config"});
    let (code, _) = dave.call("secret", json!({"secret": secret})).await;
    assert_eq!(code, 403);

    let grant = plan_on(
        &page,
        vec![existing(&page, "qa", edit(), None)],
        Some("dave"),
    );
    let preview = platform.ok("preview_access", grant.clone()).await;
    let names: Vec<&str> = preview["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["keyway-staging-view", "keyway-staging-edit"]);
    let edit_policy = &preview["policies"][1];
    assert_eq!(edit_policy["created"], true);
    let lines: Vec<&str> = edit_policy["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["Added"]
                .as_str()
                .expect("a new policy is all added lines")
        })
        .collect();
    assert!(lines[0].starts_with("# Managed by Keyway"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("staging/data/*")),
        "{lines:?}"
    );
    assert_eq!(
        preview["groups"],
        json!([{"name": "qa", "created": false,
                "policies_added": ["keyway-staging-view", "keyway-staging-edit"], "policies_removed": [],
                "members_added": [], "members_removed": [], "alias": null}])
    );
    let dave_row = preview["effective"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"] == json!({"User": "dave"}) && r["environment"] == "staging")
        .unwrap_or_else(|| panic!("no row for dave in staging: {preview}"));
    let reach = |level: &str| {
        dave_row["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == level)
            .unwrap()
            .clone()
    };
    assert_eq!(reach("Edit")["before"], "None");
    assert_eq!(reach("Edit")["after"], "All");
    assert_eq!(reach("Restart")["after"], "None");

    let applied = platform.ok("apply_access", grant.clone()).await;
    let steps = applied["Done"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{applied}");

    // Vault now holds exactly the previewed text, marked as Keyway's, and qa holds it.
    let stored = app
        .bao
        .root_request("GET", "sys/policies/acl/keyway-staging-edit", None)
        .await;
    let text = stored["data"]["policy"].as_str().unwrap();
    let previewed: Vec<&str> = lines.clone();
    assert_eq!(text.lines().collect::<Vec<_>>(), previewed);
    let qa = app
        .bao
        .root_request("GET", "identity/group/name/qa", None)
        .await;
    assert_eq!(
        sorted(&qa["data"]["policies"]),
        ["keyway-staging-edit", "keyway-staging-view"]
    );

    // dave's Vault token (group policies apply at once) now reads and saves staging.
    let view = dave.ok("secret", json!({"secret": secret})).await;
    let version = view["version"].as_u64().unwrap();
    let saved = dave
        .call(
            "save",
            json!({"secret": secret, "base_version": version,
                   "changes": {"set": {"NEW_KEY": "from-dave"}, "remove": [], "rename": []}}),
        )
        .await;
    assert_eq!(saved.0, 200, "{}", saved.1);

    // Applying the same plan again changes nothing (and is not a conflict with itself).
    let now = access(&mut platform, "staging").await;
    let again = platform
        .ok(
            "preview_access",
            plan_on(&now, vec![existing(&now, "qa", edit(), None)], None),
        )
        .await;
    assert_eq!(again["unchanged"], true, "{again}");

    let rows = app.audit_rows().await;
    let change = rows
        .iter()
        .find(|r| r.action == "access.change" && r.outcome == Outcome::Ok)
        .expect("the apply is audited");
    assert_eq!(change.actor_name, "userpass-platform");
    // The steps are on the intent row, written before the first Vault write.
    let intent = rows
        .iter()
        .find(|r| Some(r.seq) == change.intent_seq)
        .expect("the outcome names its intent");
    assert_eq!(intent.outcome, Outcome::Pending);
    let detail = intent.detail.as_deref().unwrap();
    assert!(detail.contains("environment staging"), "{detail}");
    assert!(
        detail.contains("create policy keyway-staging-edit (sha256 "),
        "{detail}"
    );
    assert!(
        detail.contains("group qa: +keyway-staging-view +keyway-staging-edit"),
        "{detail}"
    );
}

#[tokio::test]
async fn two_engineers_at_once_give_one_conflict_and_lose_nothing() {
    let app = TestApp::demo(&[]).await;
    let mut a = app.login("platform", "platform-pass").await;
    let mut b = app.login("platform", "platform-pass").await;
    let page = access(&mut a, "dev").await;
    let view_only = json!({"view": true, "edit": false, "restart": false});
    let restart = json!({"view": true, "edit": false, "restart": true});
    // Both read the same page, then both apply at the same moment.
    let (ra, rb) = tokio::join!(
        a.call(
            "apply_access",
            plan_on(&page, vec![existing(&page, "qa", view_only, None)], None)
        ),
        b.call(
            "apply_access",
            plan_on(&page, vec![existing(&page, "qa", restart, None)], None)
        ),
    );
    assert_eq!((ra.0.as_u16(), rb.0.as_u16()), (200, 200), "{ra:?} {rb:?}");
    let outcomes = [&ra.1, &rb.1];
    let done = outcomes.iter().filter(|o| o.get("Done").is_some()).count();
    let conflicts: Vec<&&Value> = outcomes
        .iter()
        .filter(|o| o.get("Conflict").is_some())
        .collect();
    assert_eq!((done, conflicts.len()), (1, 1), "{outcomes:?}");
    let said = conflicts[0]["Conflict"]["changes"][0].as_str().unwrap();
    assert!(
        said.contains("group qa")
            && (said.contains("added the policies") || said.contains("being applied right now")),
        "the conflict says what the other one did: {said}"
    );
    // What Vault holds is exactly the winner's change: nothing half-merged.
    let qa = app
        .bao
        .root_request("GET", "identity/group/name/qa", None)
        .await;
    let winner_restart = ra.1.get("Done").is_none();
    let expected: &[&str] = if winner_restart {
        &["keyway-dev-restart", "keyway-dev-view"]
    } else {
        &["keyway-dev-view"]
    };
    assert_eq!(sorted(&qa["data"]["policies"]), expected, "{outcomes:?}");

    // The loser, starting again from a fresh read, applies on top: nothing lost.
    let fresh = access(&mut b, "dev").await;
    let both = json!({"view": true, "edit": true, "restart": true});
    let applied = b
        .ok(
            "apply_access",
            plan_on(&fresh, vec![existing(&fresh, "qa", both, None)], None),
        )
        .await;
    assert!(applied.get("Done").is_some(), "{applied}");
    // A stale page (read before that) is refused, naming what changed.
    let stale = a
        .ok(
            "apply_access",
            plan_on(&page, vec![existing(&page, "qa", edit(), None)], None),
        )
        .await;
    let said = stale["Conflict"]["changes"][0].as_str().unwrap();
    assert!(said.contains("added the policies"), "{said}");
    let rows = app.audit_rows().await;
    assert!(rows
        .iter()
        .any(|r| r.action == "access.change" && r.outcome == Outcome::Conflict));
}

#[tokio::test]
async fn a_hand_written_policy_of_keyways_name_is_never_overwritten() {
    let app = TestApp::demo(&[]).await;
    let theirs = "path \"staging/data/*\" { capabilities = [\"read\"] }\n";
    app.bao.put_policy("keyway-staging-edit", theirs).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let page = access(&mut platform, "staging").await;
    let edit_state = page["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "keyway-staging-edit")
        .unwrap();
    assert_eq!(edit_state["state"], "Foreign");
    let grant = plan_on(&page, vec![existing(&page, "qa", edit(), None)], None);
    for endpoint in ["preview_access", "apply_access"] {
        let (code, body) = platform.call(endpoint, grant.clone()).await;
        assert_eq!(code, 422, "{endpoint}: {body}");
        assert!(
            body["Invalid"].as_str().unwrap().contains("did not write"),
            "{body}"
        );
    }
    let stored = app
        .bao
        .root_request("GET", "sys/policies/acl/keyway-staging-edit", None)
        .await;
    assert_eq!(stored["data"]["policy"], theirs);
    let qa = app
        .bao
        .root_request("GET", "identity/group/name/qa", None)
        .await;
    assert!(qa["data"]["policies"].is_null() || qa["data"]["policies"] == json!([]));
    // A view grant (its policy name is free) still works.
    let view = json!({"view": true, "edit": false, "restart": false});
    let applied = platform
        .ok(
            "apply_access",
            plan_on(&page, vec![existing(&page, "qa", view, None)], None),
        )
        .await;
    assert!(applied.get("Done").is_some(), "{applied}");
}

#[tokio::test]
async fn an_external_group_is_created_linked_to_its_identity_provider_group() {
    let app = TestApp::demo(&[]).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let page = access(&mut platform, "dev").await;
    assert!(
        page["auth_mounts"]
            .as_array()
            .unwrap()
            .contains(&json!("sso")),
        "{page}"
    );
    let change = json!({
        "target": {"New": {"name": "ops", "kind": {"External": {"mount": "sso", "alias": "platform-ops"}}}},
        "levels": {"view": true, "edit": false, "restart": true},
        "members": null,
    });
    let preview = platform
        .ok("preview_access", plan_on(&page, vec![change.clone()], None))
        .await;
    assert_eq!(
        preview["groups"][0]["alias"],
        json!({"name": "platform-ops", "mount": "sso"})
    );
    assert!(preview["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("next login")));
    let applied = platform
        .ok("apply_access", plan_on(&page, vec![change.clone()], None))
        .await;
    assert!(applied.get("Done").is_some(), "{applied}");
    let ops = app
        .bao
        .root_request("GET", "identity/group/name/ops", None)
        .await;
    assert_eq!(ops["data"]["type"], "external");
    assert_eq!(ops["data"]["alias"]["name"], "platform-ops");
    assert_eq!(ops["data"]["metadata"]["managed-by"], "keyway");
    assert_eq!(
        sorted(&ops["data"]["policies"]),
        ["keyway-dev-restart", "keyway-dev-view"]
    );
    // The page shows it with its link; setting members of an external group is refused.
    let page = access(&mut platform, "dev").await;
    assert_eq!(
        group(&page, "ops")["kind"]["External"]["alias"],
        json!({"name": "platform-ops", "mount": "sso"})
    );
    let dave = group(&page, "qa")["kind"]["Internal"]["members"][0]["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let members = existing(&page, "ops", edit(), Some(vec![dave]));
    let (code, body) = platform
        .call("preview_access", plan_on(&page, vec![members], None))
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["Invalid"].as_str().unwrap().contains("external group"),
        "{body}"
    );
    // Creating it again is refused: the name is taken.
    let (code, body) = platform
        .call("preview_access", plan_on(&page, vec![change], None))
        .await;
    assert_eq!(code, 422, "{body}");
}

#[tokio::test]
async fn members_are_found_by_login_name_and_set_on_an_internal_group() {
    let app = TestApp::demo(&[]).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let found = platform.ok("find_entities", json!({"query": "car"})).await;
    let carol = found
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"].as_str().unwrap().starts_with("carol"))
        .expect("carol found");
    let page = access(&mut platform, "dev").await;
    let qa = group(&page, "qa");
    let mut members: Vec<String> = qa["kind"]["Internal"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members.len(), 1, "dave");
    members.push(carol["id"].as_str().unwrap().to_string());
    let change = existing(
        &page,
        "qa",
        json!({"view": true, "edit": false, "restart": false}),
        Some(members),
    );
    let preview = platform
        .ok(
            "preview_access",
            plan_on(&page, vec![change.clone()], Some("carol")),
        )
        .await;
    assert!(
        preview["groups"][0]["members_added"][0]
            .as_str()
            .unwrap()
            .starts_with("carol"),
        "{preview}"
    );
    // carol already reads dev through her hand-written policy: shown as outside Keyway.
    let row = preview["effective"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"] == json!({"User": "carol"}) && r["environment"] == "dev")
        .unwrap();
    let view = row["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "View")
        .unwrap();
    assert_eq!(
        (
            view["before"].as_str(),
            view["after"].as_str(),
            view["outside"].as_bool()
        ),
        (Some("All"), Some("All"), Some(true))
    );
    platform
        .ok("apply_access", plan_on(&page, vec![change], None))
        .await;
    let qa = app
        .bao
        .root_request("GET", "identity/group/name/qa", None)
        .await;
    assert_eq!(qa["data"]["member_entity_ids"].as_array().unwrap().len(), 2);
    // Over the bounds: refused before anything is read or written.
    let many: Vec<Value> = (0..51).map(|i| json!({"target": {"New": {"name": format!("g{i}"), "kind": "Internal"}}, "levels": edit(), "members": []})).collect();
    let (code, body) = platform.call("apply_access", plan("dev", many, None)).await;
    assert_eq!(code, 422, "{body}");
}

#[tokio::test]
async fn an_apply_refuses_policies_changed_since_the_page_read_them_and_names_taken_in_any_case() {
    let app = TestApp::demo(&[]).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let view = json!({"view": true, "edit": false, "restart": false});
    let page = access(&mut platform, "dev").await;
    platform
        .ok(
            "apply_access",
            plan_on(&page, vec![existing(&page, "qa", view.clone(), None)], None),
        )
        .await;
    // Someone edits Keyway's policy by hand (keeping the marker) after the page was read.
    let page = access(&mut platform, "dev").await;
    let mine = app
        .bao
        .root_request("GET", "sys/policies/acl/keyway-dev-view", None)
        .await;
    let edited = format!("{}\n# a note\n", mine["data"]["policy"].as_str().unwrap());
    app.bao.put_policy("keyway-dev-view", &edited).await;
    let grant = plan_on(&page, vec![existing(&page, "qa", edit(), None)], None);
    let stale = platform.ok("apply_access", grant).await;
    let said = stale["Conflict"]["changes"].to_string();
    assert!(
        said.contains("changed the policy keyway-dev-view"),
        "{stale}"
    );
    let kept = app
        .bao
        .root_request("GET", "sys/policies/acl/keyway-dev-view", None)
        .await;
    assert_eq!(
        kept["data"]["policy"],
        edited.as_str(),
        "nothing overwritten"
    );
    // A forged plan that says nothing of the policies is refused the same way.
    let page = access(&mut platform, "dev").await;
    let forged = platform
        .ok(
            "apply_access",
            plan("dev", vec![existing(&page, "qa", edit(), None)], None),
        )
        .await;
    assert!(
        forged["Conflict"]["changes"]
            .to_string()
            .contains("reload the page"),
        "{forged}"
    );
    // Vault's group names ignore case: "QA" is qa, and is not created over it.
    let upper = json!({"target": {"New": {"name": "QA", "kind": "Internal"}}, "levels": view, "members": []});
    let (code, body) = platform
        .call("preview_access", plan_on(&page, vec![upper.clone()], None))
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["Invalid"].as_str().unwrap().contains("exists already"),
        "{body}"
    );
    // Applied without a preview, it is a conflict that names the group, and nothing is made.
    let taken = platform
        .ok("apply_access", plan_on(&page, vec![upper], None))
        .await;
    assert!(
        taken["Conflict"]["changes"]
            .to_string()
            .contains("named QA exists"),
        "{taken}"
    );
    let ids = app
        .bao
        .root_request("LIST", "identity/group/name", None)
        .await;
    assert_eq!(ids["data"]["keys"].as_array().unwrap().len(), 1, "{ids}");
}

#[tokio::test]
async fn an_engineer_of_one_environment_cannot_change_members_of_a_group_of_another() {
    let app = TestApp::demo(&[]).await;
    // A platform policy narrowed to dev: Keyway's policy names of dev only.
    let platform = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/demo/policies/platform.hcl"
    ))
    .unwrap();
    let dev_only = platform.replace(
        "path \"sys/policies/acl/keyway-*\"",
        "path \"sys/policies/acl/keyway-dev-*\"",
    );
    assert_ne!(dev_only, platform);
    app.bao.put_policy("platform-dev", &dev_only).await;
    app.bao
        .add_user("pdev", "pdev-pass", &["platform-dev"])
        .await;
    let mut root = app.login("platform", "platform-pass").await;
    let page = access(&mut root, "staging").await;
    root.ok(
        "apply_access",
        plan_on(&page, vec![existing(&page, "qa", edit(), None)], None),
    )
    .await;

    let mut pdev = app.login("pdev", "pdev-pass").await;
    let menu = pdev.ok("platform_menu", json!({})).await;
    assert_eq!(menu["access"], json!(["dev"]));
    let (code, _) = pdev
        .call("environment_access", json!({"environment": "staging"}))
        .await;
    assert_eq!(code, 403);
    // An environment Keyway does not serve reads the same as one not managed: no oracle.
    let (code, body) = pdev
        .call("environment_access", json!({"environment": "nowhere"}))
        .await;
    assert_eq!(code, 403, "{body}");
    // qa holds staging levels: pdev may not change its members from dev's page.
    let page = access(&mut pdev, "dev").await;
    let found = pdev.ok("find_entities", json!({"query": "bob"})).await;
    let bob = found[0]["id"].as_str().unwrap().to_string();
    let qa = group(&page, "qa");
    let mut members: Vec<String> = qa["kind"]["Internal"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity_id"].as_str().unwrap().to_string())
        .collect();
    members.push(bob);
    let change = existing(
        &page,
        "qa",
        json!({"view": false, "edit": false, "restart": false}),
        Some(members),
    );
    for endpoint in ["preview_access", "apply_access"] {
        let (code, body) = pdev
            .call(endpoint, plan_on(&page, vec![change.clone()], None))
            .await;
        assert_eq!(code, 403, "{endpoint}: {body}");
        assert!(
            body["Denied"].as_str().unwrap().contains("staging"),
            "{body}"
        );
    }
    let qa = app
        .bao
        .root_request("GET", "identity/group/name/qa", None)
        .await;
    assert_eq!(qa["data"]["member_entity_ids"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn members_of_a_group_holding_a_hand_written_policy_are_not_changed_here() {
    let app = TestApp::demo(&[]).await;
    // A group someone made in Vault, holding a hand-written policy Keyway cannot bound.
    app.bao
        .root_request(
            "POST",
            "identity/group",
            Some(json!({"name": "ops", "type": "internal", "policies": ["dev-editor"]})),
        )
        .await;
    let mut platform = app.login("platform", "platform-pass").await;
    let page = access(&mut platform, "dev").await;
    let found = platform.ok("find_entities", json!({"query": "bob"})).await;
    let bob = found[0]["id"].as_str().unwrap().to_string();
    let change = existing(&page, "ops", edit(), Some(vec![bob]));
    for endpoint in ["preview_access", "apply_access"] {
        let (code, body) = platform
            .call(endpoint, plan_on(&page, vec![change.clone()], None))
            .await;
        assert_eq!(code, 403, "{endpoint}: {body}");
        assert!(
            body["Denied"].as_str().unwrap().contains("dev-editor"),
            "{body}"
        );
    }
    // A group holding nothing, but a member of one holding a hand-written policy: its members
    // get that policy too, so they are not changed here either.
    let child = app
        .bao
        .root_request(
            "POST",
            "identity/group",
            Some(json!({"name": "ops-juniors", "type": "internal"})),
        )
        .await;
    let child_id = child["data"]["id"].as_str().unwrap().to_string();
    app.bao
        .root_request(
            "POST",
            "identity/group/name/ops",
            Some(json!({"member_group_ids": [child_id]})),
        )
        .await;
    let page = access(&mut platform, "dev").await;
    let bob = found[0]["id"].as_str().unwrap().to_string();
    let change = existing(&page, "ops-juniors", edit(), Some(vec![bob]));
    let (code, body) = platform
        .call("apply_access", plan_on(&page, vec![change], None))
        .await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["Denied"]
            .as_str()
            .unwrap()
            .contains("through the group ops"),
        "{body}"
    );
    let ops = app
        .bao
        .root_request("GET", "identity/group/name/ops", None)
        .await;
    assert!(
        ops["data"]["member_entity_ids"].is_null() || ops["data"]["member_entity_ids"] == json!([]),
        "{ops}"
    );
    assert_eq!(
        ops["data"]["policies"],
        json!(["dev-editor"]),
        "nothing written"
    );
    let refused = app
        .audit_rows()
        .await
        .iter()
        .filter(|r| r.action == "access.change" && r.outcome == Outcome::Denied)
        .count();
    assert_eq!(refused, 2, "the refused applies are audited");
}

#[tokio::test]
async fn the_same_change_sent_again_after_it_was_applied_finishes_without_a_conflict() {
    let app = TestApp::demo(&[]).await;
    let mut platform = app.login("platform", "platform-pass").await;
    let page = access(&mut platform, "staging").await;
    let grant = plan_on(&page, vec![existing(&page, "qa", edit(), None)], None);
    let first = platform.ok("apply_access", grant.clone()).await;
    assert!(
        first["Done"]["steps"].as_array().unwrap().len() >= 3,
        "{first}"
    );
    // As after a failure midway: the page was not read again, and the same change goes again.
    // What it wants is in Vault already, so nothing is written and nobody's change is lost.
    let again = platform.ok("apply_access", grant).await;
    assert_eq!(again, json!({"Done": {"steps": []}}), "{again}");
}

#[tokio::test]
async fn members_of_a_group_holding_a_keyway_policy_edited_by_hand_are_not_changed_here() {
    let app = TestApp::demo(&[]).await;
    // Keyway's marker kept, the text widened by hand: the marker alone proves nothing.
    app.bao
        .put_policy(
            "keyway-payments-view",
            "# Managed by Keyway\npath \"staging/data/*\" { capabilities = [\"read\"] }\n",
        )
        .await;
    app.bao
        .root_request(
            "POST",
            "identity/group",
            Some(
                json!({"name": "mixed", "type": "internal", "policies": ["keyway-payments-view"]}),
            ),
        )
        .await;
    let mut platform = app.login("platform", "platform-pass").await;
    let page = access(&mut platform, "dev").await;
    let found = platform.ok("find_entities", json!({"query": "bob"})).await;
    let bob = found[0]["id"].as_str().unwrap().to_string();
    let change = existing(&page, "mixed", edit(), Some(vec![bob]));
    let (code, body) = platform
        .call("apply_access", plan_on(&page, vec![change], None))
        .await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["Denied"]
            .as_str()
            .unwrap()
            .contains("keyway-payments-view, which was edited outside Keyway"),
        "{body}"
    );
    let mixed = app
        .bao
        .root_request("GET", "identity/group/name/mixed", None)
        .await;
    assert_eq!(
        mixed["data"]["policies"],
        json!(["keyway-payments-view"]),
        "nothing written: {mixed}"
    );
}
