//! `mlstack graph STACK --format dot|mermaid [--target ADDR]`.

use super::{load_stack, CliError, CliResult, GraphArgs, GraphFormat, Ui};
use std::process::ExitCode;

pub fn run(args: &GraphArgs, _ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let graph = crate::graph::build(&stack)?;
    let only = if args.targets.is_empty() {
        None
    } else {
        Some(
            graph
                .select_targets(&stack, &args.targets)
                .map_err(CliError::Message)?,
        )
    };
    let text = match args.format {
        GraphFormat::Dot => graph.to_dot(only.as_ref()),
        GraphFormat::Mermaid => graph.to_mermaid(only.as_ref()),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
