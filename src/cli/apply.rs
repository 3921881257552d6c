//! `mlstack apply STACK` (plan, confirm, apply) and `mlstack apply PLANFILE` (apply exactly a
//! saved plan, without a prompt, refusing it when state or the stack moved since).

use super::run::{execute, finish, open_session, plan_options, print_human, review_and_execute};
use super::{load_options, runtime, ApplyArgs, CliError, CliResult, StackArgs, Ui};
use crate::plan::{Plan, PlanMode};
use std::process::ExitCode;

pub fn run(args: &ApplyArgs, ui: Ui) -> CliResult {
    let head = read_head(&args.stack.stack);
    if crate::plan::planfile::is_plan_file(&head) {
        return apply_saved(args, ui);
    }
    let stack = super::load_stack(&args.stack)?;
    let rt = runtime()?;
    let mut session = open_session(stack, &args.flags, "apply", true)?;
    let plan = rt.block_on(session.plan(&plan_options(&args.flags, PlanMode::Normal)))?;
    review_and_execute(&rt, &mut session, &plan, args, ui, false)
}

/// The first bytes of a file, to tell a plan file from a stack file.
fn read_head(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let mut buf = vec![0u8; 4096];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut buf)) {
        Ok(n) => {
            buf.truncate(n);
            buf
        }
        Err(_) => Vec::new(),
    }
}

/// Applies a saved plan: re-reads its stack (with the variables it was made with, sensitive
/// ones supplied again on this command line), checks the state did not move, re-plans, and
/// refuses unless the result is the same plan.
fn apply_saved(args: &ApplyArgs, ui: Ui) -> CliResult {
    let saved = crate::plan::planfile::load(&args.stack.stack).map_err(CliError::Message)?;
    let mut stack_args = StackArgs {
        stack: saved.stack_path.clone().into(),
        vars: Vec::new(),
        var_files: args.stack.var_files.clone(),
    };
    for (k, v) in &saved.variables {
        if v.is_sensitive() {
            continue;
        }
        let text = match v.as_str() {
            Some(s) => s.to_string(),
            None => v.to_json_unmarked().to_string(),
        };
        stack_args.vars.push(format!("{k}={text}"));
    }
    stack_args.vars.extend(args.stack.vars.iter().cloned());
    let opts = load_options(&stack_args)?;
    let stack = crate::stack::load(&stack_args.stack, &opts)?;
    let mut flags = args.flags.clone();
    flags.targets = saved.targets.clone();
    flags.sandbox = saved.sandbox;
    flags.refresh_only = saved.mode == PlanMode::RefreshOnly;
    let rt = runtime()?;
    let mut session = open_session(stack, &flags, "apply", true)?;
    if !session.state_existed && saved.serial == 0 {
        session.state.lineage = saved.lineage.clone();
    }
    if session.state.lineage != saved.lineage || session.state.serial != saved.serial {
        return Err(CliError::Message(format!(
            "the saved plan is stale: it was made for state serial {} (lineage {}), but the state is now at serial {} (lineage {}); run `mlstack plan` again",
            saved.serial, saved.lineage, session.state.serial, session.state.lineage
        )));
    }
    let mode = if saved.mode == PlanMode::Destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let plan = rt.block_on(session.plan(&plan_options(&flags, mode)))?;
    if let Some(diff) = first_difference(&saved, &plan) {
        return Err(CliError::Message(format!(
            "the saved plan no longer matches the stack and live objects ({diff}); run `mlstack plan` again"
        )));
    }
    if !args.json {
        print_human(&plan, ui);
    }
    let report = execute(&rt, &mut session, &plan, flags.parallelism, args.json, ui);
    finish(&report, &plan, mode == PlanMode::Destroy)?;
    Ok(ExitCode::SUCCESS)
}

/// The first visible difference between two plans (what a reviewer saw vs what would run now).
fn first_difference(saved: &Plan, now: &Plan) -> Option<String> {
    let visible = |p: &Plan| -> Vec<(
        String,
        &'static [&'static str],
        serde_json::Value,
        serde_json::Value,
    )> {
        p.changes
            .iter()
            .filter(|c| c.action.is_change())
            .map(|c| {
                let after = c
                    .after
                    .as_ref()
                    .map(|v| v.to_json_masked())
                    .unwrap_or_default();
                let unknown = c
                    .after
                    .as_ref()
                    .map(|v| v.mirror(&|x| matches!(x, mlstack_provider_api::Value::Unknown)))
                    .unwrap_or_default();
                (c.address.clone(), c.action.json_actions(), after, unknown)
            })
            .collect()
    };
    let (a, b) = (visible(saved), visible(now));
    if a.len() != b.len() {
        return Some(format!(
            "{} changes were saved, {} would be made now",
            a.len(),
            b.len()
        ));
    }
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            return Some(format!("{} differs", y.0));
        }
    }
    None
}
