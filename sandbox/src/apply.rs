//! Server-side apply: merge an applied configuration into the live object, honouring and
//! updating field ownership (conflicts, force, removal of fields a manager stopped sending).

use crate::fields::{fields_of, get_at, item_key, remove_at, FieldSet, Path, Schema, Step};
use crate::managed::Managed;
use serde_json::Value;

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub path: Path,
}

/// What one apply request asks.
pub struct ApplyRequest<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    /// `""` for the main resource, `"status"` for the status subresource.
    pub subresource: &'a str,
    pub force: bool,
    pub schema: Schema<'a>,
    /// Whether `status` belongs to another endpoint (so is neither owned nor merged here).
    pub skip_status: bool,
}

/// Applies `cfg` to `live`; returns the merged object, or the conflicts when not forced.
pub fn apply(
    live: &Value,
    cfg: &Value,
    managed: &mut Managed,
    req: &ApplyRequest,
) -> Result<Value, Vec<Conflict>> {
    let new_set = fields_of(cfg, &req.schema, req.skip_status);
    let mut conflicts = Vec::new();
    for e in &managed.entries {
        if e.manager == req.manager && e.operation == "Apply" && e.subresource == req.subresource {
            continue;
        }
        for p in new_set.intersection(&e.set) {
            let want = get_at(cfg, p);
            if matches!(want, Some(Value::Object(m)) if !m.is_empty()) {
                continue; // a keyed-list item: membership is shared, its leaves decide
            }
            if want != get_at(live, p) {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    path: p.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !req.force {
            return Err(conflicts);
        }
        for e in &mut managed.entries {
            for c in &conflicts {
                if c.manager == e.manager {
                    e.set.remove(&c.path);
                }
            }
        }
    }

    let mut merged = merge(live, cfg, &mut Vec::new(), &req.schema);
    let own = managed.entry(req.manager, "Apply", req.subresource, req.api_version);
    let old_set = std::mem::replace(&mut own.set, new_set.clone());
    let others: FieldSet = managed
        .entries
        .iter()
        .filter(|e| {
            !(e.manager == req.manager
                && e.operation == "Apply"
                && e.subresource == req.subresource)
        })
        .flat_map(|e| e.set.iter().cloned())
        .collect();
    remove_disowned(&mut merged, &old_set, &new_set, &others);
    Ok(merged)
}

/// Removes what the applier stopped sending and nobody else owns. Shortest paths first, so a
/// keyed-list item nobody owns any field of goes as a whole; an item another manager still
/// owns fields in stays, keeping its key fields (they are its identity, not a removable leaf).
fn remove_disowned(merged: &mut Value, old_set: &FieldSet, new_set: &FieldSet, others: &FieldSet) {
    let mut removed: Vec<&Path> = old_set.difference(new_set).collect();
    removed.sort_by_key(|p| p.len());
    for p in removed {
        let kept = |set: &FieldSet| set.iter().any(|q| q.starts_with(p));
        if kept(others) || kept(new_set) || is_key_field(p) {
            continue;
        }
        remove_at(merged, p);
    }
}

/// Whether `path` names a key field of a keyed-list item (`...[name="a"].name`).
fn is_key_field(path: &[Step]) -> bool {
    let Some((Step::Field(f), parent)) = path.split_last() else {
        return false;
    };
    let Some(Step::Key(k)) = parent.last() else {
        return false;
    };
    matches!(serde_json::from_str::<Value>(k), Ok(Value::Object(m)) if m.contains_key(f))
}

/// Records a non-apply write: `manager` (operation Update) takes the fields it changed.
pub fn record_update(old: Option<&Value>, new: &Value, managed: &mut Managed, req: &ApplyRequest) {
    let changed: FieldSet = fields_of(new, &req.schema, req.skip_status)
        .into_iter()
        .filter(|p| {
            if req.subresource == "status" && p.first() != Some(&Step::Field("status".into())) {
                return false;
            }
            let before = old.and_then(|o| get_at(o, p));
            match get_at(new, p) {
                Some(Value::Object(m)) if !m.is_empty() => before.is_none(),
                now => before != now,
            }
        })
        .collect();
    if changed.is_empty() {
        return;
    }
    for e in &mut managed.entries {
        e.set.retain(|p| !changed.contains(p));
    }
    let own = managed.entry(req.manager, "Update", req.subresource, req.api_version);
    own.set.extend(changed);
}

/// The apply merge: maps merge per field, keyed lists per item, anything else is replaced.
pub fn merge(live: &Value, cfg: &Value, path: &mut Path, schema: &Schema) -> Value {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) => {
            let mut out = l.clone();
            for (k, cv) in c {
                path.push(Step::Field(k.clone()));
                let v = match l.get(k) {
                    Some(lv) => merge(lv, cv, path, schema),
                    None => cv.clone(),
                };
                path.pop();
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => {
            let keys = match path.split_last() {
                Some((Step::Field(f), parent)) => schema.list_keys(parent, f),
                _ => None,
            };
            let Some(keys) = keys else {
                return cfg.clone();
            };
            let mut out = l.clone();
            for item in c {
                let key = item_key(item, keys);
                let pos = key.as_ref().and_then(|k| {
                    out.iter()
                        .position(|o| item_key(o, keys).as_ref() == Some(k))
                });
                match (pos, key) {
                    (Some(i), Some(k)) => {
                        path.push(Step::Key(k));
                        out[i] = merge(&out[i], item, path, schema);
                        path.pop();
                    }
                    _ => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        _ => cfg.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{display_path, to_fields_v1};
    use serde_json::json;

    fn req<'a>(manager: &'a str, force: bool) -> ApplyRequest<'a> {
        ApplyRequest {
            manager,
            api_version: "apps/v1",
            subresource: "",
            force,
            schema: Schema {
                kind: "Deployment",
                custom: false,
            },
            skip_status: true,
        }
    }

    fn dep(replicas: i64, image: &str, label: bool) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "app", "image": image}]}}}});
        if label {
            d["metadata"]["labels"] = json!({"x": "1"});
        }
        d
    }

    #[test]
    fn conflict_force_and_removal() {
        let mut m = Managed::default();
        let live = apply(&json!({}), &dep(2, "a", true), &mut m, &req("one", false)).unwrap();
        // Same values from another manager: shared, no conflict.
        let live = apply(&live, &dep(2, "a", false), &mut m, &req("two", false)).unwrap();
        let err = apply(&live, &dep(3, "a", false), &mut m, &req("two", false)).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].manager, "one");
        let live = apply(&live, &dep(3, "a", false), &mut m, &req("two", true)).unwrap();
        assert_eq!(live["spec"]["replicas"], 3);
        // "one" drops its label: removed since nobody else owns it.
        let mut cfg = dep(3, "a", false);
        cfg["spec"].as_object_mut().unwrap().remove("replicas");
        let live = apply(&live, &cfg, &mut m, &req("one", false)).unwrap();
        assert_eq!(live["metadata"]["labels"], json!({}));
        assert_eq!(live["spec"]["replicas"], 3, "still owned by two");
    }

    #[test]
    fn keyed_lists_merge_by_name() {
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "1", "imagePullPolicy": "Always"}, {"name": "b", "image": "2"}]}}}});
        let cfg =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "3"}]}}}});
        let out = merge(&live, &cfg, &mut Vec::new(), &req("x", false).schema);
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["imagePullPolicy"], "Always");
        assert_eq!(cs[1]["image"], "3");
    }

    /// Builds an object of `kind` with `items` at the list named `list`.
    fn with_list(list: &str, items: Value) -> (&'static str, Value) {
        let pod = |spec: Value| json!({"spec": {"template": {"spec": spec}}});
        let c = |extra: Value| {
            let mut c = json!({"name": "app", "image": "x"});
            if let (Some(m), Some(e)) = (c.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            c
        };
        match list {
            "containers" => ("Deployment", pod(json!({"containers": items}))),
            "initContainers" => (
                "Deployment",
                pod(json!({"containers": [c(json!({}))], "initContainers": items})),
            ),
            "env" => (
                "Deployment",
                pod(json!({"containers": [c(json!({"env": items}))]})),
            ),
            "ports" => (
                "Deployment",
                pod(json!({"containers": [c(json!({"ports": items}))]})),
            ),
            "volumeMounts" => (
                "Deployment",
                pod(json!({"containers": [c(json!({"volumeMounts": items}))]})),
            ),
            "volumes" => (
                "Deployment",
                pod(json!({"containers": [c(json!({}))], "volumes": items})),
            ),
            "imagePullSecrets" => (
                "Deployment",
                pod(json!({"containers": [c(json!({}))], "imagePullSecrets": items})),
            ),
            "tolerations" => (
                "Deployment",
                pod(json!({"containers": [c(json!({}))], "tolerations": items})),
            ),
            "servicePorts" => ("Service", json!({"spec": {"ports": items}})),
            _ => unreachable!("unknown list {list}"),
        }
    }

    fn list_at<'a>(obj: &'a Value, list: &str) -> &'a Value {
        let ps = &obj["spec"]["template"]["spec"];
        match list {
            "containers" | "initContainers" | "volumes" | "imagePullSecrets" | "tolerations" => {
                &ps[list]
            }
            "env" | "ports" | "volumeMounts" => &ps["containers"][0][list],
            _ => &obj["spec"]["ports"],
        }
    }

    fn areq<'a>(manager: &'a str, kind: &'a str) -> ApplyRequest<'a> {
        ApplyRequest {
            schema: Schema {
                kind,
                custom: false,
            },
            ..req(manager, false)
        }
    }

    /// (list, item A, item B, B as another manager sends it with a field of its own)
    fn cases() -> Vec<(&'static str, Value, Value, Value)> {
        vec![
            (
                "containers",
                json!({"name": "a", "image": "1"}),
                json!({"name": "b", "image": "2"}),
                json!({"name": "b", "image": "2", "workingDir": "/w"}),
            ),
            (
                "initContainers",
                json!({"name": "a", "image": "1"}),
                json!({"name": "b", "image": "2"}),
                json!({"name": "b", "image": "2", "workingDir": "/w"}),
            ),
            (
                "env",
                json!({"name": "A", "value": "1"}),
                json!({"name": "B", "value": "2"}),
                json!({"name": "B", "value": "2"}),
            ),
            (
                "ports",
                json!({"containerPort": 80, "name": "http"}),
                json!({"containerPort": 80, "protocol": "UDP", "name": "dns"}),
                json!({"containerPort": 80, "protocol": "UDP", "hostPort": 53}),
            ),
            (
                "servicePorts",
                json!({"port": 80, "targetPort": 8080}),
                json!({"port": 80, "protocol": "UDP", "targetPort": 53}),
                json!({"port": 80, "protocol": "UDP", "name": "dns"}),
            ),
            (
                "volumes",
                json!({"name": "a", "emptyDir": {}}),
                json!({"name": "b", "emptyDir": {"medium": "Memory"}}),
                json!({"name": "b", "emptyDir": {"sizeLimit": "1Gi"}}),
            ),
            (
                "volumeMounts",
                json!({"mountPath": "/a", "name": "a"}),
                json!({"mountPath": "/b", "name": "b"}),
                json!({"mountPath": "/b", "readOnly": true}),
            ),
            (
                "imagePullSecrets",
                json!({"name": "a"}),
                json!({"name": "b"}),
                json!({"name": "b"}),
            ),
        ]
    }

    #[test]
    fn dropped_keyed_item_is_removed_whole() {
        for (list, a, b, _) in cases() {
            let (kind, two) = with_list(list, json!([a.clone(), b.clone()]));
            let (_, one) = with_list(list, json!([a.clone()]));
            let mut m = Managed::default();
            let live = apply(&json!({}), &two, &mut m, &areq("m", kind)).unwrap();
            assert_eq!(
                list_at(&live, list).as_array().map(Vec::len),
                Some(2),
                "{list}"
            );
            let live = apply(&live, &one, &mut m, &areq("m", kind)).unwrap();
            assert_eq!(list_at(&live, list), &json!([a]), "{list}: {live}");
            m.prune(&live);
            // No leftover `k:{...}` of B: the entry is exactly what the last apply sent.
            assert_eq!(m.entries.len(), 1, "{list}");
            let want = fields_of(&one, &areq("m", kind).schema, true);
            assert_eq!(m.entries[0].set, want, "{list}");
            let v1 = to_fields_v1(&m.entries[0].set).to_string();
            assert_eq!(
                v1.matches("k:").count(),
                to_fields_v1(&want).to_string().matches("k:").count()
            );
        }
    }

    #[test]
    fn dropped_keyed_item_stays_for_another_owner() {
        for (list, a, b, b2) in cases() {
            let (kind, two) = with_list(list, json!([a.clone(), b.clone()]));
            let (_, one) = with_list(list, json!([a.clone()]));
            let (_, other) = with_list(list, json!([b2.clone()]));
            let mut m = Managed::default();
            let live = apply(&json!({}), &two, &mut m, &areq("m", kind)).unwrap();
            let live = apply(&live, &other, &mut m, &areq("o", kind)).unwrap();
            let live = apply(&live, &one, &mut m, &areq("m", kind)).unwrap();
            let items = list_at(&live, list).as_array().cloned().unwrap_or_default();
            assert_eq!(items.len(), 2, "{list}: {live}");
            assert_eq!(items[0], a, "{list}");
            // What only "m" owned in B is gone; B's key and the other manager's fields stay.
            let b_live = &items[1];
            for (k, v) in b2.as_object().unwrap() {
                assert_eq!(&b_live[k], v, "{list}: {k} of {b_live}");
            }
            for (k, _) in b.as_object().unwrap() {
                if b2.get(k).is_none() {
                    assert!(b_live.get(k).is_none(), "{list}: {k} left in {b_live}");
                }
            }
            m.prune(&live);
            let own = m.entries.iter().find(|e| e.manager == "m").unwrap();
            assert_eq!(
                own.set,
                fields_of(&one, &areq("m", kind).schema, true),
                "{list}"
            );
        }
    }

    #[test]
    fn item_updated_by_another_manager_keeps_its_key() {
        let (kind, two) = with_list(
            "env",
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]),
        );
        let (_, one) = with_list("env", json!([{"name": "A", "value": "1"}]));
        let mut m = Managed::default();
        let live = apply(&json!({}), &two, &mut m, &areq("m", kind)).unwrap();
        // An Update (kubectl edit) changes only B's value: it owns value, not name.
        let mut edited = live.clone();
        edited["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = json!("3");
        record_update(Some(&live), &edited, &mut m, &areq("u", kind));
        let live = apply(&edited, &one, &mut m, &areq("m", kind)).unwrap();
        assert_eq!(
            list_at(&live, "env"),
            &json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
        );
    }

    #[test]
    fn tolerations_are_atomic() {
        let a = json!({"key": "a", "operator": "Exists"});
        let b = json!({"key": "b", "operator": "Exists"});
        let (kind, two) = with_list("tolerations", json!([a.clone(), b]));
        let (_, other) = with_list("tolerations", json!([a.clone()]));
        let mut m = Managed::default();
        let live = apply(&json!({}), &two, &mut m, &areq("m", kind)).unwrap();
        // A second manager sending a different list conflicts on the whole list.
        let err = apply(&live, &other, &mut m, &areq("o", kind)).unwrap_err();
        assert_eq!(
            display_path(&err[0].path),
            ".spec.template.spec.tolerations"
        );
        let live = apply(&live, &other, &mut m, &areq("m", kind)).unwrap();
        assert_eq!(list_at(&live, "tolerations"), &json!([a]));
    }
}
