//! `mlstack destroy STACK`: plan the deletion of everything the stack manages, confirm, apply in
//! reverse dependency order.

use super::run::{confirm, execute, finish, open_session, plan_options, print_human};
use super::{load_stack, runtime, ApplyArgs, CliResult, Ui};
use crate::plan::PlanMode;
use std::process::ExitCode;

pub fn run(args: &ApplyArgs, ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let rt = runtime()?;
    let mut session = open_session(stack, &args.flags, "destroy", true)?;
    let plan = rt.block_on(session.plan(&plan_options(&args.flags, PlanMode::Destroy)))?;
    if !args.json {
        print_human(&plan, ui);
    }
    if !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.auto_approve
        && !confirm("Do you really want to destroy all resources?\n  mlstack will destroy everything shown above. There is no undo.")?
    {
        println!("\nDestroy cancelled.");
        return Ok(ExitCode::from(super::EXIT_ERROR));
    }
    let report = execute(
        &rt,
        &mut session,
        &plan,
        args.flags.parallelism,
        args.json,
        ui,
    );
    finish(&report, &plan, true)?;
    Ok(ExitCode::SUCCESS)
}
