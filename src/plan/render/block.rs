//! One resource's block (`+ resource "type" "name" { ... }`) and the output changes, as lines;
//! shared by the human and Markdown renderers.

use super::address;
use super::diff::Differ;
use super::lines::Line;
use super::text;
use crate::plan::{Action, OutputChange, ResourceChange};
use crate::stack::Mode;
use mlstack_provider_api::{path_to_string, Value};

/// `ADDR will be created (reason)`: what the `# ...` comment above a block says.
pub(crate) fn header(change: &ResourceChange, drift: bool) -> String {
    format!(
        "{} {}",
        text::clean(&change.address),
        describe(change, drift)
    )
}

/// `will be created (reason)`: the header without the address.
pub(crate) fn describe(change: &ResourceChange, drift: bool) -> String {
    let verb = if drift {
        match change.action {
            Action::Delete => "has been deleted",
            Action::Create => "has been created",
            _ => "has changed",
        }
    } else {
        change.action.verb()
    };
    match change.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(reason) => format!("{verb} ({})", text::clean(reason)),
        None => verb.to_string(),
    }
}

/// The block's lines: opener, attribute diff, closer, then the provider's notes.
pub(crate) fn resource_lines(change: &ResourceChange) -> Vec<Line> {
    let parts = address::split(&change.address);
    let keyword = match change.mode {
        Mode::Managed => "resource",
        Mode::Data => "data",
    };
    let mut differ = Differ::new(&change.replace_paths);
    differ.lines.push(Line::new(
        0,
        change.action,
        format!(
            "{keyword} {} {} {{",
            text::quote(&change.type_name),
            text::quote(&parts.name)
        ),
    ));
    differ.body(
        1,
        change.action,
        change.before.as_ref(),
        change.after.as_ref(),
    );
    let unshown: Vec<String> = differ
        .unshown_replace_paths()
        .into_iter()
        .map(|p| text::clean(&path_to_string(p)))
        .collect();
    let mut lines = differ.lines;
    if change.action.is_replace() && !unshown.is_empty() {
        lines.push(Line::plain(
            1,
            format!("# forces replacement: {}", unshown.join(", ")),
        ));
    }
    lines.push(Line::plain(0, "}"));
    for note in &change.notes {
        for line in note.lines() {
            lines.push(Line::plain(0, format!("# {}", text::clean(line))));
        }
    }
    lines
}

/// `Changes to Outputs:` lines, no-ops left out. Values of sensitive outputs are masked.
pub(crate) fn output_lines(changes: &[OutputChange]) -> Vec<Line> {
    let masked: Vec<(String, Option<Value>, Option<Value>)> = changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(|c| {
            let mask = |v: &Option<Value>| {
                v.clone()
                    .map(|v| if c.sensitive { v.into_sensitive() } else { v })
            };
            (c.name.clone(), mask(&c.before), mask(&c.after))
        })
        .collect();
    let entries: Vec<(String, Option<&Value>, Option<&Value>)> = masked
        .iter()
        .map(|(n, b, a)| (n.clone(), b.as_ref(), a.as_ref()))
        .collect();
    let mut differ = Differ::new(&[]);
    differ.named(0, &entries);
    differ.lines
}
