//! Reading YAML mappings as fixed sets of keys: unknown keys are errors with the nearest valid
//! key suggested, and small typed accessors report wrong types at the value.

use super::yaml::{Entry, Node, NodeKind};
use crate::diag::{did_you_mean, Diagnostic, Span};
use mlstack_provider_api::Value;

/// A mapping whose keys were checked against the allowed set; take values out by key.
pub struct Fields {
    entries: Vec<Option<Entry>>,
}

impl Fields {
    /// Checks that `node` is a mapping with only `allowed` keys. `what` names the place for
    /// messages, e.g. "resource `db`". `None` (with a diagnostic) when it is not a mapping.
    pub fn new(
        node: Node,
        allowed: &[&str],
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Fields> {
        let entries = expect_map(node, what, diags)?;
        for e in &entries {
            if !allowed.contains(&e.key.as_str()) {
                diags.push(unknown_key(&e.key, e.key_span, what, allowed));
            }
        }
        Some(Fields {
            entries: entries
                .into_iter()
                .filter(|e| allowed.contains(&e.key.as_str()))
                .map(Some)
                .collect(),
        })
    }

    /// Takes the entry under `key`, if present.
    pub fn take(&mut self, key: &str) -> Option<Entry> {
        self.entries
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|e| e.key == key))
            .and_then(Option::take)
    }
}

/// The "unknown key" diagnostic with a suggestion.
pub fn unknown_key(key: &str, span: Span, what: &str, allowed: &[&str]) -> Diagnostic {
    let d = Diagnostic::new("unknown-key", format!("unknown key `{key}` in {what}"))
        .at(span, "unknown key");
    match did_you_mean(key, allowed.iter().copied()) {
        Some(hint) => d.help(hint),
        None => d.help(format!("valid keys: {}", allowed.join(", "))),
    }
}

/// The entries of a mapping node, or a "wrong type" diagnostic.
pub fn expect_map(node: Node, what: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<Entry>> {
    match node.kind {
        NodeKind::Map(entries) => Some(entries),
        NodeKind::Null => Some(Vec::new()),
        _ => {
            diags.push(wrong_type(&node, "a mapping", what));
            None
        }
    }
}

/// "expected X, found Y" at a node.
pub fn wrong_type(node: &Node, expected: &str, what: &str) -> Diagnostic {
    Diagnostic::new(
        "wrong-type",
        format!("{what} must be {expected}, found {}", node.kind_name()),
    )
    .at(node.span, format!("expected {expected}"))
}

/// A string value (numbers and bools are not accepted where a name is expected).
pub fn string(node: &Node, what: &str, diags: &mut Vec<Diagnostic>) -> Option<(String, Span)> {
    match &node.kind {
        NodeKind::Str(s) => Some((s.clone(), node.span)),
        _ => {
            diags.push(wrong_type(node, "a string", what));
            None
        }
    }
}

/// A literal bool.
pub fn boolean(node: &Node, what: &str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    match node.kind {
        NodeKind::Bool(b) => Some(b),
        _ => {
            diags.push(wrong_type(node, "true or false", what));
            None
        }
    }
}

/// A list of strings (a single string is accepted as a list of one).
pub fn string_list(node: Node, what: &str, diags: &mut Vec<Diagnostic>) -> Vec<(String, Span)> {
    match node.kind {
        NodeKind::Seq(items) => items
            .iter()
            .filter_map(|n| string(n, what, diags))
            .collect(),
        NodeKind::Str(s) => vec![(s, node.span)],
        NodeKind::Null => Vec::new(),
        _ => {
            diags.push(wrong_type(&node, "a list of strings", what));
            Vec::new()
        }
    }
}

/// The plain value of a node (no template evaluation).
pub fn to_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        NodeKind::Str(s) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::List(items.iter().map(to_value).collect()),
        NodeKind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| (e.key.clone(), to_value(&e.value)))
                .collect(),
        ),
    }
}

/// Whether `name` is a valid resource, data, module or output name: `[a-z_][a-z0-9_-]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Names that start references and so cannot name a resource.
pub const RESERVED: &[&str] = &["var", "env", "data", "module", "input", "self"];

/// Checks a declared name; pushes a diagnostic and returns false when it is invalid.
pub fn check_name(name: &str, span: Span, what: &str, diags: &mut Vec<Diagnostic>) -> bool {
    if !is_valid_name(name) {
        diags.push(
            Diagnostic::new("invalid-name", format!("invalid {what} name `{name}`"))
                .at(span, "invalid name")
                .help("names are lowercase letters, digits, `_` and `-`, starting with a letter or `_`"),
        );
        return false;
    }
    if RESERVED.contains(&name) {
        diags.push(
            Diagnostic::new(
                "invalid-name",
                format!("`{name}` is reserved and cannot name a {what}"),
            )
            .at(span, "reserved name")
            .help(format!("reserved names: {}", RESERVED.join(", "))),
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("db_password"));
        assert!(is_valid_name("_x-1"));
        assert!(!is_valid_name("Db"));
        assert!(!is_valid_name("1db"));
        assert!(!is_valid_name(""));
    }
}
