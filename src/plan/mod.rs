//! Plans: the action vocabulary, the change model, how a plan is computed, saved and rendered.

mod action;
mod change;

pub use action::Action;
pub use change::{OutputChange, Plan, PlanMode, ResourceChange, Summary};
pub mod planfile;
pub mod render;
