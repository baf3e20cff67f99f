//! The wording and the button rules of the cluster panel, case by case.

use super::*;
use crate::dto::AppDetails;

const NOW: i64 = 1_800_000_000;

fn workload(pods: PodsState) -> WorkloadState {
    WorkloadState {
        kind: crate::dto::WorkloadKind::Deployment,
        name: "web".into(),
        pods,
        auto_restart: None,
        restart_refusal: None,
        replicas: 3,
        ready: 2,
    }
}

fn app(live: LiveState, workloads: Vec<WorkloadState>) -> ClusterApp {
    ClusterApp {
        namespace: "dev".into(),
        name: "webapp".into(),
        live,
        workloads,
        may_act: true,
        grant_path: "keyway/dev/webapp/restart".into(),
        details: AppDetails {
            secret: "webapp-config".into(),
            refresh_after: Some("60s".into()),
            synced_version: Some(6),
            secret_changed: None,
            conditions: vec![],
            events: vec![],
        },
    }
}

fn pending(next_refresh_due: Option<i64>) -> LiveState {
    LiveState::Pending {
        cluster_version: Some(6),
        vault_version: 7,
        written: NOW - 20,
        next_refresh_due,
    }
}

const RESTARTING: PodsState = PodsState::Restarting {
    message: String::new(),
    updated: 1,
    total: 3,
};

#[test]
fn ages_use_the_shortest_plain_unit() {
    assert_eq!(ago(NOW, NOW - 12), "12 s ago");
    assert_eq!(ago(NOW, NOW - 59), "59 s ago");
    assert_eq!(ago(NOW, NOW - 60), "1 min ago");
    assert_eq!(ago(NOW, NOW - 200), "3 min ago");
    assert_eq!(ago(NOW, NOW - 2 * 3_600 - 5), "2 h ago");
    assert_eq!(ago(NOW, NOW - 86_400), "1 day ago");
    assert_eq!(ago(NOW, NOW - 3 * 86_400), "3 days ago");
}

#[test]
fn a_time_now_or_slightly_ahead_of_this_clock_is_just_now() {
    assert_eq!(ago(NOW, NOW), "just now");
    assert_eq!(ago(NOW, NOW + 3), "just now");
}

#[test]
fn times_to_come_count_down_and_stop_at_now() {
    assert_eq!(in_(NOW, NOW + 20), "in 20 s");
    assert_eq!(in_(NOW, NOW + 120), "in 2 min");
    assert_eq!(in_(NOW, NOW), "now");
    assert_eq!(in_(NOW, NOW - 5), "now");
}

#[test]
fn live_says_the_version_and_its_age() {
    let live = LiveState::Live {
        version: 7,
        since: NOW - 180,
    };
    assert_eq!(live_line(&live, NOW), "Live: version 7, since 3 min ago.");
}

#[test]
fn pending_says_both_versions_and_when_the_next_refresh_is() {
    assert_eq!(
        live_line(&pending(Some(NOW + 12)), NOW),
        "Pending: the cluster has version 6, Vault has version 7 (saved 20 s ago). Next refresh in 12 s."
    );
    assert_eq!(
        live_line(&pending(Some(NOW - 1)), NOW),
        "Pending: the cluster has version 6, Vault has version 7 (saved 20 s ago). Next refresh due now."
    );
    assert_eq!(
        live_line(&pending(None), NOW),
        "Pending: the cluster has version 6, Vault has version 7 (saved 20 s ago). It refreshes only when asked."
    );
}

#[test]
fn pending_without_a_copy_in_the_cluster_says_so() {
    let live = LiveState::Pending {
        cluster_version: None,
        vault_version: 1,
        written: NOW - 5,
        next_refresh_due: None,
    };
    assert!(live_line(&live, NOW)
        .starts_with("Pending: the cluster has no copy yet, Vault has version 1"));
}

#[test]
fn failing_shows_the_sentence_but_not_the_operator_detail() {
    let live = LiveState::Failing {
        sentence: "The app may not read this secret.".into(),
        detail: "403 permission denied".into(),
        since: NOW - 120,
    };
    let line = live_line(&live, NOW);
    assert_eq!(
        line,
        "Failing since 2 min ago: The app may not read this secret."
    );
    assert!(!line.contains("403"));
}

