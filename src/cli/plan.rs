//! `mlstack plan STACK`: refresh, plan, print (human, markdown or json), optionally save.

use super::run::{open_session, plan_options};
use super::{load_stack, runtime, CliError, CliResult, Format, PlanArgs, Ui, EXIT_CHANGES};
use crate::plan::PlanMode;
use std::process::ExitCode;

pub fn run(args: &PlanArgs, ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let rt = runtime()?;
    let session = open_session(stack, &args.flags, "plan", args.flags.lock)?;
    let mode = if args.destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let plan = rt.block_on(session.plan(&plan_options(&args.flags, mode)))?;
    match args.format {
        Format::Human => super::run::print_human(&plan, ui),
        Format::Markdown => print!("{}", crate::plan::render::markdown(&plan)),
        Format::Json => println!("{}", crate::plan::render::json(&plan)),
    }
    if let Some(out) = &args.out {
        crate::plan::planfile::save_encrypted(&plan, out, session.backend.encryption())
            .map_err(CliError::Message)?;
        if args.format == Format::Human {
            println!(
                "\nSaved the plan to {}. To perform exactly these actions, run:\n  mlstack apply {}",
                out.display(),
                out.display()
            );
        }
    }
    if args.detailed_exitcode && plan.has_changes() {
        return Ok(ExitCode::from(EXIT_CHANGES));
    }
    Ok(ExitCode::SUCCESS)
}
