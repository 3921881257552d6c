//! `mlstack validate`: load the stack, check it against the provider schemas and build the
//! dependency graph, without any network call.

use super::{CliError, CliResult, StackArgs, Ui};
use crate::diag::{Diagnostic, Diagnostics};
use crate::providers::Registry;
use crate::stack::{self, LoadOptions};
use std::process::ExitCode;

pub fn run(args: &StackArgs, _ui: Ui) -> CliResult {
    let options = load_options(args)?;
    let stack = stack::load(&args.stack, &options)?;
    let problems = stack::check(&stack, &Registry::builtin());
    if !problems.is_empty() {
        return Err(Diagnostics::new(stack.sources.clone(), problems).into());
    }
    // graph: the lead wires crate::graph::build here
    println!(
        "The stack is valid: {} resources, {} outputs.",
        stack.resources.len(),
        stack.outputs.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `LoadOptions` from the shared stack arguments: `--var` split at the first `=`, the process
/// environment for `${env.NAME}`.
pub fn load_options(args: &StackArgs) -> Result<LoadOptions, CliError> {
    let mut vars = Vec::with_capacity(args.vars.len());
    let mut bad = Vec::new();
    for (i, v) in args.vars.iter().enumerate() {
        match v.split_once('=') {
            Some((name, value)) => vars.push((name.trim().to_string(), value.to_string())),
            // The text is not echoed: it may be a secret typed in the wrong place.
            None => bad.push(Diagnostic::new(
                "invalid-var",
                format!(
                    "--var argument {} has no `=`; write --var NAME=VALUE",
                    i + 1
                ),
            )),
        }
    }
    if !bad.is_empty() {
        return Err(Diagnostics::new(Default::default(), bad).into());
    }
    Ok(LoadOptions {
        vars,
        var_files: args.var_files.clone(),
        env: std::env::vars().collect(),
        modules_dir: None,
    })
}
