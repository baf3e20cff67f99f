//! Keyway on a real 3-node OpenBao raft cluster while its leader changes (issue 12, point 4).
//!
//! Two Keyways run on one cluster (`keyway_testkit::BaoCluster`): one given the three nodes'
//! addresses as a list (`KEYWAY_VAULT_ADDR=a,b,c`), one given a single standby's address (what
//! a Service in front of the nodes is: a standby forwards to whichever node is active). Each
//! runs a save loop on its own secret, as a user would: every save is check-and-set on the
//! version the last save gave, and a save answered "try again" is sent again unchanged. Meanwhile
//! the leader is killed (SIGKILL, a crash), started again, and the next leader is stopped the way
//! Kubernetes stops a pod (SIGTERM). Every save must either land once or be told the one "try
//! again" sentence; Vault's version history must hold exactly the saves that were reported
//! saved, each once; and each Keyway must save again after each election without a restart.
//! A single sign-on that started before the leader changed says "start again".

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use common::oidc::{approved, callback, login_page, CALLBACK};
use common::TestApp;
use keyway_store::{Action, NewEvent, Outcome};
use keyway_testkit::{BaoCluster, OidcProvider};
use serde_json::{json, Value};
use tokio::time::Instant;

/// What every Vault failure of an election reads as (`VaultError::Unreachable`/`NoActiveNode`).
const TRY_AGAIN: &str = "Vault cannot be reached right now. Try again in a moment.";
/// What a Keyway whose one node is stopped or restarting may say instead: that node is sealed
/// while it shuts down and until it is unsealed (`VaultError::Sealed`). Also a plain "try again".
const SEALED: &str =
    "Vault is sealed, so nothing can be read or saved. Try again once it is unsealed.";
/// The longest a save may keep getting "try again" (an election takes 1 to 3 s here).
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);
/// Between two tries of a save told to try again (a poll interval, not a wait for an outcome).
const RETRY_EVERY: Duration = Duration::from_millis(50);

/// The cluster tests take turns: two clusters at once (six OpenBao processes, two Keyways and
/// their loops) are too much for a 2-core CI machine whose other tests run too.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One save loop's shared counters, read by the chaos side to know the loop goes on.
#[derive(Default)]
struct Progress {
    landed: AtomicUsize,
    try_again: AtomicUsize,
}

/// What a save loop saw: each save reported saved (version, value), in order.
struct Record {
    landed: Vec<(u64, String)>,
    try_again: usize,
    /// The longest stretch between a first "try again" and the save landing.
    longest_outage: Duration,
}

/// Saves `counter=<i>` on `dev/<path>` again and again with check-and-set, retrying a save told
/// to try again unchanged, until `done` is set and one more save has landed. A save may be
/// answered only "saved" or one of the `try_again` sentences.
async fn save_loop(
    app: &TestApp,
    path: &str,
    try_again: &[&str],
    progress: &Progress,
    done: &AtomicBool,
) -> Record {
    let mut alice = app.login("alice", "alice-pass").await;
    let mut base = 1u64;
    let mut record = Record {
        landed: Vec::new(),
        try_again: 0,
        longest_outage: Duration::ZERO,
    };
    for i in 0.. {
        let finishing = done.load(Ordering::SeqCst);
        let value = format!("{path}-{i}");
        let args = json!({"secret": {"mount": "dev", "path": path}, "base_version": base,
                          "changes": {"set": {"counter": value}, "remove": [], "rename": []}});
        let mut first_failure: Option<Instant> = None;
        loop {
            let (status, body) = alice.call("save", args.clone()).await;
            match status {
                StatusCode::OK => {
                    let version = body["version"].as_u64().expect("a saved version");
                    assert_eq!(version, base + 1, "{path}: saved as {body}");
                    base = version;
                    record.landed.push((version, value.clone()));
                    progress.landed.fetch_add(1, Ordering::SeqCst);
                    if let Some(t) = first_failure {
                        record.longest_outage = record.longest_outage.max(t.elapsed());
                    }
                    break;
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(
                        try_again.iter().any(|s| body["Unavailable"] == *s),
                        "{path}: {body}"
                    );
                    record.try_again += 1;
                    progress.try_again.fetch_add(1, Ordering::SeqCst);
                    let since = *first_failure.get_or_insert_with(Instant::now);
                    assert!(
                        since.elapsed() < RECOVERY_DEADLINE,
                        "{path}: Keyway did not save again within {RECOVERY_DEADLINE:?} of the election"
                    );
                    tokio::time::sleep(RETRY_EVERY).await;
                }
                other => panic!("{path}: a save answered {other}: {body}"),
            }
        }
        if finishing {
            break;
        }
    }
    record
}

