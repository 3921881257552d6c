//! Bundles and stamps, applied generically from provider schemas: a resource whose type has a
//! [`BundleSpec`] becomes one resource per item of its list attribute, addressed
//! `NAME["KEY"]` (the key joins literal values of the item with `/`); every resource gets its
//! type's [`Stamp`]s; once all scopes are loaded, `depends_on` naming a bundle is replaced by its
//! items, references to items that do not exist are reported, and the providers' ordering keys
//! become `depends_on` edges (a Kubernetes object after its Namespace and its CRD).

use super::loader::Loader;
use super::{Expr, Mode, ResourceDecl, TemplatePart};
use crate::diag::{did_you_mean, Diagnostic, Span};
use crate::providers::Registry;
use mlstack_provider_api::{BundleSpec, ResourceSchema, StampValue, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The address of one item of a bundle: `BASE["KEY"]`.
pub fn item_address(base: &str, key: &str) -> String {
    format!("{base}[\"{key}\"]")
}

/// Splits `BASE["KEY"]` into its base and key.
pub fn split_item_address(address: &str) -> Option<(&str, &str)> {
    let inner = address.strip_suffix("\"]")?;
    let open = inner.rfind("[\"")?;
    Some((&inner[..open], &inner[open + 2..]))
}

/// The expression at `path` inside `e` (following maps, and into literal values).
fn at(e: &Expr, path: &[&str]) -> Option<Expr> {
    let Some((first, rest)) = path.split_first() else {
        return Some(e.clone());
    };
    match e {
        Expr::Map(m, _) => at(&m.get(*first)?.1, rest),
        Expr::Literal(v, span) => {
            let mut cur = v.get(first)?;
            for step in rest {
                cur = cur.get(step)?;
            }
            Some(Expr::Literal(cur.clone(), *span))
        }
        _ => None,
    }
}

/// Writes `value` at `path` inside `e`, creating maps on the way. False when something that is
/// not a map (a reference, a list, a scalar) stands in the way.
fn stamp(e: &mut Expr, path: &[&str], value: &Value, span: Span) -> bool {
    let Some((first, rest)) = path.split_first() else {
        *e = Expr::Literal(value.clone(), span);
        return true;
    };
    if let Expr::Literal(v, s) = e {
        let entries = match v {
            Value::Null => BTreeMap::new(),
            Value::Map(m) => std::mem::take(m)
                .into_iter()
                .map(|(k, v)| (k, (*s, Expr::Literal(v, *s))))
                .collect(),
            _ => return false,
        };
        *e = Expr::Map(entries, *s);
    }
    match e {
        Expr::Map(m, _) => {
            let (_, child) = m
                .entry(first.to_string())
                .or_insert_with(|| (span, Expr::Map(BTreeMap::new(), span)));
            stamp(child, rest, value, span)
        }
        _ => false,
    }
}

impl Loader<'_> {
    /// The provider type behind a provider block key.
    fn provider_type<'a>(&'a self, key: &'a str) -> &'a str {
        self.provider_types
            .get(key)
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The schema of a resource type used with a provider block (`None`: the default block).
    pub fn schema_of(
        &self,
        type_name: &str,
        provider: Option<&str>,
        mode: Mode,
    ) -> Option<&ResourceSchema> {
        let key = provider.unwrap_or_else(|| Registry::provider_of_type(type_name));
        let schema = self.registry.schema(self.provider_type(key))?;
        match mode {
            Mode::Managed => schema.resources.get(type_name),
            Mode::Data => schema.data_sources.get(type_name),
        }
    }

    /// A loaded declaration as the resources it stands for: a bundle's items, or itself;
    /// stamped.
    pub fn expand(&mut self, decl: ResourceDecl) -> Vec<ResourceDecl> {
        let spec = self
            .schema_of(&decl.type_name, Some(&decl.provider), decl.mode)
            .and_then(|s| s.bundle.clone());
        let mut out = match spec {
            Some(spec) => self.split_bundle(decl, &spec),
            None => vec![decl],
        };
        for d in &mut out {
            self.apply_stamps(d);
        }
        out
    }

    fn apply_stamps(&self, d: &mut ResourceDecl) {
        let Some(schema) = self.schema_of(&d.type_name, Some(&d.provider), d.mode) else {
            return;
        };
        let span = d.properties.span();
        for s in &schema.stamps {
            let value = match &s.value {
                StampValue::Literal(v) => Value::from(*v),
                StampValue::StackName => Value::String(self.stack_name.clone()),
            };
            // Where a reference stands in the way the stamp cannot be merged; the provider's
            // plan sees the object without it.
            stamp(&mut d.properties, s.path, &value, span);
        }
    }

    /// One declaration per item of the bundle's list.
    fn split_bundle(&mut self, decl: ResourceDecl, spec: &BundleSpec) -> Vec<ResourceDecl> {
        let what = format!("`{}` ({})", decl.address, decl.type_name);
        let Expr::Map(mut props, props_span) = decl.properties.clone() else {
            return Vec::new();
        };
        for (key, (key_span, _)) in &props {
            if key != spec.list_attr {
                self.diags.push(
                    Diagnostic::new(
                        "unknown-attribute",
                        format!("{what} has no attribute `{key}`"),
                    )
                    .at(*key_span, "unknown attribute")
                    .help(format!("a bundle takes only `{}`", spec.list_attr)),
                );
            }
        }
        let items: Vec<Expr> = match props.remove(spec.list_attr) {
            None => {
                self.diags.push(
                    Diagnostic::new(
                        "missing-attribute",
                        format!("{what} needs attribute `{}`", spec.list_attr),
                    )
                    .at(decl.span, format!("`{}` is required", spec.list_attr)),
                );
                return Vec::new();
            }
            Some((_, Expr::List(items, _))) => items,
            Some((_, Expr::Literal(Value::List(values), span))) => {
                values.into_iter().map(|v| Expr::Literal(v, span)).collect()
            }
            Some((_, Expr::Literal(Value::Null, _))) => Vec::new(),
            Some((_, e @ Expr::Template(..))) => {
                self.diags.push(
                    Diagnostic::new(
                        "not-known-at-load",
                        format!("the `{}` of {what} must be known when the stack loads", spec.list_attr),
                    )
                    .at(e.span(), "refers to a resource attribute")
                    .help("each item becomes a resource of its own, so the list must be written out (values inside items may be references)"),
                );
                return Vec::new();
            }
            Some((_, e)) => {
                self.diags.push(
                    Diagnostic::new(
                        "wrong-type",
                        format!("`{}` of {what} must be a list", spec.list_attr),
                    )
                    .at(e.span(), "expected a list"),
                );
                return Vec::new();
            }
        };
        let _ = props_span;
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if !matches!(item, Expr::Map(..) | Expr::Literal(Value::Map(_), _)) {
                self.diags.push(
                    Diagnostic::new(
                        "wrong-type",
                        format!("each item of {what} must be a mapping"),
                    )
                    .at(item.span(), "expected a mapping"),
                );
                continue;
            }
            let Some(key) = self.item_key(&item, spec, &what) else {
                continue;
            };
            if let Some(first) = seen.get(&key) {
                self.diags.push(
                    Diagnostic::new(
                        "duplicate-name",
                        format!("{what} holds `{key}` twice"),
                    )
                    .at(item.span(), "the same object again")
                    .also(*first, "first here")
                    .help("every item of a bundle needs its own key (apiVersion, kind, namespace and name)"),
                );
                continue;
            }
            seen.insert(key.clone(), item.span());
            let span = item.span();
            let mut props = BTreeMap::new();
            props.insert(spec.item_attr.to_string(), (span, item));
            out.push(ResourceDecl {
                address: item_address(&decl.address, &key),
                module_path: decl.module_path.clone(),
                name: item_address(&decl.name, &key),
                mode: decl.mode,
                type_name: spec.item_type.to_string(),
                provider: decl.provider.clone(),
                properties: Expr::Map(props, span),
                depends_on: decl.depends_on.clone(),
                lifecycle: decl.lifecycle.clone(),
                span,
                spans: decl.spans,
            });
        }
        self.bundles.insert(
            decl.address.clone(),
            out.iter().map(|d| d.address.clone()).collect(),
        );
        out
    }

    /// The key of one item from literal values at the spec's paths; `None` when reported.
    fn item_key(&mut self, item: &Expr, spec: &BundleSpec, what: &str) -> Option<String> {
        let mut parts = Vec::new();
        let mut ok = true;
        for kp in spec.key_paths {
            let name = kp.path.join(".");
            let found = at(item, kp.path);
            let problem = match &found {
                None | Some(Expr::Literal(Value::Null, _)) => {
                    if kp.required {
                        Some(
                            Diagnostic::new(
                                "missing-attribute",
                                format!("an item of {what} has no `{name}`"),
                            )
                            .at(item.span(), format!("`{name}` is required"))
                            .help(format!(
                                "the item's address is made of {}",
                                spec.key_paths
                                    .iter()
                                    .map(|k| format!("`{}`", k.path.join(".")))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        )
                    } else {
                        None
                    }
                }
                Some(Expr::Literal(Value::String(s), span)) => {
                    if s.is_empty() || s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
                        Some(
                            Diagnostic::new(
                                "invalid-name",
                                format!("`{name}` of an item of {what} cannot be part of an address"),
                            )
                            .at(*span, "empty, or holds `\"`, `\\` or a control character"),
                        )
                    } else {
                        parts.push(s.clone());
                        None
                    }
                }
                Some(Expr::Literal(Value::Sensitive(_), span)) => Some(
                    Diagnostic::new(
                        "not-known-at-load",
                        format!("`{name}` of an item of {what} is sensitive"),
                    )
                    .at(*span, "a sensitive value cannot be part of an address"),
                ),
                Some(e @ Expr::Template(parts_, _))
                    if parts_.iter().any(|p| matches!(p, TemplatePart::Ref(_))) =>
                {
                    Some(
                        Diagnostic::new(
                            "not-known-at-load",
                            format!("`{name}` of an item of {what} must be known when the stack loads"),
                        )
                        .at(e.span(), "refers to a resource attribute")
                        .help(format!(
                            "`{name}` is part of the item's address; use a literal, a variable or a module input"
                        )),
                    )
                }
                Some(e) => Some(
                    Diagnostic::new(
                        "wrong-type",
                        format!("`{name}` of an item of {what} must be a string"),
                    )
                    .at(e.span(), "expected a string"),
                ),
            };
            if let Some(d) = problem {
                self.diags.push(d);
                ok = false;
            }
        }
        ok.then(|| parts.join("/"))
    }

    /// After every scope is loaded: `depends_on` on bundles become their items, references to
    /// missing items are reported, and ordering keys become dependencies.
    pub fn finish_bundles(&mut self) {
        if !self.bundles.is_empty() {
            for r in &mut self.resources {
                if r.depends_on.iter().any(|d| self.bundles.contains_key(d)) {
                    let deps = std::mem::take(&mut r.depends_on);
                    for d in deps {
                        match self.bundles.get(&d) {
                            Some(items) => r.depends_on.extend(items.iter().cloned()),
                            None => r.depends_on.push(d),
                        }
                    }
                }
            }
            self.check_item_references();
        }
        self.ordering_edges();
        for r in &mut self.resources {
            r.depends_on.sort();
            r.depends_on.dedup();
        }
    }

    fn check_item_references(&mut self) {
        let addresses: HashSet<&str> = self.resources.iter().map(|r| r.address.as_str()).collect();
        let mut problems = Vec::new();
        for r in &self.resources {
            for reference in r.properties.references() {
                let Some((base, key)) = split_item_address(&reference.address) else {
                    continue;
                };
                let Some(items) = self.bundles.get(base) else {
                    continue;
                };
                if addresses.contains(reference.address.as_str()) {
                    continue;
                }
                let keys: Vec<&str> = items
                    .iter()
                    .filter_map(|a| split_item_address(a).map(|(_, k)| k))
                    .collect();
                let d = Diagnostic::new(
                    "unknown-reference",
                    format!("bundle `{base}` has no item `{key}`"),
                )
                .at(reference.span, "no such item");
                problems.push(match did_you_mean(key, keys.iter().copied()) {
                    Some(h) => d.help(h),
                    None if keys.is_empty() => d.help(format!("`{base}` holds no items")),
                    None => d.help(format!(
                        "items of `{base}`: {}",
                        super::hints::listing(keys.iter().copied(), keys.len())
                    )),
                });
            }
        }
        self.diags.extend(problems);
    }

    /// Each resource depends on every resource that provides a key it requires.
    fn ordering_edges(&mut self) {
        let mut provided: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut required: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, r) in self.resources.iter().enumerate() {
            if r.mode != Mode::Managed {
                continue;
            }
            let Some(provider) = self.registry.get(self.provider_type(&r.provider)) else {
                continue;
            };
            let keys = provider.ordering(&r.type_name, &r.properties.eval(&|_| Value::Unknown));
            for k in keys.provides {
                provided.entry(k).or_default().insert(i);
            }
            if !keys.requires.is_empty() {
                required.push((i, keys.requires));
            }
        }
        if provided.is_empty() {
            return;
        }
        for (i, keys) in required {
            let deps: BTreeSet<usize> = keys
                .iter()
                .filter_map(|k| provided.get(k))
                .flatten()
                .copied()
                .filter(|&j| j != i)
                .collect();
            for j in deps {
                let a = self.resources[j].address.clone();
                self.resources[i].depends_on.push(a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_addresses_round_trip() {
        let a = item_address("module.m.object", "apps/v1/Deployment/ns/x.y");
        assert_eq!(a, "module.m.object[\"apps/v1/Deployment/ns/x.y\"]");
        assert_eq!(
            split_item_address(&a),
            Some(("module.m.object", "apps/v1/Deployment/ns/x.y"))
        );
        assert_eq!(split_item_address("object"), None);
    }
}
