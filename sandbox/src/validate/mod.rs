//! Validation where the real API server validates, with its answers: decode errors (400
//! BadRequest, "cannot be handled as a ..."), then field errors (422 Invalid, one
//! `details.causes[]` entry per field with the apiserver's reason and message).
//! Unknown fields and CRD schemas are not checked here.

mod data;
pub(crate) mod decode;
mod pod;
mod selector;

use crate::catalog::ResourceType;
use crate::error::ApiError;
use serde_json::{json, Value};

/// One field error (`field.Error` upstream).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueRequired`, `FieldValueForbidden`.
    pub reason: &'static str,
    /// `spec.template.spec.containers[0].imagePullPolicy`.
    pub field: String,
    /// `Unsupported value: "Sometimes": supported values: ...` (the error body).
    pub message: String,
}

impl Cause {
    fn invalid(field: String, value: &str, detail: &str) -> Cause {
        Cause {
            reason: "FieldValueInvalid",
            field,
            message: format!("Invalid value: {value}: {detail}"),
        }
    }

    fn required(field: String) -> Cause {
        Cause {
            reason: "FieldValueRequired",
            field,
            message: "Required value".into(),
        }
    }

    fn forbidden(field: String, detail: &str) -> Cause {
        Cause {
            reason: "FieldValueForbidden",
            field,
            message: format!("Forbidden: {detail}"),
        }
    }

    fn unsupported(field: String, value: &Value, supported: &[&str]) -> Cause {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Cause {
            reason: "FieldValueNotSupported",
            field,
            message: format!(
                "Unsupported value: {}: supported values: {}",
                go_value(value),
                list.join(", ")
            ),
        }
    }
}

/// A value the way `field.Error` prints it: strings quoted, numbers and bools bare.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// `Deployment.apps "web"` / `ConfigMap "cm"`: how the apiserver names the invalid object.
fn qualified(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.kind.clone()
    } else {
        format!("{}.{}", rt.kind, rt.group)
    }
}

/// The 422 `Invalid` Status for `causes` (`errors.NewInvalid`).
pub fn invalid(rt: &ResourceType, name: &str, causes: &[Cause]) -> ApiError {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let why = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    };
    let mut e = ApiError::new(
        422,
        "Invalid",
        format!("{} {name:?} is invalid: {why}", qualified(rt)),
    );
    let mut d = json!({"name": name, "kind": rt.kind});
    if !rt.group.is_empty() {
        d["group"] = json!(rt.group);
    }
    d["causes"] = causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    e.details = d;
    e
}

/// Checks a built-in object about to be stored (`old` on update). Custom resources pass.
pub fn check(
    rt: &ResourceType,
    name: &str,
    obj: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if rt.custom {
        return Ok(());
    }
    if let Err(why) = decode::check(&rt.kind, obj) {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: {why}",
            kind = rt.kind,
            v = rt.version
        )));
    }
    let mut causes = Vec::new();
    selector::check(&rt.kind, obj, &mut causes);
    pod::check(&rt.kind, obj, &mut causes);
    if let Some(o) = old {
        data::check_update(&rt.kind, o, obj, &mut causes);
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(invalid(rt, name, &causes))
    }
}

/// Where a kind keeps its pod spec, as a JSON pointer and a field path prefix.
fn pod_spec_path(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "Pod" => ("/spec", "spec"),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            ("/spec/template/spec", "spec.template.spec")
        }
        "CronJob" => (
            "/spec/jobTemplate/spec/template/spec",
            "spec.jobTemplate.spec.template.spec",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn rt(kind: &str) -> ResourceType {
        Catalog::default()
            .types()
            .iter()
            .find(|t| t.kind == kind)
            .cloned()
            .unwrap()
    }

    fn dep(policy: &str, port: i64) -> Value {
        json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": "x", "imagePullPolicy": policy,
             "ports": [{"containerPort": port}]}]}}}})
    }

    #[test]
    fn status_shape_like_the_apiserver() {
        let e = check(&rt("Deployment"), "web", &dep("Sometimes", 80), None).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert_eq!(
            e.message,
            "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].imagePullPolicy: \
             Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
        );
        assert_eq!(e.details["kind"], "Deployment");
        assert_eq!(e.details["group"], "apps");
        assert_eq!(e.details["causes"][0]["reason"], "FieldValueNotSupported");
        let e = check(&rt("Deployment"), "web", &dep("Never", 99999), None).unwrap_err();
        assert_eq!(
            e.details["causes"][0]["field"],
            "spec.template.spec.containers[0].ports[0].containerPort"
        );
        assert_eq!(
            e.details["causes"][0]["message"],
            "Invalid value: 99999: must be between 1 and 65535, inclusive"
        );
        let e = check(&rt("Deployment"), "web", &dep("Bad", 0), None).unwrap_err();
        assert!(e.message.contains(": [spec."), "two causes: {}", e.message);
        assert!(check(&rt("Deployment"), "web", &dep("Always", 8080), None).is_ok());
    }

    #[test]
    fn decode_errors_are_bad_requests() {
        let mut d = dep("Always", 80);
        d["spec"]["replicas"] = json!("2");
        let e = check(&rt("Deployment"), "web", &d, None).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot \
             unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
    }
}
