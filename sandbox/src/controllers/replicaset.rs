//! The ReplicaSet controller: keeps `spec.replicas` Pods (generated names, controller
//! ownerReference) and reports how many are ready. Scale-down deletes not-ready Pods first,
//! then the newest, gracefully; Pods that are terminating no longer count.

use super::client::{
    controller_ref, create, delete, key, owned, set, suffix, update, CONTROLLER_MANAGER,
};
use super::pod_ready;
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::meta_str;
use crate::store::Key;
use serde_json::{json, Map, Value};

/// Runs the controller over every ReplicaSet.
pub fn sync(api: &mut Api) {
    let all: Vec<(Key, Value)> = api
        .store
        .list("apps", "replicasets", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, rs) in all {
        if !deleting(&rs) {
            sync_one(api, &k, &rs);
        }
    }
}

/// A Pod for `owner` from its template: what every workload controller creates.
pub fn pod_from_template(
    owner: &Value,
    owner_api_version: &str,
    owner_kind: &str,
    name: &str,
    extra_labels: &[(&str, String)],
) -> Value {
    let tpl = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let mut labels: Map<String, Value> = tpl
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).into(), json!(v));
    }
    let mut md = json!({
        "name": name,
        "namespace": meta_str(owner, "namespace").unwrap_or_default(),
        "labels": labels,
        "ownerReferences": [controller_ref(owner, owner_api_version, owner_kind)],
    });
    if let Some(a) = tpl.pointer("/metadata/annotations") {
        md["annotations"] = a.clone();
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": tpl.get("spec").cloned().unwrap_or(json!({})),
    })
}

fn sync_one(api: &mut Api, k: &Key, rs: &Value) {
    let uid = meta_str(rs, "uid").unwrap_or_default().to_string();
    let want = rs
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let pods = owned(api, "", "pods", &k.namespace, &uid);
    let mut active: Vec<(Key, Value)> = pods.into_iter().filter(|(_, p)| !deleting(p)).collect();
    let have = active.len() as i64;
    if have < want {
        let prefix = format!("{}-", k.name);
        for _ in have..want {
            let name = format!("{prefix}{}", suffix(5));
            let mut pod = pod_from_template(rs, "apps/v1", "ReplicaSet", &name, &[]);
            set(&mut pod, &["metadata", "generateName"], json!(prefix));
            let pkey = key("", "pods", &k.namespace, &name);
            if let Some(p) = create(api, CONTROLLER_MANAGER, &pkey, &pod) {
                active.push((pkey, p));
            }
        }
    } else if have > want {
        // Not ready first, then newest (the real ranking, simplified).
        active.sort_by(|(ka, a), (kb, b)| {
            let ra = pod_ready(a);
            let rb = pod_ready(b);
            ra.cmp(&rb).then_with(|| {
                meta_str(b, "creationTimestamp")
                    .cmp(&meta_str(a, "creationTimestamp"))
                    .then_with(|| kb.name.cmp(&ka.name))
            })
        });
        let doomed: Vec<Key> = active
            .drain(..(have - want) as usize)
            .map(|(pk, _)| pk)
            .collect();
        for pk in doomed {
            delete(api, CONTROLLER_MANAGER, &pk, &json!({}));
        }
    }
    let ready = active.iter().filter(|(_, p)| pod_ready(p)).count() as i64;
    let selector_labels = rs
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let labeled = active
        .iter()
        .filter(|(_, p)| {
            selector_labels
                .iter()
                .all(|(lk, lv)| p.pointer("/metadata/labels").and_then(|l| l.get(lk)) == Some(lv))
        })
        .count() as i64;
    let mut st = Map::new();
    st.insert("replicas".into(), json!(active.len()));
    for (name, v) in [
        ("fullyLabeledReplicas", labeled),
        ("readyReplicas", ready),
        ("availableReplicas", ready),
    ] {
        if v != 0 {
            st.insert(name.into(), json!(v));
        }
    }
    st.insert(
        "observedGeneration".into(),
        rs.pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1)),
    );
    let st = Value::Object(st);
    if let Some(cur) = api.store.get(k).cloned() {
        if cur.get("status") != Some(&st) {
            let mut new = cur;
            set(&mut new, &["status"], st);
            update(api, CONTROLLER_MANAGER, k, &new, true);
        }
    }
}
