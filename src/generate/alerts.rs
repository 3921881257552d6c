//! The contract alerts (issue 3, DESIGN §9) built from the spec: per app `HighCPUUsage`,
//! `ModelOverloadedAtMaxReplicas`, `ModelScaledToMax`, `HighErrorRate`, `HighResponseTime`,
//! `ModelDown`; `HighKafkaQueueLength` for Kafka. Names and `for` durations are a contract:
//! users route and silence on them.

use super::duration::PromDuration;
use super::promql::{absent, max_by, sum_by};
use super::queries::{self, RULE_WINDOW};
use super::rules::{Alert, RuleFile, RuleGroup, Severity};
use super::spec::{AppSpec, KafkaSpec, MonitoringSpec};
use super::template::{go_g4, humanize_duration, Template, ValueFormat};
use std::collections::BTreeMap;

/// `for` of HighCPUUsage, ModelOverloadedAtMaxReplicas, HighErrorRate, HighResponseTime,
/// HighKafkaQueueLength.
pub const FOR_SUSTAINED: PromDuration = PromDuration::minutes(5);
/// `for` of ModelScaledToMax.
pub const FOR_SCALED_TO_MAX: PromDuration = PromDuration::minutes(1);
/// `for` of ModelDown.
pub const FOR_MODEL_DOWN: PromDuration = PromDuration::minutes(2);

/// `for` of ModelInputDrift: drift is judged over a window of inputs, not a burst.
pub const FOR_DRIFT: PromDuration = PromDuration::minutes(15);

/// The alert names generated for every app, in file order.
pub const APP_ALERTS: [&str; 7] = [
    "HighCPUUsage",
    "ModelOverloadedAtMaxReplicas",
    "ModelScaledToMax",
    "HighErrorRate",
    "HighResponseTime",
    "ModelDown",
    "ModelInputDrift",
];

/// The Kafka alert's name.
pub const KAFKA_ALERT: &str = "HighKafkaQueueLength";

/// Where an alert's runbook is: `<runbook_base_url>/<Alert>.md`, or the shipped file.
pub fn runbook_url(spec: &MonitoringSpec, alert: &str) -> String {
    match &spec.runbook_base_url {
        Some(base) => format!("{}/{alert}.md", base.trim_end_matches('/')),
        None => format!("runbooks/{alert}.md"),
    }
}

/// `80%` for 0.8.
pub fn percent(share: f64) -> String {
    format!("{}%", go_g4(share * 100.0))
}

fn alert(
    spec: &MonitoringSpec,
    name: &str,
    severity: Severity,
    for_: PromDuration,
    expr: super::promql::Expr,
) -> Alert {
    Alert {
        name: name.to_string(),
        expr,
        for_,
        severity,
        labels: BTreeMap::new(),
        summary: Template::new(),
        description: Template::new(),
        runbook_url: runbook_url(spec, name),
    }
}

