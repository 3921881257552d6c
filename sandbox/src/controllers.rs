//! Simulated controllers: nothing runs in the sandbox, but workloads report ready (and
//! Jobs complete, PVCs bind, load balancers get an address) after the configured delay.

use crate::api::Api;
use crate::meta::{metadata_mut, now_rfc3339};
use crate::store::Key;
use serde_json::{json, Value};

/// Brings the status of the object at `key` up to date, if it is still the same object.
pub fn reconcile(api: &mut Api, key: &Key, uid: &str) {
    let Some(obj) = api.store.get(key).cloned() else {
        return;
    };
    if obj.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid) {
        return;
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let Some(status) = status_for(kind, &obj) else {
        return;
    };
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

fn status_for(kind: &str, obj: &Value) -> Option<Value> {
    let gen = obj
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(json!(1));
    let spec = |p: &str| obj.pointer(&format!("/spec/{p}"));
    let replicas = spec("replicas").and_then(Value::as_i64).unwrap_or(1);
    let now = now_rfc3339();
    let cond = |t: &str, reason: &str| {
        json!({"type": t, "status": "True", "reason": reason,
               "lastTransitionTime": now, "lastUpdateTime": now})
    };
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some(match kind {
        "Deployment" => json!({
            "observedGeneration": gen,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [cond("Available", "MinimumReplicasAvailable"),
                           cond("Progressing", "NewReplicaSetAvailable")],
        }),
        "StatefulSet" => json!({
            "observedGeneration": gen,
            "replicas": replicas,
            "readyReplicas": replicas,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
            "currentRevision": format!("{name}-sandbox"),
            "updateRevision": format!("{name}-sandbox"),
            "collisionCount": 0,
        }),
        "DaemonSet" => json!({
            "observedGeneration": gen,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "numberMisscheduled": 0,
            "numberReady": 1,
            "updatedNumberScheduled": 1,
        }),
        "Job" => {
            let start = obj
                .pointer("/status/startTime")
                .cloned()
                .unwrap_or(json!(now));
            json!({
                "startTime": start,
                "completionTime": now,
                "succeeded": spec("completions").cloned().unwrap_or(json!(1)),
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [cond("SuccessCriteriaMet", "CompletionsReached"),
                               cond("Complete", "CompletionsReached")],
            })
        }
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
