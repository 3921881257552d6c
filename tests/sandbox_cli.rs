//! `mlstack sandbox up|down|status|kubeconfig` through the real binary, checked with the real
//! kubectl. A missing kubectl fails the test (scripts/check.sh checks for it).

mod common;

use common::{tool, SandboxDown, Work};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs a command whose stdout is a pipe and reads it to EOF: if anything detached kept the
/// pipe open, EOF never comes and the guard fires.
fn run_to_eof(w: &Work, args: &[&str]) -> (i32, String) {
    let mut child = w
        .command(args)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        let _ = tx.send(s);
    });
    let text = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("stdout never closed: the sandbox holds the caller's pipe");
    let code = child.wait().expect("wait").code().unwrap_or(-1);
    (code, text)
}

fn kubectl(w: &Work, args: &[&str]) -> std::process::Output {
    Command::new(tool("kubectl"))
        .args(["--kubeconfig", &w.path("kc").display().to_string()])
        .args(["--cache-dir", &w.path("kcache").display().to_string()])
        .args(args)
        .env("HOME", w.path("home"))
        .output()
        .expect("kubectl")
}

#[test]
fn sandbox_up_is_detached_idempotent_and_serves_kubectl() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    let (code, first) = run_to_eof(&w, &["sandbox", "up", "--ready-delay", "100ms"]);
    assert_eq!(code, 0, "{first}");
    assert!(first.contains("emulator"), "{first}");
    let endpoint = first
        .lines()
        .find_map(|l| l.trim().strip_prefix("kubernetes API: "))
        .expect("endpoint line")
        .to_string();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");

    let (code, again) = run_to_eof(&w, &["sandbox", "up"]);
    assert_eq!(code, 0);
    assert!(again.contains("already running"), "{again}");
    assert!(again.contains(&endpoint), "same sandbox: {again}");

    let status = w.run(&["sandbox", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(v["running"], true);
    assert_eq!(v["kubernetes"]["endpoint"], endpoint.as_str());
    assert!(
        !status.stdout.contains("token"),
        "status never prints the token"
    );

    let kc = w.run(&["sandbox", "kubeconfig"]);
    assert_eq!(kc.code, 0, "{kc:?}");
    w.write("kc", &kc.stdout);
    let out = kubectl(&w, &["get", "namespaces"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("default"), "{text}");
    w.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\ndata:\n  a: b\n",
    );
    let applied = kubectl(
        &w,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            &w.path("cm.yaml").display().to_string(),
        ],
    );
    assert!(applied.status.success(), "{applied:?}");

    let down = w.run(&["sandbox", "down"]);
    assert!(down.stdout.contains("stopped"), "{down:?}");
    let status = w.run(&["sandbox", "status", "--json"]);
    assert!(status.stdout.contains("\"running\":false"), "{status:?}");
    let no_kc = w.run(&["sandbox", "kubeconfig"]);
    assert_eq!(no_kc.code, 1);

    // Objects survive a restart (data under .mlstack/sandbox/).
    let (code, _) = run_to_eof(&w, &["sandbox", "up"]);
    assert_eq!(code, 0);
    let kc = w.run(&["sandbox", "kubeconfig"]);
    w.write("kc", &kc.stdout);
    let out = kubectl(
        &w,
        &["get", "configmap", "kept", "-n", "default", "-o", "name"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "configmap/kept"
    );
}
