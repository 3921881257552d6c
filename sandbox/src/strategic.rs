//! Strategic merge patch with its directives, as client-side `kubectl apply`, `kubectl patch`
//! and controllers send it: `$patch: replace|delete|merge`, `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`. Lists merge by the
//! `patchMergeKey` of the real Go types (which differs from the server-side apply keys:
//! container ports merge by `containerPort` alone, Service ports by `port`); other lists are
//! replaced. Errors carry the apimachinery `mergepatch` messages and the apiserver's codes.

use crate::error::ApiError;
use crate::fields::{Path, Schema, Step};
use serde_json::{Map, Value};

/// How a list merges under strategic merge patch.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    /// Replaced as a whole (no `patchStrategy`).
    Replace,
    /// Items are maps merged by this field.
    Key(&'static str),
    /// A list of scalars merged as a set (`metadata.finalizers`).
    Primitive,
}

/// The `patchStrategy`/`patchMergeKey` of the list at `parent` + `field` for built-in kinds.
fn strategy(schema: &Schema, parent: &[Step], field: &str) -> Strategy {
    let in_item = matches!(parent.last(), Some(Step::Key(_)));
    let at = |p: &[&str]| {
        parent.len() == p.len()
            && parent
                .iter()
                .zip(p)
                .all(|(s, want)| *s == Step::Field(want.to_string()))
    };
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => Strategy::Key("name"),
        "volumeMounts" | "volumeDevices" => Strategy::Key(if field == "volumeMounts" {
            "mountPath"
        } else {
            "devicePath"
        }),
        "ports" if in_item => Strategy::Key("containerPort"),
        "ports" if schema.kind == "Service" && at(&["spec"]) => Strategy::Key("port"),
        "finalizers" if at(&["metadata"]) => Strategy::Primitive,
        "ownerReferences" if at(&["metadata"]) => Strategy::Key("uid"),
        "hostAliases" => Strategy::Key("ip"),
        "topologySpreadConstraints" => Strategy::Key("topologyKey"),
        _ => Strategy::Replace,
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

/// Applies a strategic merge patch body to `target` (a built-in object).
pub fn strategic_patch(target: &mut Value, patch: &Value, schema: &Schema) -> Result<(), ApiError> {
    let Value::Object(p) = patch else {
        return Err(bad("invalid JSON document"));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return Err(bad("invalid JSON document"));
    };
    if merge_map(t, p, &mut Vec::new(), schema)? == Outcome::Delete {
        t.clear();
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Keep,
    /// The patch said `$patch: delete` for this map.
    Delete,
}

fn merge_map(
    orig: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    path: &mut Path,
    schema: &Schema,
) -> Result<Outcome, ApiError> {
    if let Some(d) = patch.get("$patch") {
        match d.as_str() {
            Some("delete") => return Ok(Outcome::Delete),
            Some("replace") => {
                let mut fresh = Map::new();
                let mut rest = patch.clone();
                rest.remove("$patch");
                merge_map(&mut fresh, &rest, path, schema)?;
                *orig = fresh;
                return Ok(Outcome::Keep);
            }
            Some("merge") => {}
            _ => {
                return Err(bad(format!(
                    "unknown patch type: {d} in map: {}",
                    Value::Object(patch.clone())
                )))
            }
        }
    }
    if let Some(rk) = patch.get("$retainKeys") {
        let keys: Vec<&str> = match rk.as_array() {
            Some(a) => a.iter().filter_map(Value::as_str).collect(),
            None => return Err(bad("invalid patch format of retainKeys")),
        };
        if rk.as_array().map(Vec::len) != Some(keys.len()) {
            return Err(bad("invalid patch format of retainKeys"));
        }
        for k in patch.keys().filter(|k| !k.starts_with('$')) {
            if !keys.contains(&k.as_str()) && !patch[k].is_null() {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "patch content doesn't match retainKeys list",
                ));
            }
        }
        orig.retain(|k, _| keys.contains(&k.as_str()));
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let Some(drop) = v.as_array() else {
                return Err(bad("invalid patch format of primitive list"));
            };
            if let Some(Value::Array(list)) = orig.get_mut(field) {
                list.retain(|x| !drop.contains(x));
            }
        }
    }
    for (k, v) in patch {
        if k.starts_with('$') {
            continue;
        }
        path.push(Step::Field(k.clone()));
        let res = merge_field(orig, k, v, path, schema);
        path.pop();
        res?;
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$setElementOrder/") {
            let Some(order) = v.as_array() else {
                return Err(bad("invalid patch format of setElementOrder list"));
            };
            let strat = strategy(schema, path, field);
            if let Some(Value::Array(list)) = orig.get_mut(field) {
                reorder(list, order, strat);
            }
        }
    }
    Ok(Outcome::Keep)
}

