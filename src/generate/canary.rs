//! The default analysis of a canary step: the thresholds and metric names the alerts are
//! generated from (HighErrorRate's 5 %, HighResponseTime's p95 of 2 s), measured on the
//! candidate's pods only (`NAME-candidate-<hash>-<suffix>`), so the stable version's traffic
//! cannot hide a bad candidate. The model-serving module gets them through the Tera function
//! `canary_analysis(name=, namespace=, window=)`.

use super::duration::PromDuration;
use super::promql::{histogram_quantile, rate, sum_by, Selector, Window};
use super::queries::app_metric;
use super::spec::AppSpec;
use std::collections::HashMap;

/// One check of a canary step: the query's value must stay at or under `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub query: String,
    pub max: f64,
}

/// The candidate's pods of `app`.
fn candidate(app: &AppSpec, metric: &str) -> Selector {
    let cand = AppSpec {
        deployment: Some(format!("{}-candidate", app.deployment())),
        ..app.clone()
    };
    app_metric(app, metric).re("pod", &cand.pod_regex())
}

/// Error ratio and p95 latency of the candidate over `w`, with the alert thresholds.
pub fn default_analysis(app: &AppSpec, w: Window) -> Vec<Check> {
    let errors = sum_by(
        &["namespace"],
        rate(
            candidate(app, &app.requests_metric).re(&app.status_label, "5.."),
            w,
        ),
    );
    let all = sum_by(
        &["namespace"],
        rate(candidate(app, &app.requests_metric), w),
    );
    let buckets = candidate(app, &format!("{}_bucket", app.latency_histogram));
    vec![
        Check {
            name: "error_rate",
            query: (errors / all).on(&["namespace"]).to_string(),
            max: app.error_rate_threshold,
        },
        Check {
            name: "p95_latency",
            query: histogram_quantile(0.95, sum_by(&["namespace", "le"], rate(buckets, w)))
                .to_string(),
            max: app.latency_p95_seconds,
        },
    ]
}

/// The Tera function: `canary_analysis(name="fraud-detection", namespace="ml", window="1m")`
/// is a list of `{name, query, max}`.
pub fn tera_function(args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let arg = |k: &str| {
        args.get(k)
            .and_then(tera::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| tera::Error::msg(format!("canary_analysis needs `{k}` (a string)")))
    };
    let window = match args.get("window").and_then(tera::Value::as_str) {
        Some(t) => PromDuration::parse(t).map_err(tera::Error::msg)?,
        None => PromDuration::minutes(1),
    };
    let app = AppSpec {
        name: arg("name")?,
        namespace: arg("namespace")?,
        ..AppSpec::default()
    };
    let checks = default_analysis(&app, Window::Fixed(window));
    Ok(tera::Value::Array(
        checks
            .into_iter()
            .map(|c| serde_json::json!({"name": c.name, "query": c.query, "max": c.max}))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_alert_thresholds_on_the_candidate() {
        let app = AppSpec {
            name: "fd".into(),
            namespace: "ml".into(),
            ..AppSpec::default()
        };
        let c = default_analysis(&app, Window::Fixed(PromDuration::minutes(1)));
        assert_eq!(c[0].max, AppSpec::default().error_rate_threshold);
        assert_eq!(c[1].max, AppSpec::default().latency_p95_seconds);
        assert_eq!(
            c[0].query,
            r#"sum by (namespace) (rate(http_requests_total{job="fd", namespace="ml", pod=~"fd-candidate-[a-z0-9]+-[a-z0-9]+", status=~"5.."}[1m])) / on(namespace) sum by (namespace) (rate(http_requests_total{job="fd", namespace="ml", pod=~"fd-candidate-[a-z0-9]+-[a-z0-9]+"}[1m]))"#
        );
        assert!(c[1].query.starts_with("histogram_quantile(0.95, sum by (namespace, le) (rate(http_request_duration_seconds_bucket{job=\"fd\", namespace=\"ml\", pod=~\"fd-candidate-"), "{}", c[1].query);
    }
}
