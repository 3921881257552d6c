//! `mlstack destroy STACK`: plan the deletion of everything the stack manages, confirm, apply in
//! reverse dependency order.

use super::run::{open_session, plan_options, review_and_execute};
use super::{load_stack, runtime, ApplyArgs, CliResult, Ui};
use crate::plan::PlanMode;

pub fn run(args: &ApplyArgs, ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let rt = runtime()?;
    let mut session = open_session(stack, &args.flags, "destroy", true)?;
    let plan = rt.block_on(session.plan(&plan_options(&args.flags, PlanMode::Destroy)))?;
    review_and_execute(&rt, &mut session, &plan, args, ui, true)
}
