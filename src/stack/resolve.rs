//! Turning YAML nodes into [`Expr`]s within a scope: variables, `env.` and module inputs are
//! substituted, module outputs are replaced by their expressions, and what is left are
//! references to resource attributes by absolute address.

use super::expr::{has_template, parse_template, Locator, Piece, RawRef};
use super::fields::to_value;
use super::hints::{listing, Hints};
use super::scope::{Scope, ValueRoot};
use super::yaml::{Node, NodeKind};
use super::{interpolate, Expr, Reference, TemplatePart};
use crate::diag::{did_you_mean, Diagnostic, SourceMap, Span};
use mlstack_provider_api::{path_to_string, PathStep, Value};
use std::collections::BTreeMap;

/// Resolves expressions in one scope.
pub struct Resolver<'a> {
    pub scope: &'a Scope,
    pub env: &'a BTreeMap<String, String>,
    pub sources: &'a SourceMap,
    pub hints: &'a Hints,
}

/// The value of an expression that holds no references (known at load).
pub fn known_value(expr: &Expr) -> Option<Value> {
    if expr.references().is_empty() {
        Some(expr.eval(&|_| Value::Unknown))
    } else {
        None
    }
}

impl Resolver<'_> {
    /// Resolves a node; `None` when something inside is broken (diagnostics pushed, or an
    /// upstream problem already reported).
    pub fn expr(&self, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
        match &node.kind {
            NodeKind::Str(s) => self.string(s, node.span, diags),
            NodeKind::Seq(items) => {
                let mut ok = true;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.expr(item, diags) {
                        Some(e) => out.push(e),
                        None => ok = false,
                    }
                }
                ok.then_some(Expr::List(out, node.span))
            }
            NodeKind::Map(entries) => {
                let mut ok = true;
                let mut out = BTreeMap::new();
                for e in entries {
                    match self.expr(&e.value, diags) {
                        Some(v) => {
                            out.insert(e.key.clone(), (e.key_span, v));
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Expr::Map(out, node.span))
            }
            _ => Some(Expr::Literal(to_value(node), node.span)),
        }
    }

    fn raw(&self, span: Span) -> &str {
        self.sources
            .get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    /// Resolves a string that may hold `${...}`.
    pub fn string(&self, s: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
        if !has_template(s) {
            return Some(Expr::Literal(Value::String(s.to_string()), span));
        }
        let loc = Locator::new(self.raw(span), span);
        let pieces = match parse_template(s, &loc) {
            Ok(p) => p,
            Err(d) => {
                diags.push(*d);
                return None;
            }
        };
        if let [Piece::Ref(r)] = pieces.as_slice() {
            // A string that is exactly one expression keeps the value's type.
            return self.reference(r, diags).map(|e| respan(e, span));
        }
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(TemplatePart::Text(t)),
                Piece::Ref(r) => match self.reference(&r, diags) {
                    Some(e) => {
                        if let Err(d) = inline(&mut parts, e, &r) {
                            diags.push(*d);
                            ok = false;
                        }
                    }
                    None => ok = false,
                },
            }
        }
        ok.then(|| finish_template(parts, span))
    }

    /// Resolves one `${...}`.
    pub fn reference(&self, r: &RawRef, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
        let result = match r.root.as_str() {
            "var" | "input" => self.value_ref(r),
            "env" => self.env_ref(r),
            "data" => self.data_ref(r),
            "module" => self.module_ref(r),
            _ => self.resource_ref(r),
        };
        match result {
            Ok(e) => e,
            Err(d) => {
                diags.push(*d);
                None
            }
        }
    }

    fn value_ref(&self, r: &RawRef) -> Result<Option<Expr>, Box<Diagnostic>> {
        let scope = self.scope;
        if r.root != scope.root.word() {
            let d = Diagnostic::new(
                "unknown-reference",
                format!("`{}.` is not available in {}", r.root, scope.describe()),
            )
            .at(r.span, "not available here");
            return Err(Box::new(match scope.root {
                ValueRoot::Input => d.help(
                    "a module sees only its inputs: declare an input in module.yaml, pass the \
                     variable to it and write `${input.NAME}`",
                ),
                ValueRoot::Var => {
                    d.help("`input.NAME` works inside module templates; here use `var.NAME`")
                }
            }));
        }
        let (name, rest) = first_name(r)?;
        match scope.values.get(name) {
            None => {
                let (code, what) = match scope.root {
                    ValueRoot::Var => ("undeclared-variable", "variable"),
                    ValueRoot::Input => ("unknown-reference", "input"),
                };
                let d = Diagnostic::new(code, format!("undeclared {what} `{name}`"))
                    .at(r.span, format!("no {what} `{name}`"));
                let place = match scope.root {
                    ValueRoot::Var => "under `variables:`",
                    ValueRoot::Input => "under `inputs:` in module.yaml",
                };
                let names = || scope.values.keys().map(String::as_str);
                Err(Box::new(match self.hints.nearest(name, names()) {
                    Some(h) => d.help(h),
                    None => match self.hints.listing(names()) {
                        Some(l) => d.help(format!("declare it {place} (declared: {l})")),
                        None => d.help(format!("declare it {place}")),
                    },
                }))
            }
            Some(None) => Ok(None),
            Some(Some(e)) => navigate(e.clone(), rest, r).map(Some),
        }
    }

    fn env_ref(&self, r: &RawRef) -> Result<Option<Expr>, Box<Diagnostic>> {
        let (name, rest) = first_name(r)?;
        if !rest.is_empty() {
            return Err(Box::new(
                Diagnostic::new(
                    "invalid-expression",
                    format!("`env.{name}` is a string and has no attributes"),
                )
                .at(r.span, "remove the path after the name"),
            ));
        }
        match self.env.get(name) {
            Some(v) => Ok(Some(Expr::Literal(Value::String(v.clone()), r.span))),
            None => Err(Box::new(
                Diagnostic::new(
                    "env-not-set",
                    format!("environment variable `{name}` is not set"),
                )
                .at(r.span, "not set")
                .help(format!("set it before running: `export {name}=...`")),
            )),
        }
    }

    fn data_ref(&self, r: &RawRef) -> Result<Option<Expr>, Box<Diagnostic>> {
        let (name, rest) = first_name(r)?;
        let Some(d) = self.scope.data.get(name) else {
            return Err(Box::new(self.unknown(
                r,
                &format!("data.{name}"),
                "data source",
            )));
        };
        if d.enabled == Some(false) {
            return Err(Box::new(disabled(
                r,
                "data source",
                &format!("data.{name}"),
                d.span,
            )));
        }
        Ok(Some(single_ref(
            self.scope.data_address(name),
            rest,
            r.span,
        )))
    }

    fn resource_ref(&self, r: &RawRef) -> Result<Option<Expr>, Box<Diagnostic>> {
        let name = r.root.as_str();
        let Some(d) = self.scope.resources.get(name) else {
            return Err(Box::new(self.unknown(r, name, "resource")));
        };
        if d.enabled == Some(false) {
            return Err(Box::new(disabled(r, "resource", name, d.span)));
        }
        if d.bundle {
            // A bundle stands for many resources: the first step names one, `NAME["KEY"]`.
            let Some((PathStep::Key(key), rest)) = r.path.split_first() else {
                return Err(Box::new(
                    Diagnostic::new(
                        "invalid-expression",
                        format!("`{name}` is a bundle: refer to one of its items"),
                    )
                    .at(r.span, "which item?")
                    .help(format!(
                        "write `{name}[\"KEY\"].ATTR`, e.g. `${{{name}[\"v1/Service/NAMESPACE/NAME\"].manifest.metadata.name}}`"
                    )),
                ));
            };
            return Ok(Some(single_ref(
                super::bundle::item_address(&self.scope.resource_address(name), key),
                rest,
                r.span,
            )));
        }
        Ok(Some(single_ref(
            self.scope.resource_address(name),
            &r.path,
            r.span,
        )))
    }

    fn module_ref(&self, r: &RawRef) -> Result<Option<Expr>, Box<Diagnostic>> {
        let (name, rest) = first_name(r)?;
        let Some(slot) = self.scope.modules.get(name) else {
            return Err(Box::new(self.unknown(
                r,
                &format!("module.{name}"),
                "module",
            )));
        };
        if slot.enabled == Some(false) {
            return Err(Box::new(disabled(
                r,
                "module",
                &format!("module.{name}"),
                slot.span,
            )));
        }
        let Some(outputs) = &slot.outputs else {
            return Ok(None);
        };
        let Some((PathStep::Key(output), rest)) = rest.split_first() else {
            return Err(Box::new(
                Diagnostic::new(
                    "invalid-expression",
                    format!("`module.{name}` needs an output name"),
                )
                .at(r.span, "name an output: module.NAME.OUTPUT")
                .help(format!(
                    "outputs of module.{name}: {}",
                    listing(outputs.keys().map(String::as_str), outputs.len())
                )),
            ));
        };
        match outputs.get(output) {
            None => {
                let d = Diagnostic::new(
                    "unknown-reference",
                    format!("module.{name} has no output `{output}`"),
                )
                .at(r.span, "unknown output");
                Err(Box::new(
                    match self
                        .hints
                        .nearest(output, outputs.keys().map(String::as_str))
                    {
                        Some(h) => d.help(h),
                        None => d.help(format!(
                            "outputs of module.{name}: {}",
                            listing(outputs.keys().map(String::as_str), outputs.len())
                        )),
                    },
                ))
            }
            Some(None) => Ok(None),
            Some(Some(e)) => navigate(e.clone(), rest, r).map(Some),
        }
    }

    /// "unknown reference" with the nearest same-scope name and a listing.
    fn unknown(&self, r: &RawRef, name: &str, kind: &str) -> Diagnostic {
        let d = Diagnostic::new(
            "unknown-reference",
            format!(
                "unknown reference `{name}`: no {kind} `{name}` in {}",
                self.scope.describe()
            ),
        )
        .at(r.span, "unknown reference");
        if !self.hints.allow(2 * self.scope.name_count()) {
            return d;
        }
        let names = self.scope.reference_names();
        let bare = name.rsplit('.').next().unwrap_or(name);
        let hint = if kind == "resource" && self.scope.modules.contains_key(bare) {
            Some(format!("did you mean `module.{bare}.OUTPUT`?"))
        } else if kind == "resource" && self.scope.data.contains_key(bare) {
            Some(format!("did you mean `data.{bare}`?"))
        } else if kind == "resource" && (r.root == "variable" || r.root == "vars") {
            Some("did you mean `var.NAME`?".to_string())
        } else {
            did_you_mean(name, names.iter().map(String::as_str))
        };
        let listing = if names.is_empty() {
            format!("{} declares nothing to refer to", self.scope.describe())
        } else {
            format!(
                "names in {}: {}",
                self.scope.describe(),
                listing(names.iter().map(String::as_str), names.len())
            )
        };
        match hint {
            Some(h) => d.help(format!("{h}\n{listing}")),
            None => d.help(listing),
        }
    }
}

