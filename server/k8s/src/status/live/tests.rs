//! Table-driven tests for [`live_state`] and [`refresh_interval`]. The fixtures live here; the
//! rows are split by topic: `sync` (not set up, unknown, live, pending, pinned) and `failing`
//! (failures, what supersedes them, VSO bug #1225). Each row is named by the situation it stands
//! for.

mod failing;
mod sync;

use jiff::{SignedDuration, Timestamp};

use super::*;

/// Seconds after a fixed base time.
fn t(secs: i64) -> Timestamp {
    let base: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    base.checked_add(SignedDuration::from_secs(secs)).unwrap()
}

/// Vault's times carry nanoseconds.
fn vault_time(secs: i64) -> Timestamp {
    t(secs)
        .checked_add(SignedDuration::from_millis(400))
        .unwrap()
}

fn cond(type_: &str, status: &str, at: i64) -> Cond {
    Cond {
        type_: type_.into(),
        status: status.into(),
        reason: if type_ == "SecretSynced" {
            "Synced"
        } else {
            type_
        }
        .into(),
        message: String::new(),
        last_transition: t(at),
    }
}

fn sync_failed(message: &str, at: i64) -> Cond {
    Cond {
        message: format!("Failed to sync the secret, horizon=5s, err={message}"),
        ..cond("SecretSynced", "False", at)
    }
}

fn warning(reason: &str, message: &str, at: i64) -> VssEvent {
    VssEvent {
        warning: true,
        reason: reason.into(),
        message: message.into(),
        last_seen: t(at),
    }
}

fn normal(reason: &str, at: i64) -> VssEvent {
    VssEvent {
        warning: false,
        reason: reason.into(),
        message: "Secret synced".into(),
        last_seen: t(at),
    }
}

const DENIED: &str = "Failed to read Vault secret: Code: 403. Errors:\n\n* permission denied";
const SEALED_MSG: &str = "Failed to read Vault secret: Code: 503. Errors:\n\n* Vault is sealed";

/// One app, with owned data for [`AppSync`] to borrow.
struct App {
    pinned: Option<u64>,
    refresh_after: Option<&'static str>,
    hmac: bool,
    conditions: Vec<Cond>,
    events: Vec<VssEvent>,
    synced: Option<u64>,
    secret_changed: Option<Timestamp>,
}

/// Version 4 synced at 50, reconciled (Healthy/Ready) at 90, hmac on, no refreshAfter.
fn app() -> App {
    App {
        pinned: None,
        refresh_after: None,
        hmac: true,
        conditions: vec![
            cond("SecretSynced", "True", 50),
            cond("Healthy", "True", 90),
            cond("Ready", "True", 90),
        ],
        events: vec![normal("SecretSynced", 50)],
        synced: Some(4),
        secret_changed: Some(t(50)),
    }
}

/// One named situation and the state it must give.
struct Row {
    name: &'static str,
    now: i64,
    app: Option<App>,
    /// Version and write time (seconds, plus 0.4 s as Vault keeps it).
    vault: Option<(u64, i64)>,
    cluster: ClusterSync,
    want: Live,
}

impl Row {
    fn now(self, secs: i64) -> Self {
        Row { now: secs, ..self }
    }

    fn no_app(self) -> Self {
        Row { app: None, ..self }
    }

    fn cluster_down(self) -> Self {
        Row {
            cluster: ClusterSync::Unreachable,
            ..self
        }
    }

    fn cluster_loading(self) -> Self {
        Row {
            cluster: ClusterSync::Loading,
            ..self
        }
    }

    fn vault_unread(self) -> Self {
        Row {
            vault: None,
            ..self
        }
    }

    fn input(&self) -> LiveInput<'_> {
        LiveInput {
            now: t(self.now),
            app: self.app.as_ref().map(|a| AppSync {
                pinned_version: a.pinned,
                refresh_after: a.refresh_after,
                hmac_secret_data: a.hmac,
                conditions: &a.conditions,
                events: &a.events,
                synced_version: a.synced,
                secret_changed: a.secret_changed,
            }),
            vault: self.vault.map(|(version, at)| VaultVersion {
                version,
                created: vault_time(at),
            }),
            cluster: self.cluster,
        }
    }
}

/// Vault has version 5 written at 100 (and 0.4 s); now is 120.
fn row(name: &'static str, app: App, want: Live) -> Row {
    Row {
        name,
        now: 120,
        app: Some(app),
        vault: Some((5, 100)),
        cluster: ClusterSync::InSync,
        want,
    }
}

