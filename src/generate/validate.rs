//! Checks on a [`MonitoringSpec`] before anything is generated, so a bad input is reported at
//! its place (`apps[0].min_replicas`) instead of becoming a broken rule file.

use super::promql::{is_label_name, is_metric_name};
use super::spec::{AppSpec, MonitoringSpec, ReceiversSpec};
use mlstack_provider_api::names::{is_dns_label, is_label_key, is_label_value};
use std::collections::BTreeSet;
use std::fmt;

/// One problem in the spec, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SpecError {}

struct Errors(Vec<SpecError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(SpecError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn check(&mut self, ok: bool, path: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.push(path, message);
        }
    }
}

impl MonitoringSpec {
    /// Every problem found (empty when the spec can be rendered).
    pub fn validate(&self) -> Vec<SpecError> {
        let mut e = Errors(Vec::new());
        let mut names = BTreeSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            let p = format!("apps[{i}]");
            validate_app(&mut e, &p, app);
            if !names.insert(app.name.as_str()) {
                e.push(
                    format!("{p}.name"),
                    format!("app `{}` is listed twice", app.name),
                );
            }
        }
        if let Some(k) = &self.kafka {
            e.check(
                (1..=1_000_000_000_000).contains(&k.lag_threshold),
                "kafka.lag_threshold",
                "must be between 1 and 10^12 messages",
            );
            for (field, list) in [
                ("consumer_groups", &k.consumer_groups),
                ("topics", &k.topics),
            ] {
                for (i, n) in list.iter().enumerate() {
                    e.check(
                        !n.trim().is_empty(),
                        format!("kafka.{field}[{i}]"),
                        "must not be empty",
                    );
                }
            }
        }
        validate_receivers(&mut e, &self.receivers);
        if let Some(url) = &self.runbook_base_url {
            e.check(
                is_http_url(url),
                "runbook_base_url",
                "must be an http(s) URL",
            );
        }
        let am = &self.alertmanager;
        e.check(
            am.version_tuple().is_some(),
            "alertmanager.version",
            format!("`{}` is not a version like 0.25", am.version),
        );
        for (field, d) in [
            ("group_interval", am.group_interval),
            ("critical_repeat_interval", am.critical_repeat_interval),
            ("repeat_interval", am.repeat_interval),
        ] {
            e.check(
                d.as_secs() > 0,
                format!("alertmanager.{field}"),
                "must be longer than 0s",
            );
        }
        e.check(
            am.group_interval <= am.critical_repeat_interval
                && am.group_interval <= am.repeat_interval,
            "alertmanager.group_interval",
            "must not be longer than the repeat intervals",
        );
        let g = &self.grafana;
        e.check(
            !g.datasource_uid.is_empty()
                && g.datasource_uid.len() <= 40
                && g.datasource_uid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "grafana.datasource_uid",
            "must be 1-40 characters of letters, digits, `-` and `_`",
        );
        e.check(
            super::duration::PromDuration::parse(&g.refresh).is_ok(),
            "grafana.refresh",
            format!("`{}` is not a duration like 30s", g.refresh),
        );
        if let Some(op) = &self.prometheus_operator {
            e.check(
                is_dns_label(&op.namespace),
                "prometheus_operator.namespace",
                "must be a Kubernetes namespace name",
            );
            for (k, v) in &op.labels {
                e.check(
                    is_label_value(v) && is_label_key(k),
                    format!("prometheus_operator.labels.{k}"),
                    "must be a Kubernetes label",
                );
            }
        }
        e.0
    }
}

fn validate_app(e: &mut Errors, p: &str, app: &AppSpec) {
    e.check(
        is_dns_label(&app.name),
        format!("{p}.name"),
        "must be a DNS label: lowercase letters, digits and `-`, at most 63",
    );
    e.check(
        is_dns_label(&app.namespace),
        format!("{p}.namespace"),
        "must be a Kubernetes namespace name",
    );
    for (field, v) in [
        ("deployment", &app.deployment),
        ("hpa", &app.hpa),
        ("container", &app.container),
    ] {
        if let Some(v) = v {
            e.check(
                is_dns_label(v),
                format!("{p}.{field}"),
                "must be a DNS label",
            );
        }
    }
    if let Some(job) = &app.job {
        e.check(!job.is_empty(), format!("{p}.job"), "must not be empty");
    }
    e.check(
        app.min_replicas >= 1,
        format!("{p}.min_replicas"),
        "must be at least 1",
    );
    e.check(
        app.min_replicas <= app.max_replicas,
        format!("{p}.min_replicas"),
        format!(
            "({}) must not exceed max_replicas ({})",
            app.min_replicas, app.max_replicas
        ),
    );
    e.check(
        (0.01..=1.0).contains(&app.cpu_threshold),
        format!("{p}.cpu_threshold"),
        "must be a share of the CPU limit in [0.01, 1], e.g. 0.8",
    );
    e.check(
        app.error_rate_threshold >= 0.0001 && app.error_rate_threshold < 1.0,
        format!("{p}.error_rate_threshold"),
        "must be a share of requests in [0.0001, 1), e.g. 0.05",
    );
    e.check(
        (0.001..=3600.0).contains(&app.latency_p95_seconds),
        format!("{p}.latency_p95_seconds"),
        "must be a number of seconds in [0.001, 3600]",
    );
    e.check(
        (0.01..=10.0).contains(&app.drift_threshold),
        format!("{p}.drift_threshold"),
        "must be a population stability index in [0.01, 10], e.g. 0.25",
    );
    for (field, v) in [
        ("requests_metric", &app.requests_metric),
        ("latency_histogram", &app.latency_histogram),
        ("predictions_metric", &app.predictions_metric),
        ("model_info_metric", &app.model_info_metric),
        ("drift_metric", &app.drift_metric),
    ] {
        e.check(
            is_metric_name(v),
            format!("{p}.{field}"),
            format!("`{v}` is not a metric name"),
        );
    }
    for (field, v) in [
        ("status_label", &app.status_label),
        ("outcome_label", &app.outcome_label),
        ("version_label", &app.version_label),
        ("feature_label", &app.feature_label),
    ] {
        e.check(
            is_label_name(v),
            format!("{p}.{field}"),
            format!("`{v}` is not a label name"),
        );
    }
}

