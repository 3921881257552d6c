//! The cloud's state: resources (one record each), operations, idempotency keys and folder
//! access bindings, written through to the data directory on every change.

use super::clock::rfc3339;
use super::disk::Disk;
use super::errors::CloudError;
use super::ids::new_id;
use super::operations::{empty, Effect, Operation, Target};
use super::types::{spec, TypeSpec, TYPES};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One resource as stored: its wire form plus what the emulator keeps beside it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub kind: String,
    pub key: String,
    /// Creation order (list order and page tokens).
    pub seq: u64,
    /// The folder it lives in (node groups and keys take their parent's).
    pub folder: String,
    /// The key of the resource it belongs to.
    #[serde(default)]
    pub parent: Option<String>,
    /// What Get returns.
    pub resource: Value,
    /// Emulator-only facts (a cluster's Kubernetes token, database hosts).
    #[serde(default)]
    pub extra: BTreeMap<String, Value>,
}

impl std::fmt::Debug for Record {
    /// Only the address: `extra` holds secrets (a cluster's Kubernetes token).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// Who calls, when, and with which idempotency key.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub now: u64,
    pub subject: String,
    pub idempotency_key: Option<String>,
}

/// What a new operation is about.
pub struct NewOp<'a> {
    /// The type acted on (id prefix of the operation).
    pub spec: &'a TypeSpec,
    pub description: String,
    pub metadata: Value,
    pub effect: Effect,
    pub target: Option<Target>,
    /// The MDB cluster it holds while running.
    pub lock: Option<String>,
}

/// Everything the cloud holds.
#[derive(Debug, Default)]
pub struct State {
    pub records: BTreeMap<(String, String), Record>,
    pub ops: BTreeMap<String, Operation>,
    idempotency: BTreeMap<String, String>,
    pub bindings: BTreeMap<String, Vec<Value>>,
    seq: u64,
    pub disk: Disk,
    pub operation_delay_ms: u64,
    /// Operations to complete, (id, due ms), drained by the server.
    pub scheduled: Vec<(String, u64)>,
}

const BINDINGS: &str = "bindings.json";

impl State {
    /// Loads what the data directory holds; unfinished operations are scheduled again.
    pub fn open(disk: Disk, operation_delay_ms: u64) -> Result<State, String> {
        let mut s = State {
            disk,
            operation_delay_ms,
            ..State::default()
        };
        for t in TYPES {
            for rec in s.disk.load::<Record>(&format!("resources/{}", t.kind))? {
                s.seq = s.seq.max(rec.seq);
                s.records.insert((rec.kind.clone(), rec.key.clone()), rec);
            }
        }
        for op in s.disk.load::<Operation>("operations")? {
            if let Some(k) = &op.idempotency_key {
                s.idempotency.insert(k.clone(), op.id.clone());
            }
            if !op.done {
                s.scheduled.push((op.id.clone(), op.done_at_ms));
            }
            s.ops.insert(op.id.clone(), op);
        }
        s.bindings = s.disk.load_file(BINDINGS)?.unwrap_or_default();
        Ok(s)
    }

    pub fn get(&self, kind: &str, key: &str) -> Option<&Record> {
        self.records.get(&(kind.to_string(), key.to_string()))
    }