#[test]
fn pinned_names_the_version_it_will_not_pick_up() {
    let behind = LiveState::Pinned {
        version: 5,
        current: 7,
    };
    assert_eq!(
        live_line(&behind, NOW),
        "Pinned to version 5: it will not pick up version 7."
    );
    let on_current = LiveState::Pinned {
        version: 7,
        current: 7,
    };
    assert_eq!(
        live_line(&on_current, NOW),
        "Pinned to version 7: it will not pick up newer versions."
    );
}

#[test]
fn unknown_and_not_set_up_are_plain_sentences() {
    let unknown = LiveState::Unknown {
        reason: "The cluster cannot be reached right now.".into(),
    };
    assert_eq!(
        live_line(&unknown, NOW),
        "Unknown: The cluster cannot be reached right now."
    );
    assert_eq!(live_line(&LiveState::NotSetUp, NOW), NOT_SET_UP);
}

#[test]
fn state_hooks_match_the_browser_tests() {
    assert_eq!(live_key(&pending(None)), "pending");
    assert_eq!(live_key(&LiveState::NotSetUp), "not_set_up");
    assert_eq!(pods_key(&PodsState::UpToDate), "up_to_date");
    assert_eq!(
        pods_key(&PodsState::WillRestartAutomatically {
            by: "Reloader".into()
        }),
        "will_restart_automatically"
    );
    assert_eq!(pods_key(&RESTARTING), "restarting");
}

#[test]
fn pods_details_say_since_when_and_by_what() {
    assert_eq!(
        pods_detail(&PodsState::RestartNeeded { since: NOW - 60 }, NOW).as_deref(),
        Some("(since 1 min ago)")
    );
    assert_eq!(
        pods_detail(
            &PodsState::WillRestartAutomatically {
                by: "Reloader".into()
            },
            NOW
        )
        .as_deref(),
        Some("(by Reloader)")
    );
    assert_eq!(pods_detail(&PodsState::UpToDate, NOW), None);
    assert_eq!(ready(&workload(PodsState::UpToDate)), "2/3 ready");
}

#[test]
fn a_restart_is_offered_where_pods_run_old_values_or_the_last_one_failed() {
    let needed = workload(PodsState::RestartNeeded { since: NOW });
    assert_eq!(restart_offer(false, &needed), Some(Offer::Restart));
    let failed = workload(PodsState::RestartFailed { reason: "x".into() });
    assert_eq!(restart_offer(false, &failed), Some(Offer::Restart));
    assert_eq!(restart_offer(false, &workload(PodsState::UpToDate)), None);
    assert_eq!(restart_offer(false, &workload(RESTARTING)), None);
}

#[test]
fn while_pending_the_restart_syncs_first() {
    let needed = workload(PodsState::RestartNeeded { since: NOW });
    assert_eq!(restart_offer(true, &needed), Some(Offer::SyncThenRestart));
    assert_eq!(
        restart_offer(true, &workload(PodsState::UpToDate)),
        Some(Offer::SyncThenRestart)
    );
    assert_eq!(Offer::SyncThenRestart.label(), "Sync now, then restart");
    assert!(Offer::SyncThenRestart.sync_first());
    assert!(!Offer::Restart.sync_first());
}

#[test]
fn a_workload_that_restarts_by_itself_needs_no_restart_button() {
    let mut auto = workload(PodsState::UpToDate);
    auto.auto_restart = Some("Reloader".into());
    assert_eq!(restart_offer(true, &auto), None);
    let by_itself = workload(PodsState::WillRestartAutomatically {
        by: "Reloader".into(),
    });
    assert_eq!(restart_offer(true, &by_itself), None);
}

#[test]
fn restart_all_needs_two_workloads_and_none_restarting() {
    let live = LiveState::Live {
        version: 7,
        since: NOW,
    };
    let one = app(live.clone(), vec![workload(PodsState::UpToDate)]);
    assert_eq!(restart_all_offer(&one), None);
    let two = app(
        live.clone(),
        vec![workload(PodsState::UpToDate), workload(PodsState::UpToDate)],
    );
    assert_eq!(restart_all_offer(&two), Some(Offer::Restart));
    assert_eq!(Offer::Restart.label_all(), "Restart all");
    let busy = app(
        live,
        vec![workload(PodsState::UpToDate), workload(RESTARTING)],
    );
    assert_eq!(restart_all_offer(&busy), None);
    let waiting = app(
        pending(None),
        vec![workload(PodsState::UpToDate), workload(PodsState::UpToDate)],
    );
    assert_eq!(restart_all_offer(&waiting), Some(Offer::SyncThenRestart));
}

