//! Pod template and Service fields the apiserver checks (`ValidatePodSpec`,
//! `ValidateService`): `imagePullPolicy` values, port numbers in 1..65535.

use super::decode::quantity_value;
use super::{pod_spec_path, Cause};
use serde_json::Value;

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

/// Adds the causes for the pod spec of `kind` (and Service ports).
pub fn check(kind: &str, obj: &Value, causes: &mut Vec<Cause>) {
    if let Some((ptr, prefix)) = pod_spec_path(kind) {
        if let Some(spec) = obj.pointer(ptr) {
            for list in ["initContainers", "containers"] {
                let Some(cs) = spec.get(list).and_then(Value::as_array) else {
                    continue;
                };
                for (i, c) in cs.iter().enumerate() {
                    container(c, &format!("{prefix}.{list}[{i}]"), causes);
                }
            }
        }
    }
    if kind == "Service" {
        let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
        for (i, p) in ports.into_iter().flatten().enumerate() {
            port(p.get("port"), format!("spec.ports[{i}].port"), true, causes);
        }
    }
}

fn container(c: &Value, path: &str, causes: &mut Vec<Cause>) {
    if let Some(p) = c.get("imagePullPolicy") {
        if !p.as_str().is_some_and(|s| PULL_POLICIES.contains(&s)) {
            causes.push(Cause::unsupported(
                format!("{path}.imagePullPolicy"),
                p,
                PULL_POLICIES,
            ));
        }
    }
    if let Some(r) = c.get("resources") {
        resources(r, &format!("{path}.resources"), causes);
    }
    let ports = c.get("ports").and_then(Value::as_array);
    for (i, p) in ports.into_iter().flatten().enumerate() {
        let at = format!("{path}.ports[{i}]");
        port(
            p.get("containerPort"),
            format!("{at}.containerPort"),
            true,
            causes,
        );
        port(p.get("hostPort"), format!("{at}.hostPort"), false, causes);
    }
}

/// `ValidateResourceRequirements`: quantities are not negative and requests do not exceed limits.
fn resources(r: &Value, path: &str, causes: &mut Vec<Cause>) {
    let shown = |q: &Value| match q {
        Value::String(s) => format!("{s:?}"),
        other => format!("\"{other}\""),
    };
    let limits = r.get("limits").and_then(Value::as_object);
    for part in ["limits", "requests"] {
        let Some(m) = r.get(part).and_then(Value::as_object) else {
            continue;
        };
        for (name, q) in m {
            let Some(v) = quantity_value(q) else { continue };
            let field = format!("{path}.{part}[{name}]");
            if v < 0.0 {
                causes.push(Cause::invalid(
                    field,
                    &shown(q),
                    "must be greater than or equal to 0",
                ));
                continue;
            }
            let limit = limits.and_then(|l| l.get(name));
            if let (true, Some(l)) = (part == "requests", limit) {
                if quantity_value(l).is_some_and(|lv| v > lv) {
                    let plain = shown(l).trim_matches('"').to_string();
                    causes.push(Cause::invalid(
                        field,
                        &shown(q),
                        &format!("must be less than or equal to {name} limit of {plain}"),
                    ));
                }
            }
        }
    }
}

/// A port number: required (0 or missing) when `required`, else 0 means unset.
fn port(v: Option<&Value>, field: String, required: bool, causes: &mut Vec<Cause>) {
    let n = v.and_then(Value::as_i64).unwrap_or(0);
    if n == 0 {
        if required {
            causes.push(Cause::required(field));
        }
        return;
    }
    if !(1..=65535).contains(&n) {
        causes.push(Cause::invalid(field, &n.to_string(), PORT_RANGE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_policy_and_ports() {
        let pod = json!({"spec": {"initContainers": [{"name": "i", "imagePullPolicy": "Sometimes"}],
            "containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 70000}, {}]}]}});
        let mut causes = Vec::new();
        check("Pod", &pod, &mut causes);
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.initContainers[0].imagePullPolicy",
                "spec.containers[0].ports[0].hostPort",
                "spec.containers[0].ports[1].containerPort"
            ]
        );
        assert_eq!(causes[2].message, "Required value");
        let pod = json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 1}],
            "resources": {"limits": {"cpu": "500m", "memory": "-1"}, "requests": {"cpu": "1"}}}]}});
        let mut causes = Vec::new();
        check("Pod", &pod, &mut causes);
        let got: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        assert_eq!(
            got,
            [
                "spec.containers[0].resources.limits[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"1\": must be less than or equal to cpu limit of 500m",
            ]
        );
        let svc = json!({"spec": {"ports": [{"port": 65536}]}});
        let mut causes = Vec::new();
        check("Service", &svc, &mut causes);
        assert_eq!(causes[0].field, "spec.ports[0].port");
        assert_eq!(
            causes[0].message,
            "Invalid value: 65536: must be between 1 and 65535, inclusive"
        );
    }
}
