//! What the monitoring is generated from: the apps to watch, Kafka, who gets paged and how.
//! Deserialisable (unknown keys are errors) with the contract's defaults, so the stack's
//! monitoring module can hand its inputs over as they are.

use super::duration::PromDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the generated rules, Alertmanager config, dashboards and runbooks depend on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoringSpec {
    /// The model-serving apps to watch (each gets its alert group and dashboard).
    pub apps: Vec<AppSpec>,
    /// Consumer-lag alerting and the lag panel; `None` when the stack has no Kafka.
    pub kafka: Option<KafkaSpec>,
    /// Where notifications go.
    pub receivers: ReceiversSpec,
    /// Where the shipped runbooks are published (`https://.../runbooks`); every alert's
    /// `runbook_url` is `<base>/<AlertName>.md`. Unset: the path inside the rendered output,
    /// `runbooks/<AlertName>.md`.
    pub runbook_base_url: Option<String>,
    pub alertmanager: AlertmanagerSpec,
    pub grafana: GrafanaSpec,
    /// Set when the cluster runs the Prometheus Operator: rules are also rendered as
    /// `PrometheusRule` objects carrying these labels.
    pub prometheus_operator: Option<OperatorSpec>,
}

/// One model-serving app: its Kubernetes names, scaling bounds, thresholds and metric names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppSpec {
    /// The app's name: its Deployment, HPA, container and scrape `job` unless overridden.
    pub name: String,
    pub namespace: String,
    /// Deployment name (pods are `<deployment>-<hash>-<id>`); defaults to `name`.
    pub deployment: Option<String>,
    /// HorizontalPodAutoscaler name; defaults to `name`.
    pub hpa: Option<String>,
    /// The serving container's name; defaults to `name`.
    pub container: Option<String>,
    /// The Prometheus `job` of the app's own metrics; defaults to `name`.
    pub job: Option<String>,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Share of the CPU limit above which a replica is overloaded (0.8 = 80 %).
    pub cpu_threshold: f64,
    /// Share of 5xx responses above which the error rate alerts (0.05 = 5 %).
    pub error_rate_threshold: f64,
    /// p95 request latency in seconds above which the response time alerts.
    pub latency_p95_seconds: f64,
    /// Counter of HTTP requests with the status code in `status_label`.
    pub requests_metric: String,
    pub status_label: String,
    /// Histogram of request durations in seconds (the name without `_bucket`).
    pub latency_histogram: String,
    /// Counter of predictions, labelled with their outcome.
    pub predictions_metric: String,
    pub outcome_label: String,
    /// Gauge (value 1) labelled with the served model version.
    pub model_info_metric: String,
    pub version_label: String,
    /// Population stability index above which the inputs have drifted from the training data
    /// (0.25: a shift the model was not trained for; below 0.1 is stable).
    pub drift_threshold: f64,
    /// Gauge of each input feature's drift (PSI over the API's recent window vs the training
    /// reference), labelled with the feature in `feature_label`.
    pub drift_metric: String,
    pub feature_label: String,
}

impl Default for AppSpec {
    fn default() -> Self {
        AppSpec {
            name: String::new(),
            namespace: "default".into(),
            deployment: None,
            hpa: None,
            container: None,
            job: None,
            min_replicas: 4,
            max_replicas: 6,
            cpu_threshold: 0.8,
            error_rate_threshold: 0.05,
            latency_p95_seconds: 2.0,
            requests_metric: "http_requests_total".into(),
            status_label: "status".into(),
            latency_histogram: "http_request_duration_seconds".into(),
            predictions_metric: "predictions_total".into(),
            outcome_label: "outcome".into(),
            model_info_metric: "model_info".into(),
            version_label: "version".into(),
            drift_threshold: 0.25,
            drift_metric: "model_input_drift_psi".into(),
            feature_label: "feature".into(),
        }
    }
}

impl AppSpec {
    pub fn deployment(&self) -> &str {
        self.deployment.as_deref().unwrap_or(&self.name)
    }

    pub fn hpa(&self) -> &str {
        self.hpa.as_deref().unwrap_or(&self.name)
    }

    pub fn container(&self) -> &str {
        self.container.as_deref().unwrap_or(&self.name)
    }

    pub fn job(&self) -> &str {
        self.job.as_deref().unwrap_or(&self.name)
    }

    /// The app's pods: `<deployment>-<pod-template-hash>-<suffix>`, and nothing longer, so a
    /// Deployment named `<deployment>-canary` is not mistaken for this one.
    pub fn pod_regex(&self) -> String {
        format!(
            "{}-[a-z0-9]+-[a-z0-9]+",
            super::promql::regex_escape(self.deployment())
        )
    }
}

/// Consumer-lag alerting on kafka_exporter's `kafka_consumergroup_lag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSpec {
    /// Consumer groups to watch (exact names); empty: all.
    pub consumer_groups: Vec<String>,
    /// Topics to watch (exact names); empty: all.
    pub topics: Vec<String>,
    /// Total lag (messages) of a consumer group on a topic above which it alerts.
    pub lag_threshold: u64,
}

impl Default for KafkaSpec {
    fn default() -> Self {
        KafkaSpec {
            consumer_groups: Vec::new(),
            topics: Vec::new(),
            lag_threshold: 1000,
        }
    }
}

