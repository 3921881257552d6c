//! `mlstack validate`: load the stack, check it against the provider schemas and build the
//! dependency graph, without any network call.

use super::{CliResult, StackArgs, Ui};
use std::process::ExitCode;

pub fn run(args: &StackArgs, _ui: Ui) -> CliResult {
    let stack = super::load_stack(args)?;
    crate::graph::build(&stack)?;
    println!(
        "The stack is valid: {} resources, {} outputs.",
        stack.resources.len(),
        stack.outputs.len()
    );
    Ok(ExitCode::SUCCESS)
}
