//! The real kubectl (from PATH) with a private HOME, kubeconfig and discovery cache, against
//! one sandbox API; every run is bounded and killed on drop.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

pub struct Kubectl {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    /// A kubectl for `handle` in a fresh temporary directory.
    pub fn for_handle(handle: &mlstack_sandbox::Handle) -> Kubectl {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("kubeconfig"),
            mlstack_sandbox::kubeconfig(handle),
        )
        .expect("kubeconfig");
        Kubectl {
            bin: super::kubectl(),
            dir,
        }
    }

    /// Runs kubectl; (exit code, stdout, stderr).
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let dir: &Path = self.dir.path();
        let mut child = Command::new(&self.bin)
            .env("HOME", dir)
            .env("KUBECONFIG", dir.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(dir.join("cache"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn kubectl");
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

    /// Runs kubectl and requires success; returns stdout.
    pub async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (code, out, err) = self.run(args, stdin).await;
        assert_eq!(code, 0, "kubectl {args:?}: {out}{err}");
        out
    }

    /// `kubectl ... -o json`, parsed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let out = self.ok(&a, None).await;
        serde_json::from_str(&out).expect("kubectl printed JSON")
    }

    /// Polls `kubectl get ... -o json` until `done` holds (60 s at most).
    pub async fn until(&self, args: &[&str], what: &str, done: impl Fn(&Value) -> bool) -> Value {
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