fn pending(cluster_version: Option<u64>, next_refresh_due: Option<i64>) -> Live {
    Live::Pending {
        cluster_version,
        vault_version: 5,
        written: vault_time(100),
        next_refresh_due: next_refresh_due.map(t),
    }
}

fn failing(sentence: &str, detail: &str, since: i64) -> Live {
    Live::Failing {
        sentence: sentence.into(),
        detail: detail.into(),
        since: t(since),
    }
}

/// Checks every row, naming the one that fails.
fn check(rows: &[Row]) {
    for r in rows {
        assert!(!r.name.is_empty());
        assert_eq!(live_state(&r.input()), r.want, "{}", r.name);
    }
}

#[test]
fn refresh_interval_reads_refresh_after_like_vso() {
    let s = |secs: f64| Some(SignedDuration::try_from_secs_f64(secs).unwrap());
    let rows: [(&str, Option<&str>, bool, Option<SignedDuration>); 12] = [
        ("seconds", Some("30s"), true, s(30.0)),
        ("minutes", Some("2m"), false, s(120.0)),
        ("fractional hours", Some("1.5h"), true, s(5400.0)),
        ("fractional seconds", Some("0.5s"), true, s(0.5)),
        ("empty with hmac: 60 s", Some(""), true, s(60.0)),
        ("absent with hmac: 60 s", None, true, s(60.0)),
        ("absent without hmac: no polling", None, false, None),
        ("zero with hmac: 60 s, as VSO", Some("0s"), true, s(60.0)),
        ("zero without hmac: no polling", Some("0m"), false, None),
        ("no unit is malformed", Some("5"), false, None),
        ("days are not allowed", Some("1d"), false, None),
        ("a bare fraction is malformed", Some(".5s"), true, s(60.0)),
    ];
    for (name, refresh_after, hmac, want) in rows {
        assert_eq!(refresh_interval(refresh_after, hmac), want, "{name}");
    }
}

#[test]
fn live_serialises_with_a_state_tag() {
    let json = serde_json::to_value(Live::Pinned {
        version: 3,
        current: 5,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"state": "pinned", "version": 3, "current": 5})
    );
    let back: Live = serde_json::from_value(json).unwrap();
    assert_eq!(
        back,
        Live::Pinned {
            version: 3,
            current: 5
        }
    );
}

impl App {
    fn sync(&self) -> AppSync<'_> {
        AppSync {
            pinned_version: self.pinned,
            refresh_after: self.refresh_after,
            hmac_secret_data: self.hmac,
            conditions: &self.conditions,
            events: &self.events,
            synced_version: self.synced,
            secret_changed: self.secret_changed,
        }
    }
}

/// Fleet health's "not refreshed": the last reconcile (Healthy/Ready at 90) more than twice the
/// refresh interval ago, and never for an app that does not poll.
#[test]
fn an_app_is_overdue_only_past_twice_its_refresh_interval() {
    let mut a = app();
    a.refresh_after = Some("30s");
    assert_eq!(overdue(&a.sync(), t(150)), None, "exactly twice: not yet");
    assert_eq!(
        overdue(&a.sync(), t(151)),
        Some((t(90), SignedDuration::from_secs(30)))
    );
    a.refresh_after = None;
    assert_eq!(
        overdue(&a.sync(), t(210)),
        None,
        "default 60 s: at 210 exactly twice"
    );
    assert!(overdue(&a.sync(), t(211)).is_some());
    a.hmac = false;
    assert_eq!(
        overdue(&a.sync(), t(100_000)),
        None,
        "no polling: never overdue"
    );
    let mut never = app();
    never.conditions.clear();
    never.events.clear();
    assert_eq!(
        overdue(&never.sync(), t(100_000)),
        None,
        "no reconcile seen: not judged"
    );
}

/// Fleet health's "failing" ignores when Vault was written: a failure nothing superseded.
#[test]
fn a_standing_failure_is_one_no_later_reconcile_superseded() {
    let mut a = app();
    a.conditions = vec![sync_failed(DENIED, 100), cond("Healthy", "False", 100)];
    assert!(matches!(
        standing_failure(&a.sync()),
        Some(Live::Failing { .. })
    ));
    a.conditions.push(cond("Ready", "True", 120));
    assert_eq!(standing_failure(&a.sync()), None);
}
