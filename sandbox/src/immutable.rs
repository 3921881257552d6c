//! Fields the real API server refuses to change after creation, answered as it does (422
//! Invalid, a `FieldValueInvalid` cause per field, "field is immutable"), so that clients learn
//! to plan a replacement instead of an update.

use crate::error::ApiError;
use serde_json::{json, Value};

/// The immutable paths of a built-in kind (JSON pointers below the object).
fn immutable_paths(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => &["/spec/selector"],
        ("apps", "StatefulSet") => &[
            "/spec/selector",
            "/spec/serviceName",
            "/spec/volumeClaimTemplates",
            "/spec/podManagementPolicy",
        ],
        ("batch", "Job") => &["/spec/selector", "/spec/template", "/spec/completionMode"],
        _ => &[],
    }
}

/// `spec.selector` from `/spec/selector`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// The fields `new` changes that `old` fixed for good; empty when the update is allowed.
pub fn changed_immutable(group: &str, kind: &str, old: &Value, new: &Value) -> Vec<String> {
    let mut out: Vec<String> = immutable_paths(group, kind)
        .iter()
        .filter(|p| old.pointer(p).is_some() && old.pointer(p) != new.pointer(p))
        .map(|p| dotted(p))
        .collect();
    if group.is_empty() && kind == "Service" {
        let ip = |o: &Value| {
            o.pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let (Some(a), Some(b)) = (ip(old), ip(new)) {
            if !a.is_empty() && a != b {
                out.push("spec.clusterIP".into());
            }
        }
    }
    if group.is_empty() && kind == "PersistentVolumeClaim" {
        // Only the storage request may change (and grow) after creation.
        let rest = |o: &Value| {
            let mut s = o.get("spec").cloned().unwrap_or(Value::Null);
            if let Some(m) = s.as_object_mut() {
                m.remove("resources");
                m.remove("volumeName");
            }
            s
        };
        if rest(old) != rest(new) {
            out.push("spec".into());
        }
    }
    out
}

/// The 422 answer for an update that changes immutable fields.
pub fn check(
    group: &str,
    resource: &str,
    kind: &str,
    name: &str,
    old: &Value,
    new: &Value,
) -> Result<(), ApiError> {
    let fields = changed_immutable(group, kind, old, new);
    if fields.is_empty() {
        return Ok(());
    }
    let causes: Vec<Value> = fields
        .iter()
        .map(|f| {
            json!({
                "reason": "FieldValueInvalid",
                "message": "Invalid value: field is immutable",
                "field": f,
            })
        })
        .collect();
    let why = fields
        .iter()
        .map(|f| format!("{f}: Invalid value: field is immutable"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut e = ApiError::invalid(kind, name, &why).with_details(group, resource, name);
    e.details["causes"] = Value::Array(causes);
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_and_cluster_ip_are_fixed_replicas_are_not() {
        let old = json!({"spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 1}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        assert!(changed_immutable("apps", "Deployment", &old, &new).is_empty());
        new["spec"]["selector"]["matchLabels"]["app"] = json!("b");
        assert_eq!(
            changed_immutable("apps", "Deployment", &old, &new),
            vec!["spec.selector"]
        );
        let svc = json!({"spec": {"clusterIP": "10.96.0.5"}});
        let svc2 = json!({"spec": {"clusterIP": "10.96.0.6"}});
        assert_eq!(
            changed_immutable("", "Service", &svc, &svc2),
            vec!["spec.clusterIP"]
        );
        let pvc = json!({"spec": {"storageClassName": "a", "resources": {"requests": {"storage": "1Gi"}}}});
        let mut bigger = pvc.clone();
        bigger["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(changed_immutable("", "PersistentVolumeClaim", &pvc, &bigger).is_empty());
        bigger["spec"]["storageClassName"] = json!("b");
        assert_eq!(
            changed_immutable("", "PersistentVolumeClaim", &pvc, &bigger),
            vec!["spec"]
        );
        let e = check("apps", "deployments", "Deployment", "x", &old, &new).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e
            .message
            .contains("spec.selector: Invalid value: field is immutable"));
    }
}
