//! Comparing objects the way a user means it: a live object is reduced to the fields the stack
//! declares (its *shape*), so server defaults, status and other managers' fields never look
//! like changes; and a changed field is traced to the manager that owns it in `managedFields`.

use serde_json::{Map, Value as Json};

/// `obj` reduced to the fields present in any of `shapes` (maps by key; list items paired by
/// their `name`, else by position). Scalars and lists of scalars are kept whole.
pub fn project(obj: &Json, shapes: &[&Json]) -> Json {
    match obj {
        Json::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let subs: Vec<&Json> = shapes.iter().filter_map(|s| s.get(k)).collect();
                if !subs.is_empty() {
                    out.insert(k.clone(), project(v, &subs));
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let subs: Vec<&Json> = shapes
                        .iter()
                        .filter_map(|s| s.as_array())
                        .filter_map(|list| partner(list, item, i))
                        .collect();
                    if subs.is_empty() || !item.is_object() {
                        item.clone()
                    } else {
                        project(item, &subs)
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn partner<'a>(list: &'a [Json], item: &Json, index: usize) -> Option<&'a Json> {
    match item.get("name") {
        Some(n) => list.iter().find(|s| s.get("name") == Some(n)),
        None => list.get(index),
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Leaf paths where `a` and `b` differ (a subtree present on one side only is one path).
pub fn diff_paths(a: &Json, b: &Json) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    diff_into(a, b, &mut Vec::new(), &mut out);
    out
}

fn diff_into(a: &Json, b: &Json, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                path.push(Step::Key(k.clone()));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff_into(p, q, path, out),
                    _ => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                path.push(Step::Index(i));
                diff_into(p, q, path, out);
                path.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(path.clone()),
    }
}

/// `a.b[0].c` for messages.
pub fn path_text(path: &[Step]) -> String {
    let mut s = String::new();
    for st in path {
        match st {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Whether a `fieldsV1` set owns `path` in `obj` (owning a parent that is a leaf in the set,
/// e.g. an atomic list, counts).
fn owns(fields: &Json, obj: &Json, path: &[Step]) -> bool {
    let Some(set) = fields.as_object() else {
        return false;
    };
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    if set.is_empty() {
        return true;
    }
    match first {
        Step::Key(k) => match set.get(&format!("f:{k}")) {
            Some(sub) => owns(sub, obj.get(k).unwrap_or(&Json::Null), rest),
            None => false,
        },
        Step::Index(i) => {
            let Some(item) = obj.get(*i) else {
                return false;
            };
            set.iter().any(|(key, sub)| {
                let matches = if let Some(k) = key.strip_prefix("k:") {
                    serde_json::from_str::<Map<String, Json>>(k)
                        .map(|want| want.iter().all(|(f, v)| item.get(f) == Some(v)))
                        .unwrap_or(false)
                } else if let Some(v) = key.strip_prefix("v:") {
                    serde_json::from_str::<Json>(v).ok().as_ref() == Some(item)
                } else {
                    false
                };
                matches && owns(sub, item, rest)
            })
        }
    }
}

/// The managers (other than `except`) that own `path` in the live object.
pub fn owners(live: &Json, path: &[Step], except: &str) -> Vec<String> {
    let mut out: Vec<String> = live
        .pointer("/metadata/managedFields")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("manager").and_then(Json::as_str) != Some(except))
        .filter(|e| e.get("fieldsV1").is_some_and(|f| owns(f, live, path)))
        .filter_map(|e| e.get("manager").and_then(Json::as_str).map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projection_keeps_only_declared_fields() {
        let live = json!({"metadata": {"name": "a", "uid": "u", "labels": {"x": "1", "y": "2"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "app", "image": "i:2", "imagePullPolicy": "Always"}]}}},
            "status": {"ready": true}});
        let shape = json!({"metadata": {"name": "a", "labels": {"x": "1"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "i:1"}]}}}});
        assert_eq!(
            project(&live, &[&shape]),
            json!({"metadata": {"name": "a", "labels": {"x": "1"}},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "i:2"}]}}}})
        );
    }

    #[test]
    fn diffs_and_owners() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "mlstack", "operation": "Apply", "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": {"f:data": {"f:b": {}},
                "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:image": {}}}}}}]},
            "data": {"a": "1", "b": "2"},
            "spec": {"containers": [{"name": "app", "image": "x"}]}});
        let mut want = live.clone();
        want["data"]["b"] = json!("3");
        want["spec"]["containers"][0]["image"] = json!("y");
        let d = diff_paths(&want, &live);
        assert_eq!(
            d.iter().map(|p| path_text(p)).collect::<Vec<_>>(),
            vec!["data.b", "spec.containers[0].image"]
        );
        for p in &d {
            assert_eq!(owners(&live, p, "mlstack"), vec!["kubectl-patch"]);
        }
        assert!(owners(
            &live,
            &[Step::Key("data".into()), Step::Key("a".into())],
            "mlstack"
        )
        .is_empty());
    }
}
