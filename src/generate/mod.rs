//! Monitoring generated from types: Prometheus alert rules (plain files and `PrometheusRule`
//! objects), promtool unit tests for every alert, the Alertmanager configuration, Grafana
//! dashboards and the runbooks the alerts link to — all from one [`MonitoringSpec`].
//!
//! [`render_all`] is the entry point `mlstack render` uses: it validates the spec and returns
//! every file by its relative path. Nothing here touches the network or the filesystem.

pub mod alertmanager;
pub mod alerts;
pub mod canary;
pub mod cases;
pub mod dashboards;
pub mod duration;
pub mod pipeline;
pub mod promql;
pub mod queries;
pub mod rules;
pub mod runbooks;
pub mod spec;
pub mod template;
pub mod unittest;
pub mod validate;
pub mod yaml;

pub use spec::{AppSpec, KafkaSpec, MonitoringSpec, ReceiversSpec};
pub use validate::SpecError;

use rules::RuleFile;
use std::collections::BTreeMap;

/// Every rule file: one per app, Kafka's when configured, and the pipeline's.
pub fn rule_files(spec: &MonitoringSpec) -> Vec<RuleFile> {
    let mut out: Vec<RuleFile> = spec
        .apps
        .iter()
        .map(|a| alerts::app_rule_file(spec, a))
        .collect();
    if let Some(k) = &spec.kafka {
        out.push(alerts::kafka_rule_file(spec, k));
    }
    out.push(pipeline::pipeline_rule_file(spec));
    out
}

/// Every generated file by relative path: `rules/*.yaml`, `rules/tests/*.test.yaml`,
/// `prometheusrules/*.yaml` (with the Prometheus Operator), `alertmanager.yaml`,
/// `dashboards/*.json` and `runbooks/*.md`. Fails with every problem of the spec.
pub fn render_all(spec: &MonitoringSpec) -> Result<BTreeMap<String, String>, Vec<SpecError>> {
    let errors = spec.validate();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut files = BTreeMap::new();
    let rules = rule_files(spec);
    files.extend(runbooks::runbooks(&rules));
    for rf in rules {
        if let Some(op) = &spec.prometheus_operator {
            files.insert(
                format!("prometheusrules/{}.yaml", rf.name),
                rf.to_prometheus_rule_yaml(op),
            );
        }
        files.insert(rf.path.clone(), rf.to_yaml());
    }
    for t in cases::all_tests(spec) {
        files.insert(t.path.clone(), t.to_yaml());
    }
    files.insert(
        "alertmanager.yaml".into(),
        alertmanager::config(spec).to_yaml(),
    );
    for app in &spec.apps {
        let d = dashboards::app_dashboard(spec, app);
        files.insert(
            format!("dashboards/app-{}.json", app.name),
            d.to_json_string(),
        );
    }
    Ok(files)
}
