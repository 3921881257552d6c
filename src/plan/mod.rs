//! Plans: the action vocabulary, the change model, how a plan is computed, saved and rendered.

mod action;
mod change;
mod compute;

pub use action::Action;
pub use change::{OutputChange, Plan, PlanMode, ResourceChange, Summary};
pub use compute::{
    compute, lookup, mark_sensitive, provider_config, provider_type, read_provider_data, PlanError,
    PlanOptions,
};
pub mod planfile;
pub mod render;
