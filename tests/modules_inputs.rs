//! The shipped modules through the real binary: model-serving's defaults (HPA 4..6 with its
//! scaling behaviour, probes, hardened securityContext), and bad module input reported at the
//! stack's line, not as a broken manifest.

mod common;

use common::{tool, Work};
use std::path::Path;

/// A scratch directory with the repository's modules beside the stack file.
fn work_with_modules() -> Work {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let dest = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &dest);
            } else {
                std::fs::copy(&p, &dest).unwrap();
            }
        }
    }
    let w = Work::new();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("modules"),
        &w.path("modules"),
    );
    w
}

/// The text with every line's indentation removed, so checks read as plain key sequences.
fn flat(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

const SERVING: &str = "stack: { name: demo }
modules:
  api:
    source: model-serving
    inputs:
      name: fraud-detection
      image: cr.example.org/fd:1
      host: fd.example.org
";

#[test]
fn model_serving_defaults() {
    let w = work_with_modules();
    w.write("stack.yaml", SERVING);
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 0, "{r:?}");
    let hpa = flat(&w.read("out/kubernetes/ml/HorizontalPodAutoscaler-fraud-detection.yaml"));
    for want in [
        "minReplicas: 4",
        "maxReplicas: 6",
        "name: cpu\ntarget:\naverageUtilization: 70",
        "name: memory\ntarget:\naverageUtilization: 80",
        "scaleDown:\npolicies:\n- periodSeconds: 300\ntype: Pods\nvalue: 1\nselectPolicy: Max\nstabilizationWindowSeconds: 300",
        "scaleUp:\npolicies:\n- periodSeconds: 60\ntype: Pods\nvalue: 1",
    ] {
        assert!(hpa.contains(want), "{want:?} not in\n{hpa}");
    }
    let dep = flat(&w.read("out/kubernetes/ml/Deployment-fraud-detection.yaml"));
    for want in [
        "readinessProbe:\nfailureThreshold: 3\nhttpGet:\npath: /health",
        "livenessProbe:\nfailureThreshold: 3\nhttpGet:\npath: /health",
        "allowPrivilegeEscalation: false",
        "readOnlyRootFilesystem: true",
        "runAsNonRoot: true",
        "limits:\ncpu: \"1\"",
        "requests:\ncpu: 250m",
        "prometheus.io/path: /metrics",
    ] {
        assert!(dep.contains(want), "{want:?} not in\n{dep}");
    }
    // The HPA owns the replica count.
    assert!(!dep.contains("replicas:"), "{dep}");
    for f in [
        "Service-fraud-detection.yaml",
        "Ingress-fraud-detection.yaml",
        "PodDisruptionBudget-fraud-detection.yaml",
        "NetworkPolicy-fraud-detection.yaml",
        "ConfigMap-fraud-detection-config.yaml",
    ] {
        assert!(w.path("out/kubernetes/ml").join(f).is_file(), "{f}");
    }
    assert!(w
        .read("out/kubernetes/ml/Ingress-fraud-detection.yaml")
        .contains("host: fd.example.org"));
}

/// Runs validate on a stack and returns its output; asserts that it failed.
fn invalid(w: &Work, stack: &str) -> String {
    w.write("stack.yaml", stack);
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    r.all()
}

#[test]
fn bad_input_is_reported_at_the_stacks_line() {
    let w = work_with_modules();
    let out = invalid(&w, &format!("{SERVING}      min_replicas: 0\n"));
    assert!(out.contains("stack.yaml:9:21"), "{out}");
    assert!(out.contains("min_replicas"), "{out}");

    let out = invalid(&w, &SERVING.replace("cr.example.org/fd:1", "\"bad image\""));
    assert!(out.contains("stack.yaml:7:14"), "{out}");
    assert!(out.contains("without spaces"), "{out}");

    let out = invalid(&w, &format!("{SERVING}      max_replica: 5\n"));
    assert!(out.contains("stack.yaml:9:7"), "{out}");
    assert!(out.contains("max_replicas"), "did you mean: {out}");

    // Inputs checked together: min above max names the module instance's line.
    let out = invalid(
        &w,
        &format!("{SERVING}      min_replicas: 6\n      max_replicas: 4\n"),
    );
    assert!(out.contains("stack.yaml:4:13"), "{out}");
    assert!(
        out.contains("min_replicas (6) must not exceed max_replicas (4)"),
        "{out}"
    );
}

#[test]
fn other_modules_check_their_inputs() {
    let w = work_with_modules();
    let out = invalid(
        &w,
        "stack: { name: demo }
modules:
  airflow:
    source: airflow
    inputs:
      dags_repo: https://git.example.org/dags.git
      mlflow_tracking_uri: http://mlflow.mlflow.svc:5000
      retrain_schedule: weekly
",
    );
    assert!(out.contains("stack.yaml:8:25"), "{out}");
    assert!(out.contains("cron expression"), "{out}");

    let out = invalid(
        &w,
        "stack: { name: demo }
modules:
  load:
    source: load-test
    inputs:
      bootstrap_servers: kafka.kafka.svc:9092
      start_rate: 500
      max_rate: 100
",
    );
    assert!(
        out.contains("start_rate (500) must not exceed max_rate (100)"),
        "{out}"
    );

    let out = invalid(
        &w,
        "stack: { name: demo }
modules:
  kafka:
    source: kafka
    inputs:
      brokers: 1
",
    );
    assert!(
        out.contains("replication_factor 3 exceeds brokers 1"),
        "{out}"
    );

    let out = invalid(
        &w,
        "stack: { name: demo }
modules:
  monitoring:
    source: monitoring
    inputs:
      apps: [{ name: api, namespace: ml }]
      receivers: { sysadmin_email: not-an-email, smtp: { smarthost: \"m:25\" } }
",
    );
    assert!(out.contains("sysadmin_email"), "{out}");
}

/// With the Prometheus Operator, the alert rules become PrometheusRule objects whose `spec` is
/// the generated rule file itself (so the real promtool accepts it), labelled for its selector.
#[test]
fn operator_mode_emits_prometheus_rules_promtool_accepts() {
    let w = work_with_modules();
    w.write(
        "stack.yaml",
        "stack: { name: demo }
modules:
  monitoring:
    source: monitoring
    inputs:
      apps: [{ name: api, namespace: ml }]
      receivers: { sysadmin_email: admin@example.org, smtp: { smarthost: \"mail.example.org:587\", from: alerts@example.org } }
      prometheus_operator: true
",
    );
    let r = w.run(&["render", "stack.yaml", "--out", "out"]);
    assert_eq!(r.code, 0, "{r:?}");
    let dir = w.path("out/kubernetes/monitoring");
    let mut rules: Vec<String> = std::fs::read_dir(&dir)
        .expect("rendered objects")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("PrometheusRule-"))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            "PrometheusRule-mlstack-app-api.yaml",
            "PrometheusRule-mlstack-pipeline.yaml"
        ]
    );
    let text = std::fs::read_to_string(dir.join(&rules[0])).expect("read");
    assert!(text.contains("release: kube-prometheus-stack"), "{text}");
    assert!(text.contains("HighCPUUsage"), "{text}");
    // The spec alone is a rule file: hand it to promtool.
    let promtool = tool("promtool");
    let start = text.find("\nspec:").expect("spec");
    let spec: String = text[start + 6..]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    w.write("spec.yaml", &spec);
    let out = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(w.path("spec.yaml"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}\n{spec}",
        String::from_utf8_lossy(&out.stdout)
    );
}
