//! Static checks of a loaded stack against provider schemas, before any network call: unknown
//! providers and types, unknown or missing attributes, literal values of the wrong type,
//! computed-only attributes set, references to attributes a type does not have, and each
//! provider's own `validate`.

use super::{Expr, Mode, Reference, ResourceDecl, Stack, TemplatePart};
use crate::diag::{did_you_mean, Diagnostic, Span};
use crate::providers::Registry;
use mlstack_provider_api::{AttrType, PathStep, ResourceSchema, Value};
use std::collections::BTreeSet;

/// Checks every resource, provider block and output of `stack`; empty when all is well.
pub fn check(stack: &Stack, registry: &Registry) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut bad_providers = BTreeSet::new();
    for (key, p) in &stack.providers {
        match registry.schema(&p.type_name) {
            None => {
                let d = Diagnostic::new(
                    "unknown-provider",
                    format!("unknown provider `{}`", p.type_name),
                )
                .at(p.span, "no such provider in this build");
                let names: Vec<&str> = registry.names().collect();
                out.push(match did_you_mean(&p.type_name, names.iter().copied()) {
                    Some(h) => d.help(h),
                    None => d.help(format!("providers in this build: {}", names.join(", "))),
                });
                bad_providers.insert(key.as_str());
            }
            Some(schema) => {
                let what = format!("provider `{key}`");
                check_attrs(&p.config, &schema.config, &what, p.span, &mut out);
            }
        }
    }
    for r in &stack.resources {
        let Some(p) = stack.providers.get(&r.provider) else {
            continue;
        };
        if bad_providers.contains(r.provider.as_str()) {
            continue;
        }
        let Some(schema) = resource_schema(registry, stack, r) else {
            let data = r.mode == Mode::Data;
            let kind = if data {
                "data source type"
            } else {
                "resource type"
            };
            let d = Diagnostic::new(
                "unknown-resource-type",
                format!(
                    "unknown {kind} `{}` (provider `{}`)",
                    r.type_name, p.type_name
                ),
            )
            .at(r.spans.type_name, format!("no such {kind}"));
            let types = registry.all_types(data);
            out.push(match did_you_mean(&r.type_name, types.iter().copied()) {
                Some(h) => d.help(h),
                None => d.help(format!("{kind}s: {}", types.join(", "))),
            });
            continue;
        };
        let what = match r.mode {
            Mode::Managed => format!("resource `{}` ({})", r.address, r.type_name),
            Mode::Data => format!("data source `{}` ({})", r.address, r.type_name),
        };
        let before = out.len();
        check_attrs(&r.properties, schema, &what, r.span, &mut out);
        if out.len() == before {
            if let Some(provider) = registry.get(&p.type_name) {
                let value = r.properties.eval(&|_| Value::Unknown);
                for issue in provider.validate(&r.type_name, &value) {
                    let d = Diagnostic::new(
                        "provider-validation",
                        format!("{what}: {}", issue.message),
                    )
                    .at(r.properties.span_at(&issue.path), issue.message.clone());
                    out.push(match issue.hint {
                        Some(h) => d.help(h),
                        None => d,
                    });
                }
            }
        }
        for reference in r.properties.references() {
            check_reference(stack, registry, reference, &mut out);
        }
    }
    for p in stack.providers.values() {
        for reference in p.config.references() {
            check_reference(stack, registry, reference, &mut out);
        }
    }
    for o in &stack.outputs {
        for reference in o.value.references() {
            check_reference(stack, registry, reference, &mut out);
        }
    }
    out
}

/// The schema of a resource's type under its provider block's type.
fn resource_schema<'r>(
    registry: &'r Registry,
    stack: &Stack,
    r: &ResourceDecl,
) -> Option<&'r ResourceSchema> {
    let p = stack.providers.get(&r.provider)?;
    let schema = registry.schema(&p.type_name)?;
    match r.mode {
        Mode::Managed => schema.resources.get(r.type_name.as_str()),
        Mode::Data => schema.data_sources.get(r.type_name.as_str()),
    }
}

