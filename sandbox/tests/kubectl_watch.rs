//! The real kubectl (found on PATH; a missing kubectl fails the test) against the sandbox
//! API's watch and pagination: `get -w`, `get --chunk-size`, `wait --for=delete`,
//! `wait --for=jsonpath`, `rollout status`.

mod common;

use mlstack_sandbox::{kubeconfig, KubeApi, SandboxConfig};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
    _api: mlstack_sandbox::Handle,
}

impl Kubectl {
    async fn start() -> Kubectl {
        let bin = common::kubectl();
        let dir = tempfile::tempdir().unwrap();
        let api = KubeApi::start(SandboxConfig::default()).await.unwrap();
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&api)).unwrap();
        Kubectl {
            bin,
            dir,
            _api: api,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let d: &Path = self.dir.path();
        let mut cmd = Command::new(&self.bin);
        cmd.env("HOME", d)
            .env("KUBECONFIG", d.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(d.join("cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    fn spawn(&self, args: &[&str]) -> Child {
        let mut child = self.command(args).spawn().expect("spawn kubectl");
        drop(child.stdin.take());
        child
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut child = self.command(args).spawn().expect("spawn kubectl");
        let mut si = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            use tokio::io::AsyncWriteExt;
            si.write_all(input.as_bytes()).await.unwrap();
        }
        drop(si);
        finish(child).await
    }

    async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (code, out, err) = self.run(args, stdin).await;
        assert_eq!(code, 0, "kubectl {args:?}: {out}{err}");
        out
    }
}

async fn finish(child: Child) -> (i32, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("kubectl hung")
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SETUP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm1, namespace: demo, labels: {app: web}}
data: {key: one}
"#;

/// Reads lines until one contains every needle; all lines read so far on timeout.
async fn expect_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: &mut Vec<String>,
    needles: &[&str],
) {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(l)) = lines.next_line().await {
            seen.push(l.clone());
            if needles.iter().all(|n| l.contains(n)) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no line with {needles:?} in {seen:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_prints_initial_state_and_changes() {
    let k = Kubectl::start().await;
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(SETUP),
    )
    .await;
    let mut watch = k.spawn(&[
        "get",
        "configmaps",
        "-n",
        "demo",
        "-l",
        "app=web",
        "-w",
        "--output-watch-events",
        "--request-timeout=120s",
    ]);
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    expect_line(&mut lines, &mut seen, &["ADDED", "cm1"]).await;

    // (`kubectl create` sends protobuf, which the sandbox does not speak.)
    let cm2 =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2, namespace: demo}\ndata: {a: b}\n";
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(cm2),
    )
    .await;
    k.ok(
        &["label", "configmap", "cm2", "-n", "demo", "app=web"],
        None,
    )
    .await;
    // cm2 enters the selection by its label change: the watcher sees it ADDED.
    expect_line(&mut lines, &mut seen, &["ADDED", "cm2"]).await;
    k.ok(
        &[
            "patch",
            "configmap",
            "cm1",
            "-n",
            "demo",
            "--type=merge",
            "-p",
            r#"{"data":{"key":"two","more":"x"}}"#,
        ],
        None,
    )
    .await;
    expect_line(&mut lines, &mut seen, &["MODIFIED", "cm1"]).await;
    k.ok(&["delete", "configmap", "cm1", "-n", "demo"], None)
        .await;
    expect_line(&mut lines, &mut seen, &["DELETED", "cm1"]).await;
    // The namespace's deletion takes cm2 along: a DELETED event for the cascade.
    k.ok(&["delete", "namespace", "demo"], None).await;
    expect_line(&mut lines, &mut seen, &["DELETED", "cm2"]).await;
    watch.start_kill().unwrap();
    let (_, _, err) = finish(watch).await;
    assert!(!err.contains("decode"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_chunk_size_pages_through_many_objects() {
    let k = Kubectl::start().await;
    let mut manifest = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: many}\n");
    for i in 0..7 {
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: many}}\ndata: {{i: \"{i}\"}}\n"
        ));
    }
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(&manifest),
    )
    .await;
    let (code, out, err) = k
        .run(
            &[
                "get",
                "configmaps",
                "-n",
                "many",
                "--chunk-size=2",
                "-o",
                "name",
                "-v=6",
            ],
            None,
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let names: Vec<&str> = out.lines().collect();
    let want: Vec<String> = (0..7).map(|i| format!("configmap/cm{i}")).collect();
    assert_eq!(names, want, "{err}");
    let pages = err.matches("limit=2").count();
    assert!(pages >= 4, "expected 4 pages of 2, kubectl log: {err}");
    assert!(err.contains("continue="), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_wait_for_jsonpath_and_for_delete() {
    let k = Kubectl::start().await;
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(SETUP),
    )
    .await;
    let waiting = k.spawn(&[
        "wait",
        "configmap/cm1",
        "-n",
        "demo",
        "--for=jsonpath={.data.key}=two",
        "--timeout=60s",
    ]);
    // Let the waiter see the current (unmet) state before the change.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    k.ok(
        &[
            "patch",
            "configmap",
            "cm1",
            "-n",
            "demo",
            "--type=merge",
            "-p",
            r#"{"data":{"key":"two"}}"#,
        ],
        None,
    )
    .await;
    let (code, out, err) = finish(waiting).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("condition met"), "{out}{err}");

    let waiting = k.spawn(&[
        "wait",
        "configmap/cm1",
        "-n",
        "demo",
        "--for=delete",
        "--timeout=60s",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    k.ok(&["delete", "configmap", "cm1", "-n", "demo"], None)
        .await;
    let (code, out, err) = finish(waiting).await;
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_rollout_status_follows_the_simulated_controller() {
    let k = Kubectl::start().await;
    let deploy = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"#;
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(deploy),
    )
    .await;
    let out = k
        .ok(
            &["rollout", "status", "deployment/web", "--timeout=60s"],
            None,
        )
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
}
