//! `${...}` templates inside strings: splitting a string into text and references, with the
//! span of each reference in its file. `$${` is a literal `${`.

use crate::diag::{Diagnostic, Span};
use mlstack_provider_api::PathStep;
use std::cell::Cell;

/// A piece of a string: text, or a reference not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Ref(RawRef),
}

/// A reference as written: `root.step.step[0]["key"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRef {
    /// `var`, `env`, `data`, `module`, `input`, or a resource name.
    pub root: String,
    pub path: Vec<PathStep>,
    /// The whole `${...}` in the file.
    pub span: Span,
    /// The text between `${` and `}`, trimmed, for messages.
    pub text: String,
}

/// Finds where a piece of a scalar's value sits in the file. The value may differ from the
/// source text (quotes, escapes, folding), so each piece is searched in the raw text from where
/// the previous one ended; when not found, the whole scalar is the span.
pub struct Locator<'a> {
    raw: &'a str,
    span: Span,
    cursor: Cell<usize>,
}

impl<'a> Locator<'a> {
    /// `raw` is the scalar's source text, `span` its place.
    pub fn new(raw: &'a str, span: Span) -> Self {
        Locator {
            raw,
            span,
            cursor: Cell::new(0),
        }
    }

    /// A locator that always answers with `span`.
    pub fn whole(span: Span) -> Locator<'static> {
        Locator::new("", span)
    }

    fn find(&self, text: &str) -> Span {
        let from = self.cursor.get().min(self.raw.len());
        match self.raw.get(from..).and_then(|rest| rest.find(text)) {
            Some(i) if !text.is_empty() => {
                let start = from + i;
                self.cursor.set(start + text.len());
                Span::new(
                    self.span.file,
                    self.span.start as usize + start,
                    self.span.start as usize + start + text.len(),
                )
            }
            _ => {
                // Not in the source as written (escapes): later pieces will not be found either,
                // so stop searching (each search would scan the rest of the scalar).
                self.cursor.set(self.raw.len());
                self.span
            }
        }
    }
}

/// Quick test: does the string need template parsing at all?
pub fn has_template(s: &str) -> bool {
    s.contains("${")
}

/// Splits a string into text and references. A string without `${` is one text piece.
pub fn parse_template(value: &str, loc: &Locator) -> Result<Vec<Piece>, Box<Diagnostic>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        if i > 0 && rest.as_bytes()[i - 1] == b'$' {
            // `$${` is an escaped `${`.
            text.push_str(&rest[..i - 1]);
            text.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        text.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(close) = find_close(after) else {
            let span = loc.find(&rest[i..]);
            return Err(Box::new(
                Diagnostic::new("unterminated-expression", "unterminated `${` expression")
                    .at(span, "this `${` has no closing `}`")
                    .help("close the expression with `}`, or write `$${` for a literal `${`"),
            ));
        };
        let whole = &rest[i..i + 2 + close + 1];
        let span = loc.find(whole);
        let inner = after[..close].trim();
        let (root, path) = parse_reference(inner).map_err(|why| {
            Box::new(Diagnostic::new(
                "invalid-expression",
                format!("invalid expression `{inner}`: {why}"),
            )
            .at(span, why)
            .help(
                "expressions are references: var.NAME, env.NAME, RESOURCE.ATTR, data.NAME.ATTR, \
                     module.NAME.OUTPUT, input.NAME; paths use .key, [0] or [\"key\"]",
            ))
        })?;
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Ref(RawRef {
            root,
            path,
            span,
            text: inner.to_string(),
        }));
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The index of the `}` closing an expression, skipping quoted keys.
fn find_close(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '}' => return Some(i),
                _ => {}
            },
        }
    }
    None
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Parses `root(.name|[0]|["key"])*`.
pub fn parse_reference(text: &str) -> Result<(String, Vec<PathStep>), String> {
    let mut chars = text.char_indices().peekable();
    let root_end = match chars.peek() {
        Some(&(_, c)) if is_ident_start(c) => {
            let mut end = text.len();
            for (i, c) in text.char_indices() {
                if !is_ident_char(c) {
                    end = i;
                    break;
                }
            }
            end
        }
        Some(&(_, c)) => return Err(format!("unexpected `{c}` at the start")),
        None => return Err("the expression is empty".into()),
    };
    let root = text[..root_end].to_string();
    let mut path = Vec::new();
    let mut rest = &text[root_end..];
    while let Some(c) = rest.chars().next() {
        match c {
            '.' => {
                let body = &rest[1..];
                let end = body
                    .char_indices()
                    .find(|&(_, c)| !is_ident_char(c))
                    .map_or(body.len(), |(i, _)| i);
                let name = &body[..end];
                if name.is_empty() {
                    return Err("a name must follow `.`".into());
                }
                if name.bytes().all(|b| b.is_ascii_digit()) {
                    let i = name
                        .parse::<usize>()
                        .map_err(|_| format!("index `{name}` is too large"))?;
                    path.push(PathStep::Index(i));
                } else {
                    path.push(PathStep::Key(name.to_string()));
                }
                rest = &body[end..];
            }
            '[' => {
                let body = rest[1..].trim_start();
                let (step, after) = parse_bracket(body)?;
                path.push(step);
                rest = after;
            }
            c if c.is_whitespace() => {
                return Err(
                    "spaces are not allowed inside a reference (operators and functions are not supported)"
                        .into(),
                )
            }
            c => return Err(format!("unexpected `{c}`")),
        }
    }
    Ok((root, path))
}

