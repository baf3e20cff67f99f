//! Repeated refusals collapse into one audit row a minute, with a count, instead of one row each.
//!
//! A refused attempt (Vault said no, a failed login) is worth auditing, but the same refusal a
//! thousand times a minute is one fact: "alice was refused reveal on staging/x, 1,000 times". So
//! the first refusal of its kind in a minute is written at once (it shows up immediately), and
//! the repeats are counted and written as one more row when the minute is over ("… and 999 more
//! times in the minute from 20:01 UTC"), by the task `crate::build` starts, and at shutdown. A
//! crash loses at most that count, never a change: only refusals (nothing attempted) come here.
//!
//! "Of its kind" is every field of the row but the request's id, address and the versions.

use std::collections::HashMap;
use std::sync::Mutex;

use keyway_store::NewEvent;

/// What makes two refusals the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Kind {
    actor_name: String,
    actor_entity: String,
    action: &'static str,
    mount: String,
    path: String,
    detail: Option<String>,
}

impl Kind {
    fn of(e: &NewEvent) -> Self {
        Kind {
            actor_name: e.actor_name.clone(),
            actor_entity: e.actor_entity.clone(),
            action: e.action.as_str(),
            mount: e.mount.clone(),
            path: e.path.clone(),
            detail: e.detail.clone(),
        }
    }
}

/// The repeats of one kind in one minute.
struct Repeats {
    minute: i64,
    count: u64,
    /// The latest repeat, written with the count.
    last: NewEvent,
}

/// The repeats counted so far.
#[derive(Default)]
pub struct Refusals {
    seen: Mutex<HashMap<Kind, Repeats>>,
}

/// The minute (since the epoch) a time falls in.
pub fn minute_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(60)
}

impl Refusals {
    /// Notes a refusal made in `minute`. Returns the rows to write now: the refusal itself when it
    /// is the first of its kind this minute, and the count of an earlier minute's repeats of the
    /// same kind if one was still held.
    pub fn note(&self, event: NewEvent, minute: i64) -> Vec<NewEvent> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let kind = Kind::of(&event);
        if let Some(r) = seen.get_mut(&kind).filter(|r| r.minute == minute) {
            r.count += 1;
            r.last = event;
            return Vec::new();
        }
        let fresh = Repeats {
            minute,
            count: 0,
            last: event.clone(),
        };
        // An earlier minute's repeats of the same kind, still held: their count goes first.
        let earlier = seen.insert(kind, fresh).and_then(|old| old.summary());
        earlier.into_iter().chain([event]).collect()
    }

    /// Takes the counts of minutes before `minute` (all of them with `None`, at shutdown), as the
    /// rows to write.
    pub fn take_due(&self, minute: Option<i64>) -> Vec<NewEvent> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        seen.retain(|_, r| {
            if minute.is_some_and(|m| r.minute >= m) {
                return true;
            }
            due.extend(r.summary());
            false
        });
        due
    }
}

/// How much of a refusal's reason a count row keeps (the store keeps 500 characters of a
/// detail, and the count after the reason takes at most 60).
const WHY_MAX_CHARS: usize = 420;

impl Repeats {
    /// The row counting the repeats (none when there were none).
    fn summary(&self) -> Option<NewEvent> {
        if self.count == 0 {
            return None;
        }
        let hh_mm = {
            let secs = self.minute * 60;
            format!(
                "{:02}:{:02}",
                secs.div_euclid(3600).rem_euclid(24),
                (secs / 60).rem_euclid(60)
            )
        };
        // The count must survive the store's cut of a detail at 500 characters: the reason is
        // shortened first, leaving room for it.
        let why: String = {
            let why = self.last.detail.as_deref().unwrap_or_default();
            match why.char_indices().nth(WHY_MAX_CHARS) {
                Some((cut, _)) => format!("{}…", &why[..cut]),
                None => why.to_string(),
            }
        };
        let times = if self.count == 1 { "time" } else { "times" };
        Some(self.last.clone().detail(format!(
            "{why} (and {} more {times} in the minute from {hh_mm} UTC)",
            self.count
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_store::{Action, Outcome};

    fn refusal(path: &str) -> NewEvent {
        NewEvent::new("alice", Action::SecretReveal)
            .entity("e-1")
            .secret("staging", path)
            .outcome(Outcome::Denied)
            .detail("reveal refused by Vault")
    }

    #[test]
    fn a_thousand_repeats_in_a_minute_are_one_row_now_and_one_count_after_the_minute() {
        let r = Refusals::default();
        let minute = minute_of(1_800_000_000);
        assert_eq!(r.note(refusal("webapp/config"), minute).len(), 1);
        for _ in 1..1000 {
            assert!(r.note(refusal("webapp/config"), minute).is_empty());
        }
        assert!(
            r.take_due(Some(minute)).is_empty(),
            "the minute is not over"
        );
        let due = r.take_due(Some(minute + 1));
        assert_eq!(due.len(), 1);
        let detail = due[0].detail.as_deref().unwrap();
        assert!(
            detail.starts_with("reveal refused by Vault (and 999 more times in the minute from "),
            "{detail}"
        );
        assert!(r.take_due(None).is_empty(), "counted once");
    }

    #[test]
    fn a_long_reason_is_shortened_so_the_count_is_kept() {
        let r = Refusals::default();
        let minute = minute_of(1_800_000_000);
        let long = NewEvent::new("alice", Action::Restart)
            .outcome(Outcome::Denied)
            .detail("x".repeat(700));
        r.note(long.clone(), minute);
        r.note(long, minute);
        let due = r.take_due(Some(minute + 1));
        let detail = due[0].detail.as_deref().unwrap();
        assert!(detail.chars().count() <= 500, "{}", detail.len());
        assert!(detail.ends_with("UTC)"), "{detail}");
    }

    #[test]
    fn another_target_is_another_kind_and_a_new_minute_writes_the_old_count() {
        let r = Refusals::default();
        assert_eq!(r.note(refusal("a"), 10).len(), 1);
        assert_eq!(r.note(refusal("b"), 10).len(), 1);
        assert!(r.note(refusal("a"), 10).is_empty());
        let rows = r.note(refusal("a"), 11);
        assert_eq!(
            rows.len(),
            2,
            "the count of minute 10, then the first of minute 11"
        );
        assert!(rows[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("and 1 more time in the minute from 00:10 UTC"));
        assert_eq!(rows[1].detail.as_deref(), Some("reveal refused by Vault"));
        assert!(
            r.take_due(None).is_empty(),
            "b had no repeats; a's minute 11 neither"
        );
    }
}
