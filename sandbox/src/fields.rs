//! Field paths and field sets, the vocabulary of server-side apply ownership, with the
//! `FieldsV1` encoding (`f:name`, `k:{"name":"app"}`, `.`) used in `managedFields`.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One step of a path: a map field, or an item of a keyed list (canonical JSON key object).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Field(String),
    Key(String),
}

pub type Path = Vec<Step>;
/// The fields a manager owns: leaves and keyed-list items.
pub type FieldSet = BTreeSet<Path>;

/// Which lists merge by key. Built-in kinds follow upstream `x-kubernetes-list-map-keys`
/// for the fields DESIGN §9 names; custom resources treat every list as atomic.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a> {
    pub kind: &'a str,
    pub custom: bool,
}

impl Schema<'_> {
    /// The key fields of the list at `path` + `field`, or `None` when the list is atomic.
    pub fn list_keys(&self, parent: &[Step], field: &str) -> Option<&'static [&'static str]> {
        if self.custom {
            return None;
        }
        match field {
            // ServiceAccount.imagePullSecrets is atomic upstream; the PodSpec one is keyed.
            "imagePullSecrets" if self.kind == "ServiceAccount" && parent.is_empty() => None,
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "env"
            | "imagePullSecrets" => Some(&["name"]),
            "volumeMounts" => Some(&["mountPath"]),
            "ports" => {
                if matches!(parent.last(), Some(Step::Key(_))) {
                    Some(&["containerPort", "protocol"])
                } else if self.kind == "Service" && parent == [Step::Field("spec".into())] {
                    Some(&["port", "protocol"])
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// A key field's value, with the defaults the real key uses (`protocol` is `TCP`).
fn key_value(item: &Map<String, Value>, field: &str) -> Option<Value> {
    match item.get(field) {
        Some(v) => Some(v.clone()),
        None if field == "protocol" => Some(Value::String("TCP".into())),
        None => None,
    }
}

/// The canonical key of a keyed-list item (`{"containerPort":80,"protocol":"TCP"}`).
pub fn item_key(item: &Value, keys: &[&str]) -> Option<String> {
    let map = item.as_object()?;
    let mut parts = Vec::new();
    let mut sorted: Vec<&&str> = keys.iter().collect();
    sorted.sort();
    for k in sorted {
        let v = key_value(map, k)?;
        parts.push(format!("{}:{}", Value::String(k.to_string()), v));
    }
    Some(format!("{{{}}}", parts.join(",")))
}

/// Whether `item` has the canonical key `key`.
fn matches_key(item: &Value, key: &str) -> bool {
    let (Some(map), Ok(Value::Object(want))) = (item.as_object(), serde_json::from_str(key)) else {
        return false;
    };
    want.iter()
        .all(|(k, v)| key_value(map, k).as_ref() == Some(v))
}

/// The fields an object sets. `top_skip` names top-level fields that are never owned.
pub fn fields_of(obj: &Value, schema: &Schema, skip_status: bool) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        if k == "apiVersion" || k == "kind" || (skip_status && k == "status") {
            continue;
        }
        if k == "metadata" {
            if let Some(md) = v.as_object() {
                for (mk, mv) in md {
                    if matches!(
                        mk.as_str(),
                        "labels" | "annotations" | "finalizers" | "ownerReferences"
                    ) {
                        let path = vec![Step::Field("metadata".into()), Step::Field(mk.clone())];
                        walk(mv, path, schema, &mut out);
                    }
                }
            }
            continue;
        }
        walk(v, vec![Step::Field(k.clone())], schema, &mut out);
    }
    out
}

fn walk(v: &Value, path: Path, schema: &Schema, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let mut p = path.clone();
                p.push(Step::Field(k.clone()));
                walk(child, p, schema, out);
            }
        }
        Value::Array(items) => {
            let keys = match path.split_last() {
                Some((Step::Field(f), parent)) => schema.list_keys(parent, f),
                _ => None,
            };
            let Some(keys) = keys else {
                out.insert(path);
                return;
            };
            for item in items {
                match item_key(item, keys) {
                    Some(key) => {
                        let mut p = path.clone();
                        p.push(Step::Key(key));
                        out.insert(p.clone());
                        walk(item, p, schema, out);
                    }
                    None => {
                        out.insert(path.clone());
                    }
                }
            }
        }
        _ => {
            out.insert(path);
        }
    }
}

