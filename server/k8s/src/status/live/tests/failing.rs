//! Rows about failures: which count (newer than the write, about the copy), which sentence they
//! get, and what supersedes them (a later sync, SecretSynced=True, Healthy=True: VSO bug #1225).

use super::*;
use crate::status::live::failure::{CANNOT_LOG_IN, COULD_NOT_COPY, NOT_ALLOWED, SEALED};

#[test]
fn failures_and_what_supersedes_them() {
    check(&[
        row(
            "failing: 403 event after the write",
            App {
                events: vec![
                    normal("SecretSynced", 50),
                    warning("VaultClientError", DENIED, 110),
                ],
                ..app()
            },
            failing(NOT_ALLOWED, DENIED, 110),
        ),
        row(
            "failing: event in the same second as the write counts",
            App {
                events: vec![warning("VaultClientError", DENIED, 100)],
                ..app()
            },
            failing(NOT_ALLOWED, DENIED, 100),
        ),
        row(
            "failing: SecretSynced=False after the write",
            App {
                conditions: vec![
                    sync_failed("Code: 503. Vault is sealed", 110),
                    cond("Healthy", "False", 110),
                ],
                ..app()
            },
            failing(
                SEALED,
                "Failed to sync the secret, horizon=5s, err=Code: 503. Vault is sealed",
                110,
            ),
        ),
        row(
            "failing: newest message, earliest time",
            App {
                events: vec![
                    warning("VaultClientError", DENIED, 104),
                    warning("VaultClientError", SEALED_MSG, 115),
                ],
                ..app()
            },
            failing(SEALED, SEALED_MSG, 104),
        ),
        row(
            "failing: event and condition in the same second, the event's reason speaks",
            App {
                conditions: vec![sync_failed("Code: 403", 110), cond("Healthy", "False", 110)],
                events: vec![warning(
                    "VaultClientConfigError",
                    "Failed to get Vault auth login: Code: 403",
                    110,
                )],
                ..app()
            },
            failing(
                CANNOT_LOG_IN,
                "Failed to get Vault auth login: Code: 403",
                110,
            ),
        ),
        row(
            "failing: unknown error",
            App {
                events: vec![warning("TransformationError", "bad template", 110)],
                ..app()
            },
            failing(COULD_NOT_COPY, "bad template", 110),
        ),
        row(
            "failing wins over live",
            App {
                synced: Some(5),
                events: vec![warning("VaultClientError", SEALED_MSG, 110)],
                ..app()
            },
            failing(SEALED, SEALED_MSG, 110),
        ),
        row(
            "pinned and failing: failing wins",
            App {
                pinned: Some(3),
                events: vec![warning("VaultClientError", DENIED, 110)],
                ..app()
            },
            failing(NOT_ALLOWED, DENIED, 110),
        ),
        row(
            "#1225: SecretSynced=False older than Healthy=True is recovered",
            App {
                conditions: vec![
                    sync_failed("Code: 503", 105),
                    cond("Healthy", "True", 112),
                    cond("Ready", "True", 112),
                ],
                events: vec![],
                ..app()
            },
            pending(Some(4), Some(172)),
        ),
        row(
            "#1225 recovered and synced: live",
            App {
                conditions: vec![sync_failed("Code: 503", 105), cond("Healthy", "True", 112)],
                synced: Some(5),
                secret_changed: Some(t(112)),
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(112),
            },
        ),
        row(
            "warning superseded by a later Normal SecretSynced event",
            App {
                conditions: vec![],
                events: vec![
                    warning("VaultClientError", DENIED, 105),
                    normal("SecretSynced", 111),
                ],
                synced: Some(5),
                secret_changed: Some(t(111)),
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(111),
            },
        ),
        row(
            "warning superseded by a later SecretSynced=True",
            App {
                conditions: vec![cond("SecretSynced", "True", 111)],
                events: vec![warning(
                    "SecretSyncError",
                    "Failed to update k8s secret: x",
                    105,
                )],
                synced: Some(5),
                secret_changed: Some(t(111)),
                ..app()
            },
            Live::Live {
                version: 5,
                since: t(111),
            },
        ),
        row(
            "warning superseded by a later Healthy=True reconcile",
            App {
                conditions: vec![
                    cond("SecretSynced", "True", 50),
                    cond("Healthy", "True", 112),
                ],
                events: vec![warning("VaultClientError", DENIED, 101)],
                ..app()
            },
            pending(Some(4), Some(172)),
        ),
        row(
            "warning before the write does not count",
            App {
                conditions: vec![cond("Healthy", "False", 99)],
                events: vec![warning("VaultClientError", DENIED, 99)],
                ..app()
            },
            pending(Some(4), Some(159)),
        ),
        row(
            "rollout-restart warnings concern pods, not the copy",
            App {
                events: vec![warning(
                    "RolloutRestartFailed",
                    "deployment x is paused",
                    110,
                )],
                ..app()
            },
            pending(Some(4), Some(150)),
        ),
    ]);
}
