//! Loading one scope's body (the stack's, or a module instance's rendered templates): names
//! claimed once, `enabled` evaluated, module instances expanded in dependency order, then each
//! enabled resource and data source resolved into a [`ResourceDecl`].

use super::hints::{listing, Hints};
use super::module_def::{ModuleDef, ModulesDir};
use super::modules::Link;
use super::parse::{RawBody, RawModule, RawResource};
use super::resolve::{known_value, Resolver};
use super::scope::{Declared, ModuleSlot, Scope};
use super::yaml::{Node, NodeKind};
use super::{expr, DeclSpans, Expr, Mode, ResourceDecl};
use crate::diag::{did_you_mean, Diagnostic, SourceMap, Span};
use crate::providers::Registry;
use mlstack_provider_api::{PathStep, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Everything that accumulates while a stack loads.
pub struct Loader<'o> {
    pub sources: SourceMap,
    pub diags: Vec<Diagnostic>,
    pub env: &'o BTreeMap<String, String>,
    pub modules_dir: Option<ModulesDir>,
    pub stack_name: String,
    /// Declared provider blocks.
    pub provider_keys: BTreeMap<String, Span>,
    /// Provider blocks used by default (`random_password` → `random`) but not declared.
    pub implicit_providers: BTreeMap<String, Span>,
    pub resources: Vec<ResourceDecl>,
    /// Module definitions by canonical directory; `None` when broken (reported once).
    pub defs: HashMap<PathBuf, Option<Rc<ModuleDef>>>,
    /// The budget for "did you mean" hints.
    pub hints: Hints,
    /// Names of the module directories, listed on first need.
    pub module_names: Option<Vec<String>>,
    /// The providers (schemas for bundles and stamps).
    pub registry: Registry,
    /// Provider block key → provider type, for the declared blocks.
    pub provider_types: BTreeMap<String, String>,
    /// Bundle address → the addresses of its items (for `depends_on: [bundle]`).
    pub bundles: BTreeMap<String, Vec<String>>,
}

