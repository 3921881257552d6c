//! One-shot bootstrap of the reference stack into the sandbox (issue 5's "done when"): from an
//! empty state one `apply --sandbox` brings up the cloud (network, accounts, roles, Managed
//! Kubernetes, PostgreSQL, bucket) and then everything inside the new cluster; the next plan is
//! empty; the real kubectl sees the model API in that cluster; an apply killed half-way and run
//! again converges with no duplicate cloud resources; destroy leaves the cloud empty.

mod common;

use common::{tool, wait_with_guard, Run, SandboxDown, Work};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

fn stack() -> String {
    format!("{}/stacks/fraud-detection.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// `mlstack CMD STACK ARGS --sandbox`, with a hang guard generous enough for slow operations.
fn ml(w: &Work, args: &[&str]) -> Run {
    let stack = stack();
    let mut all = vec![args[0], stack.as_str()];
    all.extend_from_slice(&args[1..]);
    all.push("--sandbox");
    let child = w.command(&all).spawn().expect("spawn mlstack");
    wait_with_guard(child, Duration::from_secs(600))
}

/// Starts the sandbox with quick readiness, the given operation delay and extra flags.
fn up(w: &Work, operation_delay: &str, extra: &[&str]) {
    let mut args = vec![
        "sandbox",
        "up",
        "--ready-delay",
        "50ms",
        "--operation-delay",
        operation_delay,
    ];
    args.extend_from_slice(extra);
    let r = w.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
}

fn status(w: &Work) -> Value {
    let r = w.run(&["sandbox", "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).expect("status JSON")
}

fn count(status: &Value, kind: &str) -> u64 {
    status["cloud_resources"][kind].as_u64().unwrap_or(0)
}

/// The cloud resources the reference stack owns, by type.
const OWNED: &[(&str, u64)] = &[
    ("vpc.network", 1),
    ("vpc.subnet", 2),
    ("iam.serviceAccount", 2),
    ("resourcemanager.folderAccessBinding", 3),
    ("k8s.cluster", 1),
    ("k8s.nodeGroup", 1),
    ("mdb.postgresql.cluster", 1),
    ("mdb.postgresql.database", 1),
    ("mdb.postgresql.user", 1),
    ("storage.bucket", 1),
];

fn assert_owned_once(w: &Work) {
    let s = status(w);
    for (kind, n) in OWNED {
        assert_eq!(count(&s, kind), *n, "{kind}: {s}");
    }
}

fn assert_cloud_empty(w: &Work) {
    let s = status(w);
    for (kind, _) in OWNED {
        assert_eq!(count(&s, kind), 0, "{kind} left behind: {s}");
    }
    assert_eq!(s["clusters"].as_array().map(Vec::len), Some(0), "{s}");
}

/// After destroy, `mlstack state list` shows nothing: data sources go with the resources.
fn assert_state_empty(w: &Work) {
    let r = w.run(&["state", "list", &stack()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "", "left in state after destroy: {r:?}");
}

#[test]
fn the_reference_stack_bootstraps_in_one_apply_and_destroys() {
    let kubectl = tool("kubectl");
    let w = Work::new();
    let _down = SandboxDown(&w);
    // The cloud keeps every exchange and writes them out when it stops.
    let exchanges = w.path("exchanges.json");
    let mut cmd = w.command(&[
        "sandbox",
        "up",
        "--ready-delay",
        "50ms",
        "--operation-delay",
        "100ms",
    ]);
    cmd.env("MLSTACK_SANDBOX_RECORD", &exchanges);
    let r = wait_with_guard(cmd.spawn().expect("spawn"), Duration::from_secs(60));
    assert_eq!(r.code, 0, "{r:?}");

    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 83 added, 0 changed, 0 destroyed."),
        "{r:?}"
    );
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "the plan after bootstrap is empty: {r:?}");
    assert_owned_once(&w);

    let s = status(&w);
    let cluster = &s["clusters"][0];
    assert_eq!(cluster["name"], "fraud-detection", "{s}");
    assert_eq!(cluster["status"], "RUNNING", "{s}");
    assert!(
        !s.to_string().contains("BEGIN CERTIFICATE"),
        "status stays short: {s}"
    );

    // The kubeconfig output is sensitive, and holds no token (an exec plugin).
    let r = w.run(&["output", &stack(), "kubeconfig"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("sensitive"), "{r:?}");
    let r = w.run(&["output", &stack(), "kubeconfig", "--show-sensitive"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("exec:") && r.stdout.contains("create-token"),
        "{r:?}"
    );

    // `sandbox kubeconfig` defaults to the newest cluster of the sandbox cloud.
    let kc = w.run(&["sandbox", "kubeconfig", "--cluster", "fraud-detection"]);
    assert_eq!(kc.code, 0, "{kc:?}");
    assert!(kc
        .stdout
        .contains(cluster["endpoint"].as_str().unwrap_or("?")));
    w.write("kc", &kc.stdout);
    let k = Kubectl::new(&w, kubectl);
    let out = k.ok(&[
        "-n",
        "ml",
        "get",
        "hpa",
        "fraud-detection",
        "-o",
        "jsonpath={.spec.minReplicas}..{.spec.maxReplicas}",
    ]);
    assert_eq!(out, "4..6");
    kubectl_verbs_in_the_cluster(&k);
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        r.code, 0,
        "labels and objects of other managers are not drift: {r:?}"
    );

    let r = ml(&w, &["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Resources: 83 destroyed."), "{r:?}");
    assert_cloud_empty(&w);
    assert_state_empty(&w);
    assert_published_api_only(&w, &exchanges);
}

/// Stops the sandbox and holds every cloud exchange of the bootstrap and destroy to the
/// published Yandex Cloud API (tests/fixtures/yandex_api/rest.json).
fn assert_published_api_only(w: &Work, exchanges: &std::path::Path) {
    let r = w.run(&["sandbox", "down"]);
    assert_eq!(r.code, 0, "{r:?}");
    common::wait_for_file(exchanges);
    let text = std::fs::read_to_string(exchanges).unwrap();
    assert!(!text.contains("BEGIN PRIVATE KEY"), "secrets are redacted");
    let recorded: Vec<mlstack_sandbox::conformance::Exchange> =
        serde_json::from_str(&text).unwrap();
    assert!(
        recorded
            .iter()
            .any(|e| e.method == "POST" && e.path == "/managed-kubernetes/v1/clusters"),
        "the cluster create was not recorded ({} exchanges)",
        recorded.len()
    );
    let fixture = std::fs::read_to_string(format!(
        "{}/tests/fixtures/yandex_api/rest.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let api = mlstack_sandbox::conformance::PublishedApi::parse(&fixture).unwrap();
    let problems = api.check_all(&recorded);
    assert!(
        problems.is_empty(),
        "{} exchange(s) the published API does not allow:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The real kubectl against the new cluster's API, with the kubeconfig `sandbox kubeconfig` wrote.
struct Kubectl<'a> {
    w: &'a Work,
    bin: std::path::PathBuf,
}

impl<'a> Kubectl<'a> {
    fn new(w: &'a Work, bin: std::path::PathBuf) -> Kubectl<'a> {
        Kubectl { w, bin }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(["--kubeconfig", &self.w.path("kc").display().to_string()])
            .args(["--cache-dir", &self.w.path("kcache").display().to_string()])
            .args(["--request-timeout", "60s"])
            .args(args)
            .env("HOME", self.w.path("home"));
        c
    }

    /// Runs kubectl, fails the test unless it exits 0, returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let child = self
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        let run = wait_with_guard(child, Duration::from_secs(120));
        assert_eq!(run.code, 0, "kubectl {args:?}: {run:?}");
        run.stdout
    }
}

/// A child process killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What an operator does by hand after the bootstrap: watch, wait for rollouts, create, label,
/// annotate, apply client- and server-side (validation on), explain and delete — all against the cluster the apply created.
fn kubectl_verbs_in_the_cluster(k: &Kubectl) {
    use std::io::{BufRead, BufReader};
    let out = k.ok(&[
        "-n",
        "ml",
        "rollout",
        "status",
        "deployment/fraud-detection",
        "--timeout=60s",
    ]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let out = k.ok(&[
        "-n",
        "ml",
        "wait",
        "--for=condition=Available",
        "deployment/fraud-detection",
        "--timeout=60s",
    ]);
    assert!(out.contains("condition met"), "{out}");

    // A watch started before the change sees it as an event.
    let mut watch = KillOnDrop(
        k.command(&[
            "-n",
            "ml",
            "get",
            "configmaps",
            "-w",
            "--output-watch-events",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn kubectl get -w"),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = watch.0.stdout.take().expect("watch stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let manifest = k.w.write(
        "notes.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: operator-notes, namespace: ml}\ndata: {note: first}\n",
    );
    let manifest = manifest.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut created = false;
    while !seen
        .iter()
        .any(|l: &String| l.contains("ADDED") && l.contains("operator-notes"))
    {
        if !created {
            // `get -w` lists first: create only once the watch is running (its first line).
            if !seen.is_empty() {
                k.ok(&["create", "-f", &manifest]);
                created = true;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no ADDED event from kubectl get -w: {seen:?}"
        );
        match rx.recv_timeout(left.min(Duration::from_secs(2))) {
            Ok(line) => seen.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("kubectl get -w ended: {e}: {seen:?}"),
        }
    }
    drop(watch);

    k.ok(&["-n", "ml", "label", "configmap/operator-notes", "owner=ops"]);
    k.ok(&[
        "-n",
        "ml",
        "annotate",
        "configmap/operator-notes",
        "note.example.com/why=kept by hand",
    ]);
    k.w.write(
        "notes.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: operator-notes, namespace: ml}\ndata: {note: second}\n",
    );
    let out = k.ok(&["apply", "-f", &manifest]);
    assert!(out.contains("configured"), "{out}");
    let out = k.ok(&[
        "-n",
        "ml",
        "get",
        "configmap/operator-notes",
        "-o",
        "jsonpath={.data.note} {.metadata.labels.owner}",
    ]);
    assert_eq!(out, "second ops");
    // Server-side apply with kubectl's schema validation on (the cluster serves OpenAPI).
    let out = k.ok(&[
        "apply",
        "--server-side",
        "--field-manager",
        "ops",
        "--force-conflicts",
        "-f",
        &manifest,
    ]);
    assert!(out.contains("serverside-applied"), "{out}");
    let out = k.ok(&["explain", "deployment.spec.template.spec.containers.ports"]);
    assert!(out.contains("containerPort"), "{out}");
    // A label on an object the stack manages: another manager's field, not drift.
    k.ok(&["-n", "ml", "label", "deployment/fraud-detection", "team=ml"]);
    let out = k.ok(&["delete", "-f", &manifest, "--wait=true", "--timeout=60s"]);
    assert!(out.contains("deleted"), "{out}");
    let out = k
        .command(&["-n", "ml", "get", "configmap/operator-notes"])
        .output();
    let out = out.expect("kubectl get");
    assert!(!out.status.success(), "deleted: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NotFound"),
        "{out:?}"
    );
}

#[test]
fn an_apply_killed_half_way_converges_with_no_duplicates() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    // Slow operations leave a wide window between sending a create and recording it.
    up(&w, "2s", &[]);

    let stack = stack();
    let mut apply = w
        .command(&["apply", &stack, "--sandbox", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn apply");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if count(&status(&w), "k8s.cluster") == 1 {
            break;
        }
        assert!(
            apply.try_wait().expect("wait").is_none(),
            "apply ended before the cluster was requested"
        );
        assert!(Instant::now() < deadline, "no cluster after 300 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    apply.kill().expect("SIGKILL apply");
    let _ = apply.wait();
    assert!(
        !w.state_addresses("fraud-detection")
            .contains(&"cluster".to_string()),
        "the kill came after the cluster was recorded; the test lost its window"
    );

    // The next run finds the unrecorded cluster by name and adopts it.
    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("adopted"), "{r:?}");
    assert_owned_once(&w);
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "converged: {r:?}");

    let r = ml(&w, &["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_cloud_empty(&w);
}

/// Requests served and faults injected by one API, from `sandbox status --json`.
fn injected(api: &Value) -> (u64, u64, u64) {
    let errors = api["errors"]
        .as_object()
        .map(|e| e.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    (
        api["requests"].as_u64().unwrap_or(0),
        errors,
        api["dropped"].as_u64().unwrap_or(0),
    )
}

#[test]
fn the_bootstrap_survives_injected_cloud_and_kubernetes_faults() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    // Every API (the cloud and the cluster's Kubernetes API) adds 10 ms to each request,
    // answers 10 % of them with 500/429/409 (each API's own error format) and drops 2 %.
    up(
        &w,
        "100ms",
        &[
            "--latency",
            "10ms",
            "--error-rate",
            "0.1",
            "--drop-rate",
            "0.02",
        ],
    );
    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_owned_once(&w);
    let r = ml(&w, &["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_cloud_empty(&w);
    assert_state_empty(&w);

    // The faults really were injected into both APIs, and the bootstrap survived them.
    let s = status(&w);
    assert_eq!(s["faults"]["latency_ms"], 10, "{s}");
    let (requests, errors, dropped) = injected(&s["apis"]["cloud"]);
    assert!(errors > 0 && dropped > 0, "cloud API: {s}");
    assert_eq!(
        s["apis"]["cloud"]["latency_delayed"].as_u64(),
        Some(requests),
        "{s}"
    );
    let clusters = s["apis"]["clusters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let cluster = clusters
        .values()
        .find(|c| c["name"] == "fraud-detection")
        .unwrap_or_else(|| panic!("no counts for the cluster's API: {s}"));
    assert_eq!(cluster["running"], false, "destroyed: {s}");
    let (requests, errors, dropped) = injected(cluster);
    assert!(
        requests > 0 && errors > 0 && dropped > 0,
        "the cluster's Kubernetes API: {s}"
    );
    assert_eq!(cluster["latency_delayed"].as_u64(), Some(requests), "{s}");
}
