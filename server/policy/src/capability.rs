//! The words of Vault's policy language for what a token may do on a path.
//!
//! One [`Capability`] type for the whole server (keyway-vault re-exports it), and [`CapSet`], the
//! small copyable set an ACL rule or a `sys/capabilities` answer carries. `deny` is a flag, not a
//! capability: a set with it grants nothing, and it wins every union, as in Vault.

use serde::{Deserialize, Serialize};

/// One capability a Vault policy grants on a path.
///
/// `Scan` is OpenBao's (recursive listing); `Subscribe` (events) and `Recover` (snapshot restore)
/// are HashiCorp Vault's. All are here so any real policy parses; OpenBao refuses the last two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    Create,
    Read,
    Update,
    Patch,
    Delete,
    List,
    Sudo,
    Scan,
    Subscribe,
    Recover,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 10] = [
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Patch,
        Capability::Delete,
        Capability::List,
        Capability::Sudo,
        Capability::Scan,
        Capability::Subscribe,
        Capability::Recover,
    ];

    /// Vault's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Patch => "patch",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Scan => "scan",
            Capability::Subscribe => "subscribe",
            Capability::Recover => "recover",
        }
    }

    /// The capability Vault spells `word` (exact, lower case as Vault requires); `None` for
    /// anything else, `deny` and `root` included (they are flags of a [`CapSet`]).
    pub fn parse(word: &str) -> Option<Self> {
        Capability::ALL.into_iter().find(|c| c.as_str() == word)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of capabilities with Vault's two flags: `deny` (grants nothing, wins every union) and
/// `root` (a root token: grants everything). A deny set holds no capabilities, so two deny sets
/// are equal whatever they were built from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapSet {
    bits: u16,
    deny: bool,
    root: bool,
}

/// A word in a capabilities list that is not one of Vault's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability \"{0}\"")]
pub struct UnknownCapability(pub String);

impl CapSet {
    /// Grants nothing (and is not a deny: a union can still add to it).
    pub const fn empty() -> Self {
        CapSet {
            bits: 0,
            deny: false,
            root: false,
        }
    }

    /// An explicit `deny`.
    pub const fn deny() -> Self {
        CapSet {
            bits: 0,
            deny: true,
            root: false,
        }
    }

    /// A root token's answer: everything.
    pub const fn root() -> Self {
        CapSet {
            bits: 0,
            deny: false,
            root: true,
        }
    }

    /// These capabilities.
    pub fn of(caps: &[Capability]) -> Self {
        let mut set = CapSet::empty();
        for c in caps {
            set.insert(*c);
        }
        set
    }

    /// Whether the set grants `cap`.
    pub fn contains(self, cap: Capability) -> bool {
        !self.deny && (self.root || self.bits & cap.bit() != 0)
    }

    /// Adds `cap` (no effect on a deny set).
    pub fn insert(&mut self, cap: Capability) {
        if !self.deny {
            self.bits |= cap.bit();
        }
    }

    /// Both sets together, as Vault merges the same pattern of several policies: deny wins.
    pub fn union(self, other: CapSet) -> CapSet {
        if self.deny || other.deny {
            return CapSet::deny();
        }
        CapSet {
            bits: self.bits | other.bits,
            deny: false,
            root: self.root || other.root,
        }
    }

    /// Grants nothing (empty, or deny).
    pub fn is_empty(self) -> bool {
        self.deny || (self.bits == 0 && !self.root)
    }

    /// Carries the `deny` flag.
    pub fn is_deny(self) -> bool {
        self.deny
    }

    /// Carries the `root` flag (and no deny).
    pub fn is_root(self) -> bool {
        self.root && !self.deny
    }

    /// The capabilities granted, in declaration order (none for a deny set; a root set yields
    /// only what was inserted, ask [`CapSet::is_root`]).
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| !self.deny && self.bits & c.bit() != 0)
    }

    /// From Vault's words, e.g. `["read", "deny"]` (a `sys/capabilities` answer or a policy's
    /// `capabilities` list). `deny` anywhere makes a deny set, as Vault's parser does.
    pub fn from_words<I, S>(words: I) -> Result<Self, UnknownCapability>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = CapSet::empty();
        for word in words {
            match word.as_ref() {
                "deny" => set = set.union(CapSet::deny()),
                "root" => set = set.union(CapSet::root()),
                w => set.insert(Capability::parse(w).ok_or_else(|| UnknownCapability(w.into()))?),
            }
        }
        Ok(set)
    }

    /// Vault's words, as `sys/capabilities` prints them: sorted, `["root"]` for root, and
    /// `["deny"]` for a set that grants nothing.
    pub fn to_words(self) -> Vec<&'static str> {
        if self.is_root() {
            return vec!["root"];
        }
        let mut words: Vec<&'static str> = self.iter().map(Capability::as_str).collect();
        if words.is_empty() {
            return vec!["deny"];
        }
        words.sort_unstable();
        words
    }
}

impl FromIterator<Capability> for CapSet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = CapSet::empty();
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl std::fmt::Display for CapSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}]", self.to_words().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    #[test]
    fn every_word_round_trips() {
        for c in Capability::ALL {
            assert_eq!(Capability::parse(c.as_str()), Some(c));
        }
        assert_eq!(Capability::parse("deny"), None);
        assert_eq!(Capability::parse("Read"), None);
    }

    #[test]
    fn a_deny_set_grants_nothing_and_wins_unions() {
        let deny = CapSet::from_words(["read", "deny"]).unwrap();
        assert!(deny.is_empty() && deny.is_deny());
        assert!(!deny.contains(Read));
        assert_eq!(deny.iter().count(), 0);
        assert_eq!(CapSet::of(&[Read, List]).union(deny), CapSet::deny());
        assert_eq!(deny.to_words(), ["deny"]);
    }

    #[test]
    fn words_come_out_sorted_as_vault_prints_them() {
        let set = CapSet::from_words(["update", "read", "create", "list"]).unwrap();
        assert_eq!(set.to_words(), ["create", "list", "read", "update"]);
        assert_eq!(CapSet::empty().to_words(), ["deny"]);
        assert_eq!(CapSet::root().to_words(), ["root"]);
        assert!(CapSet::root().contains(Sudo));
    }

    #[test]
    fn an_unknown_word_is_named() {
        let err = CapSet::from_words(["read", "write"]).unwrap_err();
        assert_eq!(err.to_string(), "unknown capability \"write\"");
    }

    #[test]
    fn union_adds() {
        let set = CapSet::of(&[Read]).union(CapSet::of(&[List]));
        assert_eq!(set, CapSet::of(&[Read, List]));
        assert!(!set.is_empty());
        assert!(CapSet::empty().is_empty());
    }
}