fn disabled(r: &RawRef, kind: &str, name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        "disabled-reference",
        format!("`{}` refers to {kind} `{name}`, which is disabled", r.text),
    )
    .at(r.span, "refers to a disabled one")
    .also(span, "disabled (enabled: false)")
    .help("enable it, or make this part depend on the same condition (`enabled:`)")
}

/// The name after `var.`, `env.`, `data.`, `module.`, `input.` and the path after it.
fn first_name(r: &RawRef) -> Result<(&str, &[PathStep]), Box<Diagnostic>> {
    match r.path.split_first() {
        Some((PathStep::Key(name), rest)) => Ok((name.as_str(), rest)),
        _ => Err(Box::new(
            Diagnostic::new(
                "invalid-expression",
                format!("`{}` needs a name: {}.NAME", r.text, r.root),
            )
            .at(r.span, "name missing"),
        )),
    }
}

fn single_ref(address: String, path: &[PathStep], span: Span) -> Expr {
    Expr::Template(
        vec![TemplatePart::Ref(Reference {
            address,
            path: path.to_vec(),
            span,
        })],
        span,
    )
}

/// Sets the outer span of an expression (where it is used, not where it was defined).
pub fn respan(e: Expr, span: Span) -> Expr {
    match e {
        Expr::Literal(v, _) => Expr::Literal(v, span),
        Expr::Template(p, _) => Expr::Template(p, span),
        Expr::List(l, _) => Expr::List(l, span),
        Expr::Map(m, _) => Expr::Map(m, span),
    }
}