    /// Records of one kind in creation order.
    pub fn of_kind(&self, kind: &str) -> Vec<&Record> {
        let mut v: Vec<&Record> = self.records.values().filter(|r| r.kind == kind).collect();
        v.sort_by_key(|r| r.seq);
        v
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores a record (and writes it through).
    pub fn put(&mut self, rec: Record) -> Result<(), CloudError> {
        self.disk
            .put(&format!("resources/{}", rec.kind), &rec.key, &rec)?;
        self.records
            .insert((rec.kind.clone(), rec.key.clone()), rec);
        Ok(())
    }

    pub fn put_op(&mut self, op: Operation) -> Result<(), CloudError> {
        self.disk.put("operations", &op.id, &op)?;
        self.ops.insert(op.id.clone(), op);
        Ok(())
    }

    pub fn save_bindings(&self) -> Result<(), CloudError> {
        self.disk.put_file(BINDINGS, &self.bindings, true)
    }

    /// The operation an earlier call with this idempotency key started, as it is now.
    pub fn replay(&self, key: &str) -> Option<Value> {
        let id = self.idempotency.get(key)?;
        self.ops.get(id).map(Operation::to_json)
    }

    /// The unfinished operation holding `lock` (an MDB cluster id), if any.
    pub fn running_on(&self, lock: &str) -> Option<&str> {
        self.ops
            .values()
            .find(|o| !o.done && o.lock.as_deref() == Some(lock))
            .map(|o| o.id.as_str())
    }

    /// Starts an operation that completes after the operation delay; returns its wire form.
    pub fn start_op(&mut self, ctx: &Ctx, new: NewOp) -> Result<Value, CloudError> {
        let NewOp {
            spec,
            description,
            metadata,
            effect,
            target,
            lock,
        } = new;
        let prefix = if spec.id_prefix.is_empty() {
            "c9q"
        } else {
            spec.id_prefix
        };
        let op = Operation {
            id: new_id(prefix),
            description,
            created_at: rfc3339(ctx.now),
            created_by: ctx.subject.clone(),
            modified_at: rfc3339(ctx.now),
            done: false,
            metadata,
            response: None,
            error: None,
            done_at_ms: ctx.now + self.operation_delay_ms,
            effect,
            target,
            lock,
            idempotency_key: ctx.idempotency_key.clone(),
        };
        let wire = op.to_json();
        if let Some(k) = &op.idempotency_key {
            self.idempotency.insert(k.clone(), op.id.clone());
        }
        self.scheduled.push((op.id.clone(), op.done_at_ms));
        self.put_op(op)?;
        Ok(wire)
    }

    /// Completes an operation (once). Returns the (kind, key) of the records it removed.
    pub fn complete(&mut self, op_id: &str, now: u64) -> Result<Vec<(String, String)>, CloudError> {
        let Some(mut op) = self.ops.get(op_id).cloned() else {
            return Ok(Vec::new());
        };
        if op.done {
            return Ok(Vec::new());
        }
        let mut removed = Vec::new();
        let target = op.target.clone();
        let result = match (&op.effect, target) {
            (Effect::Respond { response }, _) => Ok(response.clone()),
            (Effect::Delete, Some(t)) => {
                self.remove_tree(&t.kind, &t.key, &mut removed)?;
                Ok(empty())
            }
            (Effect::Create, Some(t)) => self.settle(&t, true),
            (Effect::Update, Some(t)) => self.settle(&t, false),
            (Effect::Settle { response }, Some(t)) => {
                self.settle(&t, false).map(|_| response.clone())
            }
            (_, None) => Ok(empty()),
        };
        match result {
            Ok(r) => op.response = Some(r),
            Err(e) => op.error = Some(json!({"code": e.code, "message": e.message})),
        }
        op.done = true;
        op.modified_at = rfc3339(now);
        self.put_op(op)?;
        Ok(removed)
    }

    /// A created (or updated) resource leaves its creating (or updating) status for the
    /// running one; returns its typed form.
    fn settle(&mut self, t: &Target, created: bool) -> Result<Value, CloudError> {
        let spec = spec(&t.kind).ok_or_else(|| CloudError::internal("unknown kind"))?;
        let Some(mut rec) = self.get(&t.kind, &t.key).cloned() else {
            return Err(CloudError::not_found(format!(
                "{} \"{}\" was deleted",
                spec.label, t.key
            )));
        };
        if let Some(lc) = spec.lifecycle {
            let from = if created { lc.creating } else { lc.updating };
            if rec.resource.get("status").and_then(Value::as_str) == Some(from) {
                rec.resource["status"] = json!(lc.running);
                if let Some((_, healthy)) = lc.health {
                    rec.resource["health"] = json!(healthy);
                }
            }
            self.put(rec.clone())?;
        }
        Ok(typed(spec, &rec.resource))
    }

    /// Removes a record and, first, the children that cascade with it.
    fn remove_tree(
        &mut self,
        kind: &str,
        key: &str,
        removed: &mut Vec<(String, String)>,
    ) -> Result<(), CloudError> {
        for child in TYPES {
            if !child.parent.is_some_and(|p| p.kind == kind && p.cascade) {
                continue;
            }
            let keys: Vec<String> = self
                .of_kind(child.kind)
                .into_iter()
                .filter(|r| r.parent.as_deref() == Some(key))
                .map(|r| r.key.clone())
                .collect();
            for k in keys {
                self.remove_tree(child.kind, &k, removed)?;
            }
        }
        self.disk.remove(&format!("resources/{kind}"), key)?;
        if self
            .records
            .remove(&(kind.to_string(), key.to_string()))
            .is_some()
        {
            removed.push((kind.to_string(), key.to_string()));
        }
        Ok(())
    }

    /// Resources per kind (every served kind, zeros included) and access bindings.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut c: BTreeMap<String, usize> =
            TYPES.iter().map(|t| (t.kind.to_string(), 0)).collect();
        for r in self.records.values() {
            *c.entry(r.kind.clone()).or_default() += 1;
        }
        c.insert(
            "resourcemanager.folderAccessBinding".into(),
            self.bindings.values().map(Vec::len).sum(),
        );
        c
    }
}

