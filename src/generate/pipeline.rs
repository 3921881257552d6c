//! Alerts on the alerting pipeline itself (DESIGN §9, "monitoring that notices silence"):
//! `Watchdog` always fires, so its absence at the receiving end proves the pipeline broken;
//! the others catch Prometheus failing to evaluate rules or to reach Alertmanager, and
//! Alertmanager failing to notify or to load its config. Prometheus' and Alertmanager's own
//! metric names are unique, so they are selected by name only, never by `job`.

use super::alerts::runbook_url;
use super::duration::PromDuration;
use super::promql::{increase, vector, Selector};
use super::queries::RULE_WINDOW;
use super::rules::{Alert, RuleFile, RuleGroup, Severity};
use super::spec::MonitoringSpec;
use super::template::Template;
use std::collections::BTreeMap;

/// The pipeline alerts, in file order.
pub const PIPELINE_ALERTS: [&str; 7] = [
    "Watchdog",
    "PrometheusRuleEvaluationFailures",
    "PrometheusNotificationErrors",
    "PrometheusNotConnectedToAlertmanagers",
    "PrometheusConfigReloadFailed",
    "AlertmanagerNotificationsFailed",
    "AlertmanagerConfigReloadFailed",
];

/// The metric each pipeline alert reads (for tests and runbooks); `Watchdog` reads none.
pub fn pipeline_metric(alert: &str) -> Option<&'static str> {
    Some(match alert {
        "PrometheusRuleEvaluationFailures" => "prometheus_rule_evaluation_failures_total",
        "PrometheusNotificationErrors" => "prometheus_notifications_errors_total",
        "PrometheusNotConnectedToAlertmanagers" => {
            "prometheus_notifications_alertmanagers_discovered"
        }
        "PrometheusConfigReloadFailed" => "prometheus_config_last_reload_successful",
        "AlertmanagerNotificationsFailed" => "alertmanager_notifications_failed_total",
        "AlertmanagerConfigReloadFailed" => "alertmanager_config_last_reload_successful",
        _ => return None,
    })
}

/// `for` of each pipeline alert.
pub fn pipeline_for(alert: &str) -> PromDuration {
    match alert {
        "Watchdog" => PromDuration(0),
        "PrometheusRuleEvaluationFailures" | "AlertmanagerNotificationsFailed" => {
            PromDuration::minutes(5)
        }
        _ => PromDuration::minutes(10),
    }
}

fn make(
    spec: &MonitoringSpec,
    name: &str,
    severity: Severity,
    expr: super::promql::Expr,
    summary: Template,
    description: Template,
) -> Alert {
    Alert {
        name: name.into(),
        expr,
        for_: pipeline_for(name),
        severity,
        labels: BTreeMap::new(),
        summary,
        description,
        runbook_url: runbook_url(spec, name),
    }
}

fn metric(alert: &str) -> Selector {
    Selector::new(pipeline_metric(alert).unwrap_or("up"))
}

/// The pipeline rule file.
pub fn pipeline_rule_file(spec: &MonitoringSpec) -> RuleFile {
    let t = Template::new;
    let alerts = vec![
        make(spec, "Watchdog", Severity::None, vector(1.0),
            t().text("Alerting pipeline heartbeat"),
            t().text("This alert always fires. If the watchdog receiver stops getting it, Prometheus, Alertmanager or the way between them is broken.")),
        make(spec, "PrometheusRuleEvaluationFailures", Severity::Critical,
            increase(metric("PrometheusRuleEvaluationFailures"), RULE_WINDOW).gt(0.0),
            t().text("Prometheus fails to evaluate rules"),
            t().text("Prometheus ").label("instance").text(" failed to evaluate rules of group ").label("rule_group")
                .text(" in the last 5 minutes: alerts of that group may be missing.")),
        make(spec, "PrometheusNotificationErrors", Severity::Critical,
            increase(metric("PrometheusNotificationErrors"), RULE_WINDOW).gt(0.0),
            t().text("Prometheus fails to send alerts to Alertmanager"),
            t().text("Prometheus ").label("instance").text(" got errors sending alerts to Alertmanager ").label("alertmanager")
                .text(" for more than 10 minutes.")),
        make(spec, "PrometheusNotConnectedToAlertmanagers", Severity::Critical,
            metric("PrometheusNotConnectedToAlertmanagers").vector().lt(1.0),
            t().text("Prometheus knows no Alertmanager"),
            t().text("Prometheus ").label("instance").text(" has discovered no Alertmanager for more than 10 minutes: no alert can be delivered.")),
        make(spec, "PrometheusConfigReloadFailed", Severity::Warning,
            metric("PrometheusConfigReloadFailed").vector().eq_num(0.0),
            t().text("Prometheus could not reload its configuration"),
            t().text("The last configuration reload of Prometheus ").label("instance").text(" failed; it keeps running the previous configuration.")),
        make(spec, "AlertmanagerNotificationsFailed", Severity::Critical,
            increase(metric("AlertmanagerNotificationsFailed"), RULE_WINDOW).gt(0.0),
            t().text("Alertmanager fails to deliver notifications"),
            t().text("Alertmanager ").label("instance").text(" failed to send notifications through ").label("integration")
                .text(" for more than 5 minutes.")),
        make(spec, "AlertmanagerConfigReloadFailed", Severity::Warning,
            metric("AlertmanagerConfigReloadFailed").vector().eq_num(0.0),
            t().text("Alertmanager could not reload its configuration"),
            t().text("The last configuration reload of Alertmanager ").label("instance").text(" failed; it keeps running the previous configuration.")),
    ];
    RuleFile {
        path: "rules/pipeline.yaml".into(),
        name: "pipeline".into(),
        groups: vec![RuleGroup {
            name: "mlstack.pipeline".into(),
            alerts,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_always_fires_and_names_match() {
        let f = pipeline_rule_file(&MonitoringSpec::default());
        let names: Vec<_> = f.alerts().map(|a| a.name.as_str()).collect();
        assert_eq!(names, PIPELINE_ALERTS);
        let w = f.alerts().next().unwrap();
        assert_eq!(w.expr.to_string(), "vector(1)");
        assert_eq!(w.severity, Severity::None);
        for a in f.alerts() {
            assert!(!a.expr.to_string().contains("job="), "{}", a.expr);
        }
    }
}
