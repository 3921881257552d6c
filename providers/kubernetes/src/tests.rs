use super::*;
use mlstack_provider_api::path_to_string;

fn props(json: &str) -> Value {
    Value::from(serde_json::from_str::<serde_json::Value>(json).expect("json"))
}

fn issues(json: &str) -> Vec<(String, String)> {
    KubernetesProvider::new()
        .validate("kubernetes_object", &props(json))
        .into_iter()
        .map(|i| (path_to_string(&i.path), i.message))
        .collect()
}

#[test]
fn a_good_deployment_passes() {
    let i = issues(
        r#"{"manifest": {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "ml", "labels": {"app": "api"}}}}"#,
    );
    assert!(i.is_empty(), "{i:?}");
}

#[test]
fn missing_and_malformed_fields_have_precise_paths() {
    let i = issues(r#"{"manifest": {"metadata": {"name": "Bad_Name"}}}"#);
    assert!(
        i.iter()
            .any(|(p, m)| p == "manifest" && m.contains("apiVersion")),
        "{i:?}"
    );
    assert!(
        i.iter()
            .any(|(p, m)| p == "manifest" && m.contains("`kind`")),
        "{i:?}"
    );
    assert!(
        i.iter()
            .any(|(p, m)| p == "manifest.metadata.name" && m.contains("Bad_Name")),
        "{i:?}"
    );
    let i = issues(
        r#"{"manifest": {"apiVersion": "apps", "kind": "deployment", "metadata": {"name": "x", "namespace": "ml"}}}"#,
    );
    assert!(i.iter().any(|(p, _)| p == "manifest.apiVersion"), "{i:?}");
    assert!(i.iter().any(|(p, _)| p == "manifest.kind"), "{i:?}");
}

#[test]
fn namespace_follows_the_kind_scope() {
    let i = issues(
        r#"{"manifest": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}}"#,
    );
    assert_eq!(i.len(), 1, "{i:?}");
    assert_eq!(i[0].0, "manifest.metadata");
    assert!(i[0].1.contains("namespace"), "{i:?}");
    let i = issues(
        r#"{"manifest": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "namespace": "y"}}}"#,
    );
    assert_eq!(i[0].0, "manifest.metadata.namespace");
    assert!(i[0].1.contains("cluster-scoped"), "{i:?}");
    // A custom resource may go either way.
    let i = issues(
        r#"{"manifest": {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}}}"#,
    );
    assert!(i.is_empty(), "{i:?}");
}

#[test]
fn labels_are_checked() {
    let i = issues(
        r#"{"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "y",
            "labels": {"bad key": "v", "ok": "-bad", "n": 3}, "annotations": {"a": 1}}}}"#,
    );
    let paths: Vec<&str> = i.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"manifest.metadata.labels.bad key"), "{i:?}");
    assert!(paths.contains(&"manifest.metadata.labels.ok"), "{i:?}");
    assert!(paths.contains(&"manifest.metadata.labels.n"), "{i:?}");
    assert!(paths.contains(&"manifest.metadata.annotations.a"), "{i:?}");
}

#[test]
fn unknown_values_are_not_checked() {
    let mut v = props(
        r#"{"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "y"}}}"#,
    );
    v.set_path(
        &[
            PathStep::Key("manifest".into()),
            PathStep::Key("metadata".into()),
            PathStep::Key("name".into()),
        ],
        Value::Unknown,
    );
    let i = KubernetesProvider::new().validate("kubernetes_object", &v);
    assert!(i.is_empty(), "{i:?}");
}

#[test]
fn ordering_keys() {
    let o = KubernetesProvider::new().ordering(
        "kubernetes_object",
        &props(r#"{"manifest": {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r", "namespace": "mon"}}}"#),
    );
    assert_eq!(
        o.requires,
        vec!["namespace/mon", "kind/monitoring.coreos.com/PrometheusRule"]
    );
    let o = KubernetesProvider::new().ordering(
        "kubernetes_object",
        &props(r#"{"manifest": {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "prometheusrules.monitoring.coreos.com"},
            "spec": {"group": "monitoring.coreos.com", "names": {"kind": "PrometheusRule"}}}}"#),
    );
    assert_eq!(
        o.provides,
        vec!["kind/monitoring.coreos.com/PrometheusRule"]
    );
    let o = KubernetesProvider::new().ordering(
        "kubernetes_object",
        &props(r#"{"manifest": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mon"}}}"#),
    );
    assert_eq!(o.provides, vec!["namespace/mon"]);
    assert!(o.requires.is_empty());
}

#[test]
fn plan_without_cluster_is_a_create_and_everything_else_says_why_not() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let desired = props(
        r#"{"manifest": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mon"}}}"#,
    );
    let config = Value::map();
    let rr = ResourceRef {
        address: "ns",
        type_name: "kubernetes_object",
        provider_config: &config,
    };
    let p = rt
        .block_on(KubernetesProvider::new().plan(PlanRequest {
            resource: rr,
            desired: &desired,
            prior: None,
            live: None,
        }))
        .unwrap();
    assert!(p
        .planned
        .get_path(&mlstack_provider_api::parse_path("manifest.metadata.uid"))
        .unwrap()
        .is_unknown());
    assert_eq!(
        p.planned
            .get_path(&mlstack_provider_api::parse_path("manifest.metadata.name")),
        Some(Value::from("mon"))
    );
    // Recorded but not found live: planned as a create again, still without a cluster.
    let p = rt
        .block_on(KubernetesProvider::new().plan(PlanRequest {
            resource: rr,
            desired: &desired,
            prior: Some(&desired),
            live: None,
        }))
        .unwrap();
    assert!(p.requires_replace.is_empty());
    // Reading needs a usable connection: a host without a CA is refused before any request.
    let config = props(r#"{"host": "https://127.0.0.1:1"}"#);
    let rr = ResourceRef {
        provider_config: &config,
        ..rr
    };
    let e = rt
        .block_on(KubernetesProvider::new().read(rr, &desired))
        .unwrap_err();
    assert!(e.message.contains("no CA certificate"), "{e}");
}
