//! The PromQL both the alerts and the dashboards are made of, one function per signal, so a
//! panel always shows exactly what its alert measures.
//!
//! Selection (DESIGN §9): the app's own metrics by `job` and `namespace`; infrastructure
//! metrics (cAdvisor, kube-state-metrics) by `namespace`, `pod`, `container`, `deployment` and
//! `horizontalpodautoscaler`, never by `job`, whose value depends on the scrape config.

use super::promql::{
    any_of, clamp_min, histogram_quantile, max_by, rate, sum_by, Expr, Selector, Window,
};
use super::spec::{AppSpec, KafkaSpec};

/// The window of every rate in the alert rules.
pub const RULE_WINDOW: Window = Window::Fixed(super::duration::PromDuration::minutes(5));

/// The app's own metric, selected by `job` and `namespace`.
pub fn app_metric(app: &AppSpec, metric: &str) -> Selector {
    Selector::new(metric)
        .eq("job", app.job())
        .eq("namespace", &app.namespace)
}

/// A cAdvisor or kube-state-metrics series of the app's serving container.
fn container_metric(app: &AppSpec, metric: &str) -> Selector {
    Selector::new(metric)
        .eq("namespace", &app.namespace)
        .re("pod", &app.pod_regex())
        .eq("container", app.container())
}

/// CPU cores used per replica.
pub fn cpu_usage_per_pod(app: &AppSpec, w: Window) -> Expr {
    sum_by(
        &["namespace", "pod"],
        rate(
            container_metric(app, "container_cpu_usage_seconds_total"),
            w,
        ),
    )
}

/// CPU limit (cores) per replica.
pub fn cpu_limit_per_pod(app: &AppSpec) -> Expr {
    sum_by(
        &["namespace", "pod"],
        container_metric(app, "kube_pod_container_resource_limits")
            .eq("resource", "cpu")
            .vector(),
    )
}

/// CPU used per replica as a share of its limit (0.8 = 80 %).
pub fn cpu_ratio_per_pod(app: &AppSpec, w: Window) -> Expr {
    (cpu_usage_per_pod(app, w) / cpu_limit_per_pod(app)).on(&["namespace", "pod"])
}

/// Memory working set per replica (bytes).
pub fn memory_per_pod(app: &AppSpec) -> Expr {
    sum_by(
        &["namespace", "pod"],
        container_metric(app, "container_memory_working_set_bytes").vector(),
    )
}

/// Memory limit per replica (bytes).
pub fn memory_limit_per_pod(app: &AppSpec) -> Expr {
    sum_by(
        &["namespace", "pod"],
        container_metric(app, "kube_pod_container_resource_limits")
            .eq("resource", "memory")
            .vector(),
    )
}

/// An HPA series of the app's autoscaler.
pub fn hpa_metric(app: &AppSpec, metric: &str) -> Expr {
    max_by(
        &["namespace", "horizontalpodautoscaler"],
        Selector::new(metric)
            .eq("namespace", &app.namespace)
            .eq("horizontalpodautoscaler", app.hpa())
            .vector(),
    )
}

/// Replicas the HPA currently runs.
pub fn hpa_current_replicas(app: &AppSpec) -> Expr {
    hpa_metric(app, "kube_horizontalpodautoscaler_status_current_replicas")
}

/// Ready replicas of the app's Deployment.
pub fn ready_replicas(app: &AppSpec) -> Expr {
    max_by(
        &["namespace"],
        Selector::new("kube_deployment_status_replicas_ready")
            .eq("namespace", &app.namespace)
            .eq("deployment", app.deployment())
            .vector(),
    )
}

/// Requests per second, split by `by` (e.g. `["namespace"]` or `["status"]`).
pub fn request_rate(app: &AppSpec, by: &[&str], w: Window) -> Expr {
    sum_by(by, rate(app_metric(app, &app.requests_metric), w))
}

/// Share of requests answered with a 5xx status.
pub fn error_ratio(app: &AppSpec, w: Window) -> Expr {
    let errors = sum_by(
        &["namespace"],
        rate(
            app_metric(app, &app.requests_metric).re(&app.status_label, "5.."),
            w,
        ),
    );
    (errors / request_rate(app, &["namespace"], w)).on(&["namespace"])
}

