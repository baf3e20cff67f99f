//! The timeline (issue 11, part 4), end to end on the local cluster with two Keyway replicas on
//! one database: a restart stamped by a script is marked as made outside Keyway; a save through
//! Keyway, Sync now, a restart through Keyway and the completed rollout give the four steps in
//! order, with plausible times, each recorded once although both replicas watched; a direct
//! OpenBao write (what `bao kv put` does) and another `kubectl rollout restart` are marked as
//! outside Keyway; a Keyway started afterwards (a restart of Keyway) shows the same timeline;
//! and a user who may not read the secret's metadata gets none.

use jiff::Timestamp;

use super::*;

/// `kubectl rollout restart` with the admin kubeconfig, as a platform engineer would.
async fn kubectl_rollout_restart(name: &str) {
    let kubectl = format!("{}/kubectl", common::cluster_env("KEYWAY_K8S_BIN"));
    let out = tokio::process::Command::new(kubectl)
        .args([
            "-n",
            "dev",
            "rollout",
            "restart",
            &format!("deployment/{name}"),
        ])
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl rollout restart: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The app's timeline in a `timeline` answer.
fn app_timeline<'a>(v: &'a Value, s: &Stage) -> Option<&'a Value> {
    v["apps"]
        .as_array()?
        .iter()
        .find(|a| a["app"]["name"] == s.app())
}

/// Version `n` in the app's timeline.
fn version(t: &Value, n: u64) -> Option<&Value> {
    t["versions"].as_array()?.iter().find(|v| v["version"] == n)
}

/// Polls the timeline until version `n` of the app satisfies `pred`; returns that version.
async fn version_until(
    c: &mut common::Client<'_>,
    s: &Stage,
    n: u64,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    until(what, Duration::from_secs(90), async || {
        let whole = c
            .ok(
                "timeline",
                json!({"secret": {"mount": "dev", "path": s.path}}),
            )
            .await;
        match app_timeline(&whole, s).and_then(|t| version(t, n)) {
            Some(v) if pred(v) => Ok(v.clone()),
            // What the app card says, too: a rollout still running explains a missing step.
            Some(v) => Err(format!("{v:#}; the app now: {}", status_of(c, s).await)),
            None => Err(format!("no version {n} of {} yet: {whole:#}", s.app())),
        }
    })
    .await
}

