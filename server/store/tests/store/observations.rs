//! Cluster observations, the timeline's record: newest first per secret, stamped with the
//! database's clock; two replicas recording the same thing write one row (a restart stamp once,
//! whatever version each saw with it); an app keeps at most `MAX_PER_APP` rows; the rows are
//! still there after reconnecting (a restart of Keyway).

use keyway_store::observations::{
    NewObservation, Observations, ObservedApp, ObservedWorkload, Restarter, Seen, MAX_PER_APP,
};

use crate::common::{on_both_backends, TestDb};

on_both_backends!(
    observations_come_back_newest_first_for_their_secret_only,
    two_replicas_recording_the_same_observation_write_one_row,
    an_app_keeps_its_newest_rows_only,
);

fn app(name: &str, path: &str) -> ObservedApp {
    ObservedApp {
        namespace: "dev".into(),
        name: name.into(),
        mount: "dev".into(),
        path: path.into(),
    }
}

fn web() -> ObservedWorkload {
    ObservedWorkload {
        kind: "Deployment".into(),
        name: "web".into(),
    }
}

fn seen(app: &ObservedApp, seen: Seen) -> NewObservation {
    NewObservation {
        app: app.clone(),
        seen,
    }
}

/// The three steps of one version on `web`.
fn version_steps(a: &ObservedApp, v: u64) -> Vec<NewObservation> {
    vec![
        seen(a, Seen::Live { version: v }),
        seen(
            a,
            Seen::Restarted {
                workload: web(),
                by: Restarter::Keyway,
                version: Some(v),
                marker: format!("2026-12-04T10:00:{v:02}Z"),
            },
        ),
        seen(
            a,
            Seen::Running {
                workload: web(),
                version: v,
                generation: v as i64 + 1,
            },
        ),
    ]
}

async fn observations_come_back_newest_first_for_their_secret_only(t: TestDb) {
    let store = Observations::new(t.db.clone());
    let a = app("webapp", "webapp/config");
    let other = app("worker", "worker/queue");
    let before = now_ms();
    assert_eq!(store.record(&version_steps(&a, 2)).await.unwrap(), 3);
    assert_eq!(store.record(&version_steps(&other, 9)).await.unwrap(), 3);
    assert_eq!(store.record(&version_steps(&a, 3)).await.unwrap(), 3);
    let after = now_ms();

    let got = store.of_secret("dev", "webapp/config", 100).await.unwrap();
    assert_eq!(got.len(), 6, "{got:#?}");
    assert!(got.iter().all(|o| o.app == a));
    let versions: Vec<u64> = got
        .iter()
        .map(|o| match &o.seen {
            Seen::Live { version } | Seen::Running { version, .. } => *version,
            Seen::Restarted { version, .. } => version.unwrap(),
        })
        .collect();
    assert_eq!(versions, [3, 3, 3, 2, 2, 2], "newest first");
    assert!(matches!(got[0].seen, Seen::Running { generation: 4, .. }));
    for o in &got {
        assert!(
            // The database's clock, to the millisecond; a little slack for a clock a hair off.
            o.at_ms >= before - 1000 && o.at_ms <= after + 1000,
            "{} not within {before}..{after}",
            o.at_ms
        );
    }
    assert_eq!(
        store
            .of_secret("dev", "webapp/config", 2)
            .await
            .unwrap()
            .len(),
        2
    );

    // A restart of Keyway: a new pool finds every row.
    let again = Observations::new(t.another_replica().await);
    assert_eq!(
        again.of_secret("dev", "webapp/config", 100).await.unwrap(),
        got
    );
}

async fn two_replicas_recording_the_same_observation_write_one_row(t: TestDb) {
    let one = Observations::new(t.db.clone());
    let two = Observations::new(t.another_replica().await);
    let a = app("webapp", "webapp/config");
    let batch = version_steps(&a, 5);
    let (x, y) = tokio::join!(one.record(&batch), two.record(&batch));
    assert_eq!(x.unwrap() + y.unwrap(), 3, "each row written once");
    assert_eq!(one.record(&batch).await.unwrap(), 0);
    // A second restart of the same workload on the same version is another row: its stamp differs.
    let again = seen(
        &a,
        Seen::Restarted {
            workload: web(),
            by: Restarter::Outside,
            version: Some(5),
            marker: "2026-12-04T10:09:00Z".into(),
        },
    );
    assert_eq!(two.record(std::slice::from_ref(&again)).await.unwrap(), 1);
    // The same stamp seen by a replica that looked a moment later, with the next version
    // already live: still that one restart.
    let Seen::Restarted {
        workload,
        by,
        marker,
        ..
    } = again.seen
    else {
        unreachable!()
    };
    let late = Seen::Restarted {
        workload,
        by,
        version: Some(6),
        marker,
    };
    assert_eq!(one.record(&[seen(&a, late)]).await.unwrap(), 0);
    assert_eq!(
        one.of_secret("dev", "webapp/config", 100)
            .await
            .unwrap()
            .len(),
        4
    );
}

async fn an_app_keeps_its_newest_rows_only(t: TestDb) {
    let store = Observations::new(t.db.clone());
    let a = app("webapp", "webapp/config");
    let other = app("worker", "worker/queue");
    store.record(&version_steps(&other, 1)).await.unwrap();
    let lives: Vec<NewObservation> = (1..=MAX_PER_APP as u64 + 5)
        .map(|v| seen(&a, Seen::Live { version: v }))
        .collect();
    for chunk in lives.chunks(200) {
        store.record(chunk).await.unwrap();
    }
    let kept = store.of_secret("dev", "webapp/config", 2000).await.unwrap();
    assert_eq!(kept.len() as i64, MAX_PER_APP);
    assert_eq!(
        kept.last().unwrap().seen,
        Seen::Live { version: 6 },
        "the oldest five went"
    );
    assert_eq!(
        store
            .of_secret("dev", "worker/queue", 10)
            .await
            .unwrap()
            .len(),
        3,
        "another app's rows are its own"
    );
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
