//! The effective-access table of a preview: for each group the change touches, and for a user
//! the platform engineer names, what they may do in each environment before and after the
//! change, including what hand-written policies give ("granted outside Keyway").
//!
//! Computed by `keyway_policy`'s evaluator of Vault's ACL rules (tested against real OpenBao),
//! on the apps of each environment: a level reaches "all" apps, "some", or none. An environment
//! with no app yet is probed at one made-up app in its kv home.

use std::collections::BTreeMap;

use keyway_app::dto::{EffectiveRow, KvHome, Level, LevelReach, Reach, Subject};
use keyway_k8s::scope::Namespace;

use super::plan::Writes;
use super::state::VaultState;
use super::{policy_level, scope_of};

/// An app of an environment, as the evaluator probes it.
#[derive(Debug, Clone)]
pub(super) struct Probe {
    pub app: String,
    pub mount: String,
    pub path: String,
}

/// One environment with its home and its apps.
pub(super) struct Place {
    pub environment: Namespace,
    pub home: KvHome,
    pub apps: Vec<Probe>,
}

impl Place {
    /// Its apps, or one made-up app in its home when it has none.
    fn probes(&self) -> Vec<Probe> {
        if self.apps.is_empty() {
            vec![Probe {
                app: "any-app".into(),
                mount: self.home.mount.clone(),
                path: format!("{}any-app", self.home.prefix),
            }]
        } else {
            self.apps.clone()
        }
    }
}

/// Whose access a row shows: the policy names they hold before and after the change.
pub(super) struct Holder {
    pub subject: Subject,
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// What the evaluation cannot see, said on each of the holder's rows.
    pub note: Option<String>,
}

/// The texts policies will have after `writes`: Vault's, with the written ones replaced.
struct Texts<'a> {
    state: &'a VaultState,
    written: BTreeMap<&'a str, keyway_policy::Policy>,
}

impl<'a> Texts<'a> {
    fn new(state: &'a VaultState, writes: &'a Writes) -> Self {
        let written = writes
            .policies
            .iter()
            .filter_map(|w| Some((w.name.as_str(), keyway_policy::parse(&w.text).ok()?)))
            .collect();
        Texts { state, written }
    }

    /// The parsed policies of `names`, after the change or before it; with `outside_only`,
    /// only those Keyway did not write. Names Keyway cannot read or parse are skipped and
    /// returned, so the row can say so.
    fn policies(
        &self,
        names: &[String],
        after: bool,
        outside_only: bool,
    ) -> (Vec<&keyway_policy::Policy>, Vec<String>) {
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            if after {
                if let Some(p) = self.written.get(name.as_str()) {
                    if !outside_only {
                        out.push(p);
                    }
                    continue;
                }
            }
            match self.state.policies.get(name) {
                Some(p) if outside_only && p.managed => {}
                Some(p) => match &p.parsed {
                    Some(parsed) => out.push(parsed),
                    None => unknown.push(name.clone()),
                },
                // A policy written by this change but absent now is Keyway's own.
                None if after && self.written.contains_key(name.as_str()) => {}
                None => unknown.push(name.clone()),
            }
        }
        (out, unknown)
    }
}

fn reach(place: &Place, policies: &[&keyway_policy::Policy], level: Level) -> Reach {
    let acl = keyway_policy::Acl::new(policies.iter().copied());
    let probes = place.probes();
    let of = probes.len() as u32;
    let apps = probes
        .iter()
        .filter(|p| {
            let scope = scope_of(
                &place.environment,
                &KvHome {
                    mount: p.mount.clone(),
                    prefix: place.home.prefix.clone(),
                },
            );
            keyway_policy::levels_at(&acl, &scope, &p.app, &p.path).contains(policy_level(level))
        })
        .count() as u32;
    match apps {
        0 => Reach::None,
        n if n == of => Reach::All,
        n => Reach::Some { apps: n, of },
    }
}

/// The table: one row per holder and environment where they have any level before or after.
pub(super) fn table(
    state: &VaultState,
    writes: &Writes,
    places: &[Place],
    holders: &[Holder],
) -> Vec<EffectiveRow> {
    let texts = Texts::new(state, writes);
    let mut rows = Vec::new();
    for holder in holders {
        let (before, unknown_before) = texts.policies(&holder.before, false, false);
        let (after, unknown_after) = texts.policies(&holder.after, true, false);
        let (outside, _) = texts.policies(&holder.after, true, true);
        let mut unknown: Vec<String> = unknown_before;
        unknown.extend(unknown_after);
        unknown.sort();
        unknown.dedup();
        let note = match (&holder.note, unknown.is_empty()) {
            (n, true) => n.clone(),
            (n, false) => Some(
                n.iter()
                    .cloned()
                    .chain([format!(
                        "Keyway could not read or parse {}, so what they give is not counted.",
                        unknown.join(", ")
                    )])
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        for place in places {
            let levels: Vec<LevelReach> = Level::ALL
                .iter()
                .map(|l| LevelReach {
                    level: *l,
                    before: reach(place, &before, *l),
                    after: reach(place, &after, *l),
                    outside: reach(place, &outside, *l) != Reach::None,
                })
                .collect();
            if levels
                .iter()
                .all(|l| l.before == Reach::None && l.after == Reach::None)
            {
                continue;
            }
            rows.push(EffectiveRow {
                subject: holder.subject.clone(),
                environment: place.environment.to_string(),
                levels,
                note: note.clone(),
            });
        }
    }
    rows
}
