//! The StatefulSet controller: Pods `<name>-0..N-1` (OrderedReady: each waits for the one
//! before it to be Ready; Parallel: all at once), a PVC per volumeClaimTemplate and Pod,
//! scale-down from the highest ordinal, and RollingUpdate that replaces outdated Pods from
//! the highest ordinal down (above `partition`), tracked by `controller-revision-hash`.

use super::client::{create, delete, key, owned, set, template_hash, update, CONTROLLER_MANAGER};
use super::pod_ready;
use super::replicaset::pod_from_template;
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::meta_str;
use crate::store::Key;
use serde_json::{json, Map, Value};

const REVISION_LABEL: &str = "controller-revision-hash";

/// Runs the controller over every StatefulSet.
pub fn sync(api: &mut Api) {
    let all: Vec<(Key, Value)> = api
        .store
        .list("apps", "statefulsets", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, s) in all {
        if !deleting(&s) {
            sync_one(api, &k, &s);
        }
    }
}

fn ordinal(set_name: &str, pod: &str) -> Option<i64> {
    pod.strip_prefix(set_name)?.strip_prefix('-')?.parse().ok()
}

fn revision_of(pod: &Value) -> Option<&str> {
    pod.pointer("/metadata/labels")?
        .get(REVISION_LABEL)?
        .as_str()
}

fn sync_one(api: &mut Api, k: &Key, sts: &Value) {
    let uid = meta_str(sts, "uid").unwrap_or_default().to_string();
    let want = sts
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let parallel = sts
        .pointer("/spec/podManagementPolicy")
        .and_then(Value::as_str)
        == Some("Parallel");
    let on_delete = sts
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete");
    let partition = sts
        .pointer("/spec/updateStrategy/rollingUpdate/partition")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let update_rev = format!("{}-{}", k.name, template_hash(&template, 0));
    let pods: Vec<(i64, Key, Value)> = owned(api, "", "pods", &k.namespace, &uid)
        .into_iter()
        .filter_map(|(pk, p)| ordinal(&k.name, &pk.name).map(|o| (o, pk, p)))
        .collect();
    let terminating = pods.iter().any(|(_, _, p)| deleting(p));
    let by_ordinal: std::collections::BTreeMap<i64, &Value> =
        pods.iter().map(|(o, _, p)| (*o, p)).collect();
    let mut acted = false;
    // Create missing Pods in order.
    for i in 0..want {
        if by_ordinal.contains_key(&i) {
            if !parallel && !pod_ready(by_ordinal[&i]) {
                break;
            }
            continue;
        }
        if terminating && !parallel {
            break;
        }
        let name = format!("{}-{i}", k.name);
        let mut pod = pod_from_template(
            sts,
            "apps/v1",
            "StatefulSet",
            &name,
            &[
                (REVISION_LABEL, update_rev.clone()),
                ("statefulset.kubernetes.io/pod-name", name.clone()),
                ("apps.kubernetes.io/pod-index", i.to_string()),
            ],
        );
        set(&mut pod, &["spec", "hostname"], json!(name));
        if let Some(svc) = sts.pointer("/spec/serviceName").and_then(Value::as_str) {
            set(&mut pod, &["spec", "subdomain"], json!(svc));
        }
        claims(api, k, sts, &name, &mut pod);
        create(
            api,
            CONTROLLER_MANAGER,
            &key("", "pods", &k.namespace, &name),
            &pod,
        );
        acted = true;
        if !parallel {
            break;
        }
    }
    // Scale down from the highest ordinal.
    if !acted {
        let extra: Vec<&(i64, Key, Value)> = pods
            .iter()
            .rev()
            .filter(|(o, _, p)| *o >= want && !deleting(p))
            .collect();
        let take = if parallel { extra.len() } else { 1 };
        for (_, pk, _) in extra.into_iter().take(take) {
            delete(api, CONTROLLER_MANAGER, pk, &json!({}));
            acted = true;
        }
    }
    // Rolling update: one outdated Pod at a time, once everything is Ready.
    let all_ready =
        pods.iter().all(|(_, _, p)| !deleting(p) && pod_ready(p)) && pods.len() as i64 == want;
    if !acted && !on_delete && all_ready {
        if let Some((_, pk, _)) = pods
            .iter()
            .rev()
            .find(|(o, _, p)| *o >= partition && revision_of(p) != Some(update_rev.as_str()))
        {
            delete(api, CONTROLLER_MANAGER, pk, &json!({}));
        }
    }
    // Status.
    let active: Vec<&Value> = owned(api, "", "pods", &k.namespace, &uid)
        .into_iter()
        .filter(|(pk, p)| ordinal(&k.name, &pk.name).is_some() && !deleting(p))
        .map(|(pk, _)| pk)
        .filter_map(|pk| api.store.get(&pk))
        .collect();
    let count = |f: &dyn Fn(&Value) -> bool| active.iter().filter(|p| f(p)).count() as i64;
    let ready = count(&|p| pod_ready(p));
    let updated = count(&|p| revision_of(p) == Some(update_rev.as_str()));
    let current_rev = match sts
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
    {
        Some(c) if !(updated == want && ready == want && active.len() as i64 == want) => {
            c.to_string()
        }
        _ => update_rev.clone(),
    };
    let current = count(&|p| revision_of(p) == Some(current_rev.as_str()));
    let mut st = Map::new();
    st.insert(
        "observedGeneration".into(),
        sts.pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1)),
    );
    st.insert("replicas".into(), json!(active.len()));
    for (n, v) in [
        ("readyReplicas", ready),
        ("currentReplicas", current),
        ("updatedReplicas", updated),
    ] {
        if v != 0 {
            st.insert(n.into(), json!(v));
        }
    }
    st.insert("availableReplicas".into(), json!(ready));
    st.insert("currentRevision".into(), json!(current_rev));
    st.insert("updateRevision".into(), json!(update_rev));
    st.insert("collisionCount".into(), json!(0));
    let st = Value::Object(st);
    if let Some(cur) = api.store.get(k).cloned() {
        if cur.get("status") != Some(&st) {
            let mut new = cur;
            set(&mut new, &["status"], st);
            update(api, CONTROLLER_MANAGER, k, &new, true);
        }
    }
}

/// The PVCs `<claim>-<pod>` of the volumeClaimTemplates, created when missing, and the
/// Pod's volumes pointing at them.
fn claims(api: &mut Api, k: &Key, sts: &Value, pod_name: &str, pod: &mut Value) {
    let Some(templates) = sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
    else {
        return;
    };
    let mut volumes: Vec<Value> = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let Some(claim) = meta_str(&t, "name").map(String::from) else {
            continue;
        };
        let name = format!("{claim}-{pod_name}");
        let pkey = key("", "persistentvolumeclaims", &k.namespace, &name);
        if api.store.get(&pkey).is_none() {
            let mut labels: Map<String, Value> = sts
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if let Some(l) = t.pointer("/metadata/labels").and_then(Value::as_object) {
                labels.extend(l.clone());
            }
            let pvc = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": k.namespace, "labels": labels},
                "spec": t.get("spec").cloned().unwrap_or(json!({})),
            });
            create(api, CONTROLLER_MANAGER, &pkey, &pvc);
        }
        volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(claim.as_str()));
        volumes.push(json!({"name": claim, "persistentVolumeClaim": {"claimName": name}}));
    }
    set(pod, &["spec", "volumes"], Value::Array(volumes));
}
