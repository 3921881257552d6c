//! Pure value logic behind quiet, exact plans: what the stack leaves unset is taken from live
//! (server defaults are no difference), except inside atomic maps such as `labels`, which the API
//! replaces wholesale; the differing paths are found shallowest first; and live scalars take the
//! stack's type where only the wire format differs (int64 strings vs numbers).

use mlstack_provider_api::{Path, PathStep, Value};
use std::collections::BTreeMap;

/// The value with every null map entry removed (null means unset in the stack).
pub fn prune_nulls(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(_, x)| !matches!(x, Value::Null))
                .map(|(k, x)| (k.clone(), prune_nulls(x)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.iter().map(prune_nulls).collect()),
        Value::Sensitive(inner) => prune_nulls(inner).into_sensitive(),
        other => other.clone(),
    }
}

/// The keys of a path joined with dots, list indices left out: what `atomic` and mask rules
/// are written against (`instance_template.network_interface.subnet_ids`).
pub fn pattern(path: &[PathStep]) -> String {
    path.iter()
        .filter_map(|s| match s {
            PathStep::Key(k) => Some(k.as_str()),
            PathStep::Index(_) => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A dotted path (`a.b.c`) as a [`Path`] of keys.
pub fn keys(dotted: &str) -> Path {
    dotted
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| PathStep::Key(s.to_string()))
        .collect()
}

/// `desired` completed from `live`: maps are merged key by key (what the stack sets wins,
/// what it leaves out comes from live), lists of the same length item by item; maps at an
/// `atomic` pattern are taken whole from the stack.
pub fn merge(desired: &Value, live: &Value, atomic: &[&str]) -> Value {
    merge_at(desired, live, atomic, &mut Vec::new())
}

fn merge_at(desired: &Value, live: &Value, atomic: &[&str], at: &mut Path) -> Value {
    match (desired, live.unmarked()) {
        (Value::Unknown, _) => Value::Unknown,
        (Value::Sensitive(d), _) => merge_at(d, live, atomic, at).into_sensitive(),
        (Value::Map(d), Value::Map(l)) if !atomic.contains(&pattern(at).as_str()) => {
            let mut out: BTreeMap<String, Value> = l.clone();
            for (k, dv) in d {
                at.push(PathStep::Key(k.clone()));
                let merged = match l.get(k) {
                    Some(lv) => merge_at(dv, lv, atomic, at),
                    None => dv.clone(),
                };
                at.pop();
                out.insert(k.clone(), merged);
            }
            Value::Map(out)
        }
        (Value::List(d), Value::List(l)) if d.len() == l.len() => Value::List(
            d.iter()
                .zip(l)
                .enumerate()
                .map(|(i, (dv, lv))| {
                    at.push(PathStep::Index(i));
                    let m = merge_at(dv, lv, atomic, at);
                    at.pop();
                    m
                })
                .collect(),
        ),
        (d, _) => d.clone(),
    }
}

/// The shallowest paths where `planned` and `live` differ: into maps key by key; a list, a
/// scalar, an unknown or a key on one side only is one difference.
pub fn changed_paths(planned: &Value, live: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    changed_at(planned, live, &mut Vec::new(), &mut out);
    out
}

fn changed_at(a: &Value, b: &Value, at: &mut Path, out: &mut Vec<Path>) {
    if a.same_data(b) {
        return;
    }
    match (a.unmarked(), b.unmarked()) {
        (Value::Map(x), Value::Map(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                at.push(PathStep::Key(k.clone()));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => changed_at(p, q, at, out),
                    _ => out.push(at.clone()),
                }
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

/// `live` with each scalar that only differs from `like` in wire form (`"3"` vs `3`) given
/// `like`'s form, so a read matches what the stack and the state say.
pub fn coerce_like(live: &mut Value, like: &Value) {
    match (live, like.unmarked()) {
        (Value::Sensitive(inner), _) => coerce_like(inner, like),
        (Value::Map(m), Value::Map(l)) => {
            for (k, v) in m.iter_mut() {
                if let Some(lv) = l.get(k) {
                    coerce_like(v, lv);
                }
            }
        }
        (Value::List(m), Value::List(l)) => {
            for (v, lv) in m.iter_mut().zip(l) {
                coerce_like(v, lv);
            }
        }
        (live @ Value::String(_), Value::Number(n)) => {
            if let Some(s) = live.as_str() {
                if s.trim().parse::<f64>().ok() == n.as_f64() {
                    *live = Value::Number(n.clone());
                }
            }
        }
        (live @ Value::Number(_), Value::String(s))
            if s.trim().parse::<f64>().ok() == live.as_f64() =>
        {
            *live = Value::String(s.clone());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlstack_provider_api::path_to_string;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn unset_attributes_come_from_live_except_in_atomic_maps() {
        let desired = v(serde_json::json!({
            "name": "n", "labels": {"a": "1"},
            "master": {"version": "1.30", "zonal": {"zone": "ru-central1-a"}},
            "nics": [{"nat": true}]
        }));
        let live = v(serde_json::json!({
            "name": "old", "labels": {"a": "1", "b": "2"}, "id": "c1",
            "master": {"version": "1.29", "public_ip": true, "zonal": {"zone": "ru-central1-a", "subnet_id": "s"}},
            "nics": [{"nat": false, "ipv4": true}]
        }));
        let m = merge(&desired, &live, &["labels"]);
        assert_eq!(
            m.to_json_unmarked(),
            serde_json::json!({
                "name": "n", "labels": {"a": "1"}, "id": "c1",
                "master": {"version": "1.30", "public_ip": true, "zonal": {"zone": "ru-central1-a", "subnet_id": "s"}},
                "nics": [{"nat": true, "ipv4": true}]
            })
        );
        let changed: Vec<String> = changed_paths(&m, &live)
            .iter()
            .map(|p| path_to_string(p))
            .collect();
        assert_eq!(changed, ["labels.b", "master.version", "name", "nics"]);
    }

    #[test]
    fn unknowns_and_secrets_survive_the_merge() {
        let mut desired = v(serde_json::json!({"a": {"b": 1}}));
        desired.set_path(&keys("a.c"), Value::Unknown);
        desired.set_path(&keys("p"), Value::from("pw").into_sensitive());
        let live = v(serde_json::json!({"a": {"b": 1, "c": "x"}, "p": "old"}));
        let m = merge(&desired, &live, &[]);
        assert!(m.get_path(&keys("a.c")).is_some_and(|x| x.is_unknown()));
        assert!(m.get("p").is_some_and(Value::is_sensitive));
        let changed: Vec<String> = changed_paths(&m, &live)
            .iter()
            .map(|p| path_to_string(p))
            .collect();
        assert_eq!(changed, ["a.c", "p"]);
        assert!(changed_paths(&live, &live).is_empty());
    }

    #[test]
    fn wire_forms_take_the_stack_type() {
        let mut live = v(serde_json::json!({"a": "3", "b": 4, "c": "x", "d": ["5"]}));
        coerce_like(
            &mut live,
            &v(serde_json::json!({"a": 3, "b": "4", "c": 1, "d": [5]})),
        );
        assert_eq!(
            live.to_json_unmarked(),
            serde_json::json!({"a": 3, "b": "4", "c": "x", "d": [5]})
        );
        assert_eq!(
            prune_nulls(&v(serde_json::json!({"a": null, "b": {"c": null, "d": 1}})))
                .to_json_unmarked(),
            serde_json::json!({"b": {"d": 1}})
        );
    }
}
