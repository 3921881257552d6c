//! The Job controller: up to `parallelism` Pods at a time until `completions` have
//! Succeeded, then `completionTime` and the `SuccessCriteriaMet` and `Complete` conditions
//! (Job conditions carry lastProbeTime and lastTransitionTime, no lastUpdateTime).

use super::client::{create, key, owned, set, suffix, update, CONTROLLER_MANAGER};
use super::pod_ready;
use super::replicaset::pod_from_template;
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::{meta_str, now_rfc3339};
use crate::store::Key;
use serde_json::{json, Map, Value};

/// Runs the controller over every Job.
pub fn sync(api: &mut Api) {
    let all: Vec<(Key, Value)> = api
        .store
        .list("batch", "jobs", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, j) in all {
        if !deleting(&j) {
            sync_one(api, &k, &j);
        }
    }
}

fn finished(job: &Value) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                matches!(
                    c.get("type").and_then(Value::as_str),
                    Some("Complete" | "Failed")
                ) && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

fn sync_one(api: &mut Api, k: &Key, job: &Value) {
    if finished(job) {
        return;
    }
    let uid = meta_str(job, "uid").unwrap_or_default().to_string();
    let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let completions = job
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1);
    let parallelism = job
        .pointer("/spec/parallelism")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let mut pods = owned(api, "", "pods", &k.namespace, &uid);
    let phase = |p: &Value| {
        p.pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("Pending")
            .to_string()
    };
    let succeeded = pods.iter().filter(|(_, p)| phase(p) == "Succeeded").count() as i64;
    let failed = pods.iter().filter(|(_, p)| phase(p) == "Failed").count() as i64;
    let active_n = pods
        .iter()
        .filter(|(_, p)| !deleting(p) && !matches!(phase(p).as_str(), "Succeeded" | "Failed"))
        .count() as i64;
    if !suspended {
        let room = parallelism.min(completions - succeeded) - active_n;
        let prefix = format!("{}-", k.name);
        for _ in 0..room.max(0) {
            let name = format!("{prefix}{}", suffix(5));
            let labels = [
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("batch.kubernetes.io/job-name", k.name.clone()),
                ("controller-uid", uid.clone()),
                ("job-name", k.name.clone()),
            ];
            let mut pod = pod_from_template(job, "batch/v1", "Job", &name, &labels);
            set(&mut pod, &["metadata", "generateName"], json!(prefix));
            let pkey = key("", "pods", &k.namespace, &name);
            if let Some(p) = create(api, CONTROLLER_MANAGER, &pkey, &pod) {
                pods.push((pkey, p));
            }
        }
    }
    let active: Vec<&Value> = pods
        .iter()
        .map(|(_, p)| p)
        .filter(|p| !deleting(p) && !matches!(phase(p).as_str(), "Succeeded" | "Failed"))
        .collect();
    let now = now_rfc3339();
    let mut st = Map::new();
    st.insert(
        "startTime".into(),
        job.pointer("/status/startTime")
            .cloned()
            .unwrap_or(json!(now)),
    );
    for (n, v) in [
        ("active", active.len() as i64),
        ("succeeded", succeeded),
        ("failed", failed),
    ] {
        if v != 0 {
            st.insert(n.into(), json!(v));
        }
    }
    st.insert(
        "ready".into(),
        json!(active.iter().filter(|p| pod_ready(p)).count()),
    );
    st.insert("terminating".into(), json!(0));
    st.insert("uncountedTerminatedPods".into(), json!({}));
    if succeeded >= completions {
        st.insert("completionTime".into(), json!(now));
        let cond = |t: &str| {
            json!({"type": t, "status": "True", "lastProbeTime": now,
                   "lastTransitionTime": now, "reason": "CompletionsReached",
                   "message": "Reached expected number of succeeded pods"})
        };
        st.insert(
            "conditions".into(),
            json!([cond("SuccessCriteriaMet"), cond("Complete")]),
        );
    } else if let Some(c) = job.pointer("/status/conditions") {
        st.insert("conditions".into(), c.clone());
    }
    let st = Value::Object(st);
    if let Some(cur) = api.store.get(k).cloned() {
        if cur.get("status") != Some(&st) {
            let mut new = cur;
            set(&mut new, &["status"], st);
            update(api, CONTROLLER_MANAGER, k, &new, true);
        }
    }
}
