//! The real kubectl against the sandbox API: get, apply --server-side, diff --server-side,
//! delete. A missing kubectl fails the test.

mod common;

use mlstack_sandbox::{kubeconfig, KubeApi, SandboxConfig};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

struct Kubectl<'a> {
    bin: &'a Path,
    dir: &'a Path,
}

impl Kubectl<'_> {
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut cmd = Command::new(self.bin);
        cmd.env("HOME", self.dir)
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn kubectl");
        if let Some(input) = stdin {
            use tokio::io::AsyncWriteExt;
            let mut si = child.stdin.take().unwrap();
            si.write_all(input.as_bytes()).await.unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("kubectl hung")
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

const MANIFEST: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  namespace: demo
  labels: {app: web}
data:
  key: one
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_apply_diff_delete() {
    let bin = common::kubectl();
    let dir = tempfile::tempdir().unwrap();
    let handle = KubeApi::start(SandboxConfig::default()).await.unwrap();
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&handle)).unwrap();
    let k = Kubectl {
        bin: &bin,
        dir: dir.path(),
    };

    let (code, out, err) = k.run(&["version", "-o", "json"], None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("mlstack-sandbox"), "{out}");

    let (code, out, err) = k
        .run(
            &["apply", "--server-side", "--validate=false", "-f", "-"],
            Some(MANIFEST),
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );

    let (code, out, err) = k.run(&["get", "configmaps", "-n", "demo"], None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cm1"), "{out}");

    let (code, out, err) = k
        .run(
            &[
                "get",
                "deploy",
                "web",
                "-n",
                "demo",
                "-o",
                "json",
                "--show-managed-fields",
            ],
            None,
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let dep: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dep["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(dep["metadata"]["managedFields"][0]["manager"], "kubectl");

    let (code, out, err) = k.run(&["get", "cm", "-A", "-l", "app=web"], None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cm1"), "{out}");

    // Same manifest: no difference.
    let (code, out, err) = k
        .run(&["diff", "--server-side", "-f", "-"], Some(MANIFEST))
        .await;
    assert_eq!(code, 0, "diff after apply: {out}{err}");

    // Changed manifest: a difference, exit 1.
    let changed = MANIFEST.replace("key: one", "key: two");
    let (code, out, err) = k
        .run(&["diff", "--server-side", "-f", "-"], Some(&changed))
        .await;
    assert_eq!(code, 1, "diff after change: {out}{err}");
    assert!(out.contains("key: two"), "{out}");

    // A change by another manager to a field kubectl owns conflicts on re-apply.
    let (code, out, err) = k
        .run(&["scale", "deploy/web", "-n", "demo", "--replicas=5"], None)
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = k
        .run(
            &[
                "apply",
                "--server-side",
                "--validate=false",
                "--field-manager=other",
                "-f",
                "-",
            ],
            Some(MANIFEST),
        )
        .await;
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("conflict"), "{err}");
    let (code, out, err) = k
        .run(
            &[
                "apply",
                "--server-side",
                "--validate=false",
                "--force-conflicts",
                "-f",
                "-",
            ],
            Some(MANIFEST),
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = k
        .run(&["delete", "configmap", "cm1", "-n", "demo"], None)
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = k
        .run(&["get", "configmap", "cm1", "-n", "demo"], None)
        .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );

    // A CRD, then a custom resource of the type it registers.
    let (code, out, err) = k
        .run(
            &["apply", "--server-side", "--validate=false", "-f", "-"],
            Some(CRD),
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = k
        .run(
            &["apply", "--server-side", "--validate=false", "-f", "-"],
            Some(WIDGET),
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = k.run(&["get", "widgets", "-n", "demo"], None).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("w1"), "{out}");
    let (code, out, err) = k
        .run(&["diff", "--server-side", "-f", "-"], Some(WIDGET))
        .await;
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = k.run(&["delete", "namespace", "demo"], None).await;
    assert_eq!(code, 0, "{out}{err}");
    handle.shutdown().await;
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const WIDGET: &str = r#"
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: demo
spec:
  size: 3
"#;
