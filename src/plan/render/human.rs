//! The terminal rendering of a plan, in Terraform's shape and words.

use super::block;
use super::lines::Line;
use super::style::{self, paint, BOLD, YELLOW};
use crate::plan::{Action, Plan, PlanMode, ResourceChange};

const RULE: &str = "─────────────────────────────────────────────────────────────────────────────";

/// The plan as a terminal shows it; ANSI colours only when `color`.
pub fn human(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    warnings(plan, color, &mut out);
    let drifted = !plan.drift.is_empty();
    if drifted {
        drift(plan, color, &mut out);
    }
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let outputs = block::output_lines(&plan.output_changes);
    if plan.mode == PlanMode::RefreshOnly && changes.is_empty() {
        if drifted {
            out.push_str(
                "This is a refresh-only plan, so mlstack will not take any actions to undo\n\
                 these. If you were expecting these changes then you can apply this plan to\n\
                 record the updated values in the mlstack state without changing any remote\n\
                 objects.\n",
            );
        } else {
            out.push_str(&no_changes(
                color,
                "Your infrastructure still matches the configuration.",
            ));
        }
        return out;
    }
    if changes.is_empty() && outputs.is_empty() {
        let what = if plan.mode == PlanMode::Destroy {
            "No objects need to be destroyed."
        } else {
            "Your infrastructure matches the configuration."
        };
        out.push_str(&no_changes(color, what));
        if plan.mode != PlanMode::Destroy {
            out.push_str(
                "\nmlstack has compared your real infrastructure against your configuration\n\
                 and found no differences, so no changes are needed.\n",
            );
        }
        return out;
    }
    if !changes.is_empty() {
        legend(&changes, color, &mut out);
        out.push_str("\nmlstack will perform the following actions:\n\n");
        for change in &changes {
            resource(change, false, color, &mut out);
        }
    } else {
        out.push_str(
            "Changes to Outputs only: you can apply this plan to save the new output values\n\
             to the mlstack state, without changing any real infrastructure.\n\n",
        );
    }
    if !outputs.is_empty() {
        out.push_str(&paint(color, BOLD, "Changes to Outputs:"));
        out.push('\n');
        push_lines(&outputs, color, &mut out);
        out.push('\n');
    }
    let line = plan.summary().line();
    let (head, rest) = line.split_at(line.find(' ').unwrap_or(0));
    out.push_str(&paint(color, BOLD, head));
    out.push_str(rest);
    out.push('\n');
    out
}

fn no_changes(color: bool, what: &str) -> String {
    format!("{} {what}\n", paint(color, "32;1", "No changes."))
}

fn warnings(plan: &Plan, color: bool, out: &mut String) {
    let label = paint(color, &format!("{YELLOW};{BOLD}"), "Warning:");
    for w in &plan.warnings {
        out.push_str(&format!("{label} {}\n\n", super::text::clean(w)));
    }
    if !plan.targets.is_empty() {
        let targets: Vec<String> = plan.targets.iter().map(|t| super::text::clean(t)).collect();
        out.push_str(&format!(
            "{label} Resource targeting is in effect ({})\n\n\
             The plan may be incomplete: only the targeted resources and what they depend on\n\
             were considered.\n\n",
            targets.join(", ")
        ));
    }
}

fn drift(plan: &Plan, color: bool, out: &mut String) {
    out.push_str(&paint(
        color,
        BOLD,
        "Note: Objects have changed outside of mlstack",
    ));
    out.push_str(
        "\n\nmlstack detected the following changes made outside of mlstack since the\n\
         last \"mlstack apply\" which may have affected this plan:\n\n",
    );
    for change in &plan.drift {
        resource(change, true, color, out);
    }
    if plan.mode != PlanMode::RefreshOnly {
        out.push_str(
            "Unless you have made equivalent changes to your configuration, or ignored the\n\
             relevant attributes using ignore_changes, the following plan may include\n\
             actions to undo or respond to these changes.\n",
        );
    }
    out.push('\n');
    out.push_str(RULE);
    out.push_str("\n\n");
}

/// Lists the symbols this plan uses, as Terraform's legend does.
fn legend(changes: &[&ResourceChange], color: bool, out: &mut String) {
    out.push_str(
        "mlstack used the selected providers to generate the following execution plan.\n\
         Resource actions are indicated with the following symbols:\n",
    );
    let used = |a: Action| changes.iter().any(|c| c.action == a);
    let entries = [
        (Action::Create, "create"),
        (Action::Update, "update in-place"),
        (Action::Delete, "destroy"),
        (
            Action::DeleteThenCreate,
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "create replacement and then destroy",
        ),
        (Action::Read, "read (data resources)"),
    ];
    for (action, what) in entries {
        if used(action) {
            let sym = action.symbol();
            let pad = " ".repeat(3usize.saturating_sub(sym.len()));
            out.push_str(&format!("{pad}{} {what}\n", style::symbol(color, action)));
        }
    }
}

fn resource(change: &ResourceChange, drift: bool, color: bool, out: &mut String) {
    out.push_str("  ");
    out.push_str(&paint(
        color,
        BOLD,
        &format!("# {}", block::header(change, drift)),
    ));
    out.push('\n');
    push_lines(&block::resource_lines(change), color, out);
    out.push('\n');
}

fn push_lines(lines: &[Line], color: bool, out: &mut String) {
    for line in lines {
        out.push_str(&line.human(color));
        out.push('\n');
    }
}
