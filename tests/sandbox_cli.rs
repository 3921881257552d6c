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

/// Twenty ConfigMaps in the standalone sandbox API.
fn config_maps() -> String {
    let mut s = String::from(
        "stack:\n  name: faulty\nresources:\n  maps:\n    type: kubernetes_manifests\n    properties:\n      manifests:\n",
    );
    for i in 0..20 {
        s.push_str(&format!(
            "        - {{apiVersion: v1, kind: ConfigMap, metadata: {{name: m{i}, namespace: default}}, data: {{i: \"{i}\"}}}}\n"
        ));
    }
    s
}

#[test]
fn faults_survive_a_restart_and_status_counts_them_per_api() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    let r = w.run(&[
        "sandbox",
        "up",
        "--ready-delay",
        "50ms",
        "--latency",
        "2ms",
        "--error-rate",
        "0.1",
        "--error-codes",
        "503",
        "--drop-rate",
        "0.05",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["sandbox", "down"]);
    assert_eq!(r.code, 0, "{r:?}");

    // `--sandbox` starts it again, with the faults of the last `up`.
    w.write("stack.yaml", &config_maps());
    let r = w.run(&["apply", "stack.yaml", "--sandbox", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("20 added"), "{r:?}");
    let r = w.run(&["sandbox", "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s: serde_json::Value = serde_json::from_str(&r.stdout).expect("status JSON");
    assert_eq!(
        s["faults"],
        serde_json::json!({"latency_ms": 2, "error_rate": 0.1, "error_codes": [503], "drop_rate": 0.05}),
        "{s}"
    );
    let kube = &s["apis"]["kubernetes"];
    let requests = kube["requests"].as_u64().unwrap_or(0);
    // At least 40 resource requests (a read and an apply per map): the sandbox never falls
    // behind its rates, so at least ⌊40·0.05⌋ drops and some 503s happened, and nothing else.
    assert!(requests >= 40, "{s}");
    assert_eq!(kube["latency_delayed"].as_u64(), Some(requests), "{s}");
    assert!(kube["dropped"].as_u64().unwrap_or(0) >= 2, "{s}");
    let errors = kube["errors"].as_object().cloned().unwrap_or_default();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["503"], "{s}");
    assert!(errors["503"].as_u64().unwrap_or(0) >= 3, "{s}");
    // Nothing talked to the cloud, and it has no cluster.
    assert_eq!(s["apis"]["cloud"]["requests"], 0, "{s}");
    assert_eq!(s["apis"]["clusters"], serde_json::json!({}), "{s}");
    let human = w.run(&["sandbox", "status"]);
    assert!(
        human
            .stdout
            .contains("faults: latency 2 ms, error rate 0.1 (codes 503), drop rate 0.05"),
        "{human:?}"
    );

    // An explicit `up` takes its own settings (here: none).
    let r = w.run(&["sandbox", "down"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["sandbox", "up"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["sandbox", "status", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).expect("status JSON");
    assert_eq!(s["faults"]["error_rate"], 0.0, "{s}");
    assert_eq!(s["faults"]["drop_rate"], 0.0, "{s}");
}