/// Waits (with a deadline) until both loops have landed `more` saves after `since`.
async fn until_both_saved(loops: [&Progress; 2], since: [usize; 2], more: usize, what: &str) {
    keyway_testkit::eventually(what, RECOVERY_DEADLINE, || async {
        (loops[0].landed.load(Ordering::SeqCst) >= since[0] + more
            && loops[1].landed.load(Ordering::SeqCst) >= since[1] + more)
            .then_some(())
    })
    .await;
}

fn landed(loops: [&Progress; 2]) -> [usize; 2] {
    loops.map(|p| p.landed.load(Ordering::SeqCst))
}

/// Checks Vault's own history of `dev/<path>` (read as root through the leader): versions 2..
/// are exactly the saves reported saved, in order, each value once.
async fn history_matches(cluster: &BaoCluster, path: &str, record: &Record) {
    let bao = cluster.bao(cluster.leader().await);
    let meta = bao
        .root_request("GET", &format!("dev/metadata/{path}"), None)
        .await;
    let current = meta["data"]["current_version"].as_u64().unwrap();
    assert_eq!(
        current,
        1 + record.landed.len() as u64,
        "{path}: Vault holds {current} versions for {} saves reported saved (and the first version)",
        record.landed.len()
    );
    let mut values = Vec::new();
    for version in 2..=current {
        let read = bao
            .root_request("GET", &format!("dev/data/{path}?version={version}"), None)
            .await;
        values.push((
            version,
            read["data"]["data"]["counter"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    assert_eq!(values, record.landed, "{path}: each save once, in order");
}

#[tokio::test]
async fn saves_land_once_or_say_try_again_while_the_leader_changes_and_keyway_recovers() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let mut cluster = BaoCluster::start().await;
    let cluster_up = started.elapsed();
    let first_leader = cluster.leader().await;
    let standby = (first_leader + 1) % 3;
    let root = cluster.bao(first_leader);
    TestApp::seed(&root).await;
    for path in ["ha/list", "ha/standby"] {
        root.kv_put("dev", path, json!({"counter": "start"})).await;
        // Keep every version, for the check of the whole history (the mount keeps 10).
        root.root_request(
            "POST",
            &format!("dev/metadata/{path}"),
            Some(json!({"max_versions": 1000})),
        )
        .await;
    }
    let listed = TestApp::at(cluster.bao(first_leader), &cluster.addr_list()).await;
    let one_standby = TestApp::at(cluster.bao(standby), &cluster.nodes[standby].addr).await;

    // A standby forwards: a save through it lands on the active node, and a read through it
    // right after shows that save (the cluster's standbys forward reads too; see the testkit).
    {
        let mut alice = one_standby.login("alice", "alice-pass").await;
        let saved = alice
            .ok(
                "save",
                json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 1,
                       "changes": {"set": {"via": "standby"}, "remove": [], "rename": []}}),
            )
            .await;
        assert_eq!(saved["version"], 2);
        let read: Value = alice
            .ok(
                "secret",
                json!({"secret": {"mount": "dev", "path": "webapp/config"}}),
            )
            .await;
        assert_eq!(
            read["version"], 2,
            "read after write through a standby: {read}"
        );
    }

    let (p_list, p_standby) = (Progress::default(), Progress::default());
    let done = AtomicBool::new(false);
    let loops = [&p_list, &p_standby];
    let chaos = async {
        until_both_saved(loops, [0, 0], 3, "both loops save before any election").await;

        // The leader crashes.
        let leader = cluster.leader().await;
        let (before, failures_before) = (
            landed(loops),
            p_list.try_again.load(Ordering::SeqCst) + p_standby.try_again.load(Ordering::SeqCst),
        );
        let t = Instant::now();
        cluster.kill(leader).await;
        until_both_saved(
            loops,
            before,
            2,
            "both Keyways save again after the leader was killed",
        )
        .await;
        let after_kill = t.elapsed();
        let failures = p_list.try_again.load(Ordering::SeqCst)
            + p_standby.try_again.load(Ordering::SeqCst)
            - failures_before;
        assert!(
            failures > 0,
            "killing the leader interrupted no save: the test saw no election"
        );
        let new_leader = cluster.leader().await;
        assert_ne!(new_leader, leader);

        // It comes back as a standby; then the new leader is stopped as a pod is. (Not handed
        // on with sys/step-down first: a node that stepped down sits out of the next election
        // for 10 s.) When that is the single-address Keyway's node, that Keyway saves again once
        // its node is back; the list's Keyway must not wait for that.
        let t = Instant::now();
        cluster.restart(leader).await;
        let rejoin = t.elapsed();
        let leader = cluster.leader().await;
        let before = landed(loops);
        let t = Instant::now();
        cluster.stop(leader).await;
        keyway_testkit::eventually(
            "the list's Keyway saves again after the leader was stopped",
            RECOVERY_DEADLINE,
            || async { (p_list.landed.load(Ordering::SeqCst) >= before[0] + 2).then_some(()) },
        )
        .await;
        let after_stop = t.elapsed();
        if leader != standby {
            until_both_saved(
                loops,
                before,
                2,
                "both Keyways save again after the leader was stopped",
            )
            .await;
        }
        cluster.restart(leader).await;
        let before = landed(loops);
        until_both_saved(
            loops,
            before,
            2,
            "both Keyways save with all three nodes back",
        )
        .await;
        done.store(true, Ordering::SeqCst);
        (after_kill, rejoin, after_stop)
    };
    let (through_list, through_standby, (after_kill, rejoin, after_stop)) = tokio::join!(
        save_loop(&listed, "ha/list", &[TRY_AGAIN], &p_list, &done),
        // Its one node may be the leader that is stopped, and is sealed while it stops.
        save_loop(
            &one_standby,
            "ha/standby",
            &[TRY_AGAIN, SEALED],
            &p_standby,
            &done
        ),
        chaos
    );

    history_matches(&cluster, "ha/list", &through_list).await;
    history_matches(&cluster, "ha/standby", &through_standby).await;
    eprintln!(
        "vault_ha: cluster up in {cluster_up:?}; saves through the list {} ({} told to try again, longest outage {:?}), through one standby {} ({}, {:?}); 2 saves each after the kill in {after_kill:?}, the node rejoined in {rejoin:?}, after a graceful stop in {after_stop:?}; whole test {:?}",
        through_list.landed.len(),
        through_list.try_again,
        through_list.longest_outage,
        through_standby.landed.len(),
        through_standby.try_again,
        through_standby.longest_outage,
        started.elapsed()
    );
}

/// The case behind "saving again is safe": a save whose answer was lost (a timeout, a leader
/// killed after the write was committed) is sent again unchanged, with the same base version. It
/// is reported saved, as the version it made, and Vault holds it once. No real election loses an
/// answer on demand, so the test makes by hand what a Keyway that stopped between the write and
/// its answer leaves: the intent row (through the audit store, as Keyway writes it) and the
/// version in Vault (written with the root token).
#[tokio::test]
async fn a_save_sent_again_after_its_answer_was_lost_lands_once() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let login = app
        .audit_rows()
        .await
        .into_iter()
        .find(|r| r.action() == Some(Action::Login))
        .expect("her login row");
    app.state
        .core
        .audit
        .begin(
            NewEvent::new(&login.actor_name, Action::SecretSave)
                .entity(&login.actor_entity)
                .secret("dev", "webapp/config")
                .versions(Some(1), None)
                // The key changes of `same_draft`: only an attempt of the same draft counts.
                .keys(
                    Vec::<String>::new(),
                    vec!["password".to_string()],
                    Vec::<String>::new(),
                ),
        )
        .await
        .unwrap();
    app.bao
        .kv_put(
            "dev",
            "webapp/config",
            json!({"username": "static-user", "password": "rotated"}),
        )
        .await;

    let again = alice.ok("save", same_draft()).await;
    assert_eq!(again["version"], 2, "the same save, found landed: {again}");
    let meta = app.vault_root_get("dev/metadata/webapp/config").await;
    assert_eq!(meta["data"]["current_version"], 2, "written once");

    // A different draft on the same old base is still a conflict.
    let other = json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 1,
                       "changes": {"set": {"password": "another"}, "remove": [], "rename": []}});
    let (status, body) = alice.call("save", other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

/// A draft both alice and bob made on version 1: the same data. Alice saves first; bob is told
/// of the conflict, not "saved", and the audit log credits the version to alice only.
#[tokio::test]
async fn the_same_draft_saved_by_another_user_on_the_same_base_is_a_conflict() {
    let app = TestApp::spawn().await;
    let mut alice = app.login("alice", "alice-pass").await;
    let mut bob = app.login("bob", "bob-pass").await;
    assert_eq!(alice.ok("save", same_draft()).await["version"], 2);
    let (status, body) = bob.call("save", same_draft()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let saved: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r.action() == Some(Action::SecretSave) && r.outcome == Outcome::Ok)
        .map(|r| r.actor_name)
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].contains("alice"), "{saved:?}");
}

