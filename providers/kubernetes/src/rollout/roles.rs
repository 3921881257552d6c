//! The objects of the two roles. The stack renders the stable role's object (`workload`); the
//! candidate is the same object with the candidate's name and track label (plain), or a second
//! predictor (seldon). Names are by role, never by version, so a re-run after a crash finds
//! and updates the same objects instead of creating more.

use crate::api::ObjectId;
use serde_json::{json, Value as Json};

/// The label that tells the roles' pods apart (the Services select on it).
pub const TRACK: &str = "mlstack.dev/track";
/// ingress-nginx's share of requests for a canary Ingress.
pub const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";
/// The field manager of the weight annotation, so that the stack's own server-side applies
/// (manager `mlstack`) neither own nor reset it.
pub const WEIGHT_MANAGER: &str = "mlstack-rollout";

fn set_track(obj: &mut Json, pointer: &str, track: &str) {
    if let Some(m) = obj.pointer_mut(pointer).and_then(Json::as_object_mut) {
        m.insert(TRACK.into(), json!(track));
    }
}

/// The object's identity.
pub fn id(obj: &Json) -> Option<ObjectId> {
    ObjectId::of(obj).ok()
}

/// Plain: the stable Deployment as the stack rendered it, with the stable track label.
pub fn stable_deployment(workload: &Json) -> Json {
    let mut d = workload.clone();
    for p in [
        "/metadata/labels",
        "/spec/selector/matchLabels",
        "/spec/template/metadata/labels",
    ] {
        set_track(&mut d, p, "stable");
    }
    d
}

/// Plain: the candidate's Deployment (`NAME-candidate`, track `candidate`, `MODEL_TRACK`).
pub fn candidate_deployment(workload: &Json) -> Json {
    let mut d = workload.clone();
    if let Some(n) = d.pointer_mut("/metadata/name") {
        let name = format!("{}-candidate", n.as_str().unwrap_or_default());
        *n = json!(name);
    }
    for p in [
        "/metadata/labels",
        "/spec/selector/matchLabels",
        "/spec/template/metadata/labels",
    ] {
        set_track(&mut d, p, "candidate");
    }
    if let Some(containers) = d
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Json::as_array_mut)
    {
        for c in containers {
            if let Some(env) = c.get_mut("env").and_then(Json::as_array_mut) {
                for e in env {
                    if e.get("name").and_then(Json::as_str) == Some("MODEL_TRACK") {
                        e["value"] = json!("candidate");
                    }
                }
            }
        }
    }
    d
}

/// Plain: the candidate Ingress that carries the weight (`NAME-candidate`).
pub fn candidate_ingress(name: &str, namespace: &str) -> ObjectId {
    ObjectId {
        api_version: "networking.k8s.io/v1".into(),
        kind: "Ingress".into(),
        namespace: namespace.into(),
        name: format!("{name}-candidate"),
    }
}

/// The merge patch that sets the candidate's share.
pub fn weight_patch(weight: u32) -> Json {
    json!({"metadata": {"annotations": {WEIGHT: weight.to_string()}}})
}

fn first_predictor(sd: &Json) -> Json {
    sd.pointer("/spec/predictors/0")
        .cloned()
        .unwrap_or(Json::Null)
}

fn as_track(mut p: Json, track: &str, traffic: u32) -> Json {
    if let Some(m) = p.as_object_mut() {
        m.insert("name".into(), json!(track));
        m.insert("traffic".into(), json!(traffic));
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert(TRACK.into(), json!(track));
        }
    }
    p
}

/// Seldon: the SeldonDeployment with the stable predictor of `stable` and, while a rollout
/// runs, the candidate predictor of `candidate` at `weight` percent. Traffic sums to 100.
pub fn seldon(stable: &Json, candidate: Option<&Json>, weight: u32) -> Json {
    let mut sd = stable.clone();
    let weight = if candidate.is_some() {
        weight.min(100)
    } else {
        0
    };
    let mut predictors = vec![as_track(first_predictor(stable), "stable", 100 - weight)];
    if let Some(c) = candidate {
        predictors.push(as_track(first_predictor(c), "candidate", weight));
    }
    if let Some(spec) = sd.get_mut("spec").and_then(Json::as_object_mut) {
        spec.insert("predictors".into(), Json::Array(predictors));
    }
    sd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_candidate_is_the_stable_object_renamed_and_relabelled() {
        let w = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "fd", "namespace": "ml", "labels": {"app": "fd"}},
            "spec": {"selector": {"matchLabels": {"app": "fd"}},
                "template": {"metadata": {"labels": {"app": "fd"}}, "spec": {"containers": [
                    {"name": "fd", "env": [{"name": "MODEL_TRACK", "value": "stable"}]}]}}}});
        let c = candidate_deployment(&w);
        assert_eq!(c["metadata"]["name"], "fd-candidate");
        assert_eq!(c["spec"]["selector"]["matchLabels"][TRACK], "candidate");
        assert_eq!(
            c["spec"]["template"]["metadata"]["labels"][TRACK],
            "candidate"
        );
        assert_eq!(
            c["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
            "candidate"
        );
        assert_eq!(stable_deployment(&w)["metadata"]["labels"][TRACK], "stable");
    }

    #[test]
    fn seldon_traffic_sums_to_100() {
        let s = json!({"kind": "SeldonDeployment", "metadata": {"name": "fd"},
            "spec": {"predictors": [{"name": "stable", "traffic": 100, "graph": {"modelUri": "v1"}}]}});
        let c = json!({"kind": "SeldonDeployment", "metadata": {"name": "fd"},
            "spec": {"predictors": [{"name": "stable", "traffic": 100, "graph": {"modelUri": "v2"}}]}});
        let both = seldon(&s, Some(&c), 25);
        let p = both["spec"]["predictors"].as_array().unwrap();
        assert_eq!(
            (p[0]["traffic"].clone(), p[1]["traffic"].clone()),
            (json!(75), json!(25))
        );
        assert_eq!(p[1]["name"], "candidate");
        assert_eq!(p[1]["graph"]["modelUri"], "v2");
        let one = seldon(&c, None, 25);
        assert_eq!(one["spec"]["predictors"].as_array().unwrap().len(), 1);
        assert_eq!(one["spec"]["predictors"][0]["traffic"], 100);
    }
}