fn merge_field(
    orig: &mut Map<String, Value>,
    k: &str,
    v: &Value,
    path: &mut Path,
    schema: &Schema,
) -> Result<(), ApiError> {
    match v {
        Value::Null => {
            orig.remove(k);
        }
        Value::Object(pm) => {
            let mut cur = match orig.remove(k) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            if merge_map(&mut cur, pm, path, schema)? == Outcome::Keep {
                orig.insert(k.to_string(), Value::Object(cur));
            }
        }
        Value::Array(items) => {
            let (parent, field) = (&path[..path.len() - 1], k);
            let strat = strategy(schema, parent, field);
            let cur = orig.remove(k);
            let merged = merge_list(cur, items, strat, path, schema)?;
            orig.insert(k.to_string(), merged);
        }
        _ => {
            orig.insert(k.to_string(), v.clone());
        }
    }
    Ok(())
}

/// A patch value with its directives applied to nothing (what a new item becomes).
fn fresh(v: &Value, path: &mut Path, schema: &Schema) -> Result<Option<Value>, ApiError> {
    match v {
        Value::Object(pm) => {
            let mut m = Map::new();
            Ok(match merge_map(&mut m, pm, path, schema)? {
                Outcome::Keep => Some(Value::Object(m)),
                Outcome::Delete => None,
            })
        }
        other => Ok(Some(other.clone())),
    }
}

fn directive(item: &Value) -> Option<&str> {
    item.get("$patch").and_then(Value::as_str)
}

fn merge_list(
    cur: Option<Value>,
    items: &[Value],
    strat: Strategy,
    path: &mut Path,
    schema: &Schema,
) -> Result<Value, ApiError> {
    let replace = items.iter().any(|i| directive(i) == Some("replace"));
    let mut out = match (cur, strat, replace) {
        (Some(Value::Array(a)), Strategy::Key(_) | Strategy::Primitive, false) => a,
        _ => Vec::new(),
    };
    match strat {
        Strategy::Replace => {
            path.push(Step::Key(String::new()));
            for item in items {
                if item.is_array() {
                    path.pop();
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        "lists of lists are not supported",
                    ));
                }
                if let Some(v) = fresh(item, path, schema)? {
                    out.push(v);
                }
            }
            path.pop();
        }
        Strategy::Primitive => {
            for item in items {
                if item.is_object() || item.is_array() {
                    return Err(bad("invalid patch format of primitive list"));
                }
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
        }
        Strategy::Key(key) => {
            for item in items {
                if directive(item) == Some("replace") {
                    continue;
                }
                let Some(im) = item.as_object() else {
                    return Err(bad(format!(
                        "expected a map, but got {item} in a list merged by {key}"
                    )));
                };
                let Some(kv) = im.get(key) else {
                    return Err(bad(format!(
                        "map: {item} does not contain declared merge key: {key}"
                    )));
                };
                let pos = out.iter().position(|o| o.get(key) == Some(kv));
                path.push(Step::Key(kv.to_string()));
                let res = match directive(item) {
                    Some("delete") => {
                        out.retain(|o| o.get(key) != Some(kv));
                        Ok(())
                    }
                    _ => match pos.map(|i| &mut out[i]) {
                        Some(Value::Object(om)) => match merge_map(om, im, path, schema) {
                            Ok(Outcome::Delete) => {
                                out.retain(|o| o.get(key) != Some(kv));
                                Ok(())
                            }
                            Ok(Outcome::Keep) => Ok(()),
                            Err(e) => Err(e),
                        },
                        _ => fresh(item, path, schema).map(|v| {
                            if let Some(v) = v {
                                out.push(v);
                            }
                        }),
                    },
                };
                path.pop();
                res?;
            }
        }
    }
    Ok(Value::Array(out))
}

