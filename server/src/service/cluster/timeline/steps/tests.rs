use super::*;
use keyway_app::dto::WorkloadKind as Kind;
use keyway_store::observations::ObservedApp;

const T0: i64 = 1_796_000_000_000; // a save, in Unix ms

fn app() -> AppRef {
    AppRef::new("dev", "webapp")
}

fn web() -> ObservedWorkload {
    ObservedWorkload {
        kind: "Deployment".into(),
        name: "web".into(),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

fn obs(id: i64, at_ms: i64, seen: Seen) -> Observation {
    Observation {
        id,
        at_ms,
        app: ObservedApp {
            namespace: "dev".into(),
            name: "webapp".into(),
            mount: "dev".into(),
            path: "webapp/config".into(),
        },
        seen,
    }
}

fn restarted(by: Restarter, version: u64, marker: &str) -> Seen {
    Seen::Restarted {
        workload: web(),
        by,
        version: Some(version),
        marker: marker.into(),
    }
}

fn running(version: u64, generation: i64) -> Seen {
    Seen::Running {
        workload: web(),
        version,
        generation,
    }
}

fn write(version: u64, at_ms: i64, author: Option<&str>) -> VersionWrite {
    VersionWrite {
        version,
        at: Some(ts(at_ms)),
        author: author.map(str::to_string),
    }
}

#[test]
fn a_save_sync_restart_and_rollout_read_as_four_steps_with_the_time_between() {
    let stamp = ts(T0 + 25_000).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let o = [
        obs(1, T0 + 24_000, Seen::Live { version: 2 }),
        obs(2, T0 + 26_000, restarted(Restarter::Keyway, 2, &stamp)),
        obs(3, T0 + 67_000, running(2, 5)),
    ];
    let o: Vec<&Observation> = o.iter().collect();
    let keyway = [KeywayRestart {
        app: app(),
        workloads: vec!["web".into()],
        user: "alice".into(),
        from: ts(T0 + 25_000),
        to: ts(T0 + 25_300),
    }];
    let t = app_timeline(
        Some(&app()),
        &[write(2, T0, Some("alice")), write(1, T0 - 86_400_000, None)],
        &o,
        &keyway,
        2,
    );
    let v2 = &t.versions[0];
    assert_eq!(v2.version, 2);
    assert_eq!(
        v2.written.by,
        WrittenBy::Keyway {
            user: "alice".into()
        }
    );
    assert_eq!(
        v2.live.as_deref(),
        Some(ts(T0 + 24_000).to_string().as_str())
    );
    assert_eq!(v2.restarts.len(), 1);
    assert_eq!(
        v2.restarts[0].workload,
        WorkloadRef::new(Kind::Deployment, "web")
    );
    assert_eq!(
        v2.restarts[0].by,
        RestartedBy::Keyway {
            user: Some("alice".into())
        }
    );
    assert_eq!(v2.running.len(), 1);
    assert_eq!(
        v2.summary,
        "Live 24 s after the save, restarted 2 s later, pods up to date 41 s later."
    );
    let v1 = &t.versions[1];
    assert_eq!(v1.written.by, WrittenBy::Outside);
    assert_eq!(
        v1.summary,
        "Keyway did not see this version go live in this app."
    );
}

#[test]
fn restarts_outside_keyway_by_reloader_or_the_operator_say_so() {
    let o = [
        obs(1, T0 + 5_000, Seen::Live { version: 3 }),
        obs(
            2,
            T0 + 5_000,
            restarted(Restarter::Vso, 3, "2026-12-04T10:00:00Z"),
        ),
        obs(
            3,
            T0 + 30_000,
            restarted(Restarter::Outside, 3, "2026-12-04T10:00:25Z"),
        ),
        obs(4, T0 + 20_000, running(3, 6)),
        obs(5, T0 + 50_000, running(3, 7)),
        obs(6, T0 + 60_000, restarted(Restarter::Reloader, 4, "")),
    ];
    let o: Vec<&Observation> = o.iter().collect();
    let t = app_timeline(Some(&app()), &[write(3, T0, None)], &o, &[], 4);
    let v3 = &t.versions[0];
    let by: Vec<&RestartedBy> = v3.restarts.iter().map(|r| &r.by).collect();
    assert_eq!(by, [&RestartedBy::Vso, &RestartedBy::Outside]);
    assert_eq!(v3.running.len(), 1);
    assert_eq!(
        v3.running[0].at,
        ts(T0 + 50_000).to_string(),
        "up to date after the last restart, not the one before it"
    );
    assert_eq!(
        v3.summary,
        "Live 5 s after the write, restarted under 1 s later, pods up to date 20 s later."
    );
}

#[test]
fn a_keyway_restart_without_its_audit_row_is_keyways_without_a_name() {
    let o = [obs(
        1,
        T0,
        restarted(Restarter::Keyway, 1, "2026-12-04T10:00:00Z"),
    )];
    let o: Vec<&Observation> = o.iter().collect();
    let elsewhere = KeywayRestart {
        app: app(),
        workloads: vec!["web".into()],
        user: "bob".into(),
        from: ts(T0 - 600_000),
        to: ts(T0 - 599_000),
    };
    let t = app_timeline(
        Some(&app()),
        &[write(1, T0 - 1000, None)],
        &o,
        &[elsewhere],
        1,
    );
    assert_eq!(
        t.versions[0].restarts[0].by,
        RestartedBy::Keyway { user: None }
    );
    assert_eq!(t.versions[0].summary, "Not live in the cluster yet.");
}

#[test]
fn the_newest_version_live_but_not_restarted_says_so() {
    let o = [obs(1, T0 + 3_000, Seen::Live { version: 1 })];
    let o: Vec<&Observation> = o.iter().collect();
    let t = app_timeline(Some(&app()), &[write(1, T0, Some("bob"))], &o, &[], 1);
    assert_eq!(
        t.versions[0].summary,
        "Live 3 s after the save, pods not up to date yet."
    );
}

#[test]
fn spans_read_in_the_largest_two_units() {
    for (ms, words) in [
        (-500, "under 1 s"),
        (999, "under 1 s"),
        (24_000, "24 s"),
        (60_000, "1 min"),
        (185_000, "3 min 5 s"),
        (7_440_000, "2 h 4 min"),
        (90_000_000, "1 d 1 h"),
    ] {
        assert_eq!(span(0, ms), words, "{ms} ms");
    }
}