/// The resource with its `@type` (operation responses).
pub fn typed(spec: &TypeSpec, resource: &Value) -> Value {
    let mut v = resource.clone();
    if let Value::Object(m) = &mut v {
        m.insert("@type".into(), json!(spec.type_url()));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::types::{K8S_CLUSTER, K8S_NODE_GROUP};

    fn record(spec: &TypeSpec, key: &str, parent: Option<&str>, status: &str) -> Record {
        Record {
            kind: spec.kind.into(),
            key: key.into(),
            seq: 1,
            folder: "f".into(),
            parent: parent.map(str::to_string),
            resource: json!({"id": key, "status": status}),
            extra: Default::default(),
        }
    }

    fn op(st: &mut State, kind: &str, key: &str, effect: Effect) -> String {
        let spec = spec(kind).unwrap();
        let wire = st
            .start_op(
                &Ctx::default(),
                NewOp {
                    spec,
                    description: "x".into(),
                    metadata: json!({}),
                    effect,
                    target: Some(Target {
                        kind: kind.into(),
                        key: key.into(),
                    }),
                    lock: None,
                },
            )
            .unwrap();
        wire["id"].as_str().unwrap().to_string()
    }

    #[test]
    fn completion_moves_status_and_cascades() {
        let mut st = State::default();
        st.put(record(&K8S_CLUSTER, "c", None, "PROVISIONING"))
            .unwrap();
        st.put(record(&K8S_NODE_GROUP, "g", Some("c"), "RUNNING"))
            .unwrap();
        // An update finishing first does not make a provisioning cluster run.
        let update = op(&mut st, K8S_CLUSTER.kind, "c", Effect::Update);
        let create = op(&mut st, K8S_CLUSTER.kind, "c", Effect::Create);
        st.complete(&update, 0).unwrap();
        assert_eq!(
            st.get("k8s.cluster", "c").unwrap().resource["status"],
            "PROVISIONING"
        );
        st.complete(&create, 0).unwrap();
        let c = &st.get("k8s.cluster", "c").unwrap().resource;
        assert_eq!(
            (c["status"].as_str(), c["health"].as_str()),
            (Some("RUNNING"), Some("HEALTHY"))
        );
        assert_eq!(
            st.ops[&create].response.as_ref().unwrap()["@type"],
            K8S_CLUSTER.type_url()
        );
        let delete = op(&mut st, K8S_CLUSTER.kind, "c", Effect::Delete);
        let removed = st.complete(&delete, 0).unwrap();
        assert_eq!(removed.len(), 2);
        assert!(st.records.is_empty());
        // Completing twice changes nothing.
        assert!(st.complete(&delete, 0).unwrap().is_empty());
        assert_eq!(st.counts()["k8s.nodeGroup"], 0);
    }
}
