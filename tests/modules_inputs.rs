//! The shipped modules through the real binary: model-serving's defaults (HPA 4..6 with its
//! scaling behaviour, probes, hardened securityContext), and bad module input reported at the
//! stack's line, not as a broken manifest.

mod common;

use common::{tool, Work};
use std::path::Path;

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
    let w = Work::with_modules();
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
    let w = Work::with_modules();
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
    let w = Work::with_modules();
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
    let w = Work::with_modules();
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

/// Every value `render` computes (no API), by address, as JSON.
fn evaluated(stack: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    let s = mlstack::stack::load(stack, &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    let g = mlstack::graph::build(&s).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let registry = mlstack::providers::Registry::builtin();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(mlstack::render::evaluate(&s, &g, &registry))
        .expect("evaluate")
        .into_iter()
        .map(|(a, v)| (a, v.to_json_unmarked()))
        .collect()
}

fn kind_name(o: &serde_json::Value) -> String {
    format!(
        "{}/{}/{}",
        o["kind"].as_str().unwrap_or("?"),
        o["metadata"]["namespace"].as_str().unwrap_or("_cluster"),
        o["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Operator mode hands scraping and rules to the operator: every ServiceMonitor selects a
/// rendered Service by its labels and scrapes a port that Service names, every operator object
/// carries the operator's `release` label, and nothing of our own Prometheus or Alertmanager
/// (Services, ServiceAccount, RBAC, rules or config ConfigMaps) is left without its workload.
#[test]
fn operator_mode_objects_are_consistent_and_leave_no_plain_mode_orphans() {
    let w = Work::with_modules();
    let stack = w.write(
        "stack.yaml",
        "stack: { name: demo }
modules:
  monitoring:
    source: monitoring
    inputs:
      apps: [{ name: api, namespace: ml }]
      receivers: { sysadmin_email: admin@example.org, smtp: { smarthost: \"mail.example.org:587\", from: alerts@example.org } }
      prometheus_operator: true
      operator_namespace: observability
  api:
    source: model-serving
    inputs:
      name: api
      image: cr.example.org/api:1
      host: api.example.org
      service_monitor: true
outputs:
  prometheus: { value: \"${module.monitoring.prometheus_url}\" }
  alertmanager: { value: \"${module.monitoring.alertmanager_url}\" }
",
    );
    let values = evaluated(&stack);
    let objects: Vec<serde_json::Value> = values
        .values()
        .filter_map(|v| v.get("manifest").cloned())
        .collect();
    let names: Vec<String> = objects.iter().map(kind_name).collect();
    let monitors: Vec<&serde_json::Value> = objects
        .iter()
        .filter(|o| o["kind"] == "ServiceMonitor")
        .collect();
    assert_eq!(
        monitors.len(),
        3,
        "kube-state-metrics, node-exporter, the model: {names:?}"
    );
    for m in &monitors {
        let ns = &m["metadata"]["namespace"];
        let want = m["spec"]["selector"]["matchLabels"]
            .as_object()
            .expect("matchLabels");
        let services: Vec<&serde_json::Value> = objects
            .iter()
            .filter(|o| o["kind"] == "Service" && &o["metadata"]["namespace"] == ns)
            .filter(|o| want.iter().all(|(k, v)| &o["metadata"]["labels"][k] == v))
            .collect();
        assert_eq!(services.len(), 1, "{}: {names:?}", kind_name(m));
        let ports: Vec<&str> = services[0]["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for e in m["spec"]["endpoints"].as_array().expect("endpoints") {
            let port = e["port"].as_str().unwrap_or("(no port name)");
            assert!(
                ports.contains(&port),
                "{}: {port} not in {ports:?}",
                kind_name(m)
            );
        }
    }
    for o in objects.iter().filter(|o| {
        o["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
    }) {
        assert_eq!(
            o["metadata"]["labels"]["release"],
            "kube-prometheus-stack",
            "{}",
            kind_name(o)
        );
    }
    assert!(
        names.contains(&"PrometheusRule/monitoring/mlstack-app-api".to_string()),
        "{names:?}"
    );
    for orphan in [
        "Service/monitoring/prometheus",
        "Service/monitoring/alertmanager",
        "ServiceAccount/monitoring/prometheus",
        "ClusterRole/_cluster/monitoring-prometheus",
        "ClusterRoleBinding/_cluster/monitoring-prometheus",
        "ConfigMap/monitoring/prometheus-rules",
        "ConfigMap/monitoring/prometheus-config",
        "ConfigMap/monitoring/alertmanager-config",
        "Secret/monitoring/alertmanager-secrets",
        "Deployment/monitoring/prometheus",
        "Deployment/monitoring/alertmanager",
    ] {
        assert!(
            !names.contains(&orphan.to_string()),
            "{orphan} is rendered: {names:?}"
        );
    }
    // Grafana and the module's outputs point at the operator's Services.
    let grafana = objects
        .iter()
        .find(|o| kind_name(o) == "ConfigMap/monitoring/grafana-provisioning")
        .expect("grafana provisioning");
    assert!(
        grafana["data"]["datasources.yaml"]
            .as_str()
            .unwrap_or("")
            .contains("http://prometheus-operated.observability.svc:9090"),
        "{grafana}"
    );
    // The module's outputs are the bundle's endpoints (modules/monitoring/module.yaml).
    let endpoints = &values["module.monitoring.data.bundle"]["endpoints"];
    assert_eq!(
        endpoints["prometheus_url"], "http://prometheus-operated.observability.svc:9090",
        "{endpoints}"
    );
    assert_eq!(
        endpoints["alertmanager_url"], "http://alertmanager-operated.observability.svc:9093",
        "{endpoints}"
    );
}
