//! The namespace controller: a Terminating namespace has everything in it deleted (each
//! object's finalizers still hold it), reports what remains in its conditions, and once
//! empty loses its `kubernetes` finalizer and goes.

use super::client::{delete, set, update, CONTROLLER_MANAGER};
use crate::api::Api;
use crate::delete::deleting;
use crate::meta::now_rfc3339;
use crate::store::Key;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Runs the controller over every Terminating namespace.
pub fn sync(api: &mut Api) {
    let doomed: Vec<(Key, Value)> = api
        .store
        .list("", "namespaces", None)
        .filter(|(_, v)| deleting(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, _) in doomed {
        let contents: Vec<(Key, Value)> = api
            .store
            .keys()
            .filter(|c| c.namespace == k.name)
            .cloned()
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|c| api.store.get(&c).cloned().map(|v| (c, v)))
            .collect();
        for (ck, obj) in &contents {
            if !deleting(obj) {
                delete(
                    api,
                    CONTROLLER_MANAGER,
                    ck,
                    &json!({"propagationPolicy": "Background"}),
                );
            }
        }
        let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
        let mut finalizers: BTreeMap<String, usize> = BTreeMap::new();
        for (ck, _) in &contents {
            let Some(obj) = api.store.get(ck) else {
                continue;
            };
            let gr = if ck.group.is_empty() {
                ck.resource.clone()
            } else {
                format!("{}.{}", ck.resource, ck.group)
            };
            *remaining.entry(gr).or_default() += 1;
            for f in obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                *finalizers.entry(f.to_string()).or_default() += 1;
            }
        }
        let Some(mut cur) = api.store.get(&k).cloned() else {
            continue;
        };
        if remaining.is_empty() {
            // What the namespace controller does through /finalize.
            set(&mut cur, &["spec", "finalizers"], json!([]));
            update(api, CONTROLLER_MANAGER, &k, &cur, false);
            continue;
        }
        let now = now_rfc3339();
        let cond = |t: &str, ok: bool, reason: &str, msg: String| {
            json!({"type": t, "status": if ok { "True" } else { "False" },
                   "lastTransitionTime": now, "reason": reason, "message": msg})
        };
        let content = remaining
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect::<Vec<_>>()
            .join(", ");
        let fins = finalizers
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect::<Vec<_>>()
            .join(", ");
        let conds = json!([
            cond(
                "NamespaceDeletionDiscoveryFailure",
                false,
                "ResourcesDiscovered",
                "All resources successfully discovered".into()
            ),
            cond(
                "NamespaceDeletionGroupVersionParsingFailure",
                false,
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed".into()
            ),
            cond(
                "NamespaceDeletionContentFailure",
                false,
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization".into()
            ),
            cond(
                "NamespaceContentRemaining",
                true,
                "SomeResourcesRemain",
                format!("Some resources are remaining: {content}")
            ),
            if finalizers.is_empty() {
                cond(
                    "NamespaceFinalizersRemaining",
                    false,
                    "ContentHasNoFinalizers",
                    "All content-preserving finalizers finished".into(),
                )
            } else {
                cond(
                    "NamespaceFinalizersRemaining",
                    true,
                    "SomeFinalizersRemain",
                    format!("Some content in the namespace has finalizers remaining: {fins}"),
                )
            },
        ]);
        // Only rewrite when what is reported changed (not just the timestamps).
        let strip = |v: Option<&Value>| {
            v.and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|c| (c.get("type").cloned(), c.get("message").cloned()))
                    .collect::<Vec<_>>()
            })
        };
        if strip(cur.pointer("/status/conditions")) != strip(Some(&conds)) {
            set(&mut cur, &["status", "conditions"], conds);
            update(api, CONTROLLER_MANAGER, &k, &cur, true);
        }
    }
}