/// Receivers. Critical alerts go to `sysadmin` (email + Telegram + Slack + webhook, those
/// configured); everything else to `default` (email to `team_email`, else the sysadmin, + Slack
/// + webhook); `Watchdog` to `watchdog` (the heartbeat webhook, or nowhere).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiversSpec {
    pub sysadmin_email: String,
    pub team_email: Option<String>,
    pub smtp: SmtpSpec,
    pub webhook: Option<WebhookSpec>,
    pub telegram: Option<TelegramSpec>,
    pub slack: Option<SlackSpec>,
    /// A dead man's switch URL that expects the always-firing `Watchdog` regularly.
    pub watchdog: Option<WebhookSpec>,
}

/// Default directory where the monitoring module mounts Alertmanager's secret files.
pub const SECRETS_DIR: &str = "/etc/alertmanager/secrets";

/// Outgoing mail. The password is read by Alertmanager from a mounted file, never inlined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSpec {
    /// `host:port`.
    pub smarthost: String,
    /// Sender; defaults to `alertmanager@<domain of the sysadmin email>`.
    pub from: Option<String>,
    pub auth_username: Option<String>,
    /// Read only when `auth_username` is set.
    pub auth_password_file: String,
    pub require_tls: bool,
}

impl Default for SmtpSpec {
    fn default() -> Self {
        SmtpSpec {
            smarthost: String::new(),
            from: None,
            auth_username: None,
            auth_password_file: format!("{SECRETS_DIR}/smtp-password"),
            require_tls: true,
        }
    }
}

/// A webhook. Alertmanager 0.25 has no `url_file`, so the URL is not a secret here: put the
/// credential in a bearer-token file instead.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSpec {
    pub url: String,
    pub bearer_token_file: Option<String>,
}

/// Telegram. Alertmanager 0.25 has no `bot_token_file`: for it the config carries the
/// placeholder `$(<bot_token_env>)`, expanded at start-up from the environment (the
/// prometheus-config-reloader's `--config-envsubst-file` does exactly this). From 0.26 on,
/// `bot_token_file` is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSpec {
    pub chat_id: i64,
    pub bot_token_file: String,
    pub bot_token_env: String,
}

impl Default for TelegramSpec {
    fn default() -> Self {
        TelegramSpec {
            chat_id: 0,
            bot_token_file: format!("{SECRETS_DIR}/telegram-bot-token"),
            bot_token_env: "TELEGRAM_BOT_TOKEN".into(),
        }
    }
}

/// Slack incoming webhook; its URL (a secret) is read from a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackSpec {
    pub channel: String,
    pub api_url_file: String,
}

impl Default for SlackSpec {
    fn default() -> Self {
        SlackSpec {
            channel: String::new(),
            api_url_file: format!("{SECRETS_DIR}/slack-api-url"),
        }
    }
}

/// Alertmanager routing knobs; the defaults are the contract (critical hourly, others 4 h).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerSpec {
    /// `MAJOR.MINOR` of the Alertmanager that reads the config (decides which `*_file` fields
    /// exist). The default is the version the project's checks run `amtool` from.
    pub version: String,
    pub group_wait: PromDuration,
    pub group_interval: PromDuration,
    pub critical_repeat_interval: PromDuration,
    pub repeat_interval: PromDuration,
}

impl Default for AlertmanagerSpec {
    fn default() -> Self {
        AlertmanagerSpec {
            version: "0.25".into(),
            group_wait: PromDuration::seconds(30),
            group_interval: PromDuration::minutes(5),
            critical_repeat_interval: PromDuration::hours(1),
            repeat_interval: PromDuration::hours(4),
        }
    }
}

impl AlertmanagerSpec {
    /// `(major, minor)`, or `None` when `version` is not `MAJOR.MINOR[.PATCH]`.
    pub fn version_tuple(&self) -> Option<(u32, u32)> {
        let mut parts = self.version.trim_start_matches('v').split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    }
}

/// Dashboard settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrafanaSpec {
    /// The provisioned Prometheus datasource's uid (kube-prometheus-stack: `prometheus`).
    pub datasource_uid: String,
    pub refresh: String,
    pub tags: Vec<String>,
}

impl Default for GrafanaSpec {
    fn default() -> Self {
        GrafanaSpec {
            datasource_uid: "prometheus".into(),
            refresh: "30s".into(),
            tags: vec!["mlstack".into()],
        }
    }
}

/// Where the `PrometheusRule` objects go and the labels its `ruleSelector` matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OperatorSpec {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

impl Default for OperatorSpec {
    fn default() -> Self {
        OperatorSpec {
            namespace: "monitoring".into(),
            labels: BTreeMap::from([("release".to_string(), "kube-prometheus-stack".to_string())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contract() {
        let app: AppSpec = serde_json::from_str(r#"{"name": "fraud-detection"}"#).unwrap();
        assert_eq!((app.min_replicas, app.max_replicas), (4, 6));
        assert_eq!(app.cpu_threshold, 0.8);
        assert_eq!(app.error_rate_threshold, 0.05);
        assert_eq!(app.latency_p95_seconds, 2.0);
        assert_eq!(app.drift_threshold, 0.25);
        assert_eq!(app.drift_metric, "model_input_drift_psi");
        assert_eq!(app.job(), "fraud-detection");
        assert_eq!(app.pod_regex(), "fraud-detection-[a-z0-9]+-[a-z0-9]+");
        let k: KafkaSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(k.lag_threshold, 1000);
        let am = AlertmanagerSpec::default();
        assert_eq!(am.critical_repeat_interval.to_string(), "1h");
        assert_eq!(am.repeat_interval.to_string(), "4h");
        assert_eq!(am.version_tuple(), Some((0, 25)));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err =
            serde_json::from_str::<AppSpec>(r#"{"name": "x", "max_replica": 3}"#).unwrap_err();
        assert!(err.to_string().contains("max_replica"), "{err}");
    }
}
