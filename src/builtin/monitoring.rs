//! The `monitoring` provider: its data source `monitoring_bundle` turns a
//! [`MonitoringSpec`](crate::generate::MonitoringSpec) into the generated files (alert rules,
//! promtool tests, Alertmanager config, dashboards, runbooks), so a module can put them into
//! ConfigMaps with `${data.NAME.files["alertmanager.yaml"]}` and `render` can write them out.

use crate::generate::{self, MonitoringSpec};
use mlstack_provider_api::{
    parse_path, ApplyRequest, AttrSchema, AttrType, PlanRequest, PlannedResource, Provider,
    ProviderError, ProviderResult, ProviderSchema, ReadResult, ResourceRef, ResourceSchema,
    ValidationIssue, Value,
};
use std::collections::BTreeMap;

/// The data source's type name.
pub const BUNDLE_TYPE: &str = "monitoring_bundle";

/// The built-in `monitoring` provider (data sources only).
pub struct MonitoringProvider;

fn bundle_schema() -> ResourceSchema {
    let any = |d| AttrSchema::input(AttrType::Any).describe(d);
    ResourceSchema::new("Generated alert rules, Alertmanager config, dashboards and runbooks")
        .attr(
            "apps",
            AttrSchema::input(AttrType::List).describe("the apps to watch"),
        )
        .attr("kafka", any("consumer-lag alerting"))
        .attr(
            "receivers",
            AttrSchema::input(AttrType::Map).describe("who gets notified"),
        )
        .attr("runbook_base_url", AttrSchema::input(AttrType::String))
        .attr("alertmanager", AttrSchema::input(AttrType::Map))
        .attr("grafana", AttrSchema::input(AttrType::Map))
        .attr(
            "prometheus_operator",
            any("render PrometheusRule objects too"),
        )
        .attr(
            "endpoints",
            AttrSchema::input(AttrType::Map).describe(
                "echoed back unchanged: where Prometheus and Alertmanager answer, for the module's outputs (they differ in operator mode)",
            ),
        )
        .attr(
            "files",
            AttrSchema::computed(AttrType::Map).describe("every generated file by relative path"),
        )
        .attr(
            "prometheus_rules",
            AttrSchema::computed(AttrType::Map)
                .describe("each rule file's groups by short name, as a PrometheusRule spec"),
        )
}

/// The spec from properties; `Err` with a message when it does not deserialize.
fn spec_of(properties: &Value) -> Result<MonitoringSpec, String> {
    let mut json = properties.to_json_unmarked();
    if let Some(m) = json.as_object_mut() {
        m.remove("files");
        m.remove("prometheus_rules");
        m.remove("endpoints");
        // Unset attributes are null in the stack; the spec wants them absent (defaults).
        m.retain(|_, v| !v.is_null());
    }
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn issues(properties: &Value) -> Vec<ValidationIssue> {
    if properties.contains_unknown() {
        return Vec::new();
    }
    match spec_of(properties) {
        Err(e) => vec![ValidationIssue {
            path: Vec::new(),
            message: format!("invalid monitoring spec: {e}"),
            hint: Some("see docs/monitoring.md for the spec's fields".into()),
        }],
        Ok(spec) => spec
            .validate()
            .into_iter()
            .map(|e| ValidationIssue {
                path: parse_path(&e.path),
                message: format!("`{}`: {}", e.path, e.message),
                hint: None,
            })
            .collect(),
    }
}

fn not_managed(type_name: &str) -> ProviderError {
    ProviderError::new(format!(
        "the monitoring provider has only data sources; `{type_name}` is not a resource type"
    ))
}

#[async_trait::async_trait]
impl Provider for MonitoringProvider {
    fn name(&self) -> &'static str {
        "monitoring"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.data_sources.insert(BUNDLE_TYPE, bundle_schema());
        s
    }

    fn offline(&self) -> bool {
        true
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        match type_name {
            BUNDLE_TYPE => issues(properties),
            _ => Vec::new(),
        }
    }

    async fn read(&self, r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<ReadResult> {
        Err(not_managed(r.type_name))
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        Err(not_managed(req.resource.type_name))
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> ProviderResult<Value> {
        Err(not_managed(req.resource.type_name))
    }

    async fn delete(&self, r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<()> {
        Err(not_managed(r.type_name))
    }

    async fn read_data(&self, r: ResourceRef<'_>, properties: &Value) -> ProviderResult<Value> {
        if r.type_name != BUNDLE_TYPE {
            return Err(ProviderError::new(format!(
                "the monitoring provider has no data source {}",
                r.type_name
            )));
        }
        let spec = spec_of(properties)
            .map_err(|e| ProviderError::new(format!("invalid monitoring spec: {e}")))?;
        let files = generate::render_all(&spec).map_err(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            ProviderError::new(format!("invalid monitoring spec: {}", list.join("; ")))
        })?;
        // A secret given to the spec could end up in a file: then every file is sensitive.
        let secret = properties.contains_sensitive();
        let files: BTreeMap<String, Value> = files
            .into_iter()
            .map(|(k, v)| {
                let v = Value::String(v);
                (k, if secret { v.into_sensitive() } else { v })
            })
            .collect();
        let mut out = match properties.unmarked() {
            Value::Map(m) => m.clone(),
            _ => BTreeMap::new(),
        };
        out.insert("files".into(), Value::Map(files));
        // Each rule file's groups as structured data, keyed by its short name (`app-NAME`,
        // `kafka`, `pipeline`), so that a PrometheusRule object can take them as its `spec`.
        let rules: BTreeMap<String, Value> = generate::rule_files(&spec)
            .iter()
            .map(|f| {
                let v = Value::from(f.to_json());
                (f.name.clone(), if secret { v.into_sensitive() } else { v })
            })
            .collect();
        out.insert("prometheus_rules".into(), Value::Map(rules));
        Ok(Value::Map(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: &str) -> Value {
        Value::from(serde_json::from_str::<serde_json::Value>(json).expect("json"))
    }

    #[test]
    fn spec_errors_are_issues_at_their_path() {
        let i = MonitoringProvider.validate(
            BUNDLE_TYPE,
            &props(r#"{"apps": [{"name": "x", "min_replicas": 9, "max_replicas": 2}], "receivers": {"sysadmin_email": "a@b.org", "smtp": {"smarthost": "m:25"}}}"#),
        );
        assert!(!i.is_empty());
        assert!(i.iter().all(|x| matches!(x.path.first(), Some(mlstack_provider_api::PathStep::Key(k)) if k == "apps")), "{i:?}");
        let i = MonitoringProvider.validate(
            BUNDLE_TYPE,
            &props(r#"{"apps": [{"name": "x", "max_replica": 2}]}"#),
        );
        assert_eq!(i.len(), 1);
        assert!(i[0].message.contains("max_replica"), "{i:?}");
    }

    #[test]
    fn read_returns_the_files() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let config = Value::map();
        let rr = ResourceRef {
            address: "data.m",
            type_name: BUNDLE_TYPE,
            provider_config: &config,
        };
        let v = rt
            .block_on(MonitoringProvider.read_data(rr, &props(r#"{"apps": [{"name": "api", "namespace": "ml"}], "receivers": {"sysadmin_email": "a@b.org", "smtp": {"smarthost": "m:25"}}, "kafka": null}"#)))
            .unwrap();
        let files = v.get("files").and_then(Value::as_map).unwrap();
        assert!(files.contains_key("alertmanager.yaml"));
        assert!(files.keys().any(|k| k.starts_with("rules/")));
    }
}