/// Parses the inside of `[...]` (after `[`): a number or a quoted key, then `]`.
fn parse_bracket(body: &str) -> Result<(PathStep, &str), String> {
    let first = body.chars().next().ok_or("unclosed `[`")?;
    if first == '"' || first == '\'' {
        let mut key = String::new();
        let mut escaped = false;
        for (i, c) in body.char_indices().skip(1) {
            if escaped {
                key.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == first {
                let after = body[i + 1..].trim_start();
                let after = after
                    .strip_prefix(']')
                    .ok_or("expected `]` after the key")?;
                return Ok((PathStep::Key(key), after));
            } else {
                key.push(c);
            }
        }
        return Err("unterminated quoted key".into());
    }
    let end = body.find(']').ok_or("unclosed `[`")?;
    let inner = body[..end].trim();
    let index = inner
        .parse::<usize>()
        .map_err(|_| format!("`[{inner}]` is neither an index nor a quoted key"))?;
    Ok((PathStep::Index(index), &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<Piece>, Box<Diagnostic>> {
        parse_template(s, &Locator::new(s, Span::new(0, 0, s.len())))
    }

    #[test]
    fn splits_text_and_references() {
        let p = parse("a ${var.x} b ${res.attr[0][\"k.y\"]}").expect("ok");
        assert_eq!(p.len(), 4);
        let Piece::Ref(r) = &p[3] else { panic!() };
        assert_eq!(r.root, "res");
        assert_eq!(
            r.path,
            vec![
                PathStep::Key("attr".into()),
                PathStep::Index(0),
                PathStep::Key("k.y".into())
            ]
        );
        assert_eq!((r.span.start, r.span.end), (13, 34));
    }

    #[test]
    fn escaped_dollar_is_text() {
        let p = parse("cost: $${HOME} and $$5").expect("ok");
        assert_eq!(p, vec![Piece::Text("cost: ${HOME} and $$5".into())]);
    }

    #[test]
    fn unterminated_and_invalid() {
        let e = parse("x ${var.a").expect_err("unterminated");
        assert_eq!(e.code, "unterminated-expression");
        assert_eq!(e.span.map(|s| s.start), Some(2));
        let e = parse("${var.a + 1}").expect_err("invalid");
        assert_eq!(e.code, "invalid-expression");
        assert!(parse("${}").is_err());
        assert!(parse("${a.}").is_err());
        assert!(parse("${a[x]}").is_err());
    }

    #[test]
    fn dotted_numbers_are_indexes() {
        let (root, path) = parse_reference("res.items.0.name").expect("ok");
        assert_eq!(root, "res");
        assert_eq!(path[1], PathStep::Index(0));
    }
}
