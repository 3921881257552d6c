//! Computing a plan: refresh what state records, then walk the graph asking each resource's
//! provider what it will become, and decide the action from desired, prior and live.

use super::{Action, OutputChange, Plan, PlanMode, ResourceChange};
use crate::graph::Graph;
use crate::providers::Registry;
use crate::stack::{Mode, ResourceDecl, Stack};
use crate::state::{ResourceState, State};
use crate::walk::{walk, Outcome};
use mlstack_provider_api::{
    path_to_string, Path, PlanRequest, ReadResult, ResourceRef, ResourceSchema, Value,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// `--target` addresses (with their dependencies).
    pub targets: Vec<String>,
    /// `--replace` addresses.
    pub replace: Vec<String>,
    pub parallelism: usize,
    /// Permit a plan that deletes every managed resource.
    pub allow_delete_all: bool,
    pub sandbox: bool,
}

/// Why a plan could not be made. Messages never hold sensitive values.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    pub problems: Vec<String>,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

fn fail(msg: impl Into<String>) -> PlanError {
    PlanError {
        problems: vec![msg.into()],
    }
}

/// The provider config value of a provider block, evaluated against `values` (unknown where a
/// referenced resource is not known yet).
pub fn provider_config(stack: &Stack, key: &str, values: &dyn Fn(&str) -> Option<Value>) -> Value {
    match stack.providers.get(key) {
        Some(p) => p.config.eval(&|r| lookup(values, r)),
        None => Value::map(),
    }
}

/// The provider type behind a provider block key.
pub fn provider_type<'a>(stack: &'a Stack, key: &'a str) -> &'a str {
    stack
        .providers
        .get(key)
        .map(|p| p.type_name.as_str())
        .unwrap_or(key)
}

/// Resolves one reference against known resource values.
pub fn lookup(values: &dyn Fn(&str) -> Option<Value>, r: &crate::stack::Reference) -> Value {
    match values(&r.address) {
        Some(v) => v.get_path(&r.path).unwrap_or(Value::Null),
        None => Value::Unknown,
    }
}

/// Marks the attributes a schema calls sensitive.
pub fn mark_sensitive(mut v: Value, schema: Option<&ResourceSchema>) -> Value {
    let Some(schema) = schema else { return v };
    if let Value::Map(m) = &mut v {
        for (k, a) in &schema.attributes {
            if a.sensitive {
                if let Some(x) = m.get_mut(*k) {
                    if !matches!(x, Value::Null) {
                        *x = std::mem::take(x).into_sensitive();
                    }
                }
            }
        }
    }
    v
}

/// `a` and `b` hold the same data once `ignore` paths are removed from both.
fn same_except(a: &Value, b: &Value, ignore: &[Path]) -> bool {
    if ignore.is_empty() {
        return a.same_data(b);
    }
    let (mut a, mut b) = (a.clone(), b.clone());
    for p in ignore {
        a.remove_path(p);
        b.remove_path(p);
    }
    a.same_data(&b)
}

