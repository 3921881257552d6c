//! Final values of stack variables: defaults, then var files in order, then `--var` in order;
//! every value type-checked and validated. Sensitive values are marked, and diagnostics about a
//! sensitive value given outside the stack file never show its line.

use super::fields::{expect_map, to_value};
use super::hints::Hints;
use super::parse_vars::RawVar;
use super::types::Type;
use super::{source, yaml, Expr, LoadOptions, VariableValue};
use crate::diag::{Diagnostic, SourceMap, Span};
use mlstack_provider_api::Value;
use std::collections::BTreeMap;

/// Why a value does not fit its declaration.
pub enum Problem {
    /// Wrong type; the text says what was expected and found.
    Type(String),
    /// A validation rule failed.
    Rule {
        rule: String,
        why: String,
        message: Option<String>,
    },
}

impl Problem {
    /// A diagnostic for `what` (e.g. "variable `region`"), at `span` when there is one.
    pub fn diagnostic(
        &self,
        code_type: &'static str,
        code_rule: &'static str,
        what: &str,
        span: Option<Span>,
    ) -> Diagnostic {
        let (d, label) = match self {
            Problem::Type(t) => (
                Diagnostic::new(code_type, format!("wrong type for {what}: {t}")),
                t.split(" at ").next().unwrap_or(t).to_string(),
            ),
            Problem::Rule { rule, why, message } => {
                let d = Diagnostic::new(
                    code_rule,
                    format!("{what} fails validation rule `{rule}`: {why}"),
                );
                let d = match message {
                    Some(m) => d.help(m.clone()),
                    None => d,
                };
                (d, format!("fails `{rule}`"))
            }
        };
        match span {
            Some(s) => d.at(s, label),
            None => d,
        }
    }
}

/// Type-checks and validates a value against a declaration (variables and module inputs).
pub fn check_value(decl: &RawVar, value: Value) -> Result<Value, Problem> {
    let v = decl.ty.coerce(value).map_err(Problem::Type)?;
    for rule in &decl.rules {
        if let Some(why) = rule.check(&v) {
            return Err(Problem::Rule {
                rule: rule.text.clone(),
                why,
                message: rule.message.clone(),
            });
        }
    }
    Ok(v)
}

/// Where a candidate value came from.
struct Candidate {
    value: Value,
    origin: String,
    /// Where to point; `None` for `--var`, and for sensitive values outside the stack file.
    span: Option<Span>,
    /// `file:line:col` to name in the message when there is no span.
    place: Option<String>,
}

/// The outcome: values for the root scope (`None` = broken) and the stack's variable table.
pub struct Computed {
    pub scope_values: BTreeMap<String, Option<Expr>>,
    pub variables: BTreeMap<String, VariableValue>,
}

/// Computes every variable's final value.
pub fn compute(
    decls: &[RawVar],
    options: &LoadOptions,
    sources: &mut SourceMap,
    hints: &Hints,
    diags: &mut Vec<Diagnostic>,
) -> Computed {
    let mut current: BTreeMap<&str, Candidate> = BTreeMap::new();
    let by_name: BTreeMap<&str, &RawVar> = decls.iter().map(|d| (d.name.as_str(), d)).collect();
    for d in decls {
        if let Some(def) = &d.default {
            current.insert(
                &d.name,
                Candidate {
                    value: to_value(def),
                    origin: "default".into(),
                    span: Some(def.span),
                    place: None,
                },
            );
        }
    }
    for file in &options.var_files {
        read_var_file(file, &by_name, &mut current, sources, hints, diags);
    }
    for (name, text) in &options.vars {
        let Some(decl) = by_name.get(name.as_str()) else {
            let d = Diagnostic::new(
                "undeclared-variable",
                format!("undeclared variable `{name}` set with --var"),
            );
            diags.push(match hints.nearest(name, by_name.keys().copied()) {
                Some(h) => d.help(h),
                None => d.help(declared_help(&by_name, hints)),
            });
            continue;
        };
        match parse_cli_value(&decl.ty, text) {
            Ok(value) => {
                current.insert(
                    &decl.name,
                    Candidate {
                        value,
                        origin: "--var".into(),
                        span: None,
                        place: None,
                    },
                );
            }
            Err(why) => diags.push(
                Diagnostic::new(
                    "wrong-type",
                    format!("--var {name}: cannot read the value as {}: {why}", decl.ty),
                )
                .help(cli_help(&decl.ty)),
            ),
        }
    }
    let mut out = Computed {
        scope_values: BTreeMap::new(),
        variables: BTreeMap::new(),
    };
    for d in decls {
        let value = finish(d, current.remove(d.name.as_str()), diags);
        if let Some((value, origin)) = &value {
            out.variables.insert(
                d.name.clone(),
                VariableValue {
                    value: value.clone(),
                    sensitive: d.sensitive,
                    description: d.description.clone(),
                    origin: origin.clone(),
                },
            );
        }
        out.scope_values
            .insert(d.name.clone(), value.map(|(v, _)| Expr::Literal(v, d.span)));
    }
    out
}

