//! Fleet health on the local cluster (issue 10, part 3): the platform user sees the demo world's
//! failing app (`staging/worker`, whose Vault role may not read its secret) with the developer
//! page's plain reason, counts per environment, and filters; a developer is refused.

use super::*;

#[tokio::test]
async fn the_platform_team_sees_the_failing_app_with_its_reason_and_developers_are_refused() {
    let app = TestApp::on_cluster().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let (code, body) = alice
        .call(
            "fleet",
            json!({"query": {"environment": null, "problem": null, "text": "", "page": 0}}),
        )
        .await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["Denied"].as_str().unwrap().contains("keyway/fleet/"),
        "{body}"
    );

    let mut platform = app.login("platform", "platform-pass").await;
    let query = json!({"query": {"environment": null, "problem": null, "text": "", "page": 0}});
    // The caches fill in the background after Keyway starts: poll until the failure shows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let page = loop {
        let page = platform.ok("fleet", query.clone()).await;
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["app"] == "worker" && i["problem"] == "Failing");
        if found {
            break page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "staging/worker never showed as failing: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let worker = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["app"] == "worker")
        .unwrap();
    assert_eq!(worker["environment"], "staging");
    assert_eq!(
        worker["secret"],
        json!({"mount": "staging", "path": "worker/queue"})
    );
    assert_eq!(
        worker["sentence"],
        "The cluster is not allowed to read this secret in Vault."
    );
    let envs: Vec<&str> = page["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["dev", "payments", "staging"]);
    let staging = page["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["environment"] == "staging")
        .unwrap();
    assert_eq!(staging["apps"], 2);
    let failing = staging["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "Failing")
        .unwrap();
    assert!(failing[1].as_u64().unwrap() >= 1, "{staging}");
    // The healthy apps are not listed.
    assert!(!page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["app"] == "vault-kv-app" && i["problem"] == "Failing"));

    // Filters: by environment and problem (both narrow), and by text.
    let apps_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{}/{}",
                    i["environment"].as_str().unwrap(),
                    i["app"].as_str().unwrap()
                )
            })
            .collect()
    };
    let query = |environment: &str, problem: &str| json!({"query": {"environment": environment, "problem": problem, "text": "", "page": 0}});
    let staging_failing = platform.ok("fleet", query("staging", "Failing")).await;
    assert_eq!(
        apps_of(&staging_failing),
        ["staging/worker"],
        "{staging_failing}"
    );
    let dev_failing = platform.ok("fleet", query("dev", "Failing")).await;
    assert!(apps_of(&dev_failing).is_empty(), "{dev_failing}");
    let staging_old = platform.ok("fleet", query("staging", "OldValues")).await;
    assert!(
        !apps_of(&staging_old).contains(&"staging/worker".to_owned()),
        "a failing app is listed under its one problem: {staging_old}"
    );
    let by_text = platform
        .ok(
            "fleet",
            json!({"query": {"environment": null, "problem": null, "text": "WORK", "page": 0}}),
        )
        .await;
    assert!(by_text["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["app"] == "worker"));
    assert!(by_text["matched"].as_u64().unwrap() >= 1);
    // Bounded inputs.
    let (code, _) = platform
        .call("fleet", json!({"query": {"environment": null, "problem": null, "text": "x".repeat(300), "page": 0}}))
        .await;
    assert_eq!(code, 422);
}
