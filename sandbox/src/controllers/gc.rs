//! The garbage collector over ownerReferences: dependents whose owners are all gone are
//! deleted (so deleting a Deployment takes its ReplicaSets and their Pods), references to
//! missing owners are dropped, an owner with the `orphan` finalizer has its dependents'
//! references removed, and one with `foregroundDeletion` waits for its blocking
//! dependents to be gone before it goes.

use super::client::{delete, update, CONTROLLER_MANAGER};
use crate::api::Api;
use crate::delete::{deleting, FOREGROUND, ORPHAN};
use crate::meta::{meta_str, metadata_mut};
use crate::store::Key;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn refs(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn has_finalizer(obj: &Value, f: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(f)))
}

fn without_finalizer(obj: &Value, f: &str) -> Value {
    let mut new = obj.clone();
    let md = metadata_mut(&mut new);
    if let Some(Value::Array(a)) = md.get_mut("finalizers") {
        a.retain(|x| x.as_str() != Some(f));
    }
    new
}

/// One pass of the collector.
pub fn sync(api: &mut Api) {
    let all: Vec<(Key, Value)> = api
        .store
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|k| api.store.get(&k).cloned().map(|v| (k, v)))
        .collect();
    // Owners by uid (an owner must be cluster-scoped or in the dependent's namespace).
    let by_uid: BTreeMap<String, (Key, Value)> = all
        .iter()
        .filter_map(|(k, v)| meta_str(v, "uid").map(|u| (u.to_string(), (k.clone(), v.clone()))))
        .collect();
    let mut dependents: BTreeMap<String, Vec<(Key, Value)>> = BTreeMap::new();
    for (k, v) in &all {
        let rs = refs(v);
        if rs.is_empty() {
            continue;
        }
        let present = |r: &Value| {
            r.get("uid")
                .and_then(Value::as_str)
                .and_then(|u| by_uid.get(u))
                .is_some_and(|(ok, _)| ok.namespace.is_empty() || ok.namespace == k.namespace)
        };
        let kept: Vec<Value> = rs.iter().filter(|r| present(r)).cloned().collect();
        if kept.is_empty() {
            if !deleting(v) {
                delete(
                    api,
                    CONTROLLER_MANAGER,
                    k,
                    &json!({"propagationPolicy": "Background"}),
                );
            }
            continue;
        }
        if kept.len() < rs.len() {
            let mut new = v.clone();
            metadata_mut(&mut new).insert("ownerReferences".into(), json!(kept));
            update(api, CONTROLLER_MANAGER, k, &new, false);
        }
        for r in kept {
            if let Some(u) = r.get("uid").and_then(Value::as_str) {
                dependents
                    .entry(u.to_string())
                    .or_default()
                    .push((k.clone(), v.clone()));
            }
        }
    }
    for (uid, (ok, owner)) in &by_uid {
        if !deleting(owner) {
            continue;
        }
        let deps = dependents.get(uid).cloned().unwrap_or_default();
        if has_finalizer(owner, ORPHAN) {
            for (dk, d) in &deps {
                let Some(cur) = api.store.get(dk).cloned() else {
                    continue;
                };
                let mut new = cur;
                let left: Vec<Value> = refs(d)
                    .into_iter()
                    .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                    .collect();
                let md = metadata_mut(&mut new);
                if left.is_empty() {
                    md.remove("ownerReferences");
                } else {
                    md.insert("ownerReferences".into(), json!(left));
                }
                update(api, CONTROLLER_MANAGER, dk, &new, false);
            }
            if let Some(cur) = api.store.get(ok).cloned() {
                update(
                    api,
                    CONTROLLER_MANAGER,
                    ok,
                    &without_finalizer(&cur, ORPHAN),
                    false,
                );
            }
        } else if has_finalizer(owner, FOREGROUND) {
            let mut blocking = 0;
            for (dk, d) in &deps {
                let blocks = refs(d).iter().any(|r| {
                    r.get("uid").and_then(Value::as_str) == Some(uid.as_str())
                        && r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true)
                });
                if blocks {
                    blocking += 1;
                }
                if !deleting(d) {
                    delete(
                        api,
                        CONTROLLER_MANAGER,
                        dk,
                        &json!({"propagationPolicy": "Foreground"}),
                    );
                }
            }
            if blocking == 0 {
                if let Some(cur) = api.store.get(ok).cloned() {
                    update(
                        api,
                        CONTROLLER_MANAGER,
                        ok,
                        &without_finalizer(&cur, FOREGROUND),
                        false,
                    );
                }
            }
        }
    }
}
