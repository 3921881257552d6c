//! The plan as one pull-request comment: a warning at the top when anything is destroyed or
//! replaced, the summary and a table of counts, then one collapsed `<details>` block per
//! resource with a `diff` fence. It always fits [`MARKDOWN_LIMIT`]: once the budget is spent,
//! the remaining resources are listed in a table, and past that only counted.

use super::block;
use super::lines::Line;
use super::md;
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use std::fmt::Write;

/// GitHub's limit on a comment body (characters; we count bytes, which is stricter).
pub const MARKDOWN_LIMIT: usize = 65_536;

/// Most one resource's details may take, so one huge object cannot crowd out the rest.
const PER_RESOURCE_CAP: usize = 12_000;
/// Smallest details block worth showing; below this the resource goes to the table.
const MIN_BLOCK: usize = 400;
/// Caps of the sections rendered before the budget is known.
const DRIFT_CAP: usize = 8_000;
const OUTPUTS_CAP: usize = 4_000;
const WARNINGS_CAP: usize = 4_000;
/// Addresses listed in the top warning.
const WARN_LIST: usize = 20;
/// Longest address shown in lists and tables.
const ADDRESS_MAX: usize = 300;
/// Kept free for the table header and the closing counts.
const RESERVE: usize = 1_200;

/// The plan as GitHub-flavoured Markdown, at most [`MARKDOWN_LIMIT`] bytes, ending with the
/// summary line.
pub fn markdown(plan: &Plan) -> String {
    let out = render(plan);
    if out.len() <= MARKDOWN_LIMIT {
        out
    } else {
        minimal(plan)
    }
}

fn render(plan: &Plan) -> String {
    let summary = plan.summary().line();
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let mut top = title(plan);
    let nothing = changes.is_empty() && !plan.output_changes.iter().any(|c| c.action.is_change());
    if nothing {
        top.push_str(
            if plan.mode == PlanMode::RefreshOnly && !plan.drift.is_empty() {
                "This is a refresh-only plan: applying it records the changes below in the state \
             without changing any remote objects.\n\n"
            } else {
                "**No changes.** Your infrastructure matches the configuration.\n\n"
            },
        );
    } else {
        top.push_str(&destroy_warning(&changes));
        let _ = writeln!(top, "**{summary}**\n");
        top.push_str(&counts_table(&changes));
    }
    top.push_str(&plan_warnings(plan));
    let drift = drift_section(plan);
    let outputs = outputs_section(plan);
    let end = format!("{summary}\n");

    let fixed = top.len() + drift.len() + outputs.len() + end.len();
    let mut budget = MARKDOWN_LIMIT.saturating_sub(fixed + RESERVE);
    let mut middle = String::new();
    if !changes.is_empty() {
        middle.push_str("#### Resource changes\n\n");
        budget = budget.saturating_sub(middle.len());
    }
    // Details while they fit; when not all do, keep a third of the budget for the table.
    let mut blocks: Vec<String> = Vec::new();
    let mut used = 0;
    for change in &changes {
        let cap = (budget - used).min(PER_RESOURCE_CAP);
        if cap < MIN_BLOCK {
            break;
        }
        let block = details(change, cap);
        if used + block.len() > budget {
            break;
        }
        used += block.len();
        blocks.push(block);
    }
    if blocks.len() < changes.len() {
        let details_budget = budget / 3 * 2;
        while used > details_budget {
            match blocks.pop() {
                Some(b) => used -= b.len(),
                None => break,
            }
        }
    }
    let detailed = blocks.len();
    budget -= used;
    middle.push_str(&blocks.concat());
    let rest = changes.get(detailed..).unwrap_or_default();
    if !rest.is_empty() {
        middle.push_str(&overflow(rest, budget + RESERVE));
    }
    format!("{top}{drift}{middle}{outputs}{end}")
}