/// One save of dev/webapp/config on version 1 (its password rotated).
fn same_draft() -> Value {
    json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 1,
           "changes": {"set": {"password": "rotated"}, "remove": [], "rename": []}})
}

/// Vault keeps an OIDC sign-in's state in the active node's memory: a sign-in started before the
/// leader was stopped cannot be finished on the next one. The browser comes back to the login
/// page with "start again" (not an error page, not "try again", which would fail the same way),
/// and a new sign-in goes through on the new leader.
#[tokio::test]
async fn a_sign_in_started_before_the_leader_changed_says_start_again() {
    const AGAIN: &str = "This sign-in expired or was already used; start again.";
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = BaoCluster::start().await;
    let leader = cluster.leader().await;
    let root = cluster.bao(leader);
    TestApp::seed(&root).await;
    let idp = OidcProvider::start(CALLBACK).await;
    // The role maps the groups claim, so she needs one.
    idp.add_user("alice", "alice-sso", &["payments-devs"]).await;
    idp.configure_relying_party(&root, "oidc", "Corporate SSO", "dev", CALLBACK)
        .await;
    let app = TestApp::at(cluster.bao(leader), &cluster.addr_list()).await;
    let mut browser = app.anonymous();

    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    cluster.stop(leader).await;
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    assert_eq!(callback(&mut browser, &back).await, "/login");
    let page = login_page(&browser).await;
    assert!(
        page.contains(&format!(">{AGAIN}<")),
        "the sentence exactly: {page}"
    );
    assert_eq!(browser.call("whoami", json!({})).await.1, Value::Null);

    let back = approved(&mut browser, &idp, "oidc", "alice", "alice-sso").await;
    assert_eq!(
        callback(&mut browser, &back).await,
        "/",
        "signed in on the new leader"
    );
    let me = browser.ok("whoami", json!({})).await;
    assert!(
        me["display_name"].as_str().unwrap().starts_with("oidc-"),
        "{me}"
    );
}
