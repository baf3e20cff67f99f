//! Many writers at once, in one process and across two pools (two replicas), never fork the chain
//! or leave a gap: the database serialises them.

use std::collections::HashSet;

use keyway_store::{Action, AuditLog, NewEvent, Outcome};

use crate::common::{on_both_backends, TestDb};

const WRITERS: usize = 50;

on_both_backends!(
    fifty_concurrent_writers_on_one_pool_produce_a_gapless_valid_chain,
    fifty_concurrent_writers_on_two_replicas_produce_a_gapless_valid_chain,
);

async fn write_concurrently(logs: Vec<AuditLog>) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let log = logs[i % logs.len()].clone();
        tasks.spawn(async move {
            let actor = format!("writer-{i}");
            if i % 2 == 0 {
                log.record(NewEvent::new(actor, Action::SecretReveal).secret("dev", "app"))
                    .await
                    .map(|_| ())
            } else {
                // Half of them take the two-step path, so intents and outcomes interleave.
                let intent = log.begin(crate::common::save_by(&actor)).await?;
                log.finish(&intent, Outcome::Ok, Some(i as i64), None)
                    .await
                    .map(|_| ())
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("the task ran").expect("the append succeeded");
    }
}

async fn assert_gapless_and_valid(log: &AuditLog) {
    let expected_rows = WRITERS + WRITERS / 2;
    let rows = log
        .list(keyway_store::Filter {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), expected_rows);
    let seqs: Vec<i64> = rows.iter().rev().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=expected_rows as i64).collect::<Vec<_>>());
    let ids: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), expected_rows, "no row was appended twice");
    let report = log.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.rows, expected_rows as u64);
    assert!(log.pending_intents().await.unwrap().is_empty());
}

async fn fifty_concurrent_writers_on_one_pool_produce_a_gapless_valid_chain(t: TestDb) {
    write_concurrently(vec![t.log()]).await;
    assert_gapless_and_valid(&t.log()).await;
}

async fn fifty_concurrent_writers_on_two_replicas_produce_a_gapless_valid_chain(t: TestDb) {
    let replica = t.another_replica().await;
    write_concurrently(vec![t.log(), AuditLog::new(replica.clone())]).await;
    assert_gapless_and_valid(&AuditLog::new(replica.clone())).await;
    replica.close().await;
}
