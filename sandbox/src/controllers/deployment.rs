//! The Deployment controller: one ReplicaSet per pod template (`<name>-<pod-template-hash>`),
//! rolling updates bounded by maxSurge/maxUnavailable (one step per tick), `Recreate`,
//! revisions in `deployment.kubernetes.io/revision` (a rollback reuses the old ReplicaSet
//! and gives it the next revision), history pruned to `revisionHistoryLimit`, and the
//! status and conditions `kubectl rollout status` reads.

use super::client::{
    condition, controller_ref, create, delete, key, owned, scaled, set, template_hash, update,
    CONTROLLER_MANAGER,
};
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::{meta_str, now_rfc3339};
use crate::store::Key;
use serde_json::{json, Map, Value};

const HASH: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";

/// Runs the controller over every Deployment.
pub fn sync(api: &mut Api) {
    let all: Vec<(Key, Value)> = api
        .store
        .list("apps", "deployments", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, d) in all {
        if !deleting(&d) {
            sync_one(api, &k, &d);
        }
    }
}

fn int(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

/// The revision a ReplicaSet carries.
pub fn revision(rs: &Value) -> i64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The value without nulls: what a typed decode (as the real API server does) keeps,
/// so `creationTimestamp: null` in a patched template does not make it a new one.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), canonical(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// A ReplicaSet's template without its pod-template-hash label (`EqualIgnoreHash`).
fn bare_template(rs: &Value) -> Value {
    let mut t = canonical(&rs.pointer("/spec/template").cloned().unwrap_or(json!({})));
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH);
    }
    t
}

fn with_hash(v: &Value, hash: &str) -> Value {
    let mut m = v.as_object().cloned().unwrap_or_default();
    m.insert(HASH.into(), json!(hash));
    Value::Object(m)
}

