//! `mlstack render`: every Kubernetes object and every generated monitoring file the stack
//! produces, as files, with no network and no state.
//!
//! [`evaluate`] walks the graph once: data sources of offline providers (`local_file`,
//! `monitoring_bundle`) are read; a managed resource's value is its desired properties, with the
//! attributes only its provider sets unknown. [`files`] turns those values into file contents,
//! values known only after apply as `(known after apply)` and sensitive ones as `(sensitive)`;
//! [`write`] puts them under the output directory with an `index.txt`.

mod eval;
mod files;

pub use eval::evaluate;
pub use files::{files, write, RenderedFile};

/// Placeholder for a value known only after apply.
pub const UNKNOWN: &str = "(known after apply)";
/// Placeholder for a sensitive value.
pub const SENSITIVE: &str = "(sensitive)";
