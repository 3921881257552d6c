//! The real kubectl with validation on (no `--validate=false`): it downloads `/openapi/v3`,
//! finds `fieldValidation` on the kind's PATCH operation and leaves unknown fields to the
//! server; `kubectl explain` reads the same documents; CRDs get their schema served,
//! enforced, defaulted and pruned; `create -f`, client-side `apply` and `delete --wait` work.

mod common;

use common::kctl::Kubectl;
use mlstack_sandbox::{KubeApi, SandboxConfig};

async fn start() -> (mlstack_sandbox::Handle, Kubectl) {
    let handle = KubeApi::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let k = Kubectl::for_handle(&handle);
    (handle, k)
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - {containerPort: 80}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reads_the_served_schemas() {
    let (handle, k) = start().await;
    let out = k
        .ok(
            &["explain", "deployment.spec.template.spec.containers"],
            None,
        )
        .await;
    assert!(out.contains("KIND:       Deployment"), "{out}");
    assert!(out.contains("FIELD: containers <[]Container>"), "{out}");
    assert!(out.contains("imagePullPolicy\t<string>"), "{out}");
    assert!(out.contains("name\t<string> -required-"), "{out}");
    let out = k
        .ok(&["explain", "pod.spec.containers", "--recursive"], None)
        .await;
    assert!(out.contains("readinessProbe\t<Probe>"), "{out}");
    assert!(out.contains("httpGet\t<HTTPGetAction>"), "{out}");
    let out = k.ok(&["explain", "configmap"], None).await;
    assert!(out.contains("VERSION:    v1"), "{out}");
    assert!(out.contains("data\t<map[string]string>"), "{out}");
    let (code, _, err) = k
        .run(&["explain", "deployment.spec.nothinghere"], None)
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("nothinghere"), "{err}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_create_with_validation_on() {
    let (handle, k) = start().await;
    // Server-side apply with kubectl's default validation (Strict on the server).
    let out = k
        .ok(&["apply", "--server-side", "-f", "-"], Some(DEPLOYMENT))
        .await;
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    // An unknown field fails under Strict, in the apiserver's words, and nothing changes.
    let typo = DEPLOYMENT.replace(
        "image: nginx:1.27",
        "image: nginx:1.28\n        imagePullPolcy: Always",
    );
    let (code, _, err) = k
        .run(&["apply", "--server-side", "-f", "-"], Some(&typo))
        .await;
    assert_ne!(code, 0, "a typo was accepted");
    assert!(
        err.contains(r#".spec.template.spec.containers[name="web"].imagePullPolcy: field not declared in schema"#),
        "{err}"
    );
    let d = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    // Warn: applied, the field dropped, kubectl prints the server's warning.
    let (code, _, err) = k
        .run(
            &["apply", "--server-side", "--validate=warn", "-f", "-"],
            Some(&typo),
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Warning:") && err.contains("imagePullPolcy"),
        "{err}"
    );
    let d = k.json(&["get", "deploy", "web"]).await;
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:1.28");
    assert!(
        c.get("imagePullPolcy").is_none(),
        "unknown field stored: {c}"
    );

    // create -f and client-side apply, validation on.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1, namespace: default}\ndata: {a: \"1\"}\n";
    let out = k.ok(&["create", "-f", "-"], Some(cm)).await;
    assert!(out.contains("configmap/cm1 created"), "{out}");
    let (code, _, err) = k.run(&["create", "-f", "-"], Some(cm)).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("AlreadyExists") || err.contains("already exists"),
        "{err}"
    );
    let bad = cm.replace("cm1", "cm2").replace("data:", "dta:");
    let (code, _, err) = k.run(&["create", "-f", "-"], Some(&bad)).await;
    assert_ne!(code, 0, "unknown top-level field accepted");
    assert!(
        err.contains(r#"strict decoding error: unknown field "dta""#),
        "{err}"
    );
    let out = k
        .ok(&["apply", "-f", "-"], Some(&cm.replace("\"1\"", "\"2\"")))
        .await;
    assert!(out.contains("configmap/cm1"), "{out}");
    let got = k.json(&["get", "cm", "cm1"]).await;
    assert_eq!(got["data"]["a"], "2");
    let out = k
        .ok(&["apply", "-f", "-"], Some(&cm.replace("cm1", "cm3")))
        .await;
    assert!(out.contains("configmap/cm3 created"), "{out}");

    // delete --wait returns once the object is gone.
    let out = k
        .ok(
            &["delete", "--wait", "--timeout=60s", "deploy", "web"],
            None,
        )
        .await;
    assert!(out.contains("deployment.apps \"web\" deleted"), "{out}");
    let (code, _, err) = k.run(&["get", "deploy", "web"], None).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NotFound"), "{err}");
    handle.shutdown().await;
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: models.ml.example.com}
spec:
  group: ml.example.com
  scope: Namespaced
  names: {plural: models, singular: model, kind: Model}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              image: {type: string, description: "Image the model server runs."}
              replicas: {type: integer, minimum: 1, maximum: 10}
              stage: {type: string, enum: [Staging, Production], default: Staging}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_follow_their_schema() {
    let (handle, k) = start().await;
    k.ok(&["apply", "--server-side", "-f", "-"], Some(CRD))
        .await;
    let model = |spec: &str| {
        format!("apiVersion: ml.example.com/v1\nkind: Model\nmetadata: {{name: m1, namespace: default}}\nspec: {spec}\n")
    };
    // Out of bounds, not in the enum, missing required: 422 with each cause.
    let (code, _, err) = k
        .run(
            &["apply", "--server-side", "-f", "-"],
            Some(&model("{replicas: 50, stage: Dev}")),
        )
        .await;
    assert_ne!(code, 0);
    for want in [
        "The Model \"m1\" is invalid",
        "spec.replicas: Invalid value: 50: spec.replicas in body should be less than or equal to 10",
        "spec.stage: Unsupported value: \"Dev\": supported values: \"Staging\", \"Production\"",
        "spec.image: Required value",
    ] {
        assert!(err.contains(want), "want {want:?} in {err}");
    }
    // Unknown fields: Strict refuses, Ignore prunes them, preserve-unknown keeps them.
    let with_unknown = model("{image: srv:1, replicas: 2, colour: red, extra: {any: {deep: 1}}}");
    let (code, _, err) = k
        .run(&["apply", "--server-side", "-f", "-"], Some(&with_unknown))
        .await;
    assert_ne!(code, 0);
    assert!(
        err.contains(".spec.colour: field not declared in schema"),
        "{err}"
    );
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(&with_unknown),
    )
    .await;
    let m = k.json(&["get", "models", "m1"]).await;
    assert!(m["spec"].get("colour").is_none(), "not pruned: {m}");
    assert_eq!(m["spec"]["extra"]["any"]["deep"], 1);
    assert_eq!(m["spec"]["replicas"], 2);
    assert_eq!(
        m["spec"]["stage"], "Staging",
        "schema default not applied: {m}"
    );
    // explain reads the CRD's schema.
    let out = k.ok(&["explain", "model.spec"], None).await;
    assert!(out.contains("image\t<string> -required-"), "{out}");
    assert!(out.contains("Image the model server runs."), "{out}");
    handle.shutdown().await;
}