fn validate_receivers(e: &mut Errors, r: &ReceiversSpec) {
    e.check(
        is_email(&r.sysadmin_email),
        "receivers.sysadmin_email",
        format!("`{}` is not an email address", r.sysadmin_email),
    );
    if let Some(t) = &r.team_email {
        e.check(
            is_email(t),
            "receivers.team_email",
            format!("`{t}` is not an email address"),
        );
    }
    let s = &r.smtp;
    e.check(
        is_host_port(&s.smarthost),
        "receivers.smtp.smarthost",
        "must be host:port, e.g. smtp.example.org:587",
    );
    if let Some(from) = &s.from {
        e.check(
            is_email(from),
            "receivers.smtp.from",
            format!("`{from}` is not an email address"),
        );
    }
    if s.auth_username.is_some() {
        e.check(
            is_abs_path(&s.auth_password_file),
            "receivers.smtp.auth_password_file",
            "must be an absolute path",
        );
    }
    for (field, hook) in [("webhook", &r.webhook), ("watchdog", &r.watchdog)] {
        if let Some(h) = hook {
            e.check(
                is_http_url(&h.url) && !url_has_userinfo(&h.url),
                format!("receivers.{field}.url"),
                "must be an http(s) URL without credentials (put a token in bearer_token_file)",
            );
            if let Some(f) = &h.bearer_token_file {
                e.check(
                    is_abs_path(f),
                    format!("receivers.{field}.bearer_token_file"),
                    "must be an absolute path",
                );
            }
        }
    }
    if let Some(t) = &r.telegram {
        e.check(
            t.chat_id != 0,
            "receivers.telegram.chat_id",
            "must be set (a Telegram chat id)",
        );
        e.check(
            is_abs_path(&t.bot_token_file),
            "receivers.telegram.bot_token_file",
            "must be an absolute path",
        );
        e.check(
            !t.bot_token_env.is_empty()
                && t.bot_token_env
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "receivers.telegram.bot_token_env",
            "must be an environment variable name like TELEGRAM_BOT_TOKEN",
        );
    }
    if let Some(s) = &r.slack {
        e.check(
            !s.channel.trim().is_empty(),
            "receivers.slack.channel",
            "must be set, e.g. #alerts",
        );
        e.check(
            is_abs_path(&s.api_url_file),
            "receivers.slack.api_url_file",
            "must be an absolute path",
        );
    }
}

/// `local@domain.tld`, nothing Alertmanager would split or misread (`,` `<` `>` `"` spaces).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let clean = |p: &str| {
        !p.is_empty()
            && !p.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, ',' | '<' | '>' | '"' | '@' | ';')
            })
    };
    clean(local)
        && clean(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !s.contains(char::is_whitespace))
}

fn url_has_userinfo(s: &str) -> bool {
    let rest = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

fn is_abs_path(s: &str) -> bool {
    s.starts_with('/') && !s.contains('\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::spec::{AppSpec, KafkaSpec, TelegramSpec, WebhookSpec};

    fn good() -> MonitoringSpec {
        let mut s = MonitoringSpec::default();
        s.apps.push(AppSpec {
            name: "fraud-detection".into(),
            namespace: "ml".into(),
            ..AppSpec::default()
        });
        s.receivers.sysadmin_email = "ops@example.org".into();
        s.receivers.smtp.smarthost = "smtp.example.org:587".into();
        s
    }

    fn paths(s: &MonitoringSpec) -> Vec<String> {
        s.validate().into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn good_spec_passes() {
        assert_eq!(good().validate(), vec![]);
    }

    #[test]
    fn reports_each_bad_field_at_its_path() {
        let mut s = good();
        s.apps[0].min_replicas = 7;
        s.apps[0].cpu_threshold = 1.5;
        s.apps[0].error_rate_threshold = 0.0;
        s.apps[0].latency_p95_seconds = -1.0;
        s.apps[0].requests_metric = "http-requests".into();
        s.apps.push(s.apps[0].clone());
        s.receivers.sysadmin_email = "not an email".into();
        s.receivers.webhook = Some(WebhookSpec {
            url: "https://user:pw@hooks.example.org/x".into(),
            bearer_token_file: None,
        });
        s.receivers.telegram = Some(TelegramSpec::default());
        s.kafka = Some(KafkaSpec {
            lag_threshold: 0,
            ..KafkaSpec::default()
        });
        let p = paths(&s);
        for want in [
            "apps[0].min_replicas",
            "apps[0].cpu_threshold",
            "apps[0].error_rate_threshold",
            "apps[0].latency_p95_seconds",
            "apps[0].requests_metric",
            "apps[1].name",
            "receivers.sysadmin_email",
            "receivers.webhook.url",
            "receivers.telegram.chat_id",
            "kafka.lag_threshold",
        ] {
            assert!(p.iter().any(|x| x == want), "{want} missing from {p:?}");
        }
    }

    #[test]
    fn emails() {
        assert!(is_email("ops@example.org") && is_email("a.b+c@mail.example.co"));
        for bad in [
            "",
            "ops",
            "@x.org",
            "ops@",
            "ops@localhost",
            "a,b@x.org",
            "a b@x.org",
            "a@b@c.org",
            "a@x..org",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
