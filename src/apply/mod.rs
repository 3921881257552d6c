//! Executing a plan: every change in dependency order (deletions in reverse), bounded
//! parallelism, readiness waits, state saved after every resource. A failure skips what depends
//! on it and lets independent work finish; cancellation stops scheduling and lets in-flight
//! work end, so state always records what really happened.

mod events;

pub use events::{Event, EventSink, HumanEvents, JsonEvents, NoEvents};

use crate::graph::Graph;
use crate::plan::{
    lookup, mark_sensitive, provider_config, provider_type, Action, Plan, ResourceChange,
};
use crate::providers::Registry;
use crate::stack::{Mode, Stack};
use crate::state::{Changed, OutputState, ResourceState, State};
use crate::walk::{walk, Outcome};
use mlstack_provider_api::{progress, ApplyRequest, ResourceRef, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// How to apply.
pub struct ApplyOptions<'a> {
    pub parallelism: usize,
    /// How long to wait for one resource to become ready.
    pub ready_timeout: Duration,
    /// Where progress goes.
    pub events: &'a dyn EventSink,
    /// Set (e.g. by Ctrl-C) to stop starting new work.
    pub cancel: &'a AtomicBool,
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Resources changed successfully.
    pub applied: usize,
    /// Each failed resource and why.
    pub failed: Vec<(String, String)>,
    /// Resources not attempted because something they depend on failed.
    pub skipped: Vec<String>,
    /// Stopped early by cancellation.
    pub cancelled: bool,
    /// State could not be saved (the apply stopped).
    pub save_error: Option<String>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.cancelled && self.save_error.is_none()
    }
}

/// How state changes when one node finishes.
enum Update {
    Upsert(ResourceState),
    Remove(String),
}

struct NodeDone {
    updates: Vec<Update>,
    /// A data source's full result (secrets included), kept in memory for its dependents.
    data_value: Option<Value>,
    id: Option<String>,
    /// A no-op that only refreshed state: not counted, not announced.
    quiet: bool,
}

struct NodeFailed {
    updates: Vec<Update>,
    message: String,
}

/// The execution order constraints among the plan's changes, as indexes into `plan.changes`.
fn dependencies(plan: &Plan, graph: &Graph) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); plan.changes.len()];
    for (i, c) in plan.changes.iter().enumerate() {
        if c.action != Action::Delete {
            // Creates and updates wait for what they reference.
            for d in graph.dependencies(&c.address) {
                if let Some(&j) = index.get(d.as_str()) {
                    if plan.changes[j].action != Action::Delete {
                        deps[i].insert(j);
                    }
                }
            }
        }
        if c.action == Action::Delete || c.action.is_replace() {
            // A deletion waits until whatever depended on it is deleted (or replaced) first.
            for (j, other) in plan.changes.iter().enumerate() {
                if j != i
                    && (other.action == Action::Delete || other.action.is_replace())
                    && other.dependencies.iter().any(|d| d == &c.address)
                {
                    deps[i].insert(j);
                }
            }
        }
    }
    deps.into_iter().map(|s| s.into_iter().collect()).collect()
}

