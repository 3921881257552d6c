//! Kubernetes objects as stack resources: `kubernetes_manifests` bundles expand into one
//! `kubernetes_object` per manifest with its own address; keys must be literal; references and
//! `depends_on` reach single objects or the whole bundle; Namespaces and CRDs come first.

use mlstack::diag::Diagnostics;
use mlstack::stack::{self, LoadOptions, Stack};
use std::path::Path;

fn load(text: &str) -> Result<Stack, Diagnostics> {
    stack::load_str(Path::new("stack.yaml"), text, &LoadOptions::default())
}

fn ok(text: &str) -> Stack {
    load(text).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// `(code, line:col, message)` of every diagnostic.
fn diags(text: &str) -> Vec<(String, String, String)> {
    let d = match load(text) {
        Ok(_) => panic!("expected diagnostics"),
        Err(d) => d,
    };
    d.items
        .iter()
        .map(|i| {
            let loc = i.span.map(|s| d.sources.location(s)).unwrap_or_default();
            (i.code.to_string(), loc, i.message.clone())
        })
        .collect()
}

fn addresses(s: &Stack) -> Vec<&str> {
    s.resources.iter().map(|r| r.address.as_str()).collect()
}

const BUNDLE: &str = r#"
stack:
  name: demo
variables:
  ns: { type: string, default: monitoring }
resources:
  object:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: { name: prometheus, namespace: "${var.ns}" }
          spec: { replicas: 1 }
        - apiVersion: v1
          kind: Namespace
          metadata: { name: monitoring }
        - apiVersion: apiextensions.k8s.io/v1
          kind: CustomResourceDefinition
          metadata: { name: prometheusrules.monitoring.coreos.com }
          spec: { group: monitoring.coreos.com, names: { kind: PrometheusRule, plural: prometheusrules } }
        - apiVersion: monitoring.coreos.com/v1
          kind: PrometheusRule
          metadata: { name: rules, namespace: monitoring }
  cfg:
    type: kubernetes_object
    depends_on: [object]
    properties:
      manifest:
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: cfg, namespace: other }
        data: { dep: '${object["apps/v1/Deployment/monitoring/prometheus"].manifest.metadata.name}' }
"#;

#[test]
fn one_address_per_object() {
    let s = ok(BUNDLE);
    assert_eq!(
        addresses(&s),
        vec![
            "cfg",
            "object[\"apiextensions.k8s.io/v1/CustomResourceDefinition/prometheusrules.monitoring.coreos.com\"]",
            "object[\"apps/v1/Deployment/monitoring/prometheus\"]",
            "object[\"monitoring.coreos.com/v1/PrometheusRule/monitoring/rules\"]",
            "object[\"v1/Namespace/monitoring\"]",
        ]
    );
    let d = s
        .resource("object[\"apps/v1/Deployment/monitoring/prometheus\"]")
        .unwrap();
    assert_eq!(d.type_name, "kubernetes_object");
    let v = d
        .properties
        .eval(&|_| mlstack::provider_api::Value::Unknown);
    let labels = v
        .get("manifest")
        .unwrap()
        .get("metadata")
        .unwrap()
        .get("labels")
        .unwrap();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .and_then(|v| v.as_str()),
        Some("mlstack")
    );
    assert_eq!(
        labels.get("mlstack.dev/stack").and_then(|v| v.as_str()),
        Some("demo")
    );
    assert_eq!(
        v.get("manifest")
            .unwrap()
            .get("spec")
            .unwrap()
            .get("replicas")
            .and_then(|v| v.as_u64()),
        Some(1)
    );
    // The diagnostics of a bundle item point into the stack file.
    let line = s.sources.location(d.span);
    assert!(line.starts_with("stack.yaml:11:"), "{line}");
}

#[test]
fn references_and_depends_on_reach_objects() {
    let s = ok(BUNDLE);
    let cfg = s.resource("cfg").unwrap();
    let refs = cfg.properties.references();
    assert_eq!(refs.len(), 1);
    assert_eq!(
        refs[0].address,
        "object[\"apps/v1/Deployment/monitoring/prometheus\"]"
    );
    assert_eq!(
        mlstack::provider_api::path_to_string(&refs[0].path),
        "manifest.metadata.name"
    );
    // depends_on: [object] means every object of the bundle.
    assert_eq!(cfg.depends_on.len(), 4, "{:?}", cfg.depends_on);
    assert!(cfg.depends_on.iter().all(|d| d.starts_with("object[")));
}