fn time(v: &Value) -> Timestamp {
    v.as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// Stamps the Deployment's `kubectl.kubernetes.io/restartedAt` as a script of the platform team
/// would, dated `ago` back (so Keyway's 30 s cooldown does not hold up a restart right after).
async fn restart_by_script(name: &str, ago: jiff::SignedDuration) {
    let stamp = Timestamp::now()
        .checked_sub(ago)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": stamp}}}}});
    let params = kube::api::PatchParams {
        field_manager: Some("platform-script".into()),
        ..Default::default()
    };
    Api::<Deployment>::namespaced(admin().await, "dev")
        .patch(name, &params, &kube::api::Patch::Strategic(&patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_version_reads_written_live_restarted_running_and_who_did_each() {
    let app = TestApp::on_cluster().await;
    app.cluster_loaded().await;
    // A second replica on the same database watches the same cluster.
    let replica = app.another_replica().await;
    replica.cluster_loaded().await;
    // A name of this run's own: versions start at 1, and no Secret of an earlier run's app,
    // still being garbage-collected, is taken for this one's.
    let s = stage(&app, &format!("tl{}", std::process::id()), json!({})).await;
    let name = s.app();
    create_deployment(deployment(&name, &name, json!({}))).await;
    let mut alice = app.login("alice", "alice-pass").await;
    status_until(
        &mut alice,
        &s,
        "live and up to date",
        Duration::from_secs(40),
        |v| live(v) == "live" && pods(v, &name) == "up_to_date",
    )
    .await;

    // 1. A restart made outside Keyway (a script), on version 1 (written as root: outside
    // Keyway too). Seeing it also shows that the observer knows the app and its workload.
    restart_by_script(&name, jiff::SignedDuration::from_mins(5)).await;
    let v1 = version_until(
        &mut alice,
        &s,
        1,
        "the script's restart of version 1",
        |v| v["restarts"][0]["by"] == "outside" && !v["running"].as_array().unwrap().is_empty(),
    )
    .await;
    assert_eq!(v1["written"]["by"], "outside", "{v1:#}");
    assert_eq!(v1["restarts"][0]["workload"]["name"], name);

    // 2. A save through Keyway, Sync now, a restart through Keyway, the rollout.
    let saved = alice
        .ok(
            "save",
            json!({"secret": {"mount": "dev", "path": s.path}, "base_version": 1,
                   "changes": {"set": {"token": "timeline-2"}, "remove": [], "rename": []}}),
        )
        .await;
    assert_eq!(saved["version"], 2, "{saved}");
    let secret = json!({"mount": "dev", "path": s.path});
    let target = json!({"namespace": "dev", "name": name});
    alice
        .ok("sync_now", json!({"secret": secret, "app": target}))
        .await;
    status_until(
        &mut alice,
        &s,
        "live, restart needed",
        Duration::from_secs(20),
        |v| live(v) == "live" && pods(v, &name) == "restart_needed",
    )
    .await;
    let restart = json!({"secret": secret, "app": target,
                          "workload": {"kind": "Deployment", "name": name}, "sync_first": false});
    alice.ok("restart", restart.clone()).await;
    let v2 = version_until(&mut alice, &s, 2, "version 2's four steps", |v| {
        v["live"].is_string()
            && !v["restarts"].as_array().unwrap().is_empty()
            && !v["running"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(
        v2["written"]["by"]["keyway"]["user"], "userpass-alice",
        "{v2:#}"
    );
    assert_eq!(
        v2["restarts"].as_array().unwrap().len(),
        1,
        "recorded once by two replicas: {v2:#}"
    );
    assert_eq!(
        v2["restarts"][0]["by"]["keyway"]["user"], "userpass-alice",
        "{v2:#}"
    );
    assert_eq!(v2["running"].as_array().unwrap().len(), 1, "{v2:#}");
    let (written, live_at) = (time(&v2["written"]["at"]), time(&v2["live"]));
    let (restarted, running) = (
        time(&v2["restarts"][0]["at"]),
        time(&v2["running"][0]["at"]),
    );
    assert!(
        written <= live_at && live_at <= restarted && restarted <= running,
        "in order: {v2:#}"
    );
    let minute = jiff::SignedDuration::from_secs(60);
    assert!(
        live_at.duration_since(written) < minute,
        "live within a minute of the save: {v2:#}"
    );
    assert!(
        running.duration_since(restarted) < 2 * minute,
        "running within two minutes: {v2:#}"
    );
    let summary = v2["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("Live ")
            && summary.contains(" after the save, restarted ")
            && summary.contains(" later, pods up to date ")
            && summary.ends_with(" later."),
        "{summary}"
    );

    // 3. A direct OpenBao write (as `bao kv put` makes it) and a kubectl restart: both outside.
    let v3_number = app
        .bao
        .kv_put("dev", &s.path, json!({"token": "timeline-3"}))
        .await;
    assert_eq!(v3_number, 3);
    alice
        .ok("sync_now", json!({"secret": secret, "app": target}))
        .await;
    version_until(&mut alice, &s, 3, "version 3 live", |v| {
        v["live"].is_string()
    })
    .await;
    kubectl_rollout_restart(&name).await;
    let v3 = version_until(
        &mut alice,
        &s,
        3,
        "version 3 restarted outside Keyway",
        |v| v["restarts"][0]["by"] == "outside" && !v["running"].as_array().unwrap().is_empty(),
    )
    .await;
    assert_eq!(v3["written"]["by"], "outside", "{v3:#}");
    assert!(
        v3["summary"]
            .as_str()
            .unwrap()
            .contains(" after the write, "),
        "{v3:#}"
    );

    // 4. A Keyway started now (a restart of Keyway, on the same database) shows the same
    // timeline, and recorded nothing anew at its start.
    let whole = alice
        .ok(
            "timeline",
            json!({"secret": {"mount": "dev", "path": s.path}}),
        )
        .await;
    let restarted_keyway = app.another_replica().await;
    restarted_keyway.cluster_loaded().await;
    let mut alice_again = restarted_keyway.login("alice", "alice-pass").await;
    let again = alice_again
        .ok(
            "timeline",
            json!({"secret": {"mount": "dev", "path": s.path}}),
        )
        .await;
    assert_eq!(app_timeline(&again, &s), app_timeline(&whole, &s));

    // The metadata rule of the History tab: dave may read nothing of dev.
    let mut dave = app.login("dave", "dave-pass").await;
    let (code, body) = dave
        .call(
            "timeline",
            json!({"secret": {"mount": "dev", "path": s.path}}),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    drop(replica);
}
