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
    let mut removed: Vec<&Path> = old_set.difference(&new_set).collect();
    removed.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in removed {
        let kept = |set: &FieldSet| set.iter().any(|q| q.starts_with(p));
        if !kept(&others) && !kept(&new_set) {
            remove_at(&mut merged, p);
        }
    }
    Ok(merged)
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
}
