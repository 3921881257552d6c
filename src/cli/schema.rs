//! `mlstack schema`: the stack file's JSON Schema, for editors.

use super::{CliResult, Ui};
use std::process::ExitCode;

pub fn run(_ui: Ui) -> CliResult {
    let schema = crate::schema::stack_schema(&crate::providers::Registry::builtin());
    println!(
        "{}",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
