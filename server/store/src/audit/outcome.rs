//! How an audited action ended, with its stored spelling. Its own module so that both the events
//! handed in and the rows handed out can name it without depending on each other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an action ended. `Pending` marks an intent row: the action was about to be attempted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pending,
    #[default]
    Ok,
    Denied,
    Conflict,
    Error,
}

impl Outcome {
    /// Every outcome, in the order the audit page lists them.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Denied,
        Outcome::Conflict,
        Outcome::Error,
        Outcome::Pending,
    ];

    /// What the audit page calls it. A `pending` row is an intent with no outcome recorded
    /// (Keyway stopped in between).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pending => "No outcome recorded",
            Outcome::Ok => "OK",
            Outcome::Denied => "Denied",
            Outcome::Conflict => "Conflict",
            Outcome::Error => "Error",
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Conflict => "conflict",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "pending" => Outcome::Pending,
            "ok" => Outcome::Ok,
            "denied" => Outcome::Denied,
            "conflict" => Outcome::Conflict,
            "error" => Outcome::Error,
            _ => return Err(()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_stored_spelling() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
        }
    }
}
