//! The stack language: YAML with source positions, `${...}` expressions, typed variables and
//! modules, loaded into a [`Stack`] whose only open references are resource attributes.
//!
//! Stages: `source` (whole-file guards) → `yaml` (spanned tree) → `parse` (sections,
//! unknown keys) → `variables` (final values) → `loader` with `modules` and
//! `module_def` (scopes, tera expansion) and `resolve` (references → absolute addresses);
//! `build` assembles the [`Stack`]. [`check`] then validates it against provider schemas.

mod build;
mod bundle;
mod check;
mod expr;
mod fields;
mod hints;
mod loader;
mod model;
mod module_def;
mod modules;
mod parse;
mod parse_vars;
mod resolve;
mod scope;
mod source;
mod types;
mod variables;
mod yaml;
mod yaml_scalar;

pub use check::check;
/// The keys each section of a stack file accepts (the parser's own lists; `mlstack schema` is
/// tested against them).
pub mod keys {
    pub use super::parse::{
        BACKEND_SETTINGS, DATA_KEYS, LIFECYCLE_KEYS, MODULE_CALL_KEYS, OUTPUT_KEYS, RESOURCE_KEYS,
        STACK_KEYS,
    };
    pub use super::parse_vars::VARIABLE_KEYS;
}
pub use model::*;
pub use source::MAX_FILE_BYTES;
pub use types::Type;

pub use build::is_valid_stack_name;

use crate::diag::Diagnostics;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Inputs to loading a stack besides the file itself.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var NAME=VALUE`, in command-line order (later wins).
    pub vars: Vec<(String, String)>,
    /// `--var-file FILE`, in command-line order (applied before `--var`).
    pub var_files: Vec<PathBuf>,
    /// The environment for `${env.NAME}` (tests pass their own).
    pub env: BTreeMap<String, String>,
    /// Where module directories live; default `modules/` beside the stack's directory or above.
    pub modules_dir: Option<PathBuf>,
    /// The providers whose schemas decide bundle expansion, stamps and ordering; default the
    /// built-in ones.
    pub registry: Option<crate::providers::Registry>,
}

/// Loads, checks and expands a stack file. Every problem is a diagnostic pointing at its line;
/// as many as possible are collected in one run.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    match source::read(path, "stack file") {
        Ok(text) => build::build(path, &text, options),
        Err(d) => Err(Diagnostics::new(Default::default(), vec![*d])),
    }
}

/// Loads a stack from text as if read from `path` (which names it in diagnostics, anchors
/// `./` module sources and starts the search for `modules/`). For tests and tools.
pub fn load_str(path: &Path, text: &str, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    build::build(path, text, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        assert!(is_valid_stack_name("demo"));
        assert!(is_valid_stack_name("fraud-detection-1"));
        assert!(!is_valid_stack_name("-demo"));
        assert!(!is_valid_stack_name("Demo"));
        assert!(!is_valid_stack_name("demo_x"));
        assert!(!is_valid_stack_name(&"a".repeat(64)));
    }
}
