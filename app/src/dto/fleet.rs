//! Fleet health, as the platform page shows it: per environment, how many apps need attention
//! and why, and the apps themselves (filtered, a page at a time).

use serde::{Deserialize, Serialize};

use super::SecretRef;

/// Why an app needs attention (the order is the order they are checked in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FleetProblem {
    /// The operator fails to copy its secret.
    Failing,
    /// Its Secret is not in the cluster yet.
    NotSetUp,
    /// The operator has not refreshed it for over twice its refresh interval.
    NotRefreshed,
    /// Running pods use old values.
    OldValues,
}

impl FleetProblem {
    pub const ALL: [FleetProblem; 4] = [
        FleetProblem::Failing,
        FleetProblem::NotSetUp,
        FleetProblem::NotRefreshed,
        FleetProblem::OldValues,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FleetProblem::Failing => "Failing",
            FleetProblem::NotSetUp => "Not set up",
            FleetProblem::NotRefreshed => "Not refreshed",
            FleetProblem::OldValues => "Old values",
        }
    }

    /// In URLs and test ids.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetProblem::Failing => "failing",
            FleetProblem::NotSetUp => "not-set-up",
            FleetProblem::NotRefreshed => "not-refreshed",
            FleetProblem::OldValues => "old-values",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Which apps to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetQuery {
    pub environment: Option<String>,
    pub problem: Option<FleetProblem>,
    /// A part of the app's name, environment or secret path.
    pub text: String,
    /// From 0.
    pub page: u32,
}

/// One environment's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCount {
    pub environment: String,
    /// Apps in the environment.
    pub apps: u32,
    /// Apps needing attention, by problem (in [`FleetProblem::ALL`]'s order).
    pub problems: Vec<(FleetProblem, u32)>,
}

/// One app needing attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetItem {
    pub environment: String,
    pub app: String,
    pub secret: SecretRef,
    pub problem: FleetProblem,
    pub sentence: String,
    /// Since when (RFC 3339), when known.
    pub since: Option<String>,
}

/// The fleet health page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetPage {
    /// False when Keyway is not connected to a cluster.
    pub configured: bool,
    /// Set when the cluster's state cannot be trusted right now (loading, unreachable).
    pub problem: Option<String>,
    /// Every environment the caller may see, with its counts.
    pub counts: Vec<FleetCount>,
    pub items: Vec<FleetItem>,
    /// Apps matching the query.
    pub matched: u32,
    pub page: u32,
    pub has_more: bool,
}
