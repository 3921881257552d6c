//! Workload selectors (apps/v1 `ValidateDeploymentSpec` and friends): the selector is
//! required and must match the pod template's labels, or the controller would orphan its pods.

use super::Cause;
use serde_json::{Map, Value};

/// Adds the causes for a Deployment, ReplicaSet, StatefulSet or DaemonSet.
pub fn check(kind: &str, obj: &Value, causes: &mut Vec<Cause>) {
    if !matches!(
        kind,
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
    ) {
        return;
    }
    let Some(sel) = obj.pointer("/spec/selector").filter(|s| !s.is_null()) else {
        causes.push(Cause::required("spec.selector".into()));
        return;
    };
    let empty = Map::new();
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let has_terms = ["matchLabels", "matchExpressions"].iter().any(|k| {
        sel.get(k).is_some_and(|v| {
            v.as_object().is_some_and(|m| !m.is_empty())
                || v.as_array().is_some_and(|a| !a.is_empty())
        })
    });
    if has_terms && !matches(sel, labels) {
        causes.push(Cause::invalid(
            "spec.template.metadata.labels".into(),
            &go_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
}

/// `map[string]string{"app":"web"}`, Go's `%#v` of a label map (keys sorted).
fn go_map(m: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{:?}:{:?}", k, m[*k].as_str().unwrap_or_default()))
        .collect();
    format!("map[string]string{{{}}}", parts.join(", "))
}

/// `metav1.LabelSelector` semantics: every matchLabels pair and every expression holds.
fn matches(sel: &Value, labels: &Map<String, Value>) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let ml = sel.get("matchLabels").and_then(Value::as_object);
    let labels_ok = ml
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let exprs = sel.get("matchExpressions").and_then(Value::as_array);
    let exprs_ok = exprs.into_iter().flatten().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => label(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => !label(key).is_some_and(|v| values.contains(&v)),
            Some("Exists") => label(key).is_some(),
            Some("DoesNotExist") => label(key).is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn causes(obj: Value) -> Vec<Cause> {
        let mut c = Vec::new();
        check("Deployment", &obj, &mut c);
        c
    }

    #[test]
    fn selector_must_match_template() {
        let ok = json!({"spec": {"selector": {"matchLabels": {"app": "a"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]},
            "template": {"metadata": {"labels": {"app": "a", "tier": "x"}}}}});
        assert!(causes(ok).is_empty());
        let bad = json!({"spec": {"selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b", "z": "1"}}}}});
        let c = causes(bad);
        assert_eq!(c[0].field, "spec.template.metadata.labels");
        assert_eq!(
            c[0].message,
            "Invalid value: map[string]string{\"app\":\"b\", \"z\":\"1\"}: `selector` does not match template `labels`"
        );
        let c = causes(json!({"spec": {"template": {}}}));
        assert_eq!(
            (c[0].field.as_str(), c[0].reason),
            ("spec.selector", "FieldValueRequired")
        );
    }
}
