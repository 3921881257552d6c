//! Declarations of variables and module inputs: name, type, default, description,
//! sensitivity and validation rules.

use super::fields::{self, boolean, expect_map, string, Fields};
use super::types::{Rule, Type, TYPE_NAMES};
use super::yaml::{Entry, Node, NodeKind};
use crate::diag::{did_you_mean, Diagnostic, Span};
use mlstack_provider_api::Value;

pub const VARIABLE_KEYS: &[&str] = &["type", "default", "description", "sensitive", "validation"];
const RULE_KEYS: &[&str] = &[
    "allowed",
    "pattern",
    "min",
    "max",
    "min_length",
    "max_length",
    "message",
];

/// A declared variable or module input.
#[derive(Debug, Clone)]
pub struct RawVar {
    pub name: String,
    pub span: Span,
    pub ty: Type,
    pub default: Option<Node>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub rules: Vec<Rule>,
    /// The declaration itself is broken; its value is not checked further.
    pub broken: bool,
}

/// Variables (`what` = "variable") or module inputs (`what` = "input").
pub fn variables(node: Node, what: &str, diags: &mut Vec<Diagnostic>) -> Vec<RawVar> {
    let section = if what == "input" {
        "`inputs`"
    } else {
        "`variables`"
    };
    let mut out = Vec::new();
    for e in expect_map(node, section, diags).unwrap_or_default() {
        out.push(variable(e, what, diags));
    }
    out
}

fn is_variable_name(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn variable(e: Entry, what: &str, diags: &mut Vec<Diagnostic>) -> RawVar {
    let mut var = RawVar {
        name: e.key.clone(),
        span: e.key_span,
        ty: Type::Any,
        default: None,
        description: None,
        sensitive: false,
        rules: Vec::new(),
        broken: false,
    };
    let before = diags.len();
    if !is_variable_name(&e.key) {
        diags.push(
            Diagnostic::new("invalid-name", format!("invalid {what} name `{}`", e.key))
                .at(e.key_span, "invalid name")
                .help("names are letters, digits, `_` and `-`, starting with a letter or `_`"),
        );
    }
    let label = format!("{what} `{}`", e.key);
    if let Some(mut f) = Fields::new(e.value, VARIABLE_KEYS, &label, diags) {
        if let Some(t) = f.take("type") {
            if let Some((text, span)) = string(&t.value, "`type`", diags) {
                match Type::parse(&text) {
                    Some(ty) => var.ty = ty,
                    None => {
                        let d = Diagnostic::new("unknown-type", format!("unknown type `{text}`"))
                            .at(span, "unknown type");
                        diags.push(match did_you_mean(&text, TYPE_NAMES.iter().copied()) {
                            Some(h) => d.help(h),
                            None => {
                                d.help("types: string, number, bool, list(T), map(T), object, any")
                            }
                        });
                    }
                }
            }
        }
        var.default = f.take("default").map(|d| d.value);
        if let Some(d) = f.take("description") {
            var.description = string(&d.value, "`description`", diags).map(|s| s.0);
        }
        if let Some(s) = f.take("sensitive") {
            var.sensitive = boolean(&s.value, "`sensitive`", diags).unwrap_or(false);
        }
        if let Some(v) = f.take("validation") {
            var.rules = rules(v.value, diags);
        }
    }
    var.broken = diags.len() > before;
    var
}

fn rules(node: Node, diags: &mut Vec<Diagnostic>) -> Vec<Rule> {
    let items = match node.kind {
        NodeKind::Seq(items) => items,
        NodeKind::Map(_) => vec![node],
        _ => {
            diags.push(fields::wrong_type(
                &node,
                "a rule or a list of rules",
                "`validation`",
            ));
            return Vec::new();
        }
    };
    items.into_iter().filter_map(|n| rule(n, diags)).collect()
}

fn rule(node: Node, diags: &mut Vec<Diagnostic>) -> Option<Rule> {
    let mut f = Fields::new(node, RULE_KEYS, "a validation rule", diags)?;
    let mut rule = Rule::default();
    let mut text = Vec::new();
    let number = |e: &Entry, diags: &mut Vec<Diagnostic>| match e.value.kind {
        NodeKind::Int(i) => Some(i as f64),
        NodeKind::Float(x) => Some(x),
        _ => {
            diags.push(fields::wrong_type(
                &e.value,
                "a number",
                &format!("`{}`", e.key),
            ));
            None
        }
    };
    let count = |e: &Entry, diags: &mut Vec<Diagnostic>| match e.value.kind {
        NodeKind::Int(i) if i >= 0 => Some(i as usize),
        _ => {
            diags.push(fields::wrong_type(
                &e.value,
                "a whole number",
                &format!("`{}`", e.key),
            ));
            None
        }
    };
    if let Some(e) = f.take("allowed") {
        match fields::to_value(&e.value) {
            Value::List(l) => {
                text.push(format!(
                    "allowed: {}",
                    Value::List(l.clone()).to_json_unmarked()
                ));
                rule.allowed = Some(l);
            }
            _ => diags.push(fields::wrong_type(&e.value, "a list", "`allowed`")),
        }
    }
    if let Some(e) = f.take("pattern") {
        if let Some((p, span)) = string(&e.value, "`pattern`", diags) {
            match regex::Regex::new(&p) {
                Ok(re) => {
                    text.push(format!("pattern: '{p}'"));
                    rule.pattern = Some(re);
                }
                Err(err) => diags.push(
                    Diagnostic::new("invalid-pattern", "invalid regular expression").at(
                        span,
                        err.to_string()
                            .lines()
                            .last()
                            .unwrap_or("invalid")
                            .to_string(),
                    ),
                ),
            }
        }
    }
    for key in ["min", "max"] {
        if let Some(e) = f.take(key) {
            if let Some(n) = number(&e, diags) {
                text.push(format!("{key}: {n}"));
                if key == "min" {
                    rule.min = Some(n);
                } else {
                    rule.max = Some(n);
                }
            }
        }
    }
    for key in ["min_length", "max_length"] {
        if let Some(e) = f.take(key) {
            if let Some(n) = count(&e, diags) {
                text.push(format!("{key}: {n}"));
                if key == "min_length" {
                    rule.min_length = Some(n);
                } else {
                    rule.max_length = Some(n);
                }
            }
        }
    }
    if let Some(e) = f.take("message") {
        rule.message = string(&e.value, "`message`", diags).map(|s| s.0);
    }
    rule.text = text.join(", ");
    Some(rule)
}