#[test]
fn namespaces_and_crds_come_first() {
    let s = ok(BUNDLE);
    let g = mlstack::graph::build(&s).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let deps = |a: &str| g.dependencies(a);
    assert_eq!(
        deps("object[\"apps/v1/Deployment/monitoring/prometheus\"]"),
        vec!["object[\"v1/Namespace/monitoring\"]"]
    );
    assert_eq!(
        deps("object[\"monitoring.coreos.com/v1/PrometheusRule/monitoring/rules\"]"),
        vec![
            "object[\"apiextensions.k8s.io/v1/CustomResourceDefinition/prometheusrules.monitoring.coreos.com\"]",
            "object[\"v1/Namespace/monitoring\"]",
        ]
    );
    assert!(deps("object[\"v1/Namespace/monitoring\"]").is_empty());
    let order: Vec<&str> = g
        .apply_order()
        .into_iter()
        .map(|i| s.resources[i].address.as_str())
        .collect();
    let pos = |a: &str| order.iter().position(|x| *x == a).unwrap();
    assert!(
        pos("object[\"v1/Namespace/monitoring\"]")
            < pos("object[\"apps/v1/Deployment/monitoring/prometheus\"]")
    );
    // --target with a quoted address selects the object and what it needs.
    let sel = g
        .select_targets(
            &s,
            &["object[\"apps/v1/Deployment/monitoring/prometheus\"]".to_string()],
        )
        .unwrap();
    assert_eq!(sel.len(), 2);
    assert_eq!(
        g.select_targets(&s, &["object".to_string()]).unwrap().len(),
        4
    );
}

#[test]
fn keys_must_be_known_at_load() {
    let d = diags(
        r#"stack: {name: demo}
resources:
  pw: {type: random_id, properties: {byte_length: 2}}
  object:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: v1
          kind: ConfigMap
          metadata: { name: "${pw.hex}", namespace: ns }
        - kind: ConfigMap
          metadata: { name: x, namespace: ns }
"#,
    );
    assert!(
        d.iter().any(|(c, l, m)| c == "not-known-at-load"
            && l.starts_with("stack.yaml:10:")
            && m.contains("metadata.name")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|(c, l, m)| c == "missing-attribute"
            && l.starts_with("stack.yaml:11:")
            && m.contains("apiVersion")),
        "{d:#?}"
    );
}

#[test]
fn duplicates_and_unknown_items_are_reported() {
    let d = diags(
        r#"stack: {name: demo}
resources:
  object:
    type: kubernetes_manifests
    properties:
      manifests:
        - { apiVersion: v1, kind: ConfigMap, metadata: { name: a, namespace: ns } }
        - { apiVersion: v1, kind: ConfigMap, metadata: { name: a, namespace: ns } }
  user:
    type: kubernetes_object
    properties:
      manifest:
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: u, namespace: ns }
        data: { x: '${object["v1/ConfigMap/ns/b"].manifest.kind}' }
"#,
    );
    assert!(
        d.iter().any(|(c, l, m)| c == "duplicate-name"
            && l.starts_with("stack.yaml:8:")
            && m.contains("v1/ConfigMap/ns/a")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|(c, l, m)| c == "unknown-reference"
            && l.starts_with("stack.yaml:16:")
            && m.contains("no item `v1/ConfigMap/ns/b`")),
        "{d:#?}"
    );
}

#[test]
fn a_bundle_needs_an_item_key_in_references() {
    let d = diags(
        r#"stack: {name: demo}
resources:
  object:
    type: kubernetes_manifests
    properties: { manifests: [] }
  user:
    type: local_file
    properties: { filename: x, content: "${object}" }
"#,
    );
    assert!(
        d.iter()
            .any(|(c, l, _)| c == "invalid-expression" && l.starts_with("stack.yaml:8:")),
        "{d:#?}"
    );
}

#[test]
fn validation_messages_point_at_the_field() {
    let s = ok(r#"stack: {name: demo}
resources:
  object:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: v1
          kind: Service
          metadata: { name: Bad_Name }
        - apiVersion: v1
          kind: Namespace
          metadata: { name: ns, namespace: other }
"#);
    let problems = mlstack::stack::check(&s, &mlstack::providers::Registry::builtin());
    let found: Vec<(String, String)> = problems
        .iter()
        .map(|p| {
            (
                p.span.map(|sp| s.sources.location(sp)).unwrap_or_default(),
                p.message.clone(),
            )
        })
        .collect();
    assert!(
        found
            .iter()
            .any(|(l, m)| l.starts_with("stack.yaml:9:") && m.contains("invalid name `Bad_Name`")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(l, m)| l.starts_with("stack.yaml:9:") && m.contains("namespace")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(l, m)| l.starts_with("stack.yaml:12:") && m.contains("cluster-scoped")),
        "{found:#?}"
    );
}

#[test]
fn modules_and_single_objects() {
    // Inside a module the address carries the module prefix.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("modules/mon")).unwrap();
    std::fs::write(
        dir.path().join("modules/mon/module.yaml"),
        "inputs: { ns: { type: string } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("modules/mon/main.yaml.tera"),
        "resources:\n  object:\n    type: kubernetes_manifests\n    properties:\n      manifests:\n        - { apiVersion: v1, kind: Service, metadata: { name: prometheus, namespace: \"{{ inputs.ns }}\" } }\n",
    )
    .unwrap();
    let path = dir.path().join("stack.yaml");
    std::fs::write(&path, "stack: {name: demo}\nmodules:\n  monitoring: { source: mon, inputs: { ns: monitoring } }\n").unwrap();
    let s = stack::load(&path, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert_eq!(
        addresses(&s),
        vec!["module.monitoring.object[\"v1/Service/monitoring/prometheus\"]"]
    );
}
