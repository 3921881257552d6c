//! State: the record of what was applied, where it lives, and the lock that guards it.

mod model;

pub use model::{OutputState, ResourceState, State, STATE_VERSION};