fn check_attrs(
    props: &Expr,
    schema: &ResourceSchema,
    what: &str,
    name_span: Span,
    out: &mut Vec<Diagnostic>,
) {
    let Expr::Map(map, _) = props else {
        return;
    };
    // A misspelt attribute is reported once, not again as a missing one.
    let mut suggested = BTreeSet::new();
    for (key, (key_span, e)) in map {
        let Some(attr) = schema.attributes.get(key.as_str()) else {
            if !schema.open {
                let d = Diagnostic::new(
                    "unknown-attribute",
                    format!("{what} has no attribute `{key}`"),
                )
                .at(*key_span, "unknown attribute");
                let names: Vec<&str> = settable(schema).collect();
                let nearest = nearest(key, &names);
                out.push(match nearest {
                    Some(n) => {
                        suggested.insert(n);
                        d.help(format!("did you mean `{n}`?"))
                    }
                    None => d.help(format!("attributes: {}", names.join(", "))),
                });
            }
            continue;
        };
        if attr.computed && !attr.optional {
            out.push(
                Diagnostic::new(
                    "computed-attribute",
                    format!("{what}: `{key}` is set by the provider and cannot be set here"),
                )
                .at(*key_span, "computed attribute")
                .help(format!("refer to it instead: `${{NAME.{key}}}`")),
            );
            continue;
        }
        if let Some(found) = literal_type(e) {
            if !fits(&attr.ty, found) {
                out.push(
                    Diagnostic::new(
                        "wrong-type",
                        format!("{what}: `{key}` must be {}, found {found}", attr.ty.name()),
                    )
                    .at(e.span(), format!("expected {}", attr.ty.name())),
                );
            }
        }
    }
    for (name, attr) in &schema.attributes {
        if attr.required && !map.contains_key(*name) && !suggested.contains(name) {
            out.push(
                Diagnostic::new(
                    "missing-attribute",
                    format!("{what} needs attribute `{name}`"),
                )
                .at(name_span, format!("`{name}` is required"))
                .help(if attr.description.is_empty() {
                    format!("add `{name}:` under `properties:`")
                } else {
                    format!("`{name}`: {}", attr.description)
                }),
            );
        }
    }
}

/// The candidate `did_you_mean` would suggest.
fn nearest<'a>(given: &str, names: &[&'a str]) -> Option<&'a str> {
    let hint = did_you_mean(given, names.iter().copied())?;
    names
        .iter()
        .copied()
        .find(|n| hint == format!("did you mean `{n}`?"))
}

/// Attributes a stack may set, for hints.
fn settable(schema: &ResourceSchema) -> impl Iterator<Item = &'static str> + '_ {
    schema
        .attributes
        .iter()
        .filter(|(_, a)| !a.computed || a.optional)
        .map(|(k, _)| *k)
}

/// The type of an expression when it is known statically (`None`: depends on a reference, or
/// null, which means "unset").
fn literal_type(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Literal(Value::Null, _) => None,
        Expr::Literal(v, _) => Some(v.type_name()),
        Expr::List(..) => Some("list"),
        Expr::Map(..) => Some("map"),
        Expr::Template(parts, _) => match parts.as_slice() {
            [TemplatePart::Ref(_)] => None,
            _ => Some("string"),
        },
    }
}

fn fits(ty: &AttrType, found: &str) -> bool {
    matches!(
        (ty, found),
        (AttrType::Any, _)
            | (AttrType::String, "string")
            | (AttrType::Number, "number")
            | (AttrType::Bool, "bool")
            | (AttrType::List, "list")
            | (AttrType::Map, "map")
    )
}

/// A reference must name an attribute the target's type has (unless its schema is open).
fn check_reference(stack: &Stack, registry: &Registry, r: &Reference, out: &mut Vec<Diagnostic>) {
    let Some(target) = stack.resource(&r.address) else {
        return;
    };
    let Some(schema) = resource_schema(registry, stack, target) else {
        return;
    };
    if schema.open {
        return;
    }
    let Some(PathStep::Key(attr)) = r.path.first() else {
        return;
    };
    match schema.attributes.get(attr.as_str()) {
        None => {
            let d = Diagnostic::new(
                "unknown-attribute",
                format!(
                    "`{}` ({}) has no attribute `{attr}`",
                    r.address, target.type_name
                ),
            )
            .at(r.span, "unknown attribute");
            let names: Vec<&str> = schema.attributes.keys().copied().collect();
            out.push(match did_you_mean(attr, names.iter().copied()) {
                Some(h) => d.help(h),
                None => d.help(format!("attributes: {}", names.join(", "))),
            });
        }
        Some(a) => {
            let scalar = matches!(a.ty, AttrType::String | AttrType::Number | AttrType::Bool);
            if scalar && r.path.len() > 1 {
                out.push(
                    Diagnostic::new(
                        "unknown-attribute",
                        format!(
                            "`{}.{attr}` is a {}; it has no attributes inside",
                            r.address,
                            a.ty.name()
                        ),
                    )
                    .at(r.span, "no such path"),
                );
            }
        }
    }
}