/// Computes the plan. `state` is the prior state (already read under the lock).
pub async fn compute(
    stack: &Stack,
    graph: &Graph,
    state: &State,
    registry: &Registry,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    let parallelism = opts.parallelism.max(1);
    let selected: Option<BTreeSet<usize>> = if opts.targets.is_empty() {
        None
    } else {
        Some(graph.select_targets(stack, &opts.targets).map_err(fail)?)
    };
    for r in &opts.replace {
        if stack.resource(r).is_none() {
            return Err(fail(format!(
                "--replace {r}: no such resource in the stack"
            )));
        }
    }
    let in_scope_state = |address: &str| -> bool {
        match &selected {
            None => true,
            Some(sel) => match graph.node(address) {
                Some(n) => sel.contains(&graph.graph[n]),
                None => opts
                    .targets
                    .iter()
                    .any(|t| address == t || address.starts_with(&format!("{t}."))),
            },
        }
    };

    // 1. Refresh every recorded resource in scope, in parallel.
    let mut prior_values: BTreeMap<&str, Value> = state
        .resources
        .iter()
        .map(|r| (r.address.as_str(), r.value()))
        .collect();
    let provider_data = {
        let get = |a: &str| prior_values.get(a).cloned();
        read_provider_data(stack, registry, &get).await
    };
    prior_values.extend(provider_data);
    let refresh_list: Vec<&ResourceState> = state
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed && in_scope_state(&r.address))
        .collect();
    let prior_lookup = |a: &str| prior_values.get(a).cloned();
    let cancel = AtomicBool::new(false);
    let no_deps = vec![Vec::new(); refresh_list.len()];
    let refreshed = walk(
        &no_deps,
        parallelism,
        &cancel,
        |i| {
            let r = refresh_list[i];
            let config = provider_config(stack, &r.provider, &prior_lookup);
            let provider = registry.get(provider_type(stack, &r.provider)).cloned();
            let prior = prior_values
                .get(r.address.as_str())
                .cloned()
                .unwrap_or_default();
            async move {
                let Some(provider) = provider else {
                    return Err(format!(
                        "{}: provider `{}` is not available",
                        r.address, r.provider
                    ));
                };
                if config.contains_unknown() {
                    // The provider's connection is not known yet (its cluster is being created):
                    // what state recorded is all we can know.
                    return Ok(ReadResult::Found(prior));
                }
                let rr = ResourceRef {
                    address: &r.address,
                    type_name: &r.type_name,
                    provider_config: &config,
                };
                provider
                    .read(rr, &prior)
                    .await
                    .map_err(|e| format!("{}: refresh failed: {e}", r.address))
            }
        },
        |_, _| {},
        || {},
        None,
    )
    .await;
    let mut live: BTreeMap<String, Option<Value>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, o) in refreshed.into_iter().enumerate() {
        let r = refresh_list[i];
        match o {
            Outcome::Done(ReadResult::Found(v)) => {
                let schema = registry.resource_schema(&r.type_name, false);
                live.insert(r.address.clone(), Some(mark_sensitive(v, schema)));
            }
            Outcome::Done(ReadResult::Gone) => {
                live.insert(r.address.clone(), None);
            }
            Outcome::Failed(e) => problems.push(e),
            Outcome::Skipped(_) | Outcome::Cancelled => {}
        }
    }
    if !problems.is_empty() {
        return Err(PlanError { problems });
    }

    // 2. Drift: what changed outside mlstack since the last apply.
    let mut drift = Vec::new();
    for r in &refresh_list {
        let prior = &prior_values[r.address.as_str()];
        match live.get(&r.address) {
            Some(Some(l)) if !l.same_data(prior) => drift.push(change_of(
                r,
                Action::Update,
                Some(prior.clone()),
                Some(l.clone()),
            )),
            Some(None) => drift.push(change_of(r, Action::Delete, Some(prior.clone()), None)),
            _ => {}
        }
    }

    let mut plan = Plan {
        stack_name: stack.name.clone(),
        stack_path: stack.path.display().to_string(),
        mode: opts.mode,
        lineage: state.lineage.clone(),
        serial: state.serial,
        drift,
        variables: stack
            .variables
            .iter()
            .map(|(k, v)| {
                let val = if v.sensitive {
                    v.value.clone().into_sensitive()
                } else {
                    v.value.clone()
                };
                (k.clone(), val)
            })
            .collect(),
        targets: opts.targets.clone(),
        sandbox: opts.sandbox,
        ..Plan::default()
    };

    // 3. Desired resources, walked in dependency order.
    let mut changes: Vec<ResourceChange> = Vec::new();
    if opts.mode != PlanMode::Destroy {
        let order: Vec<usize> = graph
            .apply_order()
            .into_iter()
            .filter(|i| selected.as_ref().is_none_or(|s| s.contains(i)))
            .collect();
        let pos: BTreeMap<usize, usize> = order.iter().enumerate().map(|(p, i)| (*i, p)).collect();
        let deps: Vec<Vec<usize>> = order
            .iter()
            .map(|&i| {
                graph
                    .dependencies(&stack.resources[i].address)
                    .iter()
                    .filter_map(|a| {
                        graph
                            .node(a)
                            .and_then(|n| pos.get(&graph.graph[n]).copied())
                    })
                    .collect()
            })
            .collect();
        // After-values of planned resources, for references.
        let after: RefCell<BTreeMap<String, Value>> = RefCell::new(BTreeMap::new());
        let outcomes = walk(
            &deps,
            parallelism,
            &cancel,
            |p| {
                let decl = &stack.resources[order[p]];
                let values = |a: &str| after.borrow().get(a).cloned();
                let desired = decl.properties.eval(&|r| lookup(&values, r));
                let config = provider_config(stack, &decl.provider, &values);
                let prior = prior_values.get(decl.address.as_str()).cloned();
                let live_v = live.get(&decl.address).cloned();
                let force_replace = opts.replace.contains(&decl.address);
                let refresh_only = opts.mode == PlanMode::RefreshOnly;
                async move {
                    plan_one(
                        stack,
                        decl,
                        registry,
                        desired,
                        config,
                        prior,
                        live_v,
                        force_replace,
                        refresh_only,
                    )
                    .await
                }
            },
            |p, r| {
                if let Ok(c) = r {
                    let v = c.after.clone().unwrap_or(Value::Unknown);
                    after
                        .borrow_mut()
                        .insert(stack.resources[order[p]].address.clone(), v);
                }
            },
            || {},
            None,
        )
        .await;
        for o in outcomes {
            match o {
                Outcome::Done(c) => changes.push(c),
                Outcome::Failed(e) => problems.push(e),
                Outcome::Skipped(_) | Outcome::Cancelled => {}
            }
        }
        if !problems.is_empty() {
            return Err(PlanError { problems });
        }
    }

    // 4. Recorded resources no longer desired: delete (everything, in destroy mode).
    for r in &state.resources {
        if !in_scope_state(&r.address) {
            continue;
        }
        let still_desired = opts.mode != PlanMode::Destroy && stack.resource(&r.address).is_some();
        if still_desired {
            continue;
        }
        let before = match live.get(&r.address) {
            Some(Some(v)) => v.clone(),
            Some(None) => continue, // already gone
            None => prior_values[r.address.as_str()].clone(),
        };
        if r.mode == Mode::Data {
            continue;
        }
        let mut c = change_of(r, Action::Delete, Some(before), None);
        if opts.mode == PlanMode::RefreshOnly {
            c.action = Action::NoOp;
            c.after = c.before.clone();
        } else if opts.mode != PlanMode::Destroy {
            c.reason = Some("no longer in the stack".into());
        }
        changes.push(c);
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));

    // 5. Guards: protected resources, and plans that delete everything.
    for c in &changes {
        let protected = stack
            .resource(&c.address)
            .map(|d| d.lifecycle.prevent_destroy)
            .or_else(|| state.resource(&c.address).map(|r| r.prevent_destroy))
            .unwrap_or(false);
        if protected && (c.action == Action::Delete || c.action.is_replace()) {
            problems.push(format!(
                "{} has lifecycle.prevent_destroy set, but this plan would {} it; set `prevent_destroy: false` in the stack and apply first, or forget it with `mlstack state rm`",
                c.address,
                if c.action == Action::Delete { "destroy" } else { "replace" }
            ));
        }
    }
    let managed = state
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed)
        .count();
    let deleting = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .count();
    if opts.mode == PlanMode::Normal
        && selected.is_none()
        && managed > 0
        && deleting == managed
        && !opts.allow_delete_all
    {
        problems.push(format!(
            "this plan would delete every one of the {managed} managed resources; if that is intended use `mlstack destroy`, or pass --allow-delete-all"
        ));
    }
    if !problems.is_empty() {
        return Err(PlanError { problems });
    }

    // 6. Outputs.
    if selected.is_none() {
        let values: BTreeMap<&str, Value> = changes
            .iter()
            .filter_map(|c| c.after.as_ref().map(|v| (c.address.as_str(), v.clone())))
            .collect();
        let get = |a: &str| values.get(a).cloned();
        let mut seen = BTreeSet::new();
        if opts.mode != PlanMode::Destroy {
            for o in &stack.outputs {
                seen.insert(o.name.as_str());
                let mut v = o.value.eval(&|r| lookup(&get, r));
                let sensitive = o.sensitive || v.contains_sensitive();
                if sensitive {
                    v = v.into_sensitive();
                }
                let before = state.outputs.get(&o.name).map(|s| {
                    let b = Value::from(s.value.clone());
                    if s.sensitive {
                        b.into_sensitive()
                    } else {
                        b
                    }
                });
                let action = match &before {
                    None => Action::Create,
                    Some(b) if b.same_data(&v) => Action::NoOp,
                    Some(_) => Action::Update,
                };
                plan.output_changes.push(OutputChange {
                    name: o.name.clone(),
                    action: if opts.mode == PlanMode::RefreshOnly {
                        Action::NoOp
                    } else {
                        action
                    },
                    before,
                    after: Some(v),
                    sensitive,
                });
            }
        }
        for (name, s) in &state.outputs {
            if !seen.contains(name.as_str()) && opts.mode != PlanMode::RefreshOnly {
                let b = Value::from(s.value.clone());
                plan.output_changes.push(OutputChange {
                    name: name.clone(),
                    action: Action::Delete,
                    before: Some(if s.sensitive { b.into_sensitive() } else { b }),
                    after: None,
                    sensitive: s.sensitive,
                });
            }
        }
        plan.output_changes.sort_by(|a, b| a.name.cmp(&b.name));
    }

    plan.changes = changes;
    if plan
        .changes
        .iter()
        .any(|c| c.action == Action::Delete || c.action.is_replace())
    {
        let n = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete || c.action.is_replace())
            .count();
        plan.warnings
            .push(format!("{n} resource(s) will be destroyed or replaced."));
    }
    Ok(plan)
}

