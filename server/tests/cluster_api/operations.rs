//! Operating Keyway on the local cluster (issue 12, part 5): `/readyz` is 503 with the cluster's
//! reason until every watch cache has listed, 200 after; and `/metrics` counts the demo world's
//! apps by state per environment (the failing `staging/worker` among them) and reports how far
//! behind the operator is in each, with no app, secret or workload named.

use super::*;
use common::sample;

#[tokio::test]
async fn readyz_waits_for_the_watch_caches_and_metrics_count_the_apps_by_state() {
    let api = std::env::var("KEYWAY_K8S_SERVER").expect("KEYWAY_K8S_SERVER is set by cluster/up");
    let relay = common::HeldRelay::start(api.trim_start_matches("https://")).await;
    let dir = tempfile::tempdir().unwrap();
    let kcfg = kubeconfig_with_server(dir.path(), &format!("https://127.0.0.1:{}", relay.port));
    let app = TestApp::on_cluster_with(&kcfg).await;
    eventually(
        "the relay has a connection",
        Duration::from_secs(10),
        || async { relay.connections().gt(&0).then_some(()) },
    )
    .await;
    // Reachable, not listed yet: not ready, and the body says why.
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body, format!("not ready:\ncluster: {CLUSTER_LOADING}\n"));
    relay.release();
    app.cluster_loaded().await;
    let ready = eventually("ready once listed", Duration::from_secs(30), async || {
        let (status, body) = app.get("/readyz").await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(ready, "ready\n");

    // The failing app's events arrive with the lists; poll until fleet health sees it.
    let text = eventually(
        "staging/worker counted as failing",
        Duration::from_secs(30),
        async || {
            let text = app.scrape().await;
            (sample(
                &text,
                "keyway_apps{environment=\"staging\",state=\"failing\"}",
            ) == Some(1.0))
            .then_some(text)
        },
    )
    .await;
    // Every app counted once, whatever its state: the other tests of this suite save and
    // restart in the same world at the same time, so only the failing app's state is fixed.
    let apps_in = |env: &str| -> f64 {
        std::iter::once("ok")
            .chain(keyway_k8s::fleet::Problem::ALL.map(|p| p.as_str()))
            .filter_map(|state| {
                sample(
                    &text,
                    &format!("keyway_apps{{environment=\"{env}\",state=\"{state}\"}}"),
                )
            })
            .sum()
    };
    assert!(apps_in("dev") >= 1.0, "{text}");
    assert!(apps_in("staging") >= 2.0, "{text}");
    for env in ["dev", "payments", "staging"] {
        let lag = sample(
            &text,
            &format!("keyway_sync_lag_seconds{{environment=\"{env}\"}}"),
        );
        assert!(lag.is_some_and(|s| s >= 0.0), "{env}: {text}");
    }
    // Environments are labels; apps, secrets and workloads are not.
    for private in ["worker", "webapp", "queue"] {
        assert!(!text.contains(private), "{private} appears in:\n{text}");
    }
}