#[test]
fn the_panel_looks_often_only_while_something_moves() {
    let settled = ClusterStatus {
        configured: true,
        problem: None,
        apps: vec![app(
            LiveState::Live {
                version: 7,
                since: NOW,
            },
            vec![workload(PodsState::UpToDate)],
        )],
    };
    assert!(!moving(&settled));
    let mut syncing = settled.clone();
    syncing.apps[0].live = pending(None);
    assert!(moving(&syncing));
    let mut rolling = settled;
    rolling.apps[0].workloads[0].pods = RESTARTING;
    assert!(moving(&rolling));
    assert_eq!(poll_period(true), FAST_POLL);
    assert_eq!(poll_period(false), SLOW_POLL);
}

/// What the cards write that follows the clock, in full.
fn clock_sentences(status: &ClusterStatus, now: i64) -> Vec<String> {
    status
        .apps
        .iter()
        .flat_map(|a| {
            let pods = a
                .workloads
                .iter()
                .filter_map(move |w| pods_detail(&w.pods, now));
            std::iter::once(live_line(&a.live, now)).chain(pods)
        })
        .collect()
}

#[test]
fn the_clock_wording_moves_exactly_when_the_cards_sentences_do() {
    let failing = LiveState::Failing {
        sentence: "Vault refused".into(),
        detail: "403".into(),
        since: NOW - 3_590,
    };
    let lives = [
        LiveState::Live {
            version: 7,
            since: NOW - 200,
        },
        pending(Some(NOW + 20)),
        pending(None),
        pending(Some(NOW - 5)),
        failing,
        LiveState::Pinned {
            version: 3,
            current: 7,
        },
        LiveState::NotSetUp,
        LiveState::Unknown {
            reason: "no answer".into(),
        },
    ];
    let pods = [
        PodsState::UpToDate,
        PodsState::RestartNeeded { since: NOW - 30 },
        PodsState::RestartNeeded {
            since: NOW - 86_000,
        },
        RESTARTING,
        PodsState::RestartFailed {
            reason: "quota".into(),
        },
    ];
    for live in &lives {
        for p in &pods {
            let status = ClusterStatus {
                configured: true,
                problem: None,
                apps: vec![app(live.clone(), vec![workload(p.clone())])],
            };
            for later in [
                1, 10, 19, 25, 30, 59, 61, 130, 3_000, 3_700, 90_000, 200_000,
            ] {
                assert_eq!(
                    clock_wording(&status, NOW + later) != clock_wording(&status, NOW),
                    clock_sentences(&status, NOW + later) != clock_sentences(&status, NOW),
                    "{live:?} / {p:?}, {later} s later"
                );
            }
        }
    }
}

#[test]
fn the_overview_says_each_state_in_a_few_words() {
    let live = LiveState::Live {
        version: 7,
        since: NOW,
    };
    assert_eq!(live_phrase(&live).as_deref(), Some("version 7"));
    assert_eq!(
        live_phrase(&pending(Some(NOW))).as_deref(),
        Some("cluster has 6, Vault has 7")
    );
    let first = LiveState::Pending {
        cluster_version: None,
        vault_version: 1,
        written: NOW,
        next_refresh_due: None,
    };
    assert_eq!(
        live_phrase(&first).as_deref(),
        Some("cluster has no copy, Vault has 1")
    );
    let failing = LiveState::Failing {
        sentence: "Vault refuses to give the cluster this secret.".into(),
        detail: "403 permission denied".into(),
        since: NOW,
    };
    assert_eq!(
        live_phrase(&failing).as_deref(),
        Some("Vault refuses to give the cluster this secret.")
    );
    let behind = LiveState::Pinned {
        version: 5,
        current: 7,
    };
    assert_eq!(
        live_phrase(&behind).as_deref(),
        Some("version 5, Vault has 7")
    );
    let newest = LiveState::Pinned {
        version: 7,
        current: 7,
    };
    assert_eq!(live_phrase(&newest).as_deref(), Some("version 7"));
    let unknown = LiveState::Unknown {
        reason: "the cluster cannot be reached".into(),
    };
    assert_eq!(
        live_phrase(&unknown).as_deref(),
        Some("the cluster cannot be reached")
    );
    assert_eq!(live_phrase(&LiveState::NotSetUp), None);
}

#[test]
fn the_overview_counts_up_to_date_workloads_or_shows_a_dash() {
    assert_eq!(pods_summary(2, 3), "2 of 3 up to date");
    assert_eq!(pods_summary(1, 1), "1 of 1 up to date");
    assert_eq!(pods_summary(0, 0), "—");
}