impl Loader<'_> {
    /// Loads a body into `scope`; returns every resource address it produced (nested too).
    pub fn load_body(
        &mut self,
        body: RawBody,
        scope: &mut Scope,
        base_dir: &Path,
        chain: &[Link],
        inherited: &[String],
    ) -> Vec<String> {
        let mut claimed: HashMap<String, Span> = HashMap::new();
        let mut resources = Vec::with_capacity(body.resources.len());
        for r in body.resources {
            if self.claim(&mut claimed, &r.name, r.span, scope) {
                let bundle = r.type_name.as_ref().is_some_and(|(t, _)| {
                    let p = r.provider.as_ref().map(|(p, _)| p.as_str());
                    self.schema_of(t, p, r.mode)
                        .is_some_and(|s| s.bundle.is_some())
                });
                let d = Declared {
                    span: r.span,
                    enabled: Some(true),
                    bundle,
                };
                match r.mode {
                    Mode::Managed => scope.resources.insert(r.name.clone(), d),
                    Mode::Data => scope.data.insert(r.name.clone(), d),
                };
                resources.push(r);
            }
        }
        let mut modules = Vec::with_capacity(body.modules.len());
        for m in body.modules {
            if self.claim(&mut claimed, &m.name, m.span, scope) {
                scope.modules.insert(
                    m.name.clone(),
                    ModuleSlot {
                        span: m.span,
                        enabled: Some(true),
                        ..ModuleSlot::default()
                    },
                );
                modules.push(m);
            }
        }
        for r in &resources {
            if let Some(node) = &r.enabled {
                let enabled = self.eval_enabled(node, scope);
                let table = match r.mode {
                    Mode::Managed => &mut scope.resources,
                    Mode::Data => &mut scope.data,
                };
                if let Some(d) = table.get_mut(&r.name) {
                    d.enabled = enabled;
                }
            }
        }
        for m in &modules {
            if let Some(node) = &m.enabled {
                let enabled = self.eval_enabled(node, scope);
                if let Some(slot) = scope.modules.get_mut(&m.name) {
                    slot.enabled = enabled;
                }
            }
        }
        let mut addresses = Vec::new();
        for i in self.module_order(&modules) {
            let m = &modules[i];
            if scope.modules.get(&m.name).and_then(|s| s.enabled) == Some(false) {
                continue;
            }
            addresses.extend(self.expand_module(m, scope, base_dir, chain, inherited));
        }
        for r in resources {
            let table = match r.mode {
                Mode::Managed => &scope.resources,
                Mode::Data => &scope.data,
            };
            if table.get(&r.name).and_then(|d| d.enabled) == Some(false) {
                continue;
            }
            if let Some(decl) = self.resource_decl(r, scope, inherited) {
                for decl in self.expand(decl) {
                    addresses.push(decl.address.clone());
                    self.resources.push(decl);
                }
            }
        }
        addresses
    }

    /// Claims a name in a scope; a second claim is a "duplicate name" diagnostic.
    fn claim(
        &mut self,
        claimed: &mut HashMap<String, Span>,
        name: &str,
        span: Span,
        scope: &Scope,
    ) -> bool {
        if let Some(first) = claimed.get(name) {
            let d = Diagnostic::new(
                "duplicate-name",
                format!("duplicate name `{name}` in {}", scope.describe()),
            )
            .at(span, "defined again here")
            .also(*first, "first defined here");
            let share = "resources, data sources and modules of one scope share names";
            self.diags.push(if first.file == span.file {
                d.help(share)
            } else {
                // The label of the first definition is not shown from another file.
                d.help(format!(
                    "{share}; the first `{name}` is at {}",
                    self.sources.location(*first)
                ))
            });
            return false;
        }
        claimed.insert(name.to_string(), span);
        true
    }

    /// A resolver for `scope` (borrowing the sources).
    pub fn resolver<'s>(&'s self, scope: &'s Scope) -> Resolver<'s> {
        Resolver {
            scope,
            env: self.env,
            sources: &self.sources,
            hints: &self.hints,
        }
    }

    /// Resolves a node in `scope`, collecting diagnostics.
    pub fn resolve(&mut self, node: &Node, scope: &Scope) -> Option<Expr> {
        let mut diags = Vec::new();
        let e = self.resolver(scope).expr(node, &mut diags);
        self.diags.extend(diags);
        e
    }

    /// Evaluates `enabled`; `None` when it cannot be (reported).
    fn eval_enabled(&mut self, node: &Node, scope: &Scope) -> Option<bool> {
        let e = self.resolve(node, scope)?;
        let Some(v) = known_value(&e) else {
            self.diags.push(
                Diagnostic::new(
                    "not-known-at-load",
                    "`enabled` must be known when the stack loads",
                )
                .at(node.span, "refers to a resource attribute")
                .help(
                    "use variables, env or literals in `enabled`, e.g. `enabled: ${var.use_kafka}`",
                ),
            );
            return None;
        };
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        "wrong-type",
                        format!("`enabled` must be true or false, found {}", v.type_name()),
                    )
                    .at(node.span, "expected true or false"),
                );
                None
            }
        }
    }

    /// Orders sibling module instances so that one whose inputs or `depends_on` name another
    /// comes after it. Instances in a cycle are reported and left out.
    fn module_order(&mut self, modules: &[RawModule]) -> Vec<usize> {
        let index: HashMap<&str, usize> = modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.as_str(), i))
            .collect();
        let deps: Vec<BTreeSet<usize>> = modules
            .iter()
            .map(|m| {
                let mut names = BTreeSet::new();
                for e in &m.inputs {
                    module_refs(&e.value, &mut names);
                }
                for (d, _) in &m.depends_on {
                    if let Some(n) = d.strip_prefix("module.") {
                        names.insert(n.to_string());
                    }
                }
                names
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).copied())
                    .collect()
            })
            .collect();
        // Kahn's algorithm, taking the first ready instance in source order each time.
        let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); modules.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                users[d].push(i);
            }
        }
        let mut ready: BTreeSet<usize> = (0..modules.len()).filter(|&i| waiting[i] == 0).collect();
        let mut done = vec![false; modules.len()];
        let mut order = Vec::with_capacity(modules.len());
        while let Some(i) = ready.pop_first() {
            done[i] = true;
            order.push(i);
            for &u in &users[i] {
                waiting[u] -= 1;
                if waiting[u] == 0 {
                    ready.insert(u);
                }
            }
        }
        if order.len() < modules.len() {
            self.report_module_cycle(modules, &deps, &done);
        }
        order
    }

    /// Reports one cycle among the instances left over by the ordering (each of them waits for
    /// another left-over one, so walking "waits for" links must meet a repeat).
    fn report_module_cycle(
        &mut self,
        modules: &[RawModule],
        deps: &[BTreeSet<usize>],
        done: &[bool],
    ) {
        let Some(start) = (0..modules.len()).find(|&i| !done[i]) else {
            return;
        };
        let mut position: Vec<Option<usize>> = vec![None; modules.len()];
        let mut path = vec![start];
        position[start] = Some(0);
        let mut at = start;
        while let Some(&next) = deps[at].iter().find(|&&d| !done[d]) {
            if let Some(pos) = position[next] {
                path.drain(..pos);
                path.push(next);
                break;
            }
            position[next] = Some(path.len());
            path.push(next);
            at = next;
        }
        const SHOWN: usize = 10;
        let mut chain: Vec<String> = path
            .iter()
            .take(SHOWN)
            .map(|&i| format!("module.{}", modules[i].name))
            .collect();
        if path.len() > SHOWN {
            chain.push(format!("... ({} instances in all)", path.len() - 1));
        }
        let first = path[0];
        let mut d = Diagnostic::new(
            "module-cycle",
            format!(
                "module instances depend on each other: {}",
                chain.join(" → ")
            ),
        )
        .at(modules[first].span, "part of the cycle");
        for &i in path.iter().skip(1).take(SHOWN) {
            if i != first {
                d = d.also(modules[i].span, "part of the cycle");
            }
        }
        self.diags.push(d);
    }

    fn resource_decl(
        &mut self,
        r: RawResource,
        scope: &Scope,
        inherited: &[String],
    ) -> Option<ResourceDecl> {
        let properties = match &r.properties {
            None => Some(Expr::Map(BTreeMap::new(), r.span)),
            Some(node) => match node.kind {
                NodeKind::Null => Some(Expr::Map(BTreeMap::new(), node.span)),
                NodeKind::Map(_) => self.resolve(node, scope),
                _ => {
                    self.diags
                        .push(super::fields::wrong_type(node, "a mapping", "`properties`"));
                    None
                }
            },
        };
        let mut depends_on: Vec<String> = inherited.to_vec();
        depends_on.extend(self.depends_on(&r.depends_on, scope));
        depends_on.sort();
        depends_on.dedup();
        let (type_name, type_span) = r.type_name?;
        let provider = match r.provider {
            Some((p, span)) => {
                if !self.provider_keys.contains_key(&p) {
                    let d = Diagnostic::new(
                        "unknown-provider",
                        format!("unknown provider block `{p}`"),
                    )
                    .at(span, "not declared under `providers:`");
                    self.diags.push(
                        match self
                            .hints
                            .nearest(&p, self.provider_keys.keys().map(String::as_str))
                        {
                            Some(h) => d.help(h),
                            None => {
                                d.help(format!("declare it: providers: {{{p}: {{type: ...}}}}"))
                            }
                        },
                    );
                    return None;
                }
                p
            }
            None => {
                let p = Registry::provider_of_type(&type_name).to_string();
                if !self.provider_keys.contains_key(&p) {
                    self.implicit_providers
                        .entry(p.clone())
                        .or_insert(type_span);
                }
                p
            }
        };
        let properties = properties?;
        let address = match r.mode {
            Mode::Managed => scope.resource_address(&r.name),
            Mode::Data => scope.data_address(&r.name),
        };
        Some(ResourceDecl {
            address,
            module_path: scope.module_path.clone(),
            name: r.name,
            mode: r.mode,
            type_name,
            provider,
            properties,
            depends_on,
            lifecycle: r.lifecycle,
            span: r.span,
            spans: DeclSpans {
                type_name: type_span,
            },
        })
    }

    /// Resolves `depends_on` entries to absolute addresses.
    pub fn depends_on(&mut self, entries: &[(String, Span)], scope: &Scope) -> Vec<String> {
        let mut out = Vec::new();
        for (text, span) in entries {
            let found: Result<Vec<String>, Diagnostic> = if let Some(m) =
                text.strip_prefix("module.")
            {
                match scope.modules.get(m) {
                    Some(slot) if slot.enabled == Some(false) => {
                        Err(disabled_dep(text, *span, slot.span))
                    }
                    Some(slot) => Ok(slot.addresses.clone()),
                    None => Err(self.unknown_dep(text, *span, scope)),
                }
            } else if let Some(d) = text.strip_prefix("data.") {
                match scope.data.get(d) {
                    Some(x) if x.enabled == Some(false) => Err(disabled_dep(text, *span, x.span)),
                    Some(_) => Ok(vec![scope.data_address(d)]),
                    None => Err(self.unknown_dep(text, *span, scope)),
                }
            } else {
                match scope.resources.get(text) {
                    Some(x) if x.enabled == Some(false) => Err(disabled_dep(text, *span, x.span)),
                    // A bundle's address stands for all its items (replaced once loaded).
                    Some(_) => Ok(vec![scope.resource_address(text)]),
                    None => Err(self.unknown_dep(text, *span, scope)),
                }
            };
            match found {
                Ok(a) => out.extend(a),
                Err(d) => self.diags.push(d),
            }
        }
        out
    }

    fn unknown_dep(&self, text: &str, span: Span, scope: &Scope) -> Diagnostic {
        let d = Diagnostic::new(
            "unknown-reference",
            format!(
                "`depends_on` names `{text}`, which is not in {}",
                scope.describe()
            ),
        )
        .at(span, "unknown name");
        if !self.hints.allow(2 * scope.name_count()) {
            return d;
        }
        let names: Vec<String> = scope
            .reference_names()
            .into_iter()
            .filter(|n| !n.starts_with("var.") && !n.starts_with("input."))
            .collect();
        match did_you_mean(text, names.iter().map(String::as_str)) {
            Some(h) => d.help(h),
            None if names.is_empty() => d.help(
                "depends_on names resources (NAME), data.NAME or module.NAME of the same scope",
            ),
            None => d.help(format!(
                "names in {}: {}",
                scope.describe(),
                listing(names.iter().map(String::as_str), names.len())
            )),
        }
    }

    /// Resolves a provider block's settings (root scope).
    pub fn provider_config(
        &mut self,
        entries: &[super::yaml::Entry],
        span: Span,
        scope: &Scope,
    ) -> Option<Expr> {
        let mut ok = true;
        let mut map = BTreeMap::new();
        for e in entries {
            match self.resolve(&e.value, scope) {
                Some(x) => {
                    map.insert(e.key.clone(), (e.key_span, x));
                }
                None => ok = false,
            }
        }
        ok.then_some(Expr::Map(map, span))
    }

    /// A value that must be known at load (backend settings).
    pub fn known(&mut self, node: &Node, scope: &Scope, what: &str) -> Option<Value> {
        let e = self.resolve(node, scope)?;
        match known_value(&e) {
            Some(v) => Some(v),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        "not-known-at-load",
                        format!("{what} must be known when the stack loads"),
                    )
                    .at(node.span, "refers to a resource attribute")
                    .help("use variables, env or literals here"),
                );
                None
            }
        }
    }
}

fn disabled_dep(text: &str, span: Span, decl: Span) -> Diagnostic {
    Diagnostic::new(
        "disabled-reference",
        format!("`depends_on` names `{text}`, which is disabled"),
    )
    .at(span, "disabled")
    .also(decl, "disabled (enabled: false)")
    .help("remove it from depends_on, or make this part depend on the same condition")
}

/// Names of sibling module instances referenced (`${module.X...}`) anywhere in a node.
fn module_refs(node: &Node, out: &mut BTreeSet<String>) {
    match &node.kind {
        NodeKind::Str(s) if expr::has_template(s) => {
            let loc = expr::Locator::whole(node.span);
            if let Ok(pieces) = expr::parse_template(s, &loc) {
                for p in pieces {
                    if let expr::Piece::Ref(r) = p {
                        if r.root == "module" {
                            if let Some(PathStep::Key(k)) = r.path.first() {
                                out.insert(k.clone());
                            }
                        }
                    }
                }
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|n| module_refs(n, out)),
        NodeKind::Map(entries) => entries.iter().for_each(|e| module_refs(&e.value, out)),
        _ => {}
    }
}
