//! Server-side defaulting for the built-in kinds we use, so the sandbox answers with the
//! same kind of noise (defaults, allocated IPs) a real cluster adds.

use crate::meta::{default_key, ensure_map};
use serde_json::{json, Map, Value};

/// Fills defaults into `obj` of `kind` (built-in kinds only).
pub fn apply_defaults(kind: &str, obj: &mut Value, cluster_ip: impl FnOnce() -> String) {
    match kind {
        "Namespace" => {
            if let Some(name) = obj.pointer("/metadata/name").cloned() {
                let labels = ensure_map(obj, &["metadata", "labels"]);
                default_key(labels, "kubernetes.io/metadata.name", name);
            }
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "finalizers", json!(["kubernetes"]));
            let status = ensure_map(obj, &["status"]);
            default_key(status, "phase", json!("Active"));
        }
        "Deployment" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "replicas", json!(1));
            default_key(spec, "revisionHistoryLimit", json!(10));
            default_key(spec, "progressDeadlineSeconds", json!(600));
            default_key(
                spec,
                "strategy",
                json!({"type": "RollingUpdate",
                       "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            pod_template(obj);
        }
        "StatefulSet" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "replicas", json!(1));
            default_key(spec, "revisionHistoryLimit", json!(10));
            default_key(spec, "podManagementPolicy", json!("OrderedReady"));
            default_key(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            default_key(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            pod_template(obj);
        }
        "DaemonSet" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "revisionHistoryLimit", json!(10));
            default_key(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate",
                       "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
            );
            pod_template(obj);
        }
        "Job" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "backoffLimit", json!(6));
            default_key(spec, "completions", json!(1));
            default_key(spec, "parallelism", json!(1));
            default_key(spec, "completionMode", json!("NonIndexed"));
            default_key(spec, "suspend", json!(false));
            default_key(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
            pod_template(obj);
        }
        "Pod" => {
            if let Some(spec) = obj.get_mut("spec") {
                pod_spec(spec, "Always");
            }
        }
        "Service" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "type", json!("ClusterIP"));
            default_key(spec, "sessionAffinity", json!("None"));
            if spec.get("type") != Some(&json!("ExternalName")) {
                let ip = match spec.get("clusterIP") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    _ => cluster_ip(),
                };
                spec.insert("clusterIP".into(), json!(ip));
                default_key(spec, "clusterIPs", json!([ip]));
                default_key(spec, "ipFamilies", json!(["IPv4"]));
                default_key(spec, "ipFamilyPolicy", json!("SingleStack"));
                default_key(spec, "internalTrafficPolicy", json!("Cluster"));
            }
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    default_key(p, "protocol", json!("TCP"));
                    if let Some(port) = p.get("port").cloned() {
                        default_key(p, "targetPort", port);
                    }
                }
            }
            let status = ensure_map(obj, &["status"]);
            default_key(status, "loadBalancer", json!({}));
        }
        "Secret" => {
            let map = ensure_map(obj, &[]);
            default_key(map, "type", json!("Opaque"));
            if let Some(Value::Object(sd)) = map.remove("stringData") {
                let data = ensure_map(obj, &["data"]);
                for (k, v) in sd {
                    let s = v.as_str().unwrap_or_default();
                    data.insert(k, json!(crate::kubeconfig::base64(s.as_bytes())));
                }
            }
        }
        "PersistentVolumeClaim" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "volumeMode", json!("Filesystem"));
            let status = ensure_map(obj, &["status"]);
            default_key(status, "phase", json!("Pending"));
        }
        "HorizontalPodAutoscaler" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "minReplicas", json!(1));
        }
        "CronJob" => {
            let spec = ensure_map(obj, &["spec"]);
            default_key(spec, "concurrencyPolicy", json!("Allow"));
            default_key(spec, "suspend", json!(false));
            default_key(spec, "successfulJobsHistoryLimit", json!(3));
            default_key(spec, "failedJobsHistoryLimit", json!(1));
        }
        _ => {}
    }
}

fn pod_template(obj: &mut Value) {
    if let Some(spec) = obj.pointer_mut("/spec/template/spec") {
        pod_spec(spec, "Always");
    }
}

fn pod_spec(spec: &mut Value, restart: &str) {
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    default_key(spec, "restartPolicy", json!(restart));
    default_key(spec, "terminationGracePeriodSeconds", json!(30));
    default_key(spec, "dnsPolicy", json!("ClusterFirst"));
    default_key(spec, "securityContext", json!({}));
    default_key(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = spec.get_mut(list) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    default_key(c, "terminationMessagePath", json!("/dev/termination-log"));
    default_key(c, "terminationMessagePolicy", json!("File"));
    default_key(c, "resources", json!({}));
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let tag = image.rsplit('/').next().unwrap_or_default();
    let latest = !tag.contains(':') && !image.contains('@') || tag.ends_with(":latest");
    default_key(
        c,
        "imagePullPolicy",
        json!(if latest { "Always" } else { "IfNotPresent" }),
    );
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default_key(p, "protocol", json!("TCP"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_and_service_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}});
        apply_defaults("Deployment", &mut d, || unreachable!());
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply_defaults("Service", &mut s, || "10.96.0.10".into());
        assert_eq!(s["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
    }
}
