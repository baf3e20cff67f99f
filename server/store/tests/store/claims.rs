//! Restart claims hold across replicas: two pools on one database (two Keyway replicas) never
//! both claim a workload while the claim lasts, a click that cannot claim all its workloads
//! claims none, a claim past its time or given back is free again, and only the click holding a
//! claim can give it back.

use std::time::Duration;

use keyway_store::{ClaimKey, RestartClaims};

use crate::common::{on_both_backends, TestDb};

on_both_backends!(
    a_claim_held_by_one_replica_is_refused_to_the_other,
    a_click_that_cannot_claim_every_workload_claims_none,
    a_claim_past_its_time_or_given_back_is_free_again,
    of_many_clicks_at_once_on_two_replicas_exactly_one_claims,
);

fn key(name: &str) -> ClaimKey {
    ClaimKey {
        namespace: "staging".into(),
        kind: "Deployment".into(),
        name: name.into(),
    }
}

const HOLD: Duration = Duration::from_secs(30);

async fn a_claim_held_by_one_replica_is_refused_to_the_other(t: TestDb) {
    let one = RestartClaims::new(t.db.clone());
    let two = RestartClaims::new(t.another_replica().await);
    assert!(one.claim(&[key("webapp")], HOLD).await.unwrap().is_ok());
    assert_eq!(
        two.claim(&[key("webapp")], HOLD).await.unwrap(),
        Err(key("webapp"))
    );
    assert_eq!(
        one.claim(&[key("webapp")], HOLD).await.unwrap(),
        Err(key("webapp")),
        "the same replica is refused too"
    );
    let other_ns = ClaimKey {
        namespace: "dev".into(),
        ..key("webapp")
    };
    assert!(two.claim(&[other_ns], HOLD).await.unwrap().is_ok());
}

async fn a_click_that_cannot_claim_every_workload_claims_none(t: TestDb) {
    let claims = RestartClaims::new(t.db.clone());
    claims.claim(&[key("worker")], HOLD).await.unwrap().unwrap();
    assert_eq!(
        claims
            .claim(&[key("webapp"), key("worker")], HOLD)
            .await
            .unwrap(),
        Err(key("worker"))
    );
    assert!(
        claims.claim(&[key("webapp")], HOLD).await.unwrap().is_ok(),
        "webapp was not left claimed by the refused click"
    );
}

async fn a_claim_past_its_time_or_given_back_is_free_again(t: TestDb) {
    let claims = RestartClaims::new(t.db.clone());
    claims
        .claim(&[key("webapp")], Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let held = claims
        .claim(&[key("webapp")], HOLD)
        .await
        .unwrap()
        .expect("a claim whose time is past is taken over");
    claims.release(&held, &[key("webapp")]).await.unwrap();
    let again = claims
        .claim(&[key("webapp")], HOLD)
        .await
        .unwrap()
        .expect("a claim given back is free");
    // A click that gives back late (its claim long taken over) frees nothing of the new one.
    claims.release(&held, &[key("webapp")]).await.unwrap();
    assert_eq!(
        claims.claim(&[key("webapp")], HOLD).await.unwrap(),
        Err(key("webapp")),
        "the stale release left the newer claim held"
    );
    claims.release(&again, &[key("webapp")]).await.unwrap();
    assert!(claims.claim(&[key("webapp")], HOLD).await.unwrap().is_ok());
}

async fn of_many_clicks_at_once_on_two_replicas_exactly_one_claims(t: TestDb) {
    let replicas = [
        RestartClaims::new(t.db.clone()),
        RestartClaims::new(t.another_replica().await),
    ];
    let mut clicks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = replicas[i % 2].clone();
        clicks.spawn(async move { c.claim(&[key("webapp")], HOLD).await.unwrap() });
    }
    let mut won = 0;
    while let Some(claimed) = clicks.join_next().await {
        won += usize::from(claimed.unwrap().is_ok());
    }
    assert_eq!(won, 1);
}