/// The `q` quantile of request latency (seconds), from the app's histogram.
pub fn latency_quantile(app: &AppSpec, q: f64, w: Window) -> Expr {
    let buckets = app_metric(app, &format!("{}_bucket", app.latency_histogram));
    histogram_quantile(q, sum_by(&["namespace", "le"], rate(buckets, w)))
}

/// Predictions per second by outcome.
pub fn predictions_by_outcome(app: &AppSpec, w: Window) -> Expr {
    sum_by(
        &[app.outcome_label.as_str()],
        rate(app_metric(app, &app.predictions_metric), w),
    )
}

/// The model version(s) being served (one series per version, value = replicas serving it).
pub fn model_versions(app: &AppSpec) -> Expr {
    sum_by(
        &[app.version_label.as_str()],
        app_metric(app, &app.model_info_metric).vector(),
    )
}

/// Input drift per feature: the largest population stability index any replica reports (each
/// replica measures the window of inputs it served against its model's training reference).
pub fn input_drift(app: &AppSpec) -> Expr {
    max_by(
        &["namespace", app.feature_label.as_str()],
        app_metric(app, &app.drift_metric).vector(),
    )
}

/// kafka_exporter's per-partition lag, restricted to the watched groups and topics.
pub fn kafka_lag_selector(k: &KafkaSpec) -> Selector {
    let mut s = Selector::new("kafka_consumergroup_lag");
    if !k.consumer_groups.is_empty() {
        s = s.re("consumergroup", &any_of(&k.consumer_groups));
    }
    if !k.topics.is_empty() {
        s = s.re("topic", &any_of(&k.topics));
    }
    s
}

/// Lag per consumer group and topic; a partition reporting -1 (no committed offset) counts 0.
pub fn kafka_lag(k: &KafkaSpec) -> Expr {
    sum_by(
        &["namespace", "consumergroup", "topic"],
        clamp_min(kafka_lag_selector(k).vector(), 0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AppSpec {
        AppSpec {
            name: "fraud-detection".into(),
            namespace: "ml".into(),
            ..AppSpec::default()
        }
    }

    #[test]
    fn infrastructure_is_never_selected_by_job() {
        for e in [
            cpu_ratio_per_pod(&app(), RULE_WINDOW),
            memory_per_pod(&app()),
            hpa_current_replicas(&app()),
            ready_replicas(&app()),
        ] {
            assert!(!e.to_string().contains("job="), "{e}");
        }
    }

    #[test]
    fn cpu_ratio_text() {
        assert_eq!(
            cpu_ratio_per_pod(&app(), RULE_WINDOW).to_string(),
            r#"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{namespace="ml", pod=~"fraud-detection-[a-z0-9]+-[a-z0-9]+", container="fraud-detection"}[5m])) / on(namespace, pod) sum by (namespace, pod) (kube_pod_container_resource_limits{namespace="ml", pod=~"fraud-detection-[a-z0-9]+-[a-z0-9]+", container="fraud-detection", resource="cpu"})"#
        );
    }

    #[test]
    fn errors_are_5xx_by_job() {
        let e = error_ratio(&app(), RULE_WINDOW).to_string();
        assert!(
            e.contains(
                r#"http_requests_total{job="fraud-detection", namespace="ml", status=~"5.."}"#
            ),
            "{e}"
        );
    }

    #[test]
    fn drift_is_the_app_s_gauge_by_feature() {
        assert_eq!(
            input_drift(&app()).to_string(),
            r#"max by (namespace, feature) (model_input_drift_psi{job="fraud-detection", namespace="ml"})"#
        );
    }

    #[test]
    fn kafka_lag_clamps() {
        let k = KafkaSpec {
            consumer_groups: vec!["fraud-scorer".into()],
            ..KafkaSpec::default()
        };
        assert_eq!(
            kafka_lag(&k).to_string(),
            r#"sum by (namespace, consumergroup, topic) (clamp_min(kafka_consumergroup_lag{consumergroup=~"fraud-scorer"}, 0))"#
        );
    }
}
