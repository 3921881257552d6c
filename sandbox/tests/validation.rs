//! Raw HTTPS checks of the apiserver answers kubectl cannot express: protobuf bodies, DELETE
//! preconditions, decode errors, immutable ConfigMaps/Secrets, strategic patches of custom
//! resources, self reviews, and the condition fields of Job and HPA status.

mod common;

use common::Client;
use mlstack_sandbox::{KubeApi, SandboxConfig};
use serde_json::{json, Value};
use std::time::Duration;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn start() -> (mlstack_sandbox::Handle, Client) {
    let config = SandboxConfig {
        ready_delay: Duration::from_millis(10),
        ..SandboxConfig::default()
    };
    let h = KubeApi::start(config).await.expect("sandbox starts");
    let c = Client::new(&h);
    (h, c)
}

fn reason(body: &Value) -> Option<&str> {
    body["reason"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_bodies_are_unsupported_media() {
    let (h, c) = start().await;
    let (code, body) = c
        .send(
            "POST",
            CMS,
            "application/vnd.kubernetes.protobuf",
            "k8s\0\u{a}\u{2}v1",
        )
        .await;
    assert_eq!(
        (code, reason(&body)),
        (415, Some("UnsupportedMediaType")),
        "{body}"
    );
    assert_eq!(
        body["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_preconditions_conflict() {
    let (h, c) = start().await;
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"k": "v"}});
    let (code, created) = c.post(CMS, &cm).await;
    assert_eq!(code, 201, "{created}");
    let uid = created["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let path = format!("{CMS}/p");
    let del = |pre: Value| {
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": pre}).to_string()
    };
    let (code, body) = c
        .send(
            "DELETE",
            &path,
            "application/json",
            &del(json!({"uid": "0000"})),
        )
        .await;
    assert_eq!((code, reason(&body)), (409, Some("Conflict")), "{body}");
    assert_eq!(
        body["message"],
        format!("Operation cannot be fulfilled on configmaps \"p\": Precondition failed: UID in precondition: 0000, UID in object meta: {uid}")
    );
    let (code, body) = c
        .send(
            "DELETE",
            &path,
            "application/json",
            &del(json!({"resourceVersion": "1"})),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(c.get(&path).await.0, 200, "still there");
    let (code, body) = c
        .send(
            "DELETE",
            &path,
            "application/json",
            &del(json!({"uid": uid, "resourceVersion": rv})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(c.get(&path).await.0, 404);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_errors_and_immutable_data() {
    let (h, c) = start().await;
    let deps = "/apis/apps/v1/namespaces/default/deployments";
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": "2", "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}});
    let (code, body) = c.post(deps, &dep).await;
    assert_eq!((code, reason(&body)), (400, Some("BadRequest")), "{body}");
    assert_eq!(body["message"], "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32");

    let secrets = "/api/v1/namespaces/default/secrets";
    let secret = |data: Value, immutable: Option<bool>| {
        let mut s =
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data});
        if let Some(i) = immutable {
            s["immutable"] = json!(i);
        }
        s
    };
    let (code, body) = c
        .post(secrets, &secret(json!({"k": "not base64!"}), None))
        .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["message"], "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3");
    let (code, body) = c
        .post(secrets, &secret(json!({"k": "b25l"}), Some(true)))
        .await;
    assert_eq!(code, 201, "{body}");
    let put = |v: &Value| v.to_string();
    let (code, body) = c
        .send(
            "PUT",
            &format!("{secrets}/s"),
            "application/json",
            &put(&secret(json!({"k": "dHdv"}), Some(true))),
        )
        .await;
    assert_eq!((code, reason(&body)), (422, Some("Invalid")), "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "data");
    assert_eq!(
        body["message"],
        "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    let (code, body) = c
        .send(
            "PUT",
            &format!("{secrets}/s"),
            "application/json",
            &put(&secret(json!({"k": "b25l"}), Some(false))),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "immutable");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategic_patch_of_a_custom_resource_is_refused() {
    let (h, c) = start().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let (code, body) = c
        .post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let ws = "/apis/example.com/v1/namespaces/default/widgets";
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"a": 1}});
    assert_eq!(c.post(ws, &w).await.0, 201);
    let (code, body) = c
        .send(
            "PATCH",
            &format!("{ws}/w"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"a":2}}"#,
        )
        .await;
    assert_eq!(
        (code, reason(&body)),
        (415, Some("UnsupportedMediaType")),
        "{body}"
    );
    let (code, body) = c
        .send(
            "PATCH",
            &format!("{ws}/w"),
            "application/merge-patch+json",
            r#"{"spec":{"a":2}}"#,
        )
        .await;
    assert_eq!((code, &body["spec"]["a"]), (200, &json!(2)), "{body}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_subject_reviews() {
    let (h, c) = start().await;
    let ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "create", "group": "apps", "resource": "deployments"}}});
    let (code, body) = c.post(ssar, &review).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["status"]["allowed"], true);
    assert_eq!(body["spec"]["resourceAttributes"]["verb"], "create");
    let (code, body) = c.post(ssar, &json!({"spec": {}})).await;
    assert_eq!((code, reason(&body)), (422, Some("Invalid")), "{body}");
    assert_eq!(c.get(ssar).await.0, 405);
    let (code, body) = c
        .post(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            &json!({"spec": {"namespace": "default"}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["status"]["resourceRules"][0]["verbs"], json!(["*"]));
    let (_, disc) = c.get("/apis/authorization.k8s.io/v1").await;
    assert_eq!(disc["resources"][0]["verbs"], json!(["create"]), "{disc}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_and_hpa_conditions_have_real_fields() {
    let (h, c) = start().await;
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}});
    let jobs = "/apis/batch/v1/namespaces/default/jobs";
    assert_eq!(c.post(jobs, &job).await.0, 201);
    let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}, "maxReplicas": 3}});
    let hpas = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
    assert_eq!(c.post(hpas, &hpa).await.0, 201);
    for path in [format!("{jobs}/j"), format!("{hpas}/a")] {
        let mut conds = Value::Null;
        for _ in 0..400 {
            let (_, o) = c.get(&path).await;
            if o["status"]["conditions"].is_array() {
                conds = o["status"]["conditions"].clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let list = conds
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no conditions"));
        assert!(!list.is_empty());
        for cond in list {
            assert!(cond.get("lastUpdateTime").is_none(), "{path}: {cond}");
            assert!(cond.get("lastTransitionTime").is_some(), "{path}: {cond}");
        }
    }
    h.shutdown().await;
}
