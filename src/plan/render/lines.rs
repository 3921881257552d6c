//! The rendered diff as lines: one model shared by the human and Markdown renderers, which only
//! differ in how they lay a line out (colours and indentation vs. a `diff` fence's first column).

use super::style;
use crate::plan::Action;

/// One line of a resource block: its nesting depth, its symbol (`NoOp` = none), its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub depth: usize,
    pub action: Action,
    pub text: String,
    /// Ends with `# forces replacement`.
    pub forces: bool,
}

impl Line {
    pub(crate) fn new(depth: usize, action: Action, text: impl Into<String>) -> Line {
        Line {
            depth,
            action,
            text: text.into(),
            forces: false,
        }
    }

    /// A line without a symbol (closing braces, comments, unchanged heredoc lines).
    pub(crate) fn plain(depth: usize, text: impl Into<String>) -> Line {
        Line::new(depth, Action::NoOp, text)
    }

    /// Terraform's layout: four spaces per level, the symbol right-aligned in three columns.
    pub(crate) fn human(&self, color: bool) -> String {
        let sym = self.action.symbol();
        let mut out = "    ".repeat(self.depth);
        out.push_str(&" ".repeat(3usize.saturating_sub(sym.len())));
        out.push_str(&style::symbol(color, self.action));
        out.push(' ');
        out.push_str(&self.text);
        if self.forces {
            out.push(' ');
            out.push_str(&style::paint(color, style::RED, "# forces replacement"));
        }
        trim_end(out)
    }

    /// For a ```` ```diff ```` fence: the same layout with the change marker moved to the first
    /// column (`+`, `-`, `!` for in-place updates) so that the highlighter colours the line.
    pub(crate) fn markdown(&self) -> String {
        let plain = Line {
            action: Action::NoOp,
            ..self.clone()
        }
        .human(false);
        let marker = match self.action {
            Action::Create => '+',
            Action::Delete => '-',
            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => '!',
            Action::Read | Action::NoOp => ' ',
        };
        let mut out = String::with_capacity(plain.len() + 1);
        out.push(marker);
        out.push_str(plain.get(1..).unwrap_or(""));
        if self.action.is_replace() && self.depth == 0 {
            // Keep `-/+` visible on the resource line.
            out = format!("{}{}", self.action.symbol(), out.get(3..).unwrap_or(""));
        }
        trim_end(out)
    }
}

fn trim_end(mut s: String) -> String {
    let len = s.trim_end().len();
    s.truncate(len);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_terraform() {
        assert_eq!(
            Line::new(0, Action::Create, "resource \"a\" \"b\" {").human(false),
            "  + resource \"a\" \"b\" {"
        );
        assert_eq!(
            Line::new(0, Action::DeleteThenCreate, "resource").human(false),
            "-/+ resource"
        );
        let mut l = Line::new(1, Action::Update, "ami = \"a\" -> \"b\"");
        l.forces = true;
        assert_eq!(
            l.human(false),
            "      ~ ami = \"a\" -> \"b\" # forces replacement"
        );
        assert_eq!(
            Line::plain(1, "# (2 hidden)").human(false),
            "        # (2 hidden)"
        );
        assert_eq!(Line::plain(0, "}").human(false), "    }");
    }

    #[test]
    fn markdown_moves_marker() {
        assert_eq!(
            Line::new(1, Action::Update, "x = 1 -> 2").markdown(),
            "!       x = 1 -> 2"
        );
        assert_eq!(Line::new(0, Action::Create, "r {").markdown(), "+   r {");
        assert_eq!(
            Line::new(0, Action::DeleteThenCreate, "r {").markdown(),
            "-/+ r {"
        );
    }
}