/// Applies `plan`. `state` is updated in place and `save` is called after every resource (once
/// for resources that finish together) with the addresses that changed since the last save
/// (`None`: everything, for the final save of outputs); it stores the state and bumps its
/// serial (as `Backend::write_step` and `Backend::write` do).
pub async fn apply(
    stack: &Stack,
    graph: &Graph,
    plan: &Plan,
    registry: &Registry,
    state: &mut State,
    save: &mut SaveFn<'_>,
    opts: &ApplyOptions<'_>,
) -> ApplyReport {
    let deps = dependencies(plan, graph);
    let state_cell = RefCell::new(std::mem::take(state));
    let save_cell = RefCell::new(save);
    // Checkpoints and progress lines from inside a resource's apply (a rollout's steps).
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel();
    let report = RefCell::new(ApplyReport::default());
    let changed_since_save: RefCell<BTreeSet<String>> = RefCell::new(BTreeSet::new());
    // Data sources that configure providers, read up front from state: deletes and updates of
    // objects in a cluster need its token, which state keeps redacted.
    let provider_data: BTreeMap<String, Value> = {
        let recorded: BTreeMap<String, Value> = state_cell
            .borrow()
            .resources
            .iter()
            .map(|r| (r.address.clone(), r.value()))
            .collect();
        let get = |a: &str| recorded.get(a).cloned();
        crate::plan::read_provider_data(stack, registry, &get)
            .await
            .into_iter()
            .map(|(a, v)| (a.to_string(), v))
            .collect()
    };
    let data_values: RefCell<BTreeMap<String, Value>> = RefCell::new(provider_data);
    let started_at: RefCell<BTreeMap<usize, Instant>> = RefCell::new(BTreeMap::new());

    let mut tick = |running: &[(usize, Instant)]| {
        for (i, since) in running {
            let c = &plan.changes[*i];
            opts.events.emit(&Event::Progress {
                address: &c.address,
                action: c.action,
                elapsed: since.elapsed(),
            });
        }
    };
    let walked = walk(
        &deps,
        opts.parallelism,
        opts.cancel,
        |i| {
            let c = &plan.changes[i];
            started_at.borrow_mut().insert(i, Instant::now());
            if c.action.is_change() {
                opts.events.emit(&Event::Start {
                    address: &c.address,
                    action: c.action,
                });
            }
            let values = {
                let st = state_cell.borrow();
                let mut m: BTreeMap<String, Value> = BTreeMap::new();
                let data = data_values.borrow();
                for d in graph.dependencies(&c.address) {
                    if let Some(v) = data.get(&d) {
                        m.insert(d, v.clone());
                    } else if let Some(r) = st.resource(&d) {
                        m.insert(d, r.value());
                    }
                }
                if let Some(p) = stack
                    .resource(&c.address)
                    .and_then(|d| stack.providers.get(&d.provider))
                {
                    // Data sources from memory: their secrets (a cluster token) are
                    // redacted in state.
                    for r in p.config.references() {
                        if let Some(v) = data.get(&r.address) {
                            m.insert(r.address.clone(), v.clone());
                        } else if let Some(rs) = st.resource(&r.address) {
                            m.insert(r.address.clone(), rs.value());
                        }
                    }
                }
                m
            };
            let prior = state_cell.borrow().resource(&c.address).cloned();
            let sink = progress::Sink::new(&c.address, progress_tx.clone());
            async move {
                progress::scoped(
                    sink,
                    run_one(stack, registry, c, values, prior, opts.ready_timeout),
                )
                .await
            }
        },
        |i, result| {
            let c = &plan.changes[i];
            let elapsed = started_at
                .borrow()
                .get(&i)
                .map(|t| t.elapsed())
                .unwrap_or_default();
            let mut st = state_cell.borrow_mut();
            let updates = match result {
                Ok(done) => &done.updates,
                Err(f) => &f.updates,
            };
            let mut changed = changed_since_save.borrow_mut();
            for u in updates {
                match u {
                    Update::Upsert(r) => {
                        changed.insert(r.address.clone());
                        st.upsert(r.clone());
                    }
                    Update::Remove(a) => {
                        changed.insert(a.clone());
                        st.remove(a);
                    }
                }
            }
            drop(changed);
            if let Ok(NodeDone {
                data_value: Some(v),
                ..
            }) = result
            {
                data_values
                    .borrow_mut()
                    .insert(c.address.clone(), v.clone());
            }
            let mut rep = report.borrow_mut();
            match result {
                Ok(done) => {
                    if !done.quiet {
                        rep.applied += 1;
                        opts.events.emit(&Event::Done {
                            address: &c.address,
                            action: c.action,
                            elapsed,
                            id: done.id.as_deref(),
                        });
                    }
                }
                Err(f) => {
                    rep.failed.push((c.address.clone(), f.message.clone()));
                    opts.events.emit(&Event::Failed {
                        address: &c.address,
                        action: c.action,
                        message: &f.message,
                    });
                }
            }
        },
        || {
            // State is saved once per batch of results that arrived together, before any new
            // work starts: nothing that completed is ever left unsaved while waiting.
            let mut rep = report.borrow_mut();
            let changed = std::mem::take(&mut *changed_since_save.borrow_mut());
            if !changed.is_empty() && rep.save_error.is_none() {
                if let Err(e) =
                    (save_cell.borrow_mut())(&mut state_cell.borrow_mut(), Some(&changed))
                {
                    rep.save_error = Some(e);
                    opts.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        },
        Some((Duration::from_secs(10), &mut tick)),
    );
    let checkpoints = async {
        while let Some(m) = progress_rx.recv().await {
            on_progress(m, stack, plan, registry, &state_cell, &save_cell, opts);
        }
    };
    // The walk ends first (checkpoints only come from its nodes, and `progress_tx` lives on).
    let outcomes = tokio::select! {
        biased;
        o = walked => o,
        () = checkpoints => Vec::new(),
    };
    // Reports sent just before a node finished are still queued.
    while let Ok(m) = progress_rx.try_recv() {
        on_progress(m, stack, plan, registry, &state_cell, &save_cell, opts);
    }
    let save = save_cell.into_inner();

    let mut report = report.into_inner();
    for (i, o) in outcomes.iter().enumerate() {
        let c = &plan.changes[i];
        match o {
            Outcome::Skipped(because) => {
                let cause = &plan.changes[*because].address;
                report.skipped.push(c.address.clone());
                if c.action.is_change() {
                    opts.events.emit(&Event::Skipped {
                        address: &c.address,
                        because: cause,
                    });
                }
            }
            Outcome::Cancelled => report.cancelled = true,
            _ => {}
        }
    }

    // Outputs, from what is now in state.
    let mut st = state_cell.into_inner();
    if report.ok() && plan.targets.is_empty() {
        let before = st.outputs.clone();
        let pruned = prune_data_sources(stack, plan.mode, &mut st);
        st.outputs.clear();
        if plan.mode != crate::plan::PlanMode::Destroy {
            for o in &stack.outputs {
                let get = |a: &str| st.resource(a).map(ResourceState::value);
                let v = o.value.eval(&|r| lookup(&get, r));
                let sensitive = o.sensitive || v.contains_sensitive();
                st.outputs.insert(
                    o.name.clone(),
                    OutputState {
                        value: v.to_json_unmarked(),
                        sensitive,
                    },
                );
            }
        }
        if pruned || st.outputs != before {
            if let Err(e) = save(&mut st, None) {
                report.save_error = Some(e);
            }
        }
    }
    *state = st;
    report
}

/// Stores the state after a change to the given addresses (as `Backend::write_step` does;
/// `None`: all of it, as `Backend::write`).
type SaveFn<'a> = dyn FnMut(&mut State, Changed<'_>) -> Result<(), String> + 'a;

/// Handles one message from inside a resource's apply: a checkpoint is recorded and saved at
/// once (the provider waits for the answer), a report becomes an event.
fn on_progress(
    m: progress::Message,
    stack: &Stack,
    plan: &Plan,
    registry: &Registry,
    state: &RefCell<State>,
    save: &RefCell<&mut SaveFn<'_>>,
    opts: &ApplyOptions<'_>,
) {
    match m {
        progress::Message::Checkpoint {
            address,
            attributes,
            saved,
        } => {
            let Some(c) = plan.changes.iter().find(|c| c.address == address) else {
                let _ = saved.send(Err(format!("{address} is not in the plan")));
                return;
            };
            let schema = registry.resource_schema(&c.type_name, c.mode == Mode::Data);
            let record = resource_state(stack, c, &mark_sensitive(attributes, schema));
            let mut st = state.borrow_mut();
            st.upsert(record);
            let result = (save.borrow_mut())(&mut st, Some(&BTreeSet::from([address.clone()])));
            if let Err(e) = &result {
                opts.events.emit(&Event::Failed {
                    address: &address,
                    action: c.action,
                    message: &format!("saving a checkpoint failed: {e}"),
                });
            }
            let _ = saved.send(result);
        }
        progress::Message::Report {
            address,
            message,
            detail,
        } => opts.events.emit(&Event::Note {
            address: &address,
            message: &message,
            detail: &detail,
        }),
    }
}

/// Forgets the data sources a complete apply leaves behind, as Terraform does: every one after
/// a destroy, and those no longer in the stack otherwise (they own nothing, so no plan shows
/// them). True when state changed.
fn prune_data_sources(stack: &Stack, mode: crate::plan::PlanMode, st: &mut State) -> bool {
    let n = st.resources.len();
    st.resources.retain(|r| {
        r.mode != Mode::Data
            || (mode != crate::plan::PlanMode::Destroy
                && stack
                    .resource(&r.address)
                    .is_some_and(|d| d.mode == Mode::Data))
    });
    st.resources.len() != n
}

fn resource_state(stack: &Stack, c: &ResourceChange, v: &Value) -> ResourceState {
    let decl = stack.resource(&c.address);
    let mut r = ResourceState {
        address: c.address.clone(),
        mode: c.mode,
        type_name: c.type_name.clone(),
        provider: c.provider.clone(),
        id: v.get("id").and_then(Value::as_str).map(str::to_string),
        attributes: serde_json::Value::Null,
        sensitive_attributes: Vec::new(),
        dependencies: c.dependencies.clone(),
        prevent_destroy: decl.is_some_and(|d| d.lifecycle.prevent_destroy),
    };
    // Data sources are read again on every run, so their secrets (e.g. an IAM token) are never
    // written to state: dependents in this run get them from memory.
    if c.mode == Mode::Data {
        r.set_value(&v.redact_sensitive());
    } else {
        r.set_value(v);
    }
    r
}

/// Applies one change.
async fn run_one(
    stack: &Stack,
    registry: &Registry,
    c: &ResourceChange,
    values: BTreeMap<String, Value>,
    prior: Option<ResourceState>,
    ready_timeout: Duration,
) -> Result<NodeDone, NodeFailed> {
    let failed = |message: String, updates: Vec<Update>| NodeFailed { updates, message };
    let ptype = provider_type(stack, &c.provider);
    let Some(provider) = registry.get(ptype) else {
        return Err(failed(
            format!("provider `{ptype}` is not available"),
            Vec::new(),
        ));
    };
    let get = |a: &str| values.get(a).cloned();
    let config = provider_config(stack, &c.provider, &get);
    if config.contains_unknown() {
        return Err(failed(
            "the provider's configuration is still unknown (a resource it depends on was not created)".into(),
            Vec::new(),
        ));
    }
    let rref = ResourceRef {
        address: &c.address,
        type_name: &c.type_name,
        provider_config: &config,
    };
    let schema = registry.resource_schema(&c.type_name, c.mode == Mode::Data);
    // An object adopted by name has no state yet: the plan's `before` is what exists.
    let prior_value = prior.as_ref().map(ResourceState::value).or_else(|| {
        (c.mode == Mode::Managed && c.action != Action::Create)
            .then(|| c.before.clone())
            .flatten()
    });

    if c.action == Action::NoOp {
        // Record what refresh saw, when it differs from what state holds.
        let quiet = NodeDone {
            updates: Vec::new(),
            data_value: if c.mode == Mode::Data {
                c.after.clone()
            } else {
                None
            },
            id: None,
            quiet: true,
        };
        let recorded = |v: &Value| {
            if c.mode == Mode::Data {
                v.redact_sensitive()
            } else {
                v.clone()
            }
        };
        return match (&c.after, &prior_value) {
            (Some(after), Some(p))
                if !recorded(after).same_data(p)
                    || after.sensitive_paths() != p.sensitive_paths() =>
            {
                Ok(NodeDone {
                    updates: vec![Update::Upsert(resource_state(stack, c, after))],
                    ..quiet
                })
            }
            (Some(after), None) if c.mode == Mode::Data => Ok(NodeDone {
                updates: vec![Update::Upsert(resource_state(stack, c, after))],
                ..quiet
            }),
            // Refresh found it gone (refresh-only plans): forget it.
            (None, Some(_)) => Ok(NodeDone {
                updates: vec![Update::Remove(c.address.clone())],
                ..quiet
            }),
            _ => Ok(quiet),
        };
    }

    if c.action == Action::Delete {
        let Some(p) = prior_value else {
            return Ok(NodeDone {
                updates: Vec::new(),
                data_value: None,
                id: None,
                quiet: false,
            });
        };
        return match provider.delete(rref, &p).await {
            Ok(()) => Ok(NodeDone {
                updates: vec![Update::Remove(c.address.clone())],
                data_value: None,
                id: None,
                quiet: false,
            }),
            Err(e) => Err(failed(format!("delete failed: {e}"), Vec::new())),
        };
    }

    let Some(decl) = stack.resource(&c.address) else {
        return Err(failed("not in the stack any more".into(), Vec::new()));
    };
    let mut desired = decl.properties.eval(&|r| lookup(&get, r));
    if desired.contains_unknown() {
        return Err(failed(
            "a value it depends on is still unknown (a dependency was not applied)".into(),
            Vec::new(),
        ));
    }

    if c.mode == Mode::Data {
        return match provider.read_data(rref, &desired).await {
            Ok(v) => {
                let v = mark_sensitive(v, schema);
                Ok(NodeDone {
                    updates: vec![Update::Upsert(resource_state(stack, c, &v))],
                    data_value: Some(v),
                    id: None,
                    quiet: false,
                })
            }
            Err(e) => Err(failed(format!("read failed: {e}"), Vec::new())),
        };
    }

    let mut updates = Vec::new();
    let mut existing = prior_value.clone();
    if c.action == Action::DeleteThenCreate {
        if let Some(p) = &prior_value {
            if let Err(e) = provider.delete(rref, p).await {
                return Err(failed(
                    format!("delete (for replacement) failed: {e}"),
                    Vec::new(),
                ));
            }
            updates.push(Update::Remove(c.address.clone()));
        }
        existing = None;
    }
    if c.action == Action::CreateThenDelete {
        existing = None;
    }
    if let (Some(live), Some(_)) = (&c.before, &existing) {
        for p in &decl.lifecycle.ignore_changes {
            match live.get_path(p) {
                Some(v) => {
                    desired.set_path(p, v);
                }
                None => {
                    desired.remove_path(p);
                }
            }
        }
    }
    let request = ApplyRequest {
        resource: rref,
        desired: &desired,
        prior: if existing.is_some() {
            c.before.as_ref().or(existing.as_ref())
        } else {
            None
        },
        ignore_paths: &decl.lifecycle.ignore_changes,
    };
    let applied = match provider.apply(request).await {
        Ok(v) => mark_sensitive(v, schema),
        Err(e) => return Err(failed(format!("{} failed: {e}", verb(c.action)), updates)),
    };
    let record = resource_state(stack, c, &applied);
    let id = record.id.clone();
    updates.push(Update::Upsert(record));
    if let Err(e) = tokio::time::timeout(
        ready_timeout,
        provider.wait_ready(rref, &applied, ready_timeout),
    )
    .await
    .unwrap_or_else(|_| {
        Err(mlstack_provider_api::ProviderError::new(format!(
            "not ready after {}",
            humantime::format_duration(ready_timeout)
        )))
    }) {
        return Err(failed(format!("created but not ready: {e}"), updates));
    }
    if c.action == Action::CreateThenDelete {
        if let Some(p) = &prior_value {
            if let Err(e) = provider.delete(rref, p).await {
                return Err(failed(
                    format!("the replacement was created, but deleting the old object failed: {e}"),
                    updates,
                ));
            }
        }
    }
    Ok(NodeDone {
        updates,
        data_value: None,
        id,
        quiet: false,
    })
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Update => "update",
        _ => "create",
    }
}
