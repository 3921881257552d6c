//! `mlstack render` and `mlstack plan` of stacks with Kubernetes objects, through the binary:
//! files per object, monitoring files from `monitoring_bundle` (checked by the real promtool),
//! placeholders for unknown and sensitive values, deterministic bytes, creates without a cluster.

mod common;

use common::{read_tree, tool, Work};

const STACK: &str = r#"
stack:
  name: demo
variables:
  token:
    type: string
    sensitive: true
    default: s3cr3t-t0ken-value
resources:
  pw:
    type: random_password
    properties: { length: 16 }
  object:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: v1
          kind: Namespace
          metadata: { name: monitoring }
        - apiVersion: v1
          kind: Secret
          metadata: { name: creds, namespace: monitoring }
          stringData:
            password: "${pw.result}"
            token: "${var.token}"
        - apiVersion: v1
          kind: ConfigMap
          metadata: { name: alertmanager, namespace: monitoring }
          data:
            alertmanager.yaml: '${data.mon.files["alertmanager.yaml"]}'
data:
  mon:
    type: monitoring_bundle
    properties:
      apps: [{ name: fraud-detection, namespace: ml }]
      receivers:
        sysadmin_email: sysadmin@example.org
        smtp: { smarthost: "smtp.example.org:587" }
"#;

#[test]
fn render_writes_objects_and_monitoring_files_deterministically() {
    let w = Work::new();
    w.write("stack.yaml", STACK);
    let r = w.run(&["render", "stack.yaml", "--out", "out1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = w.run(&["render", "stack.yaml", "--out", "out2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let one = read_tree(&w.path("out1"));
    assert_eq!(
        one,
        read_tree(&w.path("out2")),
        "render is not deterministic"
    );
    for f in [
        "index.txt",
        "kubernetes/_cluster/Namespace-monitoring.yaml",
        "kubernetes/monitoring/Secret-creds.yaml",
        "kubernetes/monitoring/ConfigMap-alertmanager.yaml",
        "monitoring/data.mon/alertmanager.yaml",
        "monitoring/data.mon/rules/app-fraud-detection.yaml",
    ] {
        assert!(
            one.contains_key(f),
            "{f} missing from {:?}",
            one.keys().collect::<Vec<_>>()
        );
    }
    let text = |f: &str| String::from_utf8(one[f].clone()).unwrap();
    let secret = text("kubernetes/monitoring/Secret-creds.yaml");
    assert!(secret.contains("password: (known after apply)"), "{secret}");
    assert!(secret.contains("token: (sensitive)"), "{secret}");
    assert!(secret.contains("mlstack.dev/stack: demo"), "{secret}");
    for (name, bytes) in &one {
        assert!(
            !String::from_utf8_lossy(bytes).contains("s3cr3t-t0ken-value"),
            "the secret leaked into {name}"
        );
    }
    // The monitoring files went into the ConfigMap through a reference.
    assert!(text("kubernetes/monitoring/ConfigMap-alertmanager.yaml").contains("route:"));
    assert!(text("index.txt").contains(
        "kubernetes/_cluster/Namespace-monitoring.yaml\tobject[\"v1/Namespace/monitoring\"]"
    ));
}

#[test]
fn rendered_rule_files_pass_promtool() {
    let promtool = tool("promtool");
    let w = Work::new();
    w.write("stack.yaml", STACK);
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rules: Vec<String> = read_tree(&w.path("out"))
        .keys()
        .filter(|k| {
            k.starts_with("monitoring/data.mon/rules/")
                && k.ends_with(".yaml")
                && !k.contains("/tests/")
        })
        .cloned()
        .collect();
    assert!(!rules.is_empty());
    for f in rules {
        let out = std::process::Command::new(&promtool)
            .args(["check", "rules"])
            .arg(w.path("out").join(&f))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool check rules {f}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn render_reports_stack_problems_with_their_place() {
    let w = Work::new();
    w.write(
        "stack.yaml",
        "stack: {name: demo}\nresources:\n  object:\n    type: kubernetes_manifests\n    properties:\n      manifests:\n        - { apiVersion: v1, kind: ConfigMap, metadata: { namespace: ns } }\n",
    );
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("stack.yaml:7:"), "{}", r.all());
    assert!(r.all().contains("metadata.name"), "{}", r.all());
}

#[test]
fn plan_without_a_cluster_shows_creates_per_object() {
    let w = Work::new();
    w.write("stack.yaml", STACK);
    // The JSON plan holds every generated file: larger than a pipe buffer, so read it while
    // the process runs.
    let out = w
        .command(&["plan", "stack.yaml", "--format", "json"])
        .output()
        .expect("run mlstack");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("json plan");
    let creates: Vec<&str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["actions"] == serde_json::json!(["create"]))
        .filter_map(|c| c["address"].as_str())
        .collect();
    for a in [
        "object[\"v1/Namespace/monitoring\"]",
        "object[\"v1/Secret/monitoring/creds\"]",
        "object[\"v1/ConfigMap/monitoring/alertmanager\"]",
    ] {
        assert!(creates.contains(&a), "{a} not created in {creates:?}");
    }
    assert!(!stdout.contains("s3cr3t-t0ken-value"));
    let r = w.run(&[
        "plan",
        "stack.yaml",
        "--target",
        "object[\"v1/Secret/monitoring/creds\"]",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("# object[\"v1/Secret/monitoring/creds\"] will be created"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("# object[\"v1/Namespace/monitoring\"] will be created"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("ConfigMap/monitoring/alertmanager"),
        "{}",
        r.stdout
    );
}