/// Checks the chosen candidate; `None` when broken or missing (reported).
fn finish(
    d: &RawVar,
    candidate: Option<Candidate>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Value, String)> {
    if d.broken {
        return None;
    }
    let Some(c) = candidate else {
        diags.push(
            Diagnostic::new(
                "missing-variable",
                format!("variable `{}` has no value", d.name),
            )
            .at(d.span, "no default and no value given")
            .help(format!(
                "set it with `--var {}=VALUE`, in a `--var-file`, or give it a `default`",
                d.name
            )),
        );
        return None;
    };
    match check_value(d, c.value) {
        Ok(v) => {
            let v = if d.sensitive { v.into_sensitive() } else { v };
            Some((v, c.origin))
        }
        Err(p) => {
            let what = format!("variable `{}` (from {})", d.name, c.origin);
            let mut diag = p.diagnostic("wrong-type", "validation-failed", &what, c.span);
            if let (None, Some(place)) = (c.span, &c.place) {
                diag.message.push_str(&format!(" (at {place})"));
            }
            if c.span.is_none_or(|s| s.file != d.span.file) {
                diag = diag.also(d.span, "declared here");
            }
            diags.push(diag);
            None
        }
    }
}

fn declared_help(by_name: &BTreeMap<&str, &RawVar>, hints: &Hints) -> String {
    if by_name.is_empty() {
        return "the stack declares no variables; declare it under `variables:`".to_string();
    }
    match hints.listing(by_name.keys().copied()) {
        Some(l) => format!("declared variables: {l}"),
        None => "declare it under `variables:`".to_string(),
    }
}

fn cli_help(ty: &Type) -> String {
    match ty {
        Type::Number => "for example --var NAME=3".into(),
        Type::Bool => "for example --var NAME=true".into(),
        Type::List(_) => "for example --var 'NAME=[a, b]'".into(),
        Type::Map(_) | Type::Object => "for example --var 'NAME={a: 1}'".into(),
        _ => "for example --var NAME=VALUE".into(),
    }
}

/// Parses `--var` text per the type: strings as they are, anything else as YAML/JSON.
pub fn parse_cli_value(ty: &Type, text: &str) -> Result<Value, String> {
    if ty.is_string() {
        return Ok(Value::String(text.to_string()));
    }
    match yaml::parse(text, 0) {
        Ok(Some(node)) => Ok(to_value(&node)),
        Ok(None) => Ok(Value::Null),
        Err(d) => Err(d
            .first()
            .map_or_else(|| "invalid YAML".to_string(), |d| d.message.clone())),
    }
}

fn read_var_file<'d>(
    path: &std::path::Path,
    by_name: &BTreeMap<&'d str, &'d RawVar>,
    current: &mut BTreeMap<&'d str, Candidate>,
    sources: &mut SourceMap,
    hints: &Hints,
    diags: &mut Vec<Diagnostic>,
) {
    let text = match source::read(path, "var file") {
        Ok(t) => t,
        Err(d) => {
            diags.push(*d);
            return;
        }
    };
    let shown = path.display().to_string();
    let file = sources.add(shown.clone(), text.as_str());
    let root = match yaml::parse_lenient(&text, file, diags) {
        Ok(Some(root)) => root,
        Ok(None) | Err(()) => return,
    };
    let Some(entries) = expect_map(root, &format!("var file `{shown}`"), diags) else {
        return;
    };
    for e in entries {
        let Some((&name, decl)) = by_name.get_key_value(e.key.as_str()) else {
            let d = Diagnostic::new(
                "undeclared-variable",
                format!("undeclared variable `{}` in var file", e.key),
            )
            .at(e.key_span, "not declared in the stack");
            diags.push(match hints.nearest(&e.key, by_name.keys().copied()) {
                Some(h) => d.help(h),
                None => d.help(declared_help(by_name, hints)),
            });
            continue;
        };
        let (span, place) = if decl.sensitive {
            (None, Some(sources.location(e.key_span)))
        } else {
            (Some(e.value.span), None)
        };
        current.insert(
            name,
            Candidate {
                value: to_value(&e.value),
                origin: shown.clone(),
                span,
                place,
            },
        );
    }
}