fn change_of(
    r: &ResourceState,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
) -> ResourceChange {
    ResourceChange {
        address: r.address.clone(),
        mode: r.mode,
        type_name: r.type_name.clone(),
        provider: r.provider.clone(),
        action,
        before,
        after,
        replace_paths: Vec::new(),
        reason: None,
        notes: Vec::new(),
        dependencies: r.dependencies.clone(),
    }
}

/// Data sources that configure a provider (a cluster's token) are read before refresh: state
/// keeps their secrets redacted, and refresh needs the real values to connect. One that cannot
/// be read yet (its inputs unknown, or an error) keeps what state recorded; the plan reads it
/// again in its turn and reports any error there.
pub async fn read_provider_data<'a>(
    stack: &'a Stack,
    registry: &Registry,
    get: &dyn Fn(&str) -> Option<Value>,
) -> Vec<(&'a str, Value)> {
    let mut out = Vec::new();
    let mut wanted: Vec<&'a str> = stack
        .providers
        .values()
        .flat_map(|p| p.config.references())
        .map(|r| r.address.as_str())
        .filter(|a| stack.resource(a).is_some_and(|d| d.mode == Mode::Data))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    for address in wanted {
        let Some(decl) = stack.resource(address) else {
            continue;
        };
        let Some(provider) = registry.get(provider_type(stack, &decl.provider)) else {
            continue;
        };
        let properties = decl.properties.eval(&|r| lookup(get, r));
        let config = provider_config(stack, &decl.provider, get);
        if properties.contains_unknown() || config.contains_unknown() {
            continue;
        }
        let rref = ResourceRef {
            address: &decl.address,
            type_name: &decl.type_name,
            provider_config: &config,
        };
        if let Ok(v) = provider.read_data(rref, &properties).await {
            let schema = registry.resource_schema(&decl.type_name, true);
            out.push((decl.address.as_str(), mark_sensitive(v, schema)));
        }
    }
    out
}