/// Deployment annotations a ReplicaSet inherits (not kubectl's or the controller's own).
fn inherited(d: &Value) -> Map<String, Value> {
    d.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| {
                    !k.starts_with("deployment.kubernetes.io/")
                        && k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn sync_one(api: &mut Api, dkey: &Key, d: &Value) {
    let uid = meta_str(d, "uid").unwrap_or_default().to_string();
    let ns = dkey.namespace.clone();
    let template = canonical(&d.pointer("/spec/template").cloned().unwrap_or(json!({})));
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    let surge = if recreate {
        0
    } else {
        scaled(
            d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            desired,
            true,
            "25%",
        )
    };
    let mut unavailable = if recreate {
        0
    } else {
        scaled(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            "25%",
        )
    };
    if !recreate && surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    let unavailable = unavailable.min(desired);
    let mut rss = owned(api, "apps", "replicasets", &ns, &uid);
    rss.sort_by_key(|(k, rs)| (revision(rs), k.name.clone()));
    let max_rev = rss.iter().map(|(_, rs)| revision(rs)).max().unwrap_or(0);
    let mut created = false;
    let mut new_pos = rss.iter().position(|(_, rs)| bare_template(rs) == template);
    if new_pos.is_none() && !paused {
        let collisions = int(d, "/status/collisionCount");
        let hash = template_hash(&template, collisions);
        let name = format!("{}-{hash}", dkey.name);
        let mut annotations = inherited(d);
        annotations.insert(REVISION.into(), json!((max_rev + 1).to_string()));
        annotations.insert(DESIRED.into(), json!(desired.to_string()));
        annotations.insert(MAX.into(), json!((desired + surge).to_string()));
        let mut tpl = template.clone();
        let labels = with_hash(tpl.pointer("/metadata/labels").unwrap_or(&json!({})), &hash);
        if let Some(m) = tpl.as_object_mut() {
            let md = m.entry("metadata").or_insert_with(|| json!({}));
            set(md, &["labels"], labels.clone());
        }
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        let match_labels = with_hash(selector.get("matchLabels").unwrap_or(&json!({})), &hash);
        set(&mut selector, &["matchLabels"], match_labels);
        let old_total: i64 = rss.iter().map(|(_, rs)| int(rs, "/spec/replicas")).sum();
        let start = if recreate {
            0
        } else {
            (desired + surge - old_total).clamp(0, desired)
        };
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [controller_ref(d, "apps/v1", "Deployment")],
            },
            "spec": {
                "replicas": start,
                "minReadySeconds": int(d, "/spec/minReadySeconds"),
                "selector": selector,
                "template": tpl,
            },
        });
        let rs_key = key("apps", "replicasets", &ns, &name);
        if api.store.get(&rs_key).is_some() {
            // A hash collision with a ReplicaSet we do not own: count it, as the real one.
            let mut nd = d.clone();
            set(
                &mut nd,
                &["status", "collisionCount"],
                json!(collisions + 1),
            );
            update(api, CONTROLLER_MANAGER, dkey, &nd, true);
            return;
        }
        if create(api, CONTROLLER_MANAGER, &rs_key, &rs).is_none() {
            return;
        }
        created = true;
        rss = owned(api, "apps", "replicasets", &ns, &uid);
        rss.sort_by_key(|(k, rs)| (revision(rs), k.name.clone()));
        new_pos = rss.iter().position(|(_, rs)| bare_template(rs) == template);
    }
    let Some(new_pos) = new_pos else {
        return;
    };
    // A rollback to an old template: that ReplicaSet becomes the newest revision.
    let max_rev = rss.iter().map(|(_, rs)| revision(rs)).max().unwrap_or(0);
    let (new_key, mut new_rs) = rss.remove(new_pos);
    let mut changed_new = false;
    if revision(&new_rs) < max_rev || revision(&new_rs) == 0 {
        set(
            &mut new_rs,
            &["metadata", "annotations", REVISION],
            json!((max_rev + 1).to_string()),
        );
        changed_new = true;
    }
    let new_rev = revision(&new_rs);
    let mut olds = rss;
    if !paused {
        let total: i64 = int(&new_rs, "/spec/replicas")
            + olds
                .iter()
                .map(|(_, r)| int(r, "/spec/replicas"))
                .sum::<i64>();
        let new_want = int(&new_rs, "/spec/replicas");
        let target = if recreate {
            let old_active: i64 = olds
                .iter()
                .map(|(_, r)| int(r, "/spec/replicas") + int(r, "/status/replicas"))
                .sum();
            if old_active == 0 {
                desired
            } else {
                new_want
            }
        } else if new_want < desired {
            (new_want + (desired + surge - total).max(0)).min(desired)
        } else {
            desired
        };
        if target != new_want {
            set(&mut new_rs, &["spec", "replicas"], json!(target));
            changed_new = true;
        }
        // Scale old ReplicaSets down as far as availability allows.
        let all_now: i64 = target
            + olds
                .iter()
                .map(|(_, r)| int(r, "/spec/replicas"))
                .sum::<i64>();
        let available: i64 = int(&new_rs, "/status/availableReplicas")
            + olds
                .iter()
                .map(|(_, r)| int(r, "/status/availableReplicas"))
                .sum::<i64>();
        let new_unavailable = (target - int(&new_rs, "/status/availableReplicas")).max(0);
        let min_available = desired - unavailable;
        let mut budget = if recreate {
            i64::MAX
        } else {
            // Unhealthy old pods first, then healthy ones above the availability floor.
            let unhealthy: i64 = olds
                .iter()
                .map(|(_, r)| {
                    (int(r, "/spec/replicas") - int(r, "/status/availableReplicas")).max(0)
                })
                .sum();
            let cleanup = unhealthy.min((all_now - min_available - new_unavailable).max(0));
            cleanup + (available - min_available).max(0)
        };
        for (k, r) in olds.iter_mut() {
            let have = int(r, "/spec/replicas");
            if have == 0 || budget <= 0 {
                continue;
            }
            let cut = have.min(budget);
            budget -= cut;
            set(r, &["spec", "replicas"], json!(have - cut));
            set(
                r,
                &["metadata", "annotations", DESIRED],
                json!(desired.to_string()),
            );
            update(api, CONTROLLER_MANAGER, k, r, false);
        }
    }
    if changed_new {
        set(
            &mut new_rs,
            &["metadata", "annotations", DESIRED],
            json!(desired.to_string()),
        );
        set(
            &mut new_rs,
            &["metadata", "annotations", MAX],
            json!((desired + surge).to_string()),
        );
        update(api, CONTROLLER_MANAGER, &new_key, &new_rs, false);
        if let Some(v) = api.store.get(&new_key) {
            new_rs = v.clone();
        }
    }
    // History beyond revisionHistoryLimit: empty old ReplicaSets, oldest first.
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .max(0) as usize;
    let empty: Vec<Key> = olds
        .iter()
        .filter(|(_, r)| int(r, "/spec/replicas") == 0 && int(r, "/status/replicas") == 0)
        .map(|(k, _)| k.clone())
        .collect();
    if empty.len() > limit {
        for k in &empty[..empty.len() - limit] {
            delete(
                api,
                CONTROLLER_MANAGER,
                k,
                &json!({"propagationPolicy": "Background"}),
            );
        }
    }
    let olds: Vec<Value> = olds
        .iter()
        .filter_map(|(k, _)| api.store.get(k).cloned())
        .collect();
    // The Deployment's own revision annotation.
    let mut nd = d.clone();
    let rev = new_rev.to_string();
    if d.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        != Some(rev.as_str())
    {
        set(&mut nd, &["metadata", "annotations", REVISION], json!(rev));
        update(api, CONTROLLER_MANAGER, dkey, &nd, false);
        if let Some(v) = api.store.get(dkey) {
            nd = v.clone();
        }
    }
    let rs_name = meta_str(&new_rs, "name").unwrap_or_default().to_string();
    let status = status(&nd, &new_rs, &olds, desired, unavailable, created, &rs_name);
    if nd.get("status") != Some(&status) {
        set(&mut nd, &["status"], status);
        update(api, CONTROLLER_MANAGER, dkey, &nd, true);
    }
}

