use super::*;
use crate::status::WorkloadKind;

fn app() -> AppRef {
    AppRef {
        namespace: "dev".into(),
        name: "webapp".into(),
        mount: "dev".into(),
        path: "webapp/config".into(),
        secret: "webapp".into(),
    }
}

fn web() -> WorkloadRef {
    WorkloadRef {
        kind: WorkloadKind::Deployment,
        name: "web".into(),
    }
}

/// A state with the one app at `version` and `web` as given (None: no such workload).
fn state(version: Option<u64>, w: Option<WorkloadSeen>) -> Observed {
    let mut apps = HashMap::new();
    apps.insert(
        ("dev".to_string(), "webapp".to_string()),
        AppSeen {
            app: app(),
            version,
            changed_at: version.map(written_at),
            workloads: w.into_iter().map(|w| (web(), w)).collect(),
        },
    );
    Observed { apps }
}

fn marks(kubectl: Option<(&str, bool)>, vso: Option<&str>, env: Option<&str>) -> RestartMarks {
    RestartMarks {
        kubectl: kubectl.map(|(s, k)| (s.to_string(), k)),
        vso: vso.map(str::to_string),
        reloader_env: env.map(str::to_string),
        reloader_annotation: None,
    }
}

fn seen(m: RestartMarks, running: Option<(u64, i64)>) -> Option<WorkloadSeen> {
    Some(WorkloadSeen { marks: m, running })
}

fn live(v: u64) -> Change {
    Change::Live {
        app: app(),
        version: v,
    }
}

fn restarted(by: Restarter, version: Option<u64>, marker: &str) -> Change {
    Change::Restarted {
        app: app(),
        workload: web(),
        by,
        version,
        marker: marker.into(),
    }
}

fn running(version: u64, generation: i64) -> Change {
    Change::Running {
        app: app(),
        workload: web(),
        version,
        generation,
    }
}

const T1: &str = "2026-12-04T10:00:00Z";
const T2: &str = "2026-12-04T10:05:00Z";

/// When the Secret got version `v`, in these tests: version 5 at 10:04:00, 6 at 10:05:00 …
fn written_at(v: u64) -> Timestamp {
    Timestamp::from_second(1_796_378_400 + (v as i64 - 1) * 60).unwrap()
}

#[test]
fn each_change_the_timeline_records_and_nothing_else() {
    let none = RestartMarks::default;
    #[rustfmt::skip]
    let rows: Vec<(&str, Observed, Observed, Vec<Change>)> = vec![
        ("nothing changed",
            state(Some(3), seen(none(), Some((3, 2)))), state(Some(3), seen(none(), Some((3, 2)))), vec![]),
        ("the Secret now carries version 4; the pods are older",
            state(Some(3), seen(none(), Some((3, 2)))), state(Some(4), seen(none(), None)), vec![live(4)]),
        ("the first sync of a known app",
            state(None, None), state(Some(1), None), vec![live(1)]),
        ("the Secret went away: no news",
            state(Some(3), None), state(None, None), vec![]),
        ("Keyway's restart stamp",
            state(Some(4), seen(marks(Some((T1, false)), None, None), None)),
            state(Some(4), seen(marks(Some((T2, true)), None, None), None)),
            vec![restarted(Restarter::Keyway, Some(4), T2)]),
        ("kubectl's first restart stamp",
            state(Some(4), seen(none(), None)),
            state(Some(4), seen(marks(Some((T1, false)), None, None), None)),
            vec![restarted(Restarter::Outside, Some(4), T1)]),
        ("the same stamp, another field manager: not a restart",
            state(Some(4), seen(marks(Some((T1, true)), None, None), None)),
            state(Some(4), seen(marks(Some((T1, false)), None, None), None)), vec![]),
        ("VSO's stamp, in the same look as the new version",
            state(Some(4), seen(marks(None, Some(T1), None), Some((4, 2)))),
            state(Some(5), seen(marks(None, Some(T2), None), None)),
            vec![live(5), restarted(Restarter::Vso, Some(5), T2)]),
        ("a restart stamped before the new version's write, seen with it, is the old version's",
            state(Some(5), seen(marks(Some((T1, true)), None, None), None)),
            state(Some(6), seen(marks(Some(("2026-12-04T10:04:30Z", true)), None, None), None)),
            vec![live(6), restarted(Restarter::Keyway, Some(5), "2026-12-04T10:04:30Z")]),
        ("one stamped in the second of the write is the new version's",
            state(Some(5), seen(marks(Some((T1, true)), None, None), None)),
            state(Some(6), seen(marks(Some((T2, false)), None, None), None)),
            vec![live(6), restarted(Restarter::Outside, Some(6), T2)]),
        ("Reloader's env var",
            state(Some(5), seen(marks(None, None, Some("a")), None)),
            state(Some(5), seen(marks(None, None, Some("b")), None)),
            vec![restarted(Restarter::Reloader, Some(5), "")]),
        ("Reloader's env var removed: not a restart",
            state(Some(5), seen(marks(None, None, Some("a")), None)),
            state(Some(5), seen(none(), None)), vec![]),
        ("the rollout completed on version 5",
            state(Some(5), seen(none(), None)), state(Some(5), seen(none(), Some((5, 3)))), vec![running(5, 3)]),
        ("a live volume follows the new version without a restart",
            state(Some(5), seen(none(), Some((5, 3)))), state(Some(6), seen(none(), Some((6, 3)))),
            vec![live(6), running(6, 3)]),
        ("a second restart on the same version completed",
            state(Some(6), seen(none(), None)), state(Some(6), seen(none(), Some((6, 4)))), vec![running(6, 4)]),
        ("pods no longer up to date: not news",
            state(Some(6), seen(none(), Some((6, 4)))), state(Some(6), seen(none(), None)), vec![]),
    ];
    for (what, prev, next, want) in rows {
        assert_eq!(changes(&prev, &next), want, "{what}");
    }
}