/// Follows `path` into an expression: into maps and lists, into literal values, or onto the
/// path of a single reference.
pub fn navigate(expr: Expr, path: &[PathStep], r: &RawRef) -> Result<Expr, Box<Diagnostic>> {
    let mut e = expr;
    for (i, step) in path.iter().enumerate() {
        let missing = || {
            Box::new(
                Diagnostic::new(
                    "unknown-reference",
                    format!("`{}`: nothing at `{}`", r.text, path_to_string(&path[..=i])),
                )
                .at(r.span, "no such attribute"),
            )
        };
        e = match e {
            Expr::Literal(v, s) => {
                return match v.get_path(&path[i..]) {
                    Some(found) => Ok(Expr::Literal(found, s)),
                    None => Err(missing()),
                }
            }
            Expr::Map(mut m, _) => match step {
                PathStep::Key(k) => m.remove(k).map(|(_, e)| e).ok_or_else(missing)?,
                PathStep::Index(_) => return Err(missing()),
            },
            Expr::List(mut l, _) => {
                let idx = match step {
                    PathStep::Index(i) => Some(*i),
                    PathStep::Key(k) => k.parse::<usize>().ok(),
                };
                match idx {
                    Some(i) if i < l.len() => l.swap_remove(i),
                    _ => return Err(missing()),
                }
            }
            Expr::Template(mut parts, s) => {
                if let [TemplatePart::Ref(reference)] = parts.as_mut_slice() {
                    reference.path.extend(path[i..].iter().cloned());
                    return Ok(Expr::Template(parts, s));
                }
                return Err(Box::new(
                    Diagnostic::new(
                        "unknown-reference",
                        format!("`{}`: a string has no attribute `{step}`", r.text),
                    )
                    .at(r.span, "not a map or list"),
                ));
            }
        };
    }
    Ok(e)
}

