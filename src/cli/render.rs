//! `mlstack render STACK --out DIR`: write every Kubernetes object and generated monitoring
//! file the stack produces; no network, no state.

use super::{load_stack, runtime, CliError, CliResult, RenderArgs, Ui};
use std::process::ExitCode;

pub fn run(args: &RenderArgs, _ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let graph = crate::graph::build(&stack)?;
    let registry = crate::providers::Registry::builtin();
    let rt = runtime()?;
    let values = rt
        .block_on(crate::render::evaluate(&stack, &graph, &registry))
        .map_err(CliError::Message)?;
    let files = crate::render::files(&stack, &values).map_err(CliError::Message)?;
    let written = crate::render::write(&args.out, &files).map_err(CliError::Message)?;
    println!(
        "Rendered {} files into {} (listed in index.txt).",
        written.len().saturating_sub(1),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