/// `calculateStatus` plus the Available and Progressing conditions.
fn status(
    d: &Value,
    new_rs: &Value,
    olds: &[Value],
    desired: i64,
    max_unavailable: i64,
    created: bool,
    rs_name: &str,
) -> Value {
    let all: Vec<&Value> = std::iter::once(new_rs).chain(olds.iter()).collect();
    let sum = |p: &str| all.iter().map(|r| int(r, p)).sum::<i64>();
    let replicas = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let available = sum("/status/availableReplicas");
    let total = sum("/spec/replicas");
    let updated = int(new_rs, "/status/replicas");
    let generation = int(d, "/metadata/generation");
    let mut st = Map::new();
    st.insert("observedGeneration".into(), json!(generation));
    // Zero counts are omitted, as Go's omitempty does.
    for (k, v) in [
        ("replicas", replicas),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", (total - available).max(0)),
        ("collisionCount", int(d, "/status/collisionCount")),
    ] {
        if v != 0 {
            st.insert(k.into(), json!(v));
        }
    }
    let mut conds: Vec<Value> = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = now_rfc3339();
    let mut set = |t: &str, status: &str, reason: &str, message: String| {
        let cur = conds
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            .cloned();
        if let Some(c) = &cur {
            if c.get("status").and_then(Value::as_str) == Some(status)
                && c.get("reason").and_then(Value::as_str) == Some(reason)
            {
                return;
            }
        }
        let transition = cur
            .as_ref()
            .filter(|c| c.get("status").and_then(Value::as_str) == Some(status))
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or(json!(now));
        conds.retain(|c| c.get("type").and_then(Value::as_str) != Some(t));
        conds.push(json!({
            "type": t, "status": status, "lastUpdateTime": now,
            "lastTransitionTime": transition, "reason": reason, "message": message,
        }));
    };
    if created {
        set(
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            format!("Created new replica set \"{rs_name}\""),
        );
    }
    if available >= desired - max_unavailable {
        set(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
        );
    } else {
        set(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
        );
    }
    let complete = updated == desired && replicas == desired && available == desired;
    if complete {
        set(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        );
    } else if !created {
        let before = |p: &str| int(d, &format!("/status/{p}"));
        let moved = updated != before("updatedReplicas")
            || ready != before("readyReplicas")
            || available != before("availableReplicas")
            || replicas != before("replicas")
            || condition(d, "Progressing").is_none();
        if moved {
            // Progress refreshes lastUpdateTime even under the same reason.
            let cur = condition(d, "Progressing").cloned();
            let transition = cur
                .as_ref()
                .filter(|c| c.get("status").and_then(Value::as_str) == Some("True"))
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or(json!(now));
            conds.retain(|c| c.get("type").and_then(Value::as_str) != Some("Progressing"));
            conds.push(json!({
                "type": "Progressing", "status": "True", "lastUpdateTime": now,
                "lastTransitionTime": transition, "reason": "ReplicaSetUpdated",
                "message": format!("ReplicaSet \"{rs_name}\" is progressing."),
            }));
        }
    }
    st.insert("conditions".into(), Value::Array(conds));
    Value::Object(st)
}
