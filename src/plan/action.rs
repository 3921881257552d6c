//! The action vocabulary every plan speaks, with Terraform's symbols.

use serde::{Deserialize, Serialize};

/// What a plan will do to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Read,
    Create,
    Update,
    /// Delete then create (the default replace).
    DeleteThenCreate,
    /// Create then delete (`create_before_destroy`).
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Terraform's plan symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Read => "<=",
            Action::Create => "+",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    /// Terraform's JSON `change.actions`.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Read => &["read"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// Whether the action changes anything.
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp | Action::Read)
    }

    /// The verb used in human output: "will be created".
    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "is unchanged",
            Action::Read => "will be read during apply",
            Action::Create => "will be created",
            Action::Update => "will be updated in-place",
            Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
            Action::Delete => "will be destroyed",
        }
    }
}