/// The title: stack, and what kind of plan.
fn title(plan: &Plan) -> String {
    let mut out = format!(
        "### mlstack plan for {}",
        md::code(&md::shorten(&plan.stack_name, 100), false)
    );
    match plan.mode {
        PlanMode::Normal => {}
        PlanMode::Destroy => out.push_str(" (destroy)"),
        PlanMode::RefreshOnly => out.push_str(" (refresh-only)"),
    }
    if plan.sandbox {
        out.push_str(" (sandbox)");
    }
    out.push_str("\n\n");
    out
}

/// `> [!WARNING]` naming what will be destroyed or replaced.
fn destroy_warning(changes: &[&ResourceChange]) -> String {
    let doomed: Vec<&&ResourceChange> = changes
        .iter()
        .filter(|c| c.action == Action::Delete || c.action.is_replace())
        .collect();
    if doomed.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "> [!WARNING]\n> **This plan destroys or replaces {}:**\n",
        super::text::plural(doomed.len(), "resource")
    );
    for c in doomed.iter().take(WARN_LIST) {
        let what = if c.action == Action::Delete {
            "destroyed"
        } else {
            "replaced"
        };
        let _ = writeln!(
            out,
            "> - {} {what}",
            md::code(&md::shorten(&c.address, ADDRESS_MAX), false)
        );
    }
    if doomed.len() > WARN_LIST {
        let _ = writeln!(out, "> - …and {} more", doomed.len() - WARN_LIST);
    }
    out.push('\n');
    out
}

/// The words for an action in tables.
fn action_label(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate => "replace",
        Action::CreateThenDelete => "replace (create first)",
        Action::Delete => "destroy",
        Action::Read => "read",
        Action::NoOp => "no-op",
    }
}

const TABLE_ORDER: [Action; 6] = [
    Action::Create,
    Action::Update,
    Action::DeleteThenCreate,
    Action::CreateThenDelete,
    Action::Delete,
    Action::Read,
];

fn count(changes: &[&ResourceChange], action: Action) -> usize {
    changes.iter().filter(|c| c.action == action).count()
}

fn counts_table(changes: &[&ResourceChange]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut out = String::from("| Action | Resources |\n| --- | ---: |\n");
    for action in TABLE_ORDER {
        let n = count(changes, action);
        if n > 0 {
            let sym = md::code(action.symbol(), true);
            let _ = writeln!(out, "| {sym} {} | {n} |", action_label(action));
        }
    }
    out.push('\n');
    out
}

fn plan_warnings(plan: &Plan) -> String {
    let mut out = String::new();
    let mut items: Vec<String> = plan.warnings.clone();
    if !plan.targets.is_empty() {
        let targets: Vec<String> = plan
            .targets
            .iter()
            .map(|t| md::shorten(t, ADDRESS_MAX))
            .collect();
        items.push(format!(
            "Resource targeting is in effect ({}): the plan may be incomplete.",
            targets.join(", ")
        ));
    }
    for (i, w) in items.iter().enumerate() {
        let line = format!("> [!NOTE]\n> {}\n\n", md::text(&md::shorten(w, 1_000)));
        if out.len() + line.len() > WARNINGS_CAP {
            let _ = writeln!(out, "> [!NOTE]\n> …and {} more warnings\n", items.len() - i);
            break;
        }
        out.push_str(&line);
    }
    out
}

/// One resource: `<details>` with the action, address and why in the summary, a diff inside.
fn details(change: &ResourceChange, cap: usize) -> String {
    let summary = format!(
        "<code>{}</code> <code>{}</code> {}",
        md::html(change.action.symbol()),
        md::html(&change.address),
        md::html(&block::describe(change, false))
    );
    let head = format!("<details><summary>{summary}</summary>\n\n");
    let foot = "\n</details>\n\n";
    let room = cap.saturating_sub(head.len() + foot.len());
    let lines: Vec<String> = block::resource_lines(change)
        .iter()
        .map(Line::markdown)
        .collect();
    format!("{head}{}{foot}", fenced(&lines, room))
}

