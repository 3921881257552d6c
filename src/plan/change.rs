//! A plan: the list of resource and output changes, and the state it was computed against.

use super::Action;
use crate::stack::Mode;
use mlstack_provider_api::{Path, Value};
use std::collections::BTreeMap;

/// The change planned for one resource. `before`/`after` keep their marks: renderers must show
/// `(sensitive)` and `(known after apply)` and never the data behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub address: String,
    pub mode: Mode,
    pub type_name: String,
    /// The provider block key.
    pub provider: String,
    pub action: Action,
    /// Live (refreshed) attributes; `None` when creating.
    pub before: Option<Value>,
    /// Planned attributes; `None` when deleting.
    pub after: Option<Value>,
    /// The attributes that force a replacement.
    pub replace_paths: Vec<Path>,
    /// Why, when not obvious: "drift", "requested with --replace", "no longer in the stack".
    pub reason: Option<String>,
    /// The provider's notes (e.g. the manager that changed a drifted field).
    pub notes: Vec<String>,
    /// Addresses this resource depends on.
    pub dependencies: Vec<String>,
}

/// The change planned for one output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// What kind of run the plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    RefreshOnly,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub stack_name: String,
    /// The stack file the plan was made from (a saved plan re-reads it at apply).
    pub stack_path: String,
    pub mode: PlanMode,
    /// The state's lineage and serial when planned; a saved plan is refused if they moved.
    pub lineage: String,
    pub serial: u64,
    /// Changes, sorted by address. No-ops are kept (renderers skip them).
    pub changes: Vec<ResourceChange>,
    /// Changes made outside mlstack, found by refresh (Terraform's `resource_drift`).
    pub drift: Vec<ResourceChange>,
    pub output_changes: Vec<OutputChange>,
    /// Variable values the plan was made with (sensitive ones marked, and never saved in clear).
    pub variables: BTreeMap<String, Value>,
    /// `--target` addresses, if any.
    pub targets: Vec<String>,
    /// Whether providers were pointed at the sandbox.
    pub sandbox: bool,
    /// Warnings to show above the plan.
    pub warnings: Vec<String>,
}

/// The counts of `Plan: X to add, Y to change, Z to destroy.`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub read: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::Read => s.read += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    /// True when applying would change resources or outputs.
    pub fn has_changes(&self) -> bool {
        if self.mode == PlanMode::RefreshOnly {
            return !self.drift.is_empty();
        }
        self.changes.iter().any(|c| c.action.is_change())
            || self.output_changes.iter().any(|c| c.action.is_change())
    }

    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }
}

impl Summary {
    /// `Plan: X to add, Y to change, Z to destroy.`
    pub fn line(&self) -> String {
        format!(
            "Plan: {} to add, {} to change, {} to destroy.",
            self.add, self.change, self.destroy
        )
    }
}