/// The alert rules of one app.
pub fn app_rule_file(spec: &MonitoringSpec, app: &AppSpec) -> RuleFile {
    let name = &app.name;
    let cpu = percent(app.cpu_threshold);
    let max = f64::from(app.max_replicas);
    let with_app = |mut a: Alert| {
        a.labels.insert("app".into(), name.clone());
        a
    };

    let mut high_cpu = alert(
        spec,
        "HighCPUUsage",
        Severity::Warning,
        FOR_SUSTAINED,
        queries::cpu_ratio_per_pod(app, RULE_WINDOW).gt(app.cpu_threshold),
    );
    high_cpu.summary = Template::new().text(format!(
        "A replica of {name} uses more than {cpu} of its CPU limit"
    ));
    high_cpu.description = Template::new()
        .text("Pod ")
        .label("pod")
        .text(" in namespace ")
        .label("namespace")
        .text(" has used ")
        .value(ValueFormat::Percentage)
        .text(format!(
            " of its CPU limit for more than 5 minutes (threshold {cpu})."
        ));

    let at_max = || queries::hpa_current_replicas(app).ge(max);
    let overloaded_expr = at_max()
        .and(
            max_by(&["namespace"], queries::cpu_ratio_per_pod(app, RULE_WINDOW))
                .gt(app.cpu_threshold),
        )
        .on(&["namespace"]);
    let mut overloaded = alert(
        spec,
        "ModelOverloadedAtMaxReplicas",
        Severity::Critical,
        FOR_SUSTAINED,
        overloaded_expr,
    );
    overloaded.summary = Template::new().text(format!(
        "{name} is overloaded at its maximum of {} replicas",
        app.max_replicas
    ));
    overloaded.description = Template::new()
        .text("HPA ").label("horizontalpodautoscaler").text(" in namespace ").label("namespace").text(" runs ")
        .value(ValueFormat::Integer)
        .text(format!(
            " replicas (its maximum is {}) and a replica has used more than {cpu} of its CPU limit for 5 minutes: the model cannot scale further.",
            app.max_replicas
        ));

    let mut scaled = alert(
        spec,
        "ModelScaledToMax",
        Severity::Info,
        FOR_SCALED_TO_MAX,
        at_max(),
    );
    scaled.summary = Template::new().text(format!(
        "{name} runs at its maximum of {} replicas",
        app.max_replicas
    ));
    scaled.description = Template::new()
        .text("HPA ")
        .label("horizontalpodautoscaler")
        .text(" in namespace ")
        .label("namespace")
        .text(" has run ")
        .value(ValueFormat::Integer)
        .text(format!(
            " replicas, its maximum of {}, for more than 1 minute.",
            app.max_replicas
        ));

    let err = percent(app.error_rate_threshold);
    let mut errors = alert(
        spec,
        "HighErrorRate",
        Severity::Critical,
        FOR_SUSTAINED,
        queries::error_ratio(app, RULE_WINDOW).gt(app.error_rate_threshold),
    );
    errors.summary = Template::new().text(format!(
        "{name} answers more than {err} of requests with 5xx"
    ));
    errors.description = Template::new()
        .text(format!("{name} in namespace ")).label("namespace").text(" answered ")
        .value(ValueFormat::Percentage)
        .text(format!(" of requests with a 5xx status over the last 5 minutes, for more than 5 minutes (threshold {err})."));

    let lat = humanize_duration(app.latency_p95_seconds);
    let mut slow = alert(
        spec,
        "HighResponseTime",
        Severity::Warning,
        FOR_SUSTAINED,
        queries::latency_quantile(app, 0.95, RULE_WINDOW).gt(app.latency_p95_seconds),
    );
    slow.summary = Template::new().text(format!("{name} p95 latency is above {lat}"));
    slow.description = Template::new()
        .text(format!(
            "The 95th percentile of {name} request latency in namespace "
        ))
        .label("namespace")
        .text(" is ")
        .value(ValueFormat::Duration)
        .text(format!(
            " over the last 5 minutes, for more than 5 minutes (threshold {lat})."
        ));

    let up = queries::app_metric(app, "up");
    let down_expr = queries::ready_replicas(app)
        .lt(1.0)
        .or(max_by(&["namespace"], up.clone().vector()).lt(1.0))
        .or(sum_by(&["namespace"], absent(up)));
    let mut down = alert(
        spec,
        "ModelDown",
        Severity::Critical,
        FOR_MODEL_DOWN,
        down_expr,
    );
    down.summary = Template::new().text(format!("{name} is down"));
    down.description = Template::new()
        .text(format!("{name} in namespace "))
        .label("namespace")
        .text(format!(
            " has had no ready replica, or no scrape target of job {} up, for more than 2 minutes.",
            app.job()
        ));

    let psi = go_g4(app.drift_threshold);
    let mut drift = alert(
        spec,
        "ModelInputDrift",
        Severity::Warning,
        FOR_DRIFT,
        queries::input_drift(app).gt(app.drift_threshold),
    );
    drift.summary = Template::new()
        .text(format!("The inputs of {name} have drifted on feature "))
        .label(&app.feature_label);
    drift.description = Template::new()
        .text("Feature ")
        .label(&app.feature_label)
        .text(format!(" of the requests {name} served in namespace "))
        .label("namespace")
        .text(" has a population stability index of ")
        .value(ValueFormat::Decimal)
        .text(format!(
            " against the model's training data (threshold {psi}) for more than 15 minutes: the model is scoring data it was not trained on."
        ));

    RuleFile {
        path: format!("rules/app-{name}.yaml"),
        name: format!("app-{name}"),
        groups: vec![RuleGroup {
            name: format!("mlstack.app.{name}"),
            alerts: [high_cpu, overloaded, scaled, errors, slow, down, drift]
                .into_iter()
                .map(with_app)
                .collect(),
        }],
    }
}

/// The consumer-lag rule file.
pub fn kafka_rule_file(spec: &MonitoringSpec, k: &KafkaSpec) -> RuleFile {
    let thr = k.lag_threshold;
    let mut a = alert(
        spec,
        KAFKA_ALERT,
        Severity::Critical,
        FOR_SUSTAINED,
        queries::kafka_lag(k).gt(thr as f64),
    );
    a.summary = Template::new()
        .text("Consumer group ")
        .label("consumergroup")
        .text(" lags on topic ")
        .label("topic");
    a.description = Template::new()
        .text("Consumer group ").label("consumergroup").text(" is ")
        .value(ValueFormat::Integer)
        .text(" messages behind on topic ").label("topic")
        .text(format!(" (threshold {thr}) for more than 5 minutes; partitions without a committed offset count as 0."));
    RuleFile {
        path: "rules/kafka.yaml".into(),
        name: "kafka".into(),
        groups: vec![RuleGroup {
            name: "mlstack.kafka".into(),
            alerts: vec![a],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MonitoringSpec {
        let mut s = MonitoringSpec::default();
        s.apps.push(AppSpec {
            name: "fraud-detection".into(),
            namespace: "ml".into(),
            ..AppSpec::default()
        });
        s
    }

    #[test]
    fn app_alerts_have_contract_names_severities_and_annotations() {
        let s = spec();
        let f = app_rule_file(&s, &s.apps[0]);
        let names: Vec<_> = f.alerts().map(|a| a.name.as_str()).collect();
        assert_eq!(names, APP_ALERTS);
        let sev: Vec<_> = f.alerts().map(|a| a.severity.as_str()).collect();
        assert_eq!(
            sev,
            ["warning", "critical", "info", "critical", "warning", "critical", "warning"]
        );
        for a in f.alerts() {
            assert_eq!(a.labels["app"], "fraud-detection");
            assert_eq!(a.runbook_url, format!("runbooks/{}.md", a.name));
            assert!(!a.summary.0.is_empty() && !a.description.0.is_empty());
        }
        let overloaded = f.alerts().nth(1).unwrap().expr.to_string();
        assert!(
            overloaded.contains(">= 6") && overloaded.contains("> 0.8"),
            "{overloaded}"
        );
    }

    #[test]
    fn runbook_base_url_is_used() {
        let mut s = spec();
        s.runbook_base_url = Some("https://git.example.org/ops/runbooks/".into());
        assert_eq!(
            runbook_url(&s, "ModelDown"),
            "https://git.example.org/ops/runbooks/ModelDown.md"
        );
    }
}