/// The value at `path`.
pub fn get_at<'a>(obj: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = obj;
    for step in path {
        cur = match step {
            Step::Field(f) => cur.as_object()?.get(f)?,
            Step::Key(k) => cur.as_array()?.iter().find(|i| matches_key(i, k))?,
        };
    }
    Some(cur)
}

/// Removes the field or list item at `path`; true when something was removed.
pub fn remove_at(obj: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut cur = obj;
    for step in parent {
        let next = match step {
            Step::Field(f) => cur.as_object_mut().and_then(|m| m.get_mut(f)),
            Step::Key(k) => cur
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|i| matches_key(i, k))),
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match last {
        Step::Field(f) => cur
            .as_object_mut()
            .map(|m| m.remove(f).is_some())
            .unwrap_or(false),
        Step::Key(k) => match cur.as_array_mut() {
            Some(a) => {
                let before = a.len();
                a.retain(|i| !matches_key(i, k));
                a.len() != before
            }
            None => false,
        },
    }
}

/// `.spec.containers[name="app"].image`, the way conflict messages name a field.
pub fn display_path(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Step::Key(k) => {
                let inner = match serde_json::from_str::<Value>(k) {
                    Ok(Value::Object(m)) => m
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => k.clone(),
                };
                s.push('[');
                s.push_str(&inner);
                s.push(']');
            }
        }
    }
    s
}

/// Encodes a field set as `FieldsV1`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut cur = &mut root;
        for step in path {
            let name = match step {
                Step::Field(f) => format!("f:{f}"),
                Step::Key(k) => format!("k:{k}"),
            };
            let entry = cur.entry(name).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            cur = match entry {
                Value::Object(m) => m,
                _ => unreachable!("made an object above"),
            };
        }
        // A member that also has children is marked with ".".
        cur.insert(".".into(), Value::Object(Map::new()));
    }
    strip_leaf_dots(&mut root);
    Value::Object(root)
}

// A leaf is written `{}`, not `{".":{}}`.
fn strip_leaf_dots(m: &mut Map<String, Value>) {
    for (k, v) in m.iter_mut() {
        if k == "." {
            continue;
        }
        if let Value::Object(child) = v {
            if child.len() == 1 && child.contains_key(".") {
                child.clear();
            } else {
                strip_leaf_dots(child);
            }
        }
    }
}

/// Decodes `FieldsV1`; unknown step kinds (`v:`, `i:`) are skipped with their subtree.
pub fn from_fields_v1(v: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    if let Some(m) = v.as_object() {
        decode(m, &mut Vec::new(), &mut out);
    }
    out
}

fn decode(m: &Map<String, Value>, path: &mut Path, out: &mut FieldSet) {
    for (k, child) in m {
        if k == "." {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            continue;
        }
        let step = if let Some(f) = k.strip_prefix("f:") {
            Step::Field(f.to_string())
        } else if let Some(key) = k.strip_prefix("k:") {
            Step::Key(key.to_string())
        } else {
            continue;
        };
        path.push(step);
        match child.as_object() {
            Some(c) if !c.is_empty() => decode(c, path, out),
            _ => {
                out.insert(path.clone());
            }
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema<'static> {
        Schema {
            kind: "Deployment",
            custom: false,
        }
    }

    #[test]
    fn keyed_lists_and_round_trip() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "1"}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "x", "ports": [{"containerPort": 80}], "args": ["a"]}
        ]}}}});
        let set = fields_of(&obj, &schema(), true);
        let v1 = to_fields_v1(&set);
        let c = &v1["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
        assert_eq!(c["."], json!({}));
        assert_eq!(c["f:image"], json!({}));
        assert_eq!(c["f:args"], json!({}));
        assert!(c["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["."].is_object());
        assert_eq!(v1["f:metadata"]["f:labels"]["f:a"], json!({}));
        assert_eq!(from_fields_v1(&v1), set);
    }

    #[test]
    fn get_and_remove_by_key() {
        let mut obj = json!({"spec": {"ports": [{"port": 80}, {"port": 81, "protocol": "UDP"}]}});
        let path = vec![
            Step::Field("spec".into()),
            Step::Field("ports".into()),
            Step::Key("{\"port\":80,\"protocol\":\"TCP\"}".into()),
        ];
        assert_eq!(get_at(&obj, &path), Some(&json!({"port": 80})));
        assert!(remove_at(&mut obj, &path));
        assert_eq!(
            obj,
            json!({"spec": {"ports": [{"port": 81, "protocol": "UDP"}]}})
        );
        assert_eq!(display_path(&path), ".spec.ports[port=80,protocol=\"TCP\"]");
    }
}