/// `$setElementOrder`: the listed items first in the given order, then the rest as they were.
fn reorder(list: &mut Vec<Value>, order: &[Value], strat: Strategy) {
    let ident = |v: &Value| -> Option<Value> {
        match strat {
            Strategy::Key(k) => v.get(k).cloned(),
            _ => Some(v.clone()),
        }
    };
    let wanted: Vec<Value> = order.iter().filter_map(&ident).collect();
    let mut items = std::mem::take(list);
    for w in &wanted {
        if let Some(i) = items.iter().position(|x| ident(x).as_ref() == Some(w)) {
            list.push(items.remove(i));
        }
    }
    list.append(&mut items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep() -> Schema<'static> {
        Schema {
            kind: "Deployment",
            custom: false,
        }
    }

    fn live() -> Value {
        json!({"metadata": {"finalizers": ["a", "b"]},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"containers": [
            {"name": "app", "image": "1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80}, {"containerPort": 81}]},
            {"name": "side", "image": "2"}]}}}})
    }

    fn patched(p: Value) -> Result<Value, ApiError> {
        let mut v = live();
        strategic_patch(&mut v, &p, &dep())?;
        Ok(v)
    }

    fn containers(v: &Value) -> &Value {
        &v["spec"]["template"]["spec"]["containers"]
    }

    #[test]
    fn delete_directive_removes_items_by_merge_key() {
        // What client-side kubectl apply sends when env B and port 81 leave the manifest.
        let v = patched(json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"name": "app",
                "$setElementOrder/env": [{"name": "A"}],
                "$setElementOrder/ports": [{"containerPort": 80}],
                "env": [{"$patch": "delete", "name": "B"}],
                "ports": [{"$patch": "delete", "containerPort": 81}]}]}}}}))
        .unwrap();
        let c = &containers(&v)[0];
        assert_eq!(c["env"], json!([{"name": "A", "value": "1"}]));
        assert_eq!(c["ports"], json!([{"containerPort": 80}]));
        assert_eq!(containers(&v)[1]["name"], "side");
        // A whole container.
        let v = patched(json!({"spec": {"template": {"spec": {
            "containers": [{"name": "side", "$patch": "delete"}]}}}}))
        .unwrap();
        assert_eq!(containers(&v).as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn replace_merge_and_map_delete() {
        let v = patched(json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "only", "image": "9"}]}}}}))
        .unwrap();
        assert_eq!(containers(&v), &json!([{"name": "only", "image": "9"}]));
        let v = patched(json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}))
            .unwrap();
        assert_eq!(v["spec"]["strategy"], json!({"type": "Recreate"}));
        let v = patched(json!({"spec": {"strategy": {"$patch": "delete"}}})).unwrap();
        assert!(v["spec"].get("strategy").is_none());
        let v = patched(json!({"spec": {"strategy": {"$patch": "merge", "type": "X"}}})).unwrap();
        assert_eq!(v["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
        let e = patched(json!({"spec": {"strategy": {"$patch": "bogus"}}})).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert!(
            e.message.starts_with("unknown patch type: \"bogus\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn retain_keys_and_primitive_lists() {
        let v =
            patched(json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}))
                .unwrap();
        assert_eq!(v["spec"]["strategy"], json!({"type": "Recreate"}));
        let e = patched(json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}}))
            .unwrap_err();
        assert_eq!(e.code, 422);
        let v = patched(json!({"metadata": {"finalizers": ["c"],
            "$deleteFromPrimitiveList/finalizers": ["a"]}}))
        .unwrap();
        assert_eq!(v["metadata"]["finalizers"], json!(["b", "c"]));
        let v = patched(json!({"metadata": {"$setElementOrder/finalizers": ["b", "a"]}})).unwrap();
        assert_eq!(v["metadata"]["finalizers"], json!(["b", "a"]));
    }

    #[test]
    fn merge_key_is_required_and_unkeyed_lists_replace() {
        let e = patched(json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}))
            .unwrap_err();
        assert!(
            e.message
                .contains("does not contain declared merge key: name"),
            "{}",
            e.message
        );
        let v = patched(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "args": ["x"]}], "tolerations": [{"key": "k"}]}}}}))
        .unwrap();
        assert_eq!(containers(&v)[0]["args"], json!(["x"]));
        assert_eq!(containers(&v)[0]["image"], "1", "merged, not replaced");
        assert_eq!(
            v["spec"]["template"]["spec"]["tolerations"],
            json!([{"key": "k"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let schema = Schema {
            kind: "Service",
            custom: false,
        };
        let mut v =
            json!({"spec": {"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "b"}]}});
        strategic_patch(
            &mut v,
            &json!({"spec": {"ports": [{"port": 81, "$patch": "delete"}, {"port": 80, "name": "z"}]}}),
            &schema,
        )
        .unwrap();
        assert_eq!(v["spec"]["ports"], json!([{"port": 80, "name": "z"}]));
    }
}
