//! The reference stack `stacks/fraud-detection.yaml` through the real binary, with no `--var`:
//! it validates, renders (rule files checked by the real promtool, the Alertmanager config by
//! amtool) and plans from empty state with one address per Kubernetes object.

mod common;

use common::{read_tree, tool, Work};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn reference_stack() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("stacks/fraud-detection.yaml")
        .to_string_lossy()
        .into_owned()
}

/// Every rendered file as text.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    read_tree(dir)
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

fn render(w: &Work) -> BTreeMap<String, String> {
    let r = w.run(&["render", &reference_stack(), "--out", "out"]);
    assert_eq!(r.code, 0, "{r:?}");
    tree(&w.path("out"))
}

const BUNDLE: &str = "monitoring/module.monitoring.data.bundle";

#[test]
fn validates_with_no_vars() {
    let w = Work::new();
    let r = w.run(&["validate", &reference_stack()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("The stack is valid"), "{r:?}");
}

#[test]
fn renders_the_whole_system() {
    let w = Work::new();
    let files = render(&w);
    for f in [
        "kubernetes/monitoring/Deployment-prometheus.yaml",
        "kubernetes/monitoring/Deployment-alertmanager.yaml",
        "kubernetes/monitoring/Deployment-grafana.yaml",
        "kubernetes/monitoring/Deployment-kube-state-metrics.yaml",
        "kubernetes/monitoring/DaemonSet-node-exporter.yaml",
        "kubernetes/kube-system/Deployment-metrics-server.yaml",
        "kubernetes/_cluster/APIService-v1beta1.metrics.k8s.io.yaml",
        "kubernetes/kafka/StatefulSet-kafka.yaml",
        "kubernetes/kafka/Job-kafka-topics.yaml",
        "kubernetes/kafka/Deployment-kafka-exporter.yaml",
        "kubernetes/mlflow/Deployment-mlflow.yaml",
        "kubernetes/airflow/Deployment-airflow-api-server.yaml",
        "kubernetes/airflow/Deployment-airflow-scheduler.yaml",
        "kubernetes/airflow/Deployment-airflow-dag-processor.yaml",
        "kubernetes/airflow/Deployment-airflow-triggerer.yaml",
        "kubernetes/ml/HorizontalPodAutoscaler-fraud-detection.yaml",
        "kubernetes/load-test/Job-load-test.yaml",
        "monitoring/module.monitoring.data.bundle/alertmanager.yaml",
        "monitoring/module.monitoring.data.bundle/rules/app-fraud-detection.yaml",
        "monitoring/module.monitoring.data.bundle/rules/kafka.yaml",
        "monitoring/module.monitoring.data.bundle/dashboards/app-fraud-detection.json",
    ] {
        assert!(
            files.contains_key(f),
            "{f} missing from {:?}",
            files.keys().collect::<Vec<_>>()
        );
    }
    // Grafana's datasource is the Prometheus Service, resolved through the reference.
    let grafana = &files["kubernetes/monitoring/ConfigMap-grafana-provisioning.yaml"];
    assert!(
        grafana.contains("url: 'http://prometheus.monitoring.svc:9090'"),
        "{grafana}"
    );
    // The generated files went into ConfigMaps by reference.
    let rules = &files["kubernetes/monitoring/ConfigMap-prometheus-rules.yaml"];
    assert!(
        rules.contains("alert: ModelOverloadedAtMaxReplicas"),
        "{rules}"
    );
    assert!(
        files["kubernetes/monitoring/ConfigMap-alertmanager-config.yaml"]
            .contains("sysadmin@example.org")
    );
    // Airflow: git-sync of the DAG repository, weekly retraining, MLflow's URI.
    let airflow = &files["kubernetes/airflow/ConfigMap-airflow-env.yaml"];
    assert!(
        airflow.contains("AIRFLOW_VAR_RETRAIN_SCHEDULE: \"@weekly\""),
        "{airflow}"
    );
    assert!(airflow.contains("MLFLOW_TRACKING_URI:"), "{airflow}");
    assert!(
        airflow.contains("AIRFLOW__CORE__DAGS_FOLDER: /git/repo/examples/dags")
            && airflow.contains("scikit-learn=="),
        "the example retraining DAG and its packages: {airflow}"
    );
    assert!(
        files["kubernetes/airflow/Deployment-airflow-scheduler.yaml"]
            .contains("--repo=https://github.com/example-org/fraud-detection-dags.git")
    );
    // Generated passwords never appear: Secrets carry placeholders.
    let secret = &files["kubernetes/airflow/Secret-airflow-secrets.yaml"];
    assert!(secret.contains("(known after apply)"), "{secret}");
    // Deterministic.
    let again = Work::new();
    assert_eq!(files, render(&again), "render is not deterministic");
}

#[test]
fn rendered_rules_pass_promtool_and_alertmanager_config_passes_amtool() {
    let w = Work::new();
    let files = render(&w);
    {
        let promtool = tool("promtool");
        let rules: Vec<PathBuf> = files
            .keys()
            .filter(|k| k.starts_with(&format!("{BUNDLE}/rules/")) && !k.contains("/tests/"))
            .map(|k| w.path("out").join(k))
            .collect();
        assert!(rules.len() >= 3, "{rules:?}");
        let out = std::process::Command::new(&promtool)
            .args(["check", "rules"])
            .args(&rules)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    {
        let amtool = tool("amtool");
        let out = std::process::Command::new(&amtool)
            .arg("check-config")
            .arg(w.path("out").join(BUNDLE).join("alertmanager.yaml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn plan_from_empty_state_creates_everything_with_per_object_addresses() {
    let w = Work::new();
    let r = w.run(&["plan", &reference_stack()]);
    assert_eq!(r.code, 0, "{r:?}");
    for address in [
        "# network will be created",
        "# cluster will be created",
        "# nodes will be created",
        "# module.monitoring.object[\"apps/v1/Deployment/monitoring/prometheus\"] will be created",
        "# module.fraud_api.object[\"autoscaling/v2/HorizontalPodAutoscaler/ml/fraud-detection\"] will be created",
        "# module.kafka.object[\"apps/v1/StatefulSet/kafka/kafka\"] will be created",
        "# module.airflow.api_service will be created",
    ] {
        assert!(r.stdout.contains(address), "{address} not in the plan:\n{}", r.stdout);
    }
    assert!(
        r.stdout.contains("to add, 0 to change, 0 to destroy."),
        "{r:?}"
    );
    // Managed Kafka instead, by a variable.
    let r = w.run(&["plan", &reference_stack(), "--var", "managed_kafka=true"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("# module.kafka.kafka_cluster will be created"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("StatefulSet/kafka/kafka"), "{r:?}");
}
