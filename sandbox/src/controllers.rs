//! Simulated controllers: nothing runs in the sandbox, but the controllers a real cluster
//! runs are emulated over the stored objects. Deployments, ReplicaSets, StatefulSets and
//! Jobs create Pods (records only) that the one simulated node reports Running and Ready
//! after the ready delay; the garbage collector and the namespace controller finish
//! deletions. These run on a periodic [`tick`]. Simpler kinds (DaemonSets, HPAs, PVCs,
//! LoadBalancer Services) get their status set once, after the delay, by [`reconcile`].

mod client;
mod deployment;
mod gc;
mod job;
mod kubelet;
mod namespace;
mod replicaset;
mod statefulset;

use crate::api::Api;
use crate::meta::{metadata_mut, now_rfc3339};
use crate::store::Key;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the controllers remember between ticks (in memory only: after a restart a Pod
/// simply waits one more ready delay).
#[derive(Debug, Default)]
pub struct State {
    /// When the kubelet first saw each Pod (by uid).
    pub seen: BTreeMap<String, Instant>,
    /// When each gracefully deleted Pod started terminating.
    pub terminating: BTreeMap<String, Instant>,
    /// The last Pod IP handed out.
    pub next_pod_ip: u32,
}

/// The time of one tick and the configured ready delay.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Instant,
    pub ready_delay: Duration,
}

/// Whether a Pod's Ready condition is True.
pub fn pod_ready(pod: &Value) -> bool {
    client::condition(pod, "Ready")
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

/// One pass of every level-triggered controller: garbage collection, namespace
/// termination, Deployments, ReplicaSets, StatefulSets, Jobs, then the node.
pub fn tick(api: &mut Api, clock: &Clock) {
    gc::sync(api);
    namespace::sync(api);
    deployment::sync(api);
    replicaset::sync(api);
    statefulset::sync(api);
    job::sync(api);
    kubelet::sync(api, clock);
}

/// Brings the status of the object at `key` up to date, if it is still the same object.
pub fn reconcile(api: &mut Api, key: &Key, uid: &str) {
    let Some(obj) = api.store.get(key).cloned() else {
        return;
    };
    if obj.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid) {
        return;
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let target = if kind == "HorizontalPodAutoscaler" {
        scale_target(api, key, &obj)
    } else {
        None
    };
    let Some(mut status) = status_for(kind, &obj) else {
        return;
    };
    if let Some(n) = target {
        status["currentReplicas"] = json!(n);
        status["desiredReplicas"] = json!(n);
    }
    let mut new = obj.clone();
    if let Some(m) = new.as_object_mut() {
        m.insert("status".into(), status);
    }
    if new == obj {
        return;
    }
    let rv = api.store.next_rv();
    metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
    let _ = api.store.put(key.clone(), new);
}

/// What the HPA controller does to its target: keep `spec.replicas` within
/// [minReplicas, maxReplicas], written through `/scale` as `kube-controller-manager`
/// (so a stack that also sets replicas meets a real ownership conflict).
fn scale_target(api: &mut Api, hpa_key: &Key, hpa: &Value) -> Option<i64> {
    let target = hpa.pointer("/spec/scaleTargetRef");
    let kind = target.and_then(|t| t.get("kind")).and_then(Value::as_str);
    let name = target.and_then(|t| t.get("name")).and_then(Value::as_str);
    let resource = match kind {
        Some("Deployment") => "deployments",
        Some("StatefulSet") => "statefulsets",
        _ => return None,
    };
    let key = Key {
        group: "apps".into(),
        resource: resource.into(),
        namespace: hpa_key.namespace.clone(),
        name: name.unwrap_or_default().to_string(),
    };
    let obj = api.store.get(&key).cloned()?;
    let min = hpa
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let max = hpa
        .pointer("/spec/maxReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(min);
    let current = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let want = current.clamp(min, max.max(min));
    if want == current {
        return Some(want);
    }
    let mut new = obj.clone();
    if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), json!(want));
    }
    let path = vec![
        crate::fields::Step::Field("spec".into()),
        crate::fields::Step::Field("replicas".into()),
    ];
    let mut managed = crate::managed::Managed::parse(&obj);
    for e in &mut managed.entries {
        e.set.remove(&path);
    }
    managed
        .entry("kube-controller-manager", "Update", "scale", "apps/v1")
        .set
        .insert(path);
    managed.prune(&new);
    let now = now_rfc3339();
    let gen = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        + 1;
    let md = metadata_mut(&mut new);
    md.insert("managedFields".into(), managed.to_json(&now));
    md.insert("generation".into(), json!(gen));
    if let Some(st) = status_for(kind.unwrap_or_default(), &new) {
        if let Some(m) = new.as_object_mut() {
            m.insert("status".into(), st);
        }
    }
    let rv = api.store.next_rv();
    metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
    let _ = api.store.put(key, new);
    Some(want)
}

fn status_for(kind: &str, obj: &Value) -> Option<Value> {
    let gen = obj
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(json!(1));
    let spec = |p: &str| obj.pointer(&format!("/spec/{p}"));
    let now = now_rfc3339();
    // Job and HPA conditions have no lastUpdateTime (the real types lack it).
    let cond = |t: &str, reason: &str| json!({"type": t, "status": "True", "reason": reason, "lastTransitionTime": now});
    Some(match kind {
        "DaemonSet" => json!({
            "observedGeneration": gen,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "numberMisscheduled": 0,
            "numberReady": 1,
            "updatedNumberScheduled": 1,
        }),
        "HorizontalPodAutoscaler" => {
            let min = spec("minReplicas").and_then(Value::as_i64).unwrap_or(1);
            json!({
                "observedGeneration": gen,
                "currentReplicas": min,
                "desiredReplicas": min,
                "conditions": [cond("AbleToScale", "ReadyForNewScale"),
                               cond("ScalingActive", "ValidMetricFound")],
            })
        }
        "PersistentVolumeClaim" => json!({
            "phase": "Bound",
            "accessModes": spec("accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
            "capacity": {"storage": spec("resources/requests/storage").cloned().unwrap_or(json!("1Gi"))},
        }),
        "Service" if spec("type").and_then(Value::as_str) == Some("LoadBalancer") => json!({
            "loadBalancer": {"ingress": [{"ip": "127.0.0.1", "ipMode": "VIP"}]},
        }),
        _ => return None,
    })
}
