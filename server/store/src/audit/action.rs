//! The actions Keyway writes to the audit log, as one enum with their stored spelling.
//!
//! The `action` column is free text so that a new action needs no migration; this enum keeps the
//! spelling in one place, and the spelling of an existing variant never changes (old rows must
//! still read as the same action).

use std::fmt;
use std::str::FromStr;

/// One kind of audited action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    SecretReveal,
    SecretExport,
    SecretSave,
    SecretImport,
    SecretRollback,
    SecretDelete,
    SecretUndelete,
    /// Asked the operator to copy a kv secret into the cluster now.
    SyncNow,
    /// Restarted workloads of an app.
    Restart,
    /// Changed who may view, edit or restart in an environment (Vault policies and groups).
    AccessChange,
    /// Onboarded an app: its Vault policy and login role, first kv version and cluster objects,
    /// as one action listing its steps.
    AppOnboard,
    /// Read a page of the audit history (with the filters in the detail).
    AuditView,
    /// Exported the audit history (CSV or JSON lines, with the filters in the detail).
    AuditExport,
}

impl Action {
    /// Every action, in a fixed order.
    pub const ALL: [Action; 16] = [
        Action::Login,
        Action::LoginFailed,
        Action::Logout,
        Action::SecretReveal,
        Action::SecretExport,
        Action::SecretSave,
        Action::SecretImport,
        Action::SecretRollback,
        Action::SecretDelete,
        Action::SecretUndelete,
        Action::SyncNow,
        Action::Restart,
        Action::AccessChange,
        Action::AppOnboard,
        Action::AuditView,
        Action::AuditExport,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::SecretReveal => "secret.reveal",
            Action::SecretExport => "secret.export",
            Action::SecretSave => "secret.save",
            Action::SecretImport => "secret.import",
            Action::SecretRollback => "secret.rollback",
            Action::SecretDelete => "secret.delete",
            Action::SecretUndelete => "secret.undelete",
            Action::SyncNow => "sync_now",
            Action::Restart => "restart",
            Action::AccessChange => "access.change",
            Action::AppOnboard => "app.onboard",
            Action::AuditView => "audit.view",
            Action::AuditExport => "audit.export",
        }
    }

    /// What the audit page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Action::Login => "Logged in",
            Action::LoginFailed => "Login failed",
            Action::Logout => "Logged out",
            Action::SecretReveal => "Revealed values",
            Action::SecretExport => "Exported .env",
            Action::SecretSave => "Saved",
            Action::SecretImport => "Imported",
            Action::SecretRollback => "Rolled back",
            Action::SecretDelete => "Deleted a version",
            Action::SecretUndelete => "Undeleted a version",
            Action::SyncNow => "Sync now",
            Action::Restart => "Restarted",
            Action::AccessChange => "Changed access",
            Action::AppOnboard => "Onboarded an app",
            Action::AuditView => "Opened the audit log",
            Action::AuditExport => "Exported the audit log",
        }
    }

    /// Whether a successful outcome of this action creates a new kv-v2 version
    /// (`version_after`): what the version list's authors are read from.
    pub fn creates_version(self) -> bool {
        matches!(
            self,
            Action::SecretSave | Action::SecretRollback | Action::SecretImport
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` is kept by hand; this match is exhaustive on purpose, so a new variant does not
    /// compile until it gets its place here, and then the test fails until `ALL` lists it there.
    #[test]
    fn all_lists_every_action_in_its_place() {
        let place = |a: Action| match a {
            Action::Login => 0,
            Action::LoginFailed => 1,
            Action::Logout => 2,
            Action::SecretReveal => 3,
            Action::SecretExport => 4,
            Action::SecretSave => 5,
            Action::SecretImport => 6,
            Action::SecretRollback => 7,
            Action::SecretDelete => 8,
            Action::SecretUndelete => 9,
            Action::SyncNow => 10,
            Action::Restart => 11,
            Action::AccessChange => 12,
            Action::AppOnboard => 13,
            Action::AuditView => 14,
            Action::AuditExport => 15,
        };
        for (i, a) in Action::ALL.into_iter().enumerate() {
            assert_eq!(place(a), i, "{a} is out of place in ALL");
        }
        assert_eq!(
            place(Action::AuditExport) + 1,
            Action::ALL.len(),
            "the last place is ALL's end"
        );
    }

    #[test]
    fn actions_round_trip_through_their_stored_spelling() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert_eq!("secret.frobnicate".parse::<Action>(), Err(()));
    }

    #[test]
    fn the_stored_spelling_never_changes() {
        // Existing rows carry these exact strings.
        let spelled: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "login",
                "login_failed",
                "logout",
                "secret.reveal",
                "secret.export",
                "secret.save",
                "secret.import",
                "secret.rollback",
                "secret.delete",
                "secret.undelete",
                "sync_now",
                "restart",
                "access.change",
                "app.onboard",
                "audit.view",
                "audit.export"
            ]
        );
    }

    #[test]
    fn saves_rollbacks_and_imports_create_versions() {
        let creating: Vec<Action> = Action::ALL
            .into_iter()
            .filter(|a| a.creates_version())
            .collect();
        assert_eq!(
            creating,
            [
                Action::SecretSave,
                Action::SecretImport,
                Action::SecretRollback
            ]
        );
    }
}
