//! Rows where nothing failed: not set up, unknown, live, pending (when the next refresh is due)
//! and pinned.

use super::*;

fn unreachable() -> Live {
    Live::Unknown {
        reason: CLUSTER_UNREACHABLE.into(),
    }
}

#[test]
fn states_without_a_failure() {
    check(&[
        row("no app reads the path", app(), Live::NotSetUp).no_app(),
        row("cluster unreachable", app(), unreachable()).cluster_down(),
        row(
            "cluster still loading: said as loading, never as unreachable",
            app(),
            Live::Unknown {
                reason: CLUSTER_LOADING.into(),
            },
        )
        .cluster_loading(),
        row(
            "cluster unreachable: 'no app' cannot be trusted either",
            app(),
            unreachable(),
        )
        .no_app()
        .cluster_down(),
        row(
            "vault unreadable",
            app(),
            Live::Unknown {
                reason: VAULT_UNREADABLE.into(),
            },
        )
        .vault_unread(),
        row(
            "secret holds the vault version",
            App {
                synced: Some(5),
                secret_changed: Some(t(105)),
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(105),
            },
        ),
        row(
            "live without a known change time: since the write",
            App {
                synced: Some(5),
                secret_changed: None,
                ..app()
            },
            Live::Live {
                version: 5,
                since: vault_time(100),
            },
        ),
        row(
            "secret newer than the vault read",
            App {
                synced: Some(6),
                ..app()
            },
            Live::Live {
                version: 6,
                since: t(50),
            },
        ),
        row(
            "pending: default 60 s after the last reconcile",
            app(),
            pending(Some(4), Some(150)),
        ),
        row(
            "pending: refreshAfter 30s",
            App {
                refresh_after: Some("30s"),
                ..app()
            },
            pending(Some(4), Some(120)),
        ),
        row(
            "pending: refreshAfter 1.5h",
            App {
                refresh_after: Some("1.5h"),
                ..app()
            },
            pending(Some(4), Some(90 + 5400)),
        ),
        row(
            "pending: overdue refresh is due now",
            App {
                refresh_after: Some("10s"),
                ..app()
            },
            pending(Some(4), Some(120)),
        ),
        row(
            "pending: long overdue refresh is due now",
            app(),
            pending(Some(4), Some(1000)),
        )
        .now(1000),
        row(
            "pending: hmac off and no refreshAfter syncs only when asked",
            App {
                hmac: false,
                ..app()
            },
            pending(Some(4), None),
        ),
        row(
            "pending: hmac off still polls with refreshAfter",
            App {
                hmac: false,
                refresh_after: Some("2m"),
                ..app()
            },
            pending(Some(4), Some(210)),
        ),
        row(
            "pending: the newest of Healthy and Ready is the last reconcile",
            App {
                conditions: vec![cond("Healthy", "True", 80), cond("Ready", "False", 95)],
                ..app()
            },
            pending(Some(4), Some(155)),
        ),
        row(
            "pending: without Healthy/Ready the last sync is the last reconcile",
            App {
                conditions: vec![],
                events: vec![normal("SecretSynced", 100)],
                ..app()
            },
            pending(Some(4), Some(160)),
        ),
        row(
            "pending: no sign of a reconcile, due within one interval from now",
            App {
                conditions: vec![],
                events: vec![],
                synced: None,
                ..app()
            },
            pending(None, Some(180)),
        ),
        row(
            "no _raw to read: a sync after the write is live",
            App {
                synced: None,
                conditions: vec![
                    cond("SecretSynced", "True", 101),
                    cond("Healthy", "True", 101),
                ],
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(101),
            },
        ),
        row(
            "no _raw to read: a sync event in the second of the write is live",
            App {
                synced: None,
                events: vec![normal("SecretSynced", 100)],
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(100),
            },
        ),
        row(
            "no _raw to read: the last sync is before the write, pending",
            App {
                synced: None,
                secret_changed: None,
                ..app()
            },
            pending(None, Some(150)),
        ),
        row(
            "pinned takes precedence over pending",
            App {
                pinned: Some(3),
                synced: Some(3),
                ..app()
            },
            Live::Pinned {
                version: 3,
                current: 5,
            },
        ),
        row(
            "pinned to the current version is still pinned",
            App {
                pinned: Some(5),
                synced: Some(5),
                ..app()
            },
            Live::Pinned {
                version: 5,
                current: 5,
            },
        ),
        row(
            "version 0 is not a pin",
            App {
                pinned: Some(0),
                synced: Some(5),
                secret_changed: Some(t(101)),
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(101),
            },
        ),
    ]);
}