/// Plans one resource or data source.
#[allow(clippy::too_many_arguments)]
async fn plan_one(
    stack: &Stack,
    decl: &ResourceDecl,
    registry: &Registry,
    mut desired: Value,
    config: Value,
    prior: Option<Value>,
    live: Option<Option<Value>>,
    force_replace: bool,
    refresh_only: bool,
) -> Result<ResourceChange, String> {
    let ptype = provider_type(stack, &decl.provider);
    let provider = registry.get(ptype).ok_or_else(|| {
        format!(
            "{}: provider `{ptype}` is not available in this build",
            decl.address
        )
    })?;
    let schema = registry.resource_schema(&decl.type_name, decl.mode == Mode::Data);
    let dependencies = crate::graph::resource_dependencies(stack, decl)
        .into_iter()
        .map(|(a, _)| a.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut change = ResourceChange {
        address: decl.address.clone(),
        mode: decl.mode,
        type_name: decl.type_name.clone(),
        provider: decl.provider.clone(),
        action: Action::NoOp,
        before: None,
        after: None,
        replace_paths: Vec::new(),
        reason: None,
        notes: Vec::new(),
        dependencies,
    };
    let rref = ResourceRef {
        address: &decl.address,
        type_name: &decl.type_name,
        provider_config: &config,
    };

    if decl.mode == Mode::Data {
        if desired.contains_unknown() || config.contains_unknown() {
            change.action = Action::Read;
            change.after = Some(Value::Unknown);
            change.reason =
                Some("its configuration depends on values known only after apply".into());
        } else {
            let v = provider
                .read_data(rref, &desired)
                .await
                .map_err(|e| format!("{}: read failed: {e}", decl.address))?;
            let v = mark_sensitive(v, schema);
            change.before = Some(v.clone());
            change.after = Some(v);
        }
        return Ok(change);
    }

    // Refresh found the object gone: it will be created again.
    let live: Option<Value> = match live {
        Some(Some(v)) => Some(v),
        Some(None) => {
            change.reason = Some("it was deleted outside mlstack".into());
            None
        }
        None => None,
    };

    if refresh_only {
        change.before = live.clone();
        change.after = live;
        return Ok(change);
    }

    // ignore_changes: keep what is live at those paths.
    if let Some(l) = &live {
        for p in &decl.lifecycle.ignore_changes {
            match l.get_path(p) {
                Some(v) => {
                    desired.set_path(p, v);
                }
                None => {
                    desired.remove_path(p);
                }
            }
        }
    }

    let existing = if force_replace { None } else { live.as_ref() };
    let request = PlanRequest {
        resource: rref,
        desired: &desired,
        prior: if force_replace { None } else { prior.as_ref() },
        live: existing,
    };
    let planned = provider
        .plan(request)
        .await
        .map_err(|e| format!("{}: plan failed: {e}", decl.address))?;
    let after = mark_sensitive(planned.planned, schema);
    change.notes = planned.notes;
    // Found by name with no state (a create that was never recorded): plan against that object,
    // and record it even when nothing differs.
    let adopted = live.is_none() && planned.adopted.is_some();
    let live = live.or(planned.adopted.map(|a| mark_sensitive(a, schema)));
    if adopted {
        change.reason = Some("it exists but has no state: adopted by its name".into());
    }
    change.before = live.clone();
    change.action = match (&live, force_replace) {
        (None, _) => Action::Create,
        (Some(_), true) => {
            change.reason = Some("requested with --replace".into());
            replace_action(decl)
        }
        (Some(l), false) => {
            let mut ignore = planned.ignore_paths.clone();
            ignore.extend(decl.lifecycle.ignore_changes.iter().cloned());
            if same_except(&after, l, &ignore) {
                if adopted {
                    Action::Update
                } else {
                    Action::NoOp
                }
            } else if !planned.requires_replace.is_empty() {
                change.replace_paths = planned.requires_replace.clone();
                let names: Vec<String> = planned
                    .requires_replace
                    .iter()
                    .map(|p| path_to_string(p))
                    .collect();
                change.reason = Some(format!("changing {} forces replacement", names.join(", ")));
                replace_action(decl)
            } else {
                Action::Update
            }
        }
    };
    change.after = Some(if change.action == Action::NoOp {
        live.unwrap_or(after)
    } else {
        after
    });
    Ok(change)
}

fn replace_action(decl: &ResourceDecl) -> Action {
    if decl.lifecycle.create_before_destroy {
        Action::CreateThenDelete
    } else {
        Action::DeleteThenCreate
    }
}
