//! When an object is ready for its dependents, per kind: Deployment rollout (observed
//! generation, updated and available replicas), StatefulSet, DaemonSet, Job complete, CRD
//! Established, PVC Bound, HPA able to scale, LoadBalancer Service with an address. Other
//! kinds are ready once applied.

use serde_json::Value as Json;

/// What one look at the live object says.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    Ready,
    /// Not yet; why (with the object's conditions), for the timeout message.
    Waiting(String),
    /// It will not become ready (a failed Job).
    Failed(String),
}

fn int(obj: &Json, p: &str) -> Option<i64> {
    obj.pointer(p).and_then(Json::as_i64)
}

fn condition<'a>(obj: &'a Json, t: &str) -> Option<&'a Json> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Json::as_str) == Some(t))
}

fn is_true(obj: &Json, t: &str) -> bool {
    condition(obj, t)
        .and_then(|c| c.get("status"))
        .and_then(Json::as_str)
        == Some("True")
}

/// The object's conditions as `Type=Status (reason: message)`, for error messages.
pub fn conditions_text(obj: &Json) -> String {
    let list: Vec<String> = obj
        .pointer("/status/conditions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let g = |k: &str| c.get(k).and_then(Json::as_str).unwrap_or_default();
            let mut s = format!("{}={}", g("type"), g("status"));
            if !g("reason").is_empty() || !g("message").is_empty() {
                s.push_str(&format!(" ({}: {})", g("reason"), g("message")));
            }
            s
        })
        .collect();
    if list.is_empty() {
        "no conditions reported".into()
    } else {
        format!("conditions: {}", list.join(", "))
    }
}

fn rollout(obj: &Json, ready_field: &str) -> Readiness {
    let generation = int(obj, "/metadata/generation").unwrap_or(0);
    let observed = int(obj, "/status/observedGeneration").unwrap_or(-1);
    let want = int(obj, "/spec/replicas").unwrap_or(1);
    let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
    let ready = int(obj, &format!("/status/{ready_field}")).unwrap_or(0);
    if observed < generation {
        return Readiness::Waiting(format!(
            "generation {generation} not observed yet (observed {observed})"
        ));
    }
    if updated < want || ready < want {
        return Readiness::Waiting(format!(
            "{updated} of {want} replicas updated, {ready} {ready_field}"
        ));
    }
    Readiness::Ready
}

/// Readiness of `obj` by its kind.
pub fn check(obj: &Json) -> Readiness {
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default();
    match kind {
        "Deployment" => rollout(obj, "availableReplicas"),
        "StatefulSet" => rollout(obj, "readyReplicas"),
        "DaemonSet" => {
            let generation = int(obj, "/metadata/generation").unwrap_or(0);
            let observed = int(obj, "/status/observedGeneration").unwrap_or(-1);
            let want = int(obj, "/status/desiredNumberScheduled").unwrap_or(-1);
            let updated = int(obj, "/status/updatedNumberScheduled").unwrap_or(0);
            let ready = int(obj, "/status/numberReady").unwrap_or(0);
            if observed >= generation && want >= 0 && updated >= want && ready >= want {
                Readiness::Ready
            } else {
                Readiness::Waiting(format!("{ready} of {want} daemon pods ready"))
            }
        }
        "Job" => {
            if is_true(obj, "Failed") {
                Readiness::Failed(format!("the Job failed; {}", conditions_text(obj)))
            } else if is_true(obj, "Complete") {
                Readiness::Ready
            } else {
                Readiness::Waiting("not complete yet".into())
            }
        }
        "CustomResourceDefinition" => {
            if is_true(obj, "Established") {
                Readiness::Ready
            } else {
                Readiness::Waiting("not Established yet".into())
            }
        }
        "PersistentVolumeClaim" => match obj.pointer("/status/phase").and_then(Json::as_str) {
            Some("Bound") => Readiness::Ready,
            Some("Lost") => Readiness::Failed("the claim is Lost".into()),
            p => Readiness::Waiting(format!("phase {}", p.unwrap_or("unknown"))),
        },
        "HorizontalPodAutoscaler" => {
            if is_true(obj, "AbleToScale") {
                Readiness::Ready
            } else {
                Readiness::Waiting("not AbleToScale yet".into())
            }
        }
        "Service" if obj.pointer("/spec/type").and_then(Json::as_str) == Some("LoadBalancer") => {
            let has = obj
                .pointer("/status/loadBalancer/ingress")
                .and_then(Json::as_array)
                .is_some_and(|a| !a.is_empty());
            if has {
                Readiness::Ready
            } else {
                Readiness::Waiting("no load balancer address yet".into())
            }
        }
        _ => Readiness::Ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rollout() {
        let mut d = json!({"kind": "Deployment", "metadata": {"generation": 2},
            "spec": {"replicas": 2}, "status": {"observedGeneration": 1}});
        assert!(matches!(check(&d), Readiness::Waiting(w) if w.contains("generation 2")));
        d["status"] =
            json!({"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 1});
        assert!(matches!(check(&d), Readiness::Waiting(_)));
        d["status"]["availableReplicas"] = json!(2);
        assert_eq!(check(&d), Readiness::Ready);
    }

    #[test]
    fn conditions() {
        let j = json!({"kind": "Job", "status": {"conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "m"}]}});
        assert!(
            matches!(check(&j), Readiness::Failed(m) if m.contains("Failed=True (BackoffLimitExceeded: m)"))
        );
        let c = json!({"kind": "CustomResourceDefinition", "status": {"conditions": [
            {"type": "Established", "status": "True"}]}});
        assert_eq!(check(&c), Readiness::Ready);
        assert_eq!(check(&json!({"kind": "ConfigMap"})), Readiness::Ready);
        assert!(matches!(
            check(&json!({"kind": "PersistentVolumeClaim"})),
            Readiness::Waiting(_)
        ));
    }
}
