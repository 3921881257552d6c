//! A no-op plan of 200 Kubernetes objects against the sandbox at 10 ms latency per request,
//! side by side in one run with `kubectl diff --server-side` over the same objects.
//! Run: `cargo bench --bench k8s_noop_plan` (needs kubectl on PATH). Wall-clock medians of
//! alternating runs; the ratio is the figure to compare, not the absolute times.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(cmd: &mut Command) -> (i32, Duration) {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let took = start.elapsed();
    let code = out.status.code().unwrap_or(-1);
    if code > 2 || (code == 1 && cmd.get_program() != "kubectl") {
        panic!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    (code, took)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The same 200 objects as a stack (one bundle) and as a kubectl manifest directory.
fn generate(dir: &Path, n: usize) {
    let mut stack = String::from(
        "stack:\n  name: bench-k8s\nresources:\n  object:\n    type: kubernetes_manifests\n    properties:\n      manifests:\n",
    );
    let mut manifests = String::new();
    stack.push_str("        - apiVersion: v1\n          kind: Namespace\n          metadata:\n            name: bench\n");
    for i in 1..n {
        stack.push_str(&format!(
            "        - apiVersion: v1\n          kind: ConfigMap\n          metadata:\n            name: cm-{i}\n            namespace: bench\n          data:\n            index: \"{i}\"\n            text: hello\n"
        ));
    }
    std::fs::create_dir_all(dir.join("manifests")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("stack.yaml"), stack).unwrap_or_else(|e| panic!("{e}"));
    // What mlstack applied, including its labels, so kubectl diff compares like with like.
    manifests.push_str("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n  labels:\n    app.kubernetes.io/managed-by: mlstack\n    mlstack.dev/stack: bench-k8s\n");
    for i in 1..n {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: bench\n  labels:\n    app.kubernetes.io/managed-by: mlstack\n    mlstack.dev/stack: bench-k8s\ndata:\n  index: \"{i}\"\n  text: hello\n"
        ));
    }
    std::fs::write(dir.join("manifests/all.yaml"), manifests).unwrap_or_else(|e| panic!("{e}"));
}

fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mlstack"));
    let benching = std::env::args().any(|a| a == "--bench");
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl is required under CI=true"
        );
        println!("SKIPPED: kubectl not found");
        return;
    }
    // Under `cargo test --all-targets` a small smoke run keeps the benchmark from rotting.
    let (n, rounds, latency) = if benching {
        (200, 5, "10ms")
    } else {
        (10, 1, "0s")
    };
    let dir = std::env::temp_dir().join(format!("mlstack-k8s-bench-{}", std::process::id()));
    generate(&dir, n);
    let ml = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args).current_dir(&dir).env("NO_COLOR", "1");
        c
    };
    run(ml(&["sandbox", "up", "--latency", latency]).stdin(Stdio::null()));
    let result = std::panic::catch_unwind(|| {
        let (code, _) = run(&mut ml(&[
            "apply",
            "stack.yaml",
            "--sandbox",
            "--auto-approve",
        ]));
        assert_eq!(code, 0, "apply failed");
        let kc = Command::new(&bin)
            .args(["sandbox", "kubeconfig"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("kc"), &kc.stdout).unwrap_or_else(|e| panic!("{e}"));
        let kubectl = || {
            let mut c = Command::new("kubectl");
            c.arg("--kubeconfig")
                .arg(dir.join("kc"))
                .arg("--cache-dir")
                .arg(dir.join("kcache"))
                .env("HOME", dir.join("home"))
                .args(["diff", "--server-side", "--field-manager", "mlstack", "-f"])
                .arg(dir.join("manifests/all.yaml"));
            c
        };
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (code, t) = run(&mut ml(&[
                "plan",
                "stack.yaml",
                "--sandbox",
                "--detailed-exitcode",
            ]));
            assert_eq!(code, 0, "the plan must be empty");
            ours.push(t);
            let (code, t) = run(&mut kubectl());
            assert_eq!(code, 0, "kubectl diff must find no difference");
            theirs.push(t);
        }
        (median(ours), median(theirs))
    });
    let _ = Command::new(&bin)
        .args(["sandbox", "down"])
        .current_dir(&dir)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let (ours, theirs) = result.unwrap_or_else(|e| std::panic::resume_unwind(e));
    println!("objects: {n}, sandbox latency: {latency}, rounds: {rounds} (medians)");
    println!("| tool | no-op plan / diff |\n|---|---:|");
    println!("| mlstack plan --sandbox | {:.3} s |", ours.as_secs_f64());
    println!(
        "| kubectl diff --server-side | {:.3} s |",
        theirs.as_secs_f64()
    );
    println!(
        "ratio kubectl / mlstack: {:.1}×",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}
