//! A tiny ANSI colour helper: enough for plan symbols, no crate needed.

use crate::plan::Action;

pub(crate) const GREEN: &str = "32";
pub(crate) const YELLOW: &str = "33";
pub(crate) const RED: &str = "31";
pub(crate) const CYAN: &str = "36";
pub(crate) const BOLD: &str = "1";

/// Wraps `text` in an ANSI style when `color` is on; returns it as is otherwise.
pub(crate) fn paint(color: bool, style: &str, text: &str) -> String {
    if color && !text.is_empty() {
        format!("\x1b[{style}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// An action's symbol, coloured as Terraform colours it (replace: red `-`, green `+`).
pub(crate) fn symbol(color: bool, action: Action) -> String {
    match action {
        Action::DeleteThenCreate if color => {
            format!("{}/{}", paint(true, RED, "-"), paint(true, GREEN, "+"))
        }
        Action::CreateThenDelete if color => {
            format!("{}/{}", paint(true, GREEN, "+"), paint(true, RED, "-"))
        }
        other => paint(color, action_style(other), other.symbol()),
    }
}

/// The colour of an action.
pub(crate) fn action_style(action: Action) -> &'static str {
    match action {
        Action::Create => GREEN,
        Action::Update => YELLOW,
        Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete => RED,
        Action::Read => CYAN,
        Action::NoOp => "0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_without_color() {
        assert_eq!(symbol(false, Action::DeleteThenCreate), "-/+");
        assert_eq!(paint(false, RED, "x"), "x");
        assert_eq!(paint(true, RED, "x"), "\x1b[31mx\x1b[0m");
    }
}
