//! The stack language: YAML with source positions, `${...}` expressions, typed variables and
//! modules, loaded into a [`Stack`] whose only open references are resource attributes.

mod model;

pub use model::*;

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
}

/// Loads, checks and expands a stack file. Every problem is a diagnostic pointing at its line.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    let _ = (path, options);
    Err(Diagnostics::default())
}
