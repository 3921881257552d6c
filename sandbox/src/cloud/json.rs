//! JSON helpers over dotted field paths (`master.version`, `configSpec.kafka.resources`),
//! the wire conventions (lowerCamelCase mask paths, int64 as strings) and deep merges.

use serde_json::{Map, Value};

/// The value at a dotted path; `""` is the whole value.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |cur, seg| cur.get(seg))
}

/// Sets the value at a dotted path, creating objects on the way (replacing non-objects).
pub fn set(v: &mut Value, path: &str, val: Value) {
    if path.is_empty() {
        *v = val;
        return;
    }
    let mut cur = v;
    let segs: Vec<&str> = path.split('.').collect();
    for seg in &segs[..segs.len() - 1] {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        cur = m
            .entry(seg.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let (Value::Object(m), Some(last)) = (cur, segs.last()) {
        m.insert(last.to_string(), val);
    }
}

/// Removes the value at a dotted path, and the objects on the way that it left empty.
pub fn remove(v: &mut Value, path: &str) -> Option<Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p, l),
        None => ("", path),
    };
    let removed = get_mut(v, parent)?.as_object_mut()?.remove(last);
    if !parent.is_empty()
        && get(v, parent).is_some_and(|p| p.as_object().is_some_and(Map::is_empty))
    {
        remove(v, parent);
    }
    removed
}

fn get_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |cur, seg| cur.get_mut(seg))
}

/// Whether `path` is `prefix` or lies under it.
pub fn under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// Rewrites the start of `path` by the longest matching `(from, to)` pair.
pub fn rename(path: &str, renames: &[(&str, &str)]) -> String {
    let best = renames
        .iter()
        .filter(|(from, _)| under(path, from))
        .max_by_key(|(from, _)| from.len());
    match best {
        Some((from, to)) => {
            let rest = path[from.len()..].trim_start_matches('.');
            match (to.is_empty(), rest.is_empty()) {
                (true, _) => rest.to_string(),
                (false, true) => to.to_string(),
                (false, false) => format!("{to}.{rest}"),
            }
        }
        None => path.to_string(),
    }
}

/// Moves the values of a request body to their resource paths (longest source first);
/// a moved object is merged into what is already at the target, the target winning.
pub fn move_paths(v: &mut Value, renames: &[(&str, &str)]) {
    let mut order: Vec<&(&str, &str)> = renames.iter().collect();
    order.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    for (from, to) in order {
        if let Some(val) = remove(v, from) {
            match get_mut(v, to) {
                Some(existing) => merge_missing(existing, val),
                None => set(v, to, val),
            }
        }
    }
}

/// Adds to `target` the fields of `extra` it lacks (recursively for objects).
pub fn merge_missing(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(t), Value::Object(e)) => {
            for (k, v) in e {
                match t.get_mut(&k) {
                    Some(existing) => merge_missing(existing, v),
                    None => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, e) if t.is_null() => *t = e,
        _ => {}
    }
}

/// `master_spec.version.version` → `masterSpec.version.version`; an underscore before a
/// digit stays, as in the explicit JSON names `topicConfig_3`, `kafkaConfig_2_8`.
pub fn camel(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            match chars.peek() {
                Some(n) if n.is_ascii_lowercase() => {
                    out.push(n.to_ascii_uppercase());
                    chars.next();
                }
                _ => out.push('_'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// int32 fields among the types served (google.type.TimeOfDay); every other integer is an
/// int64 or an Int64Value and travels as a string.
const INT32_KEYS: &[&str] = &["hours", "minutes", "seconds", "nanos"];

/// Integers become strings (proto3 JSON for int64), except the known int32 fields.
pub fn int64_as_strings(v: &mut Value) {
    walk_int64(v, None);
}

fn walk_int64(v: &mut Value, key: Option<&str>) {
    match v {
        Value::Number(n)
            if (n.is_i64() || n.is_u64()) && !key.is_some_and(|k| INT32_KEYS.contains(&k)) =>
        {
            *v = Value::String(n.to_string());
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk_int64(i, key)),
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                walk_int64(val, Some(k));
            }
        }
        _ => {}
    }
}

/// Dotted paths of the leaves of `v` (non-empty objects are walked, anything else is a leaf).
pub fn leaves(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_leaves(v, String::new(), &mut out);
    out
}

fn walk_leaves(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk_leaves(val, p, out);
            }
        }
        _ if !prefix.is_empty() => out.push(prefix),
        _ => {}
    }
}

/// A non-empty string at `path`.
pub fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    get(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let mut v = json!({"a": {"b": 1}});
        set(&mut v, "a.c.d", json!(2));
        assert_eq!(get(&v, "a.c.d"), Some(&json!(2)));
        assert_eq!(remove(&mut v, "a.c.d"), Some(json!(2)));
        assert_eq!(v, json!({"a": {"b": 1}}));
        remove(&mut v, "a.b");
        assert_eq!(v, json!({}));
        assert!(under("master.version", "master"));
        assert!(!under("masterX", "master"));
        assert!(under("x", ""));
    }

    #[test]
    fn renames_and_moves() {
        let r = [
            ("masterSpec.version.version", "master.version"),
            ("masterSpec", "master"),
            ("topicSpec", ""),
        ];
        assert_eq!(rename("masterSpec.version.version", &r), "master.version");
        assert_eq!(
            rename("masterSpec.maintenancePolicy", &r),
            "master.maintenancePolicy"
        );
        assert_eq!(rename("topicSpec.partitions", &r), "partitions");
        assert_eq!(rename("name", &r), "name");
        let mut v =
            json!({"masterSpec": {"version": {"version": "1.30"}, "x": 1}, "topicSpec": {"p": 1}});
        move_paths(&mut v, &r);
        assert_eq!(v, json!({"master": {"version": "1.30", "x": 1}, "p": 1}));
    }

    #[test]
    fn wire_conventions() {
        assert_eq!(
            camel("master_spec.version.version"),
            "masterSpec.version.version"
        );
        assert_eq!(
            camel("topic_spec.topic_config_3.retention_ms"),
            "topicSpec.topicConfig_3.retentionMs"
        );
        assert_eq!(camel("kafka_config_2_8"), "kafkaConfig_2_8");
        assert_eq!(camel("labels"), "labels");
        let mut v = json!({"size": 3, "f": 0.5, "w": {"hours": 22, "x": [1, 2]}, "b": true});
        int64_as_strings(&mut v);
        assert_eq!(
            v,
            json!({"size": "3", "f": 0.5, "w": {"hours": 22, "x": ["1", "2"]}, "b": true})
        );
        assert_eq!(
            leaves(&json!({"a": {"b": 1, "c": {}}, "d": [1]})),
            vec!["a.b", "a.c", "d"]
        );
    }
}