#[test]
fn a_missing_previous_state_is_a_baseline_not_a_change() {
    // Keyway just started: everything is new to it, nothing is recorded.
    let next = state(
        Some(4),
        seen(marks(Some((T1, true)), None, None), Some((4, 2))),
    );
    assert_eq!(changes(&Observed::default(), &next), vec![]);
    // A workload that just appeared (created, or newly reading the Secret).
    assert_eq!(changes(&state(Some(4), None), &next), vec![]);
}

#[test]
fn an_app_that_now_copies_another_secret_is_live_there() {
    let prev = state(Some(4), None);
    let mut next = state(Some(4), None);
    next.apps
        .values_mut()
        .for_each(|a| a.app.path = "webapp/other".into());
    let Change::Live { app, version } = &changes(&prev, &next)[0] else {
        panic!("not live")
    };
    assert_eq!((app.path.as_str(), *version), ("webapp/other", 4));
}

#[test]
fn reloaders_annotation_counts_for_the_secret_it_names() {
    let v = r#"{"type":"SECRET","name":"webapp","namespace":"dev","hash":"abc","containerRefs":["app"],"observedAt":1719830000}"#;
    assert_eq!(reloaded_from(v, "webapp").as_deref(), Some("1719830000"));
    assert_eq!(reloaded_from(v, "other"), None);
    let configmap = v.replace("SECRET", "CONFIGMAP");
    assert_eq!(reloaded_from(&configmap, "webapp"), None);
    assert_eq!(reloaded_from("not json", "webapp"), None);
}

#[test]
fn the_marks_of_a_cached_workload_say_who_set_each_stamp() {
    use crate::reduced::{note_restart_stamp_owner, slim_template, strip};
    let mut d: k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "dev", "managedFields": [
            {"manager": "kubectl-rollout", "operation": "Update", "time": "2026-12-04T09:00:00Z",
             "fieldsV1": {"f:spec": {"f:template": {"f:metadata": {"f:annotations": {
                 "f:vso.secrets.hashicorp.com/restartedAt": {}}}}}}},
            {"manager": "keyway", "operation": "Update", "time": "2026-12-04T10:00:00Z",
             "fieldsV1": {"f:spec": {"f:template": {"f:metadata": {"f:annotations": {
                 "f:kubectl.kubernetes.io/restartedAt": {}}}}}}}
        ]},
        "spec": {"selector": {}, "template": {
            "metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": T1,
                "vso.secrets.hashicorp.com/restartedAt": T2}},
            "spec": {"containers": [{"name": "app", "env": [
                {"name": "STAKATER_WEBAPP_SECRET", "value": "0123456789abcdef0123456789abcdef01234567"},
                {"name": "PLAIN", "value": "x"}]}]}
        }}
    }))
    .unwrap();
    note_restart_stamp_owner(&d.metadata, &mut d.spec.template);
    strip(&mut d);
    slim_template(&mut d.spec.template);
    assert!(
        !format!("{d:?}").contains("0123456789abcdef"),
        "Reloader's hash is not kept"
    );
    let w = Workload::Deployment(std::sync::Arc::new(d));
    let m = super::marks(&w, "webapp");
    assert_eq!(m.kubectl, Some((T1.to_string(), true)));
    assert_eq!(m.vso.as_deref(), Some(T2));
    assert!(m.reloader_env.is_some());
    assert_eq!(
        super::marks(&w, "other").reloader_env,
        None,
        "another Secret's variable"
    );
}