/// A ```` ```diff ```` fence of `lines`, cut (with a note) to fit `room` bytes.
fn fenced(lines: &[String], room: usize) -> String {
    let all = md::fence("diff", &lines.join("\n"));
    if all.len() <= room {
        return all;
    }
    let ticks_overhead = 2
        * (lines
            .iter()
            .map(|l| l.matches('`').count())
            .max()
            .unwrap_or(0)
            + 4)
        + 8;
    let note_room = 60;
    let mut body = String::new();
    let mut shown = 0;
    for line in lines {
        if body.len() + line.len() + 1 + ticks_overhead + note_room > room {
            break;
        }
        body.push_str(line);
        body.push('\n');
        shown += 1;
    }
    let _ = write!(body, "# … {} more lines not shown", lines.len() - shown);
    md::fence("diff", &body)
}

/// Changes made outside mlstack, in one collapsed block.
fn drift_section(plan: &Plan) -> String {
    if plan.drift.is_empty() {
        return String::new();
    }
    let head = format!(
        "<details><summary>Objects have changed outside of mlstack ({})</summary>\n\n",
        plan.drift.len()
    );
    let foot = "\n</details>\n\n";
    let mut lines = Vec::new();
    for change in &plan.drift {
        lines.push(format!("# {}", block::header(change, true)));
        lines.extend(block::resource_lines(change).iter().map(Line::markdown));
        lines.push(String::new());
    }
    let room = DRIFT_CAP.saturating_sub(head.len() + foot.len());
    format!("{head}{}{foot}", fenced(&lines, room))
}

fn outputs_section(plan: &Plan) -> String {
    let lines: Vec<String> = block::output_lines(&plan.output_changes)
        .iter()
        .map(Line::markdown)
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let head = "#### Changes to outputs\n\n";
    let room = OUTPUTS_CAP.saturating_sub(head.len() + 1);
    format!("{head}{}\n", fenced(&lines, room))
}

/// What did not fit as details: a table of addresses while there is room, then counts.
fn overflow(rest: &[&ResourceChange], mut budget: usize) -> String {
    let mut out = format!(
        "#### {} more\n\nDetails left out to fit one comment; run `mlstack show` on the plan \
         file for all of them.\n\n| Action | Address |\n| --- | --- |\n",
        super::text::plural(rest.len(), "change")
    );
    let counts_room = 400;
    budget = budget.saturating_sub(out.len() + counts_room);
    let mut listed = 0;
    for change in rest {
        let row = format!(
            "| {} {} | {} |\n",
            md::code(change.action.symbol(), true),
            action_label(change.action),
            md::code(&md::shorten(&change.address, ADDRESS_MAX), true)
        );
        if row.len() > budget {
            break;
        }
        budget -= row.len();
        out.push_str(&row);
        listed += 1;
    }
    let unlisted = rest.get(listed..).unwrap_or_default();
    if !unlisted.is_empty() {
        let parts: Vec<String> = TABLE_ORDER
            .iter()
            .filter_map(|a| {
                let n = count(unlisted, *a);
                (n > 0).then(|| format!("{n} {}", action_label(*a)))
            })
            .collect();
        let _ = write!(
            out,
            "\n…and {} not listed: {}.\n",
            super::text::plural(unlisted.len(), "more change"),
            parts.join(", ")
        );
    }
    out.push('\n');
    out
}

/// The last resort when even the summarised comment would not fit (absurdly long names).
fn minimal(plan: &Plan) -> String {
    let changes: Vec<&ResourceChange> = plan.changes.iter().collect();
    format!(
        "### mlstack plan\n\nThe plan is too large to show in a comment; run `mlstack show` on \
         the plan file.\n\n{}\n{}\n",
        counts_table(&changes),
        plan.summary().line()
    )
}
