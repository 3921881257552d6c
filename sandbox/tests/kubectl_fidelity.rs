//! The real kubectl (from PATH) against the sandbox's fidelity: removing list items
//! (client-side `kubectl apply` with `$patch: delete` and `$setElementOrder`, `kubectl patch
//! --type strategic`, `kubectl label`/`annotate`, server-side apply dropping keyed-list
//! items), the apiserver's validation answers, and `kubectl auth can-i`.

mod common;

use common::kctl::Kubectl;
use mlstack_sandbox::{KubeApi, SandboxConfig};
use serde_json::Value;

async fn start() -> (mlstack_sandbox::Handle, Kubectl) {
    let handle = KubeApi::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let k = Kubectl::for_handle(&handle);
    (handle, k)
}

fn deployment(env: &[&str], ports: &[u16], sidecar: bool) -> String {
    let env: String = env
        .iter()
        .map(|e| format!("        - {{name: {e}, value: \"v{e}\"}}\n"))
        .collect();
    let ports: String = ports
        .iter()
        .map(|p| format!("        - {{containerPort: {p}}}\n"))
        .collect();
    let side = if sidecar {
        "      - {name: side, image: busybox:1.36}\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env:
{env}        ports:
{ports}{side}"#
    )
}

fn container<'a>(dep: &'a Value, name: &str) -> &'a Value {
    dep["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {name} in {dep}"))
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|a| a.iter().map(|i| i[key].to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_apply_removes_dropped_items() {
    let (handle, k) = start().await;
    let first = deployment(&["A", "B"], &[80, 81], true);
    k.ok(&["apply", "--validate=false", "-f", "-"], Some(&first))
        .await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(names(&container(&dep, "web")["env"], "name").len(), 2);

    let second = deployment(&["A"], &[80], false);
    k.ok(&["apply", "--validate=false", "-f", "-"], Some(&second))
        .await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    let web = container(&dep, "web");
    assert_eq!(names(&web["env"], "name"), ["\"A\""], "{web}");
    assert_eq!(names(&web["ports"], "containerPort"), ["80"], "{web}");
    let cs = &dep["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(cs, "name"), ["\"web\""], "sidecar removed: {cs}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_annotate_and_strategic_delete() {
    let (handle, k) = start().await;
    let manifest = deployment(&["A", "B"], &[80], true);
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(&manifest),
    )
    .await;
    k.ok(&["label", "deploy/web", "tier=front"], None).await;
    k.ok(&["annotate", "deploy/web", "note=hello"], None).await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    assert_eq!(dep["metadata"]["labels"]["tier"], "front");
    assert_eq!(dep["metadata"]["annotations"]["note"], "hello");
    k.ok(&["label", "deploy/web", "tier-"], None).await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    assert!(dep["metadata"]["labels"].get("tier").is_none(), "{dep}");

    let patch = r#"{"spec":{"template":{"spec":{"containers":[
        {"name":"side","$patch":"delete"},
        {"name":"web","env":[{"name":"B","$patch":"delete"}]}]}}}}"#;
    k.ok(
        &["patch", "deploy/web", "--type", "strategic", "-p", patch],
        None,
    )
    .await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    let cs = &dep["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(cs, "name"), ["\"web\""], "{cs}");
    assert_eq!(names(&container(&dep, "web")["env"], "name"), ["\"A\""]);
    // An unknown directive is refused, as the apiserver does.
    let (code, _, err) = k
        .run(
            &[
                "patch",
                "deploy/web",
                "--type",
                "strategic",
                "-p",
                r#"{"spec":{"strategy":{"$patch":"bogus"}}}"#,
            ],
            None,
        )
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("unknown patch type"), "{err}");
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_drops_items_without_stubs() {
    let (handle, k) = start().await;
    let ssa = ["apply", "--server-side", "--validate=false", "-f", "-"];
    k.ok(&ssa, Some(&deployment(&["A", "B"], &[80, 81], true)))
        .await;
    k.ok(&ssa, Some(&deployment(&["A"], &[80], false))).await;
    let dep = k
        .json(&["get", "deploy", "web", "--show-managed-fields"])
        .await;
    let cs = &dep["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs.as_array().map(Vec::len), Some(1), "{cs}");
    let web = container(&dep, "web");
    assert_eq!(
        web["env"],
        serde_json::json!([{"name": "A", "value": "vA"}])
    );
    assert_eq!(names(&web["ports"], "containerPort"), ["80"], "{web}");
    let mf = dep["metadata"]["managedFields"].to_string();
    for gone in ["\\\"B\\\"", "81", "side"] {
        assert!(!mf.contains(gone), "managedFields still name {gone}: {mf}");
    }

    // Two managers share the env list: the item another manager also owns stays.
    let other = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: web
        env:
        - {name: C, value: "vC"}
"#;
    k.ok(
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager=other",
            "-f",
            "-",
        ],
        Some(other),
    )
    .await;
    k.ok(&ssa, Some(&deployment(&["A", "C"], &[80], false)))
        .await;
    k.ok(&ssa, Some(&deployment(&["A"], &[80], false))).await;
    let dep = k.json(&["get", "deploy", "web"]).await;
    let env = &container(&dep, "web")["env"];
    assert_eq!(
        env,
        &serde_json::json!([{"name": "A", "value": "vA"}, {"name": "C", "value": "vC"}]),
        "C is still owned by other"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_reach_kubectl() {
    let (handle, k) = start().await;
    let ssa = ["apply", "--server-side", "--validate=false", "-f", "-"];
    let good = deployment(&["A"], &[80], false);
    let cases = [
        (
            good.replace("image: nginx:1.27", "image: nginx:1.27\n        imagePullPolicy: Sometimes"),
            "spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        ),
        (
            good.replace("containerPort: 80", "containerPort: 99999"),
            "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive",
        ),
        (
            good.replace("labels: {app: web}", "labels: {app: other}"),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`",
        ),
        (
            good.replace("image: nginx:1.27", "image: nginx:1.27\n        resources: {requests: {cpu: banana}}"),
            "quantities must match the regular expression",
        ),
        (
            good.replace("replicas: 1", "replicas: \"2\""),
            "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
    ];
    for (manifest, want) in &cases {
        let (code, out, err) = k.run(&ssa, Some(manifest)).await;
        assert_ne!(code, 0, "accepted: {manifest}\n{out}");
        assert!(err.contains(want), "want {want:?} in {err}");
    }
    // Nothing invalid was stored; the valid manifest still applies.
    let (code, _, _) = k.run(&["get", "deploy", "web"], None).await;
    assert_eq!(code, 1);
    k.ok(&ssa, Some(&good)).await;

    // An immutable ConfigMap keeps its data.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fixed, namespace: default}\nimmutable: true\ndata: {k: one}\n";
    k.ok(&ssa, Some(cm)).await;
    let (code, _, err) = k.run(&ssa, Some(&cm.replace("one", "two"))).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("data: Forbidden: field is immutable when `immutable` is set"),
        "{err}"
    );
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i() {
    let (handle, k) = start().await;
    let out = k
        .ok(&["auth", "can-i", "create", "deployments"], None)
        .await;
    assert_eq!(out.trim(), "yes");
    let out = k
        .ok(
            &["auth", "can-i", "delete", "secrets", "-n", "kube-system"],
            None,
        )
        .await;
    assert_eq!(out.trim(), "yes");
    let out = k.ok(&["auth", "can-i", "--list"], None).await;
    assert!(out.contains("*.*"), "{out}");
    handle.shutdown().await;
}
