//! The kubernetes provider end to end against the sandbox (`mlstack sandbox up` in a scratch
//! directory, stopped by a guard): the 50+ object example applies, the next plan is empty,
//! drift made with the real kubectl shows (naming the manager) and is repaired, the HPA's
//! replica changes are not drift, destroy removes everything, and an apply under 10 % injected
//! errors succeeds. A missing kubectl fails the test.

mod common;

use common::{tool, Run, SandboxDown, Work};
use std::process::Command;

fn example() -> String {
    format!(
        "{}/examples/kubernetes/stack.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs kubectl with the sandbox kubeconfig `mlstack sandbox kubeconfig` printed.
fn kubectl(w: &Work, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool("kubectl"))
        .args(["--kubeconfig", &w.path("kc").display().to_string()])
        .args(["--cache-dir", &w.path("kcache").display().to_string()])
        .args(args)
        .env("HOME", w.path("home"))
        .output()
        .expect("kubectl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn up(w: &Work, extra: &[&str]) {
    let mut args = vec!["sandbox", "up", "--ready-delay", "50ms"];
    args.extend_from_slice(extra);
    let r = w.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let kc = w.run(&["sandbox", "kubeconfig"]);
    assert_eq!(kc.code, 0, "{kc:?}");
    w.write("kc", &kc.stdout);
}

fn ml(w: &Work, args: &[&str]) -> Run {
    let stack = example();
    let mut all = vec![args[0], stack.as_str()];
    all.extend_from_slice(&args[1..]);
    all.push("--sandbox");
    w.run(&all)
}

#[test]
fn example_applies_plans_empty_repairs_drift_and_destroys() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    up(&w, &[]);

    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("53 added"), "{r:?}");
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "a second plan must be empty: {r:?}");

    // The HPA raised the `api` Deployment from 2 to its minimum 4: not drift, not a change.
    let (ok, replicas) = kubectl(
        &w,
        &[
            "-n",
            "ml-apps",
            "get",
            "deploy",
            "api",
            "-o",
            "jsonpath={.spec.replicas}",
        ],
    );
    assert!(ok && replicas == "4", "{replicas}");
    assert!(!r.stdout.contains("has changed"), "{r:?}");

    // Custom resources are there.
    let (ok, models) = kubectl(
        &w,
        &[
            "-n",
            "ml-apps",
            "get",
            "models.ml.example.com",
            "-o",
            "name",
        ],
    );
    assert!(ok && models.lines().count() == 16, "{models}");

    // Drift in fields we own, made with kubectl.
    let (ok, out) = kubectl(
        &w,
        &[
            "-n",
            "ml-apps",
            "patch",
            "configmap",
            "api-config",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"LOG_LEVEL":"debug"}}"#,
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = kubectl(
        &w,
        &[
            "-n",
            "ml-apps",
            "set",
            "image",
            "deploy/worker",
            "worker=other:1",
        ],
    );
    assert!(ok, "{out}");
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(r#"LOG_LEVEL = "debug" -> "info""#),
        "{r:?}"
    );
    assert!(r.stdout.contains("was changed by kubectl-patch"), "{r:?}");
    assert!(r.stdout.contains("was changed by kubectl-set"), "{r:?}");

    // Without force, apply stops at the first conflict and names the other manager.
    let r = ml(&w, &["apply", "--auto-approve", "--no-force-conflicts"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--no-force-conflicts"), "{r:?}");
    assert!(
        r.stderr.contains("conflict with \"kubectl-patch\"")
            || r.stderr.contains("conflict with \"kubectl-set\""),
        "{r:?}"
    );

    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (_, level) = kubectl(
        &w,
        &[
            "-n",
            "ml-apps",
            "get",
            "cm",
            "api-config",
            "-o",
            "jsonpath={.data.LOG_LEVEL}",
        ],
    );
    assert_eq!(level, "info");
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "drift repaired: {r:?}");

    // Destroy removes everything we made.
    let r = ml(&w, &["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("53 destroyed"), "{r:?}");
    let (ok, out) = kubectl(&w, &["get", "namespace", "ml-apps"]);
    assert!(!ok && out.contains("NotFound"), "{out}");
    let (_, out) = kubectl(&w, &["get", "crd", "-o", "name"]);
    assert!(!out.contains("models.ml.example.com"), "{out}");
    let (_, out) = kubectl(
        &w,
        &[
            "get",
            "deploy,svc,cm,sa,hpa,job,pvc,sts",
            "-A",
            "-l",
            "app.kubernetes.io/managed-by=mlstack",
            "-o",
            "name",
        ],
    );
    assert!(
        out.trim().is_empty() || out.contains("No resources found"),
        "{out}"
    );
}

#[test]
fn apply_succeeds_under_injected_errors() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    up(&w, &["--error-rate", "0.1"]);
    let r = ml(&w, &["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ml(&w, &["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ml(&w, &["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    // The errors really were injected (the sandbox never falls behind its rate) and ridden out.
    let r = w.run(&["sandbox", "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s: serde_json::Value = serde_json::from_str(&r.stdout).expect("status JSON");
    let kube = &s["apis"]["kubernetes"];
    let errors: u64 = kube["errors"]
        .as_object()
        .map(|e| e.values().filter_map(serde_json::Value::as_u64).sum())
        .unwrap_or(0);
    assert!(errors >= 10, "{s}");
    assert_eq!(kube["dropped"], 0, "no drops were asked for: {s}");
}

/// A Deployment whose selector label comes from a variable.
const SELECTOR_STACK: &str = r#"
stack:
  name: selector-change
variables:
  app:
    type: string
    default: api
resources:
  app:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: { name: api, namespace: default }
          spec:
            replicas: 1
            selector: { matchLabels: { app: "${var.app}" } }
            template:
              metadata: { labels: { app: "${var.app}" } }
              spec:
                containers: [{ name: api, image: "api:1" }]
"#;

#[test]
fn an_immutable_field_change_plans_a_replacement_naming_it() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    up(&w, &[]);
    w.write("stack.yaml", SELECTOR_STACK);
    let r = w.run(&["apply", "stack.yaml", "--sandbox", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["plan", "stack.yaml", "--sandbox", "--var", "app=api2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("-/+"), "{r:?}");
    assert!(r.stdout.contains("spec.selector"), "{r:?}");
    assert!(
        r.stdout.contains("field is immutable") || r.stdout.contains("refuses to change"),
        "{r:?}"
    );
    let r = w.run(&[
        "apply",
        "stack.yaml",
        "--sandbox",
        "--auto-approve",
        "--var",
        "app=api2",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&[
        "plan",
        "stack.yaml",
        "--sandbox",
        "--detailed-exitcode",
        "--var",
        "app=api2",
    ]);
    assert_eq!(r.code, 0, "replaced and settled: {r:?}");
    let r = w.run(&["destroy", "stack.yaml", "--sandbox", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_client_certificate_kubeconfig_works_for_kubectl_and_mlstack() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    up(&w, &[]);
    let kc = w.run(&["sandbox", "kubeconfig", "--client-cert"]);
    assert_eq!(kc.code, 0, "{kc:?}");
    assert!(kc.stdout.contains("client-certificate-data"));
    assert!(!kc.stdout.contains("token:"));
    w.write("kc", &kc.stdout);
    let (ok, out) = kubectl(&w, &["get", "namespace", "kube-system", "-o", "name"]);
    assert!(ok, "{out}");
    // Without --sandbox: the provider block names the kubeconfig, as for kind or k3s.
    w.write(
        "stack.yaml",
        r#"
stack: { name: client-cert }
providers:
  kubernetes: { kubeconfig: kc }
resources:
  config:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: v1
          kind: ConfigMap
          metadata: { name: from-cert, namespace: default }
          data: { a: "1" }
"#,
    );
    let r = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.all().contains("PRIVATE KEY"), "{r:?}");
    let r = w.run(&["destroy", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
}
