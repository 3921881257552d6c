//! The contract between the `mlstack` engine and its providers.
//!
//! The engine knows nothing of Kubernetes or Yandex Cloud: it speaks only to [`Provider`], passing
//! marked [`Value`]s. A provider takes part in every stage: static validation, refresh (`read`),
//! planning one resource, applying it, deleting it and waiting until it is ready.

pub mod names;
pub mod progress;
mod provider;
mod schema;
mod value;

pub use provider::*;
pub use schema::*;
pub use value::*;
