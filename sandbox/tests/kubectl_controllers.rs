//! The real kubectl against the sandbox's simulated controllers and deletion: Deployments
//! roll out through ReplicaSets and Pods, rollout history and undo, scaling, StatefulSet
//! and Job Pods, finalizers, Terminating namespaces, garbage collection, `kubectl create`.

use mlstack_sandbox::{kubeconfig, KubeApi, SandboxConfig};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// kubectl from PATH; a test without it fails (it is a required tool).
fn kubectl_bin() -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .expect("kubectl must be on PATH for these tests")
}

struct Kubectl {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    _handle: mlstack_sandbox::Handle,
}

async fn start() -> Kubectl {
    let config = SandboxConfig {
        ready_delay: Duration::from_millis(100),
        ..SandboxConfig::default()
    };
    let handle = KubeApi::start(config).await.expect("start sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&handle)).expect("kubeconfig");
    Kubectl {
        bin: kubectl_bin(),
        dir,
        _handle: handle,
    }
}

impl Kubectl {
    fn home(&self) -> &Path {
        self.dir.path()
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut cmd = Command::new(&self.bin);
        cmd.env("HOME", self.home())
            .env("KUBECONFIG", self.home().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.home().join("cache"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn kubectl");
        let mut si = child.stdin.take().expect("stdin");
        if let Some(input) = stdin {
            use tokio::io::AsyncWriteExt;
            si.write_all(input.as_bytes()).await.expect("write stdin");
        }
        drop(si);
        let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .expect("kubectl hung")
            .expect("kubectl output");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs and asserts success; returns stdout.
    async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (code, out, err) = self.run(args, stdin).await;
        assert_eq!(code, 0, "kubectl {args:?}: {out}{err}");
        out
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.ok(&a, None).await;
        serde_json::from_str(&out).expect("kubectl -o json")
    }

    /// Polls `kubectl get ... -o json` until `done` holds (60 s at most).
    async fn until(&self, args: &[&str], what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
            let mut a = args.to_vec();
            a.extend(["-o", "json"]);
            let (code, out, _) = self.run(&a, None).await;
            if code == 0 {
                last = serde_json::from_str(&out).unwrap_or(Value::Null);
                if done(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("timed out waiting for {what}; last: {last:#}");
    }
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_works() {
    let k = start().await;
    let out = k.ok(&["create", "--validate=false", "-f", "-"], Some(DEPLOY)).await;
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let (code, _, err) = k.run(&["create", "--validate=false", "-f", "-"], Some(DEPLOY)).await;
    assert_ne!(code, 0);
    assert!(err.contains("AlreadyExists") || err.contains("already exists"), "{err}");
}