/// Appends a resolved expression to the parts of a string template.
fn inline(parts: &mut Vec<TemplatePart>, e: Expr, r: &RawRef) -> Result<(), Box<Diagnostic>> {
    match e {
        Expr::Template(ps, _) => parts.extend(ps),
        other => {
            let Some(v) = known_value(&other) else {
                return Err(Box::new(Diagnostic::new(
                    "invalid-expression",
                    format!("`{}` is a list or map holding references; it cannot be put inside a string", r.text),
                )
                .at(r.span, "not a plain value")
                .help("make the string exactly `${...}` to keep the value, or refer to one element")));
            };
            let mut text = String::new();
            interpolate(&mut text, &v);
            parts.push(if v.contains_sensitive() {
                TemplatePart::SensitiveText(text)
            } else {
                TemplatePart::Text(text)
            });
        }
    }
    Ok(())
}

/// Merges adjacent text; a template without references becomes a literal string.
fn finish_template(parts: Vec<TemplatePart>, span: Span) -> Expr {
    let mut merged: Vec<TemplatePart> = Vec::with_capacity(parts.len());
    for p in parts {
        match (merged.last_mut(), p) {
            (Some(TemplatePart::Text(a)), TemplatePart::Text(b)) => a.push_str(&b),
            (Some(TemplatePart::SensitiveText(a)), TemplatePart::SensitiveText(b)) => {
                a.push_str(&b)
            }
            (_, TemplatePart::Text(b)) if b.is_empty() => {}
            (_, p) => merged.push(p),
        }
    }
    if merged.iter().any(|p| matches!(p, TemplatePart::Ref(_))) {
        return Expr::Template(merged, span);
    }
    let mut text = String::new();
    let mut sensitive = false;
    for p in merged {
        match p {
            TemplatePart::Text(t) => text.push_str(&t),
            TemplatePart::SensitiveText(t) => {
                sensitive = true;
                text.push_str(&t);
            }
            TemplatePart::Ref(_) => {}
        }
    }
    let v = Value::String(text);
    Expr::Literal(if sensitive { v.into_sensitive() } else { v }, span)
}
