//! Module instances: checking the inputs an instance passes, rendering the module's tera
//! templates for it and loading what they produce as a nested scope whose outputs the parent
//! can refer to.

use super::hints::listing;
use super::loader::Loader;
use super::module_def::{error_chain, ModuleDef};
use super::parse::{self, RawBody, RawModule};
use super::resolve::known_value;
use super::scope::{Scope, ValueRoot};
use super::variables::check_value;
use super::{source, yaml, Expr, TemplatePart};
use crate::diag::{Diagnostic, Span};
use mlstack_provider_api::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deepest nesting of module instances.
pub const MAX_MODULE_DEPTH: usize = 16;

/// One step of the chain of module instances being expanded (to detect recursion).
#[derive(Debug, Clone)]
pub struct Link {
    pub dir: PathBuf,
    pub address: String,
    pub source: String,
}

impl Loader<'_> {
    /// Expands one enabled module instance of `scope`; returns its resource addresses.
    pub fn expand_module(
        &mut self,
        m: &RawModule,
        scope: &mut Scope,
        base_dir: &Path,
        chain: &[Link],
        inherited: &[String],
    ) -> Vec<String> {
        let address = format!("{}module.{}", scope.prefix, m.name);
        let mut given = Vec::with_capacity(m.inputs.len());
        for e in &m.inputs {
            let expr = self.resolve(&e.value, scope);
            given.push((e, expr));
        }
        let mut deps = inherited.to_vec();
        deps.extend(self.depends_on(&m.depends_on, scope));
        let Some((source, source_span)) = &m.source else {
            return Vec::new();
        };
        let Some(def) = self.module_def(source, *source_span, base_dir) else {
            return Vec::new();
        };
        if let Some(pos) = chain.iter().position(|l| l.dir == def.dir) {
            let mut steps: Vec<String> = chain[pos..]
                .iter()
                .map(|l| format!("{} ({})", l.address, l.source))
                .collect();
            steps.push(format!("{address} ({source})"));
            self.diags.push(
                Diagnostic::new(
                    "module-recursion",
                    format!("module `{source}` includes itself: {}", steps.join(" → ")),
                )
                .at(*source_span, "recursive module source")
                .help("a module may not contain an instance of itself, directly or through others"),
            );
            return Vec::new();
        }
        if chain.len() >= MAX_MODULE_DEPTH {
            self.diags.push(
                Diagnostic::new(
                    "module-recursion",
                    format!("modules nested deeper than {MAX_MODULE_DEPTH} levels"),
                )
                .at(*source_span, "too deep"),
            );
            return Vec::new();
        }
        let Some(values) = self.check_inputs(m, &address, &def, given) else {
            return Vec::new();
        };
        let Some(body) = self.render(&def, &values, &address, *source_span) else {
            return Vec::new();
        };
        let mut module_path = scope.module_path.clone();
        module_path.push(m.name.clone());
        let mut child = Scope::new(format!("{address}."), module_path, ValueRoot::Input);
        child.values = values;
        let mut next_chain = chain.to_vec();
        next_chain.push(Link {
            dir: def.dir.clone(),
            address: address.clone(),
            source: source.clone(),
        });
        let addresses = self.load_body(body, &mut child, &def.dir, &next_chain, &deps);
        let mut outputs = BTreeMap::new();
        for o in &def.def.outputs {
            let value = o
                .value
                .as_ref()
                .and_then(|v| self.resolve(v, &child))
                .map(|e| if o.sensitive { mark_sensitive(e) } else { e });
            outputs.insert(o.name.clone(), value);
        }
        if let Some(slot) = scope.modules.get_mut(&m.name) {
            slot.outputs = Some(outputs);
            slot.addresses = addresses.clone();
        }
        addresses
    }

    /// Checks an instance's inputs against `module.yaml`; the values for the child scope, or
    /// `None` when any input is invalid (reported at the stack's line for that input).
    fn check_inputs(
        &mut self,
        m: &RawModule,
        address: &str,
        def: &ModuleDef,
        given: Vec<(&yaml::Entry, Option<Expr>)>,
    ) -> Option<BTreeMap<String, Option<Expr>>> {
        let mut ok = true;
        let mut values = BTreeMap::new();
        for (entry, expr) in given {
            let Some(decl) = def.def.inputs.iter().find(|d| d.name == entry.key) else {
                let names: Vec<&str> = def.def.inputs.iter().map(|d| d.name.as_str()).collect();
                let d = Diagnostic::new(
                    "invalid-module-input",
                    format!("{address} has no input `{}`", entry.key),
                )
                .at(entry.key_span, "undeclared input");
                self.diags.push(
                    match self.hints.nearest(&entry.key, names.iter().copied()) {
                        Some(h) => d.help(h),
                        None if names.is_empty() => {
                            d.help(format!("module `{}` declares no inputs", def.display))
                        }
                        None => d.help(format!(
                            "inputs of {}: {}",
                            def.display,
                            listing(names.iter().copied(), names.len())
                        )),
                    },
                );
                ok = false;
                continue;
            };
            let Some(expr) = expr else {
                ok = false;
                continue;
            };
            let what = format!("input `{}` of {address}", entry.key);
            let value = match known_value(&expr) {
                Some(v) => match check_value(decl, v) {
                    Ok(v) => {
                        let v = if decl.sensitive {
                            v.into_sensitive()
                        } else {
                            v
                        };
                        Expr::Literal(v, entry.value.span)
                    }
                    Err(p) => {
                        self.diags.push(p.diagnostic(
                            "invalid-module-input",
                            "invalid-module-input",
                            &what,
                            Some(entry.value.span),
                        ));
                        ok = false;
                        continue;
                    }
                },
                None => {
                    // Known only after apply: its shape can still be type-checked.
                    if let Some(found) = shape(&expr) {
                        let sample = match found {
                            "string" => Value::string(""),
                            "list" => Value::List(Vec::new()),
                            _ => Value::map(),
                        };
                        if decl.ty.coerce(sample).is_err() {
                            self.diags.push(
                                Diagnostic::new(
                                    "invalid-module-input",
                                    format!(
                                        "wrong type for {what}: expected {}, found {found}",
                                        decl.ty
                                    ),
                                )
                                .at(entry.value.span, format!("expected {}", decl.ty)),
                            );
                            ok = false;
                            continue;
                        }
                    }
                    expr
                }
            };
            values.insert(entry.key.clone(), Some(value));
        }
        for decl in &def.def.inputs {
            if values.contains_key(&decl.name) || m.inputs.iter().any(|e| e.key == decl.name) {
                continue;
            }
            match def.defaults.get(&decl.name) {
                Some(Some(v)) => {
                    let v = if decl.sensitive {
                        v.clone().into_sensitive()
                    } else {
                        v.clone()
                    };
                    values.insert(decl.name.clone(), Some(Expr::Literal(v, decl.span)));
                }
                Some(None) => ok = false,
                None if decl.broken => ok = false,
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            "invalid-module-input",
                            format!("{address} needs input `{}`", decl.name),
                        )
                        .at(m.span, format!("`inputs:` lacks `{}`", decl.name))
                        .help(match &decl.description {
                            Some(desc) => format!("`{}`: {desc}", decl.name),
                            None => format!("add `{}: ...` under `inputs:`", decl.name),
                        }),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(values)
    }

    /// Renders every template of a module for one instance and parses the results.
    fn render(
        &mut self,
        def: &ModuleDef,
        values: &BTreeMap<String, Option<Expr>>,
        address: &str,
        source_span: Span,
    ) -> Option<RawBody> {
        let mut inputs = serde_json::Map::new();
        for (name, expr) in values {
            let known = expr
                .as_ref()
                .and_then(known_value)
                .filter(|v| !v.contains_sensitive());
            let v = match known {
                Some(v) => v.to_json_unmarked(),
                // Known only after apply (or secret): left for the engine to resolve.
                None => serde_json::Value::String(format!("${{input.{name}}}")),
            };
            inputs.insert(name.clone(), v);
        }
        let instance = address.rsplit('.').next().unwrap_or(address);
        let mut ctx = tera::Context::new();
        ctx.insert("inputs", &inputs);
        ctx.insert(
            "module",
            &serde_json::json!({"name": instance, "address": address}),
        );
        ctx.insert("stack", &serde_json::json!({"name": self.stack_name}));
        let mut body = RawBody::default();
        let mut ok = true;
        for name in &def.render {
            let text = match def.tera.render(name, &ctx) {
                Ok(t) => t,
                Err(e) => {
                    self.diags.push(
                        Diagnostic::new(
                            "template-error",
                            format!(
                                "template `{}/{name}` failed to render for {address}: {}",
                                def.display,
                                error_chain(&e)
                            ),
                        )
                        .at(source_span, "rendering this module failed"),
                    );
                    ok = false;
                    continue;
                }
            };
            if text.len() as u64 > source::MAX_FILE_BYTES {
                self.diags.push(
                    Diagnostic::new(
                        "template-error",
                        format!(
                            "template `{}/{name}` rendered more than 10 MiB for {address}",
                            def.display
                        ),
                    )
                    .at(source_span, "rendering this module failed"),
                );
                ok = false;
                continue;
            }
            let file = self.sources.add(
                format!("{}/{name} (rendered for {address})", def.display),
                text.as_str(),
            );
            match yaml::parse_lenient(&text, file, &mut self.diags) {
                Ok(Some(root)) => {
                    let part = parse::template(root, &mut self.diags);
                    body.resources.extend(part.resources);
                    body.modules.extend(part.modules);
                }
                Ok(None) => {}
                Err(()) => ok = false,
            }
        }
        ok.then_some(body)
    }
}

/// What an expression with references is sure to produce: a string (a template with text), a
/// list or a map; `None` for a single reference (any type).
fn shape(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Template(parts, _) => match parts.as_slice() {
            [TemplatePart::Ref(_)] => None,
            _ => Some("string"),
        },
        Expr::List(..) => Some("list"),
        Expr::Map(..) => Some("map"),
        Expr::Literal(..) => None,
    }
}

/// Marks a literal output value sensitive (references stay as they are: the provider's schema
/// marks what they produce).
fn mark_sensitive(e: Expr) -> Expr {
    match e {
        Expr::Literal(v, s) => Expr::Literal(v.into_sensitive(), s),
        other => other,
    }
}
