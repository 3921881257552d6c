//! The Alertmanager configuration as a typed model: receivers from the spec, critical alerts to
//! the sysadmin (repeated hourly), the rest to the default receiver (every 4 h), the Watchdog
//! heartbeat to its own receiver, routes grouped by alert name and namespace, and inhibition
//! of `HighCPUUsage` / `ModelScaledToMax` by `ModelOverloadedAtMaxReplicas` of the same app.
//!
//! Secrets never appear in it: the SMTP password, Slack URL and webhook token are `*_file`
//! fields naming mounted files (fields Alertmanager 0.25 has). Telegram's bot token has no file
//! field before 0.26; see [`super::spec::TelegramSpec`].

use super::duration::PromDuration;
use super::spec::MonitoringSpec;
use super::yaml;
use serde::Serialize;

/// Receiver names (what `amtool config routes test` reports).
pub const SYSADMIN: &str = "sysadmin";
pub const DEFAULT: &str = "default";
pub const WATCHDOG: &str = "watchdog";

/// A matcher in Alertmanager's `name="value"` syntax (values always double-quoted, so the
/// classic and the UTF-8 parsers read it alike).
#[derive(Debug, Clone, PartialEq)]
pub struct AmMatcher {
    pub label: String,
    pub regex: bool,
    pub value: String,
}

impl AmMatcher {
    pub fn eq(label: &str, value: &str) -> Self {
        AmMatcher {
            label: label.into(),
            regex: false,
            value: value.into(),
        }
    }

    pub fn re(label: &str, value: &str) -> Self {
        AmMatcher {
            label: label.into(),
            regex: true,
            value: value.into(),
        }
    }
}

impl Serialize for AmMatcher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let op = if self.regex { "=~" } else { "=" };
        let value = self.value.replace('\\', "\\\\").replace('"', "\\\"");
        s.serialize_str(&format!("{}{op}\"{value}\"", self.label))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    pub global: Global,
    pub route: Route,
    pub receivers: Vec<Receiver>,
    pub inhibit_rules: Vec<InhibitRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Global {
    pub resolve_timeout: PromDuration,
    pub smtp_smarthost: String,
    pub smtp_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_auth_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_auth_password_file: Option<String>,
    pub smtp_require_tls: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<AmMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Receiver {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telegram_configs: Vec<TelegramConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailConfig {
    pub to: String,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackConfig {
    pub api_url_file: String,
    pub channel: String,
    pub send_resolved: bool,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TelegramConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_token_file: Option<String>,
    pub chat_id: i64,
    pub send_resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookConfig {
    pub url: String,
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpConfig {
    pub authorization: Authorization,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Authorization {
    #[serde(rename = "type")]
    pub kind: String,
    pub credentials_file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InhibitRule {
    pub source_matchers: Vec<AmMatcher>,
    pub target_matchers: Vec<AmMatcher>,
    pub equal: Vec<String>,
}

/// A secret file the config names: the monitoring module must mount it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretFile {
    pub path: String,
    /// What goes in it, for error messages and docs.
    pub holds: &'static str,
}

fn webhook(h: &super::spec::WebhookSpec) -> WebhookConfig {
    WebhookConfig {
        url: h.url.clone(),
        send_resolved: true,
        http_config: h.bearer_token_file.as_ref().map(|f| HttpConfig {
            authorization: Authorization {
                kind: "Bearer".into(),
                credentials_file: f.clone(),
            },
        }),
    }
}

/// Builds the config. Call on a validated spec.
pub fn config(spec: &MonitoringSpec) -> AlertmanagerConfig {
    let r = &spec.receivers;
    let am = &spec.alertmanager;
    let domain = r
        .sysadmin_email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("localhost");
    let global = Global {
        resolve_timeout: PromDuration::minutes(5),
        smtp_smarthost: r.smtp.smarthost.clone(),
        smtp_from: r
            .smtp
            .from
            .clone()
            .unwrap_or_else(|| format!("alertmanager@{domain}")),
        smtp_auth_username: r.smtp.auth_username.clone(),
        smtp_auth_password_file: r
            .smtp
            .auth_username
            .as_ref()
            .map(|_| r.smtp.auth_password_file.clone()),
        smtp_require_tls: r.smtp.require_tls,
    };
    let slack = r.slack.iter().map(|s| SlackConfig {
        api_url_file: s.api_url_file.clone(),
        channel: s.channel.clone(),
        send_resolved: true,
        title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})".into(),
        text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}".into(),
    });
    let file_field = am.version_tuple().is_some_and(|v| v >= (0, 26));
    let telegram = r.telegram.iter().map(|t| TelegramConfig {
        bot_token: (!file_field).then(|| format!("$({})", t.bot_token_env)),
        bot_token_file: file_field.then(|| t.bot_token_file.clone()),
        chat_id: t.chat_id,
        send_resolved: true,
    });
    let sysadmin = Receiver {
        name: SYSADMIN.into(),
        email_configs: vec![EmailConfig {
            to: r.sysadmin_email.clone(),
            send_resolved: true,
        }],
        slack_configs: slack.clone().collect(),
        telegram_configs: telegram.collect(),
        webhook_configs: r.webhook.iter().map(webhook).collect(),
    };
    let default = Receiver {
        name: DEFAULT.into(),
        email_configs: vec![EmailConfig {
            to: r
                .team_email
                .clone()
                .unwrap_or_else(|| r.sysadmin_email.clone()),
            send_resolved: true,
        }],
        slack_configs: slack.collect(),
        webhook_configs: r.webhook.iter().map(webhook).collect(),
        ..Receiver::default()
    };
    let watchdog = Receiver {
        name: WATCHDOG.into(),
        webhook_configs: r.watchdog.iter().map(webhook).collect(),
        ..Receiver::default()
    };
    let child = |receiver: &str, m: AmMatcher| Route {
        receiver: receiver.into(),
        matchers: vec![m],
        group_by: Vec::new(),
        group_wait: None,
        group_interval: None,
        repeat_interval: None,
        routes: Vec::new(),
    };
    let mut watchdog_route = child(WATCHDOG, AmMatcher::eq("alertname", "Watchdog"));
    watchdog_route.group_wait = Some(PromDuration(0));
    watchdog_route.group_interval = Some(PromDuration::minutes(1));
    watchdog_route.repeat_interval = Some(PromDuration::minutes(1));
    let mut critical = child(SYSADMIN, AmMatcher::eq("severity", "critical"));
    critical.repeat_interval = Some(am.critical_repeat_interval);
    let route = Route {
        receiver: DEFAULT.into(),
        matchers: Vec::new(),
        group_by: vec!["alertname".into(), "namespace".into()],
        group_wait: Some(am.group_wait),
        group_interval: Some(am.group_interval),
        repeat_interval: Some(am.repeat_interval),
        routes: vec![watchdog_route, critical],
    };
    let inhibit_rules = vec![InhibitRule {
        source_matchers: vec![AmMatcher::eq("alertname", "ModelOverloadedAtMaxReplicas")],
        target_matchers: vec![AmMatcher::re("alertname", "HighCPUUsage|ModelScaledToMax")],
        equal: vec!["namespace".into(), "app".into()],
    }];
    AlertmanagerConfig {
        global,
        route,
        receivers: vec![sysadmin, default, watchdog],
        inhibit_rules,
    }
}

/// The secret files the config names, for the module that mounts them.
pub fn secret_files(spec: &MonitoringSpec) -> Vec<SecretFile> {
    let r = &spec.receivers;
    let mut out = Vec::new();
    if r.smtp.auth_username.is_some() {
        out.push(SecretFile {
            path: r.smtp.auth_password_file.clone(),
            holds: "SMTP password",
        });
    }
    if let Some(s) = &r.slack {
        out.push(SecretFile {
            path: s.api_url_file.clone(),
            holds: "Slack webhook URL",
        });
    }
    if let Some(t) = &r.telegram {
        if spec
            .alertmanager
            .version_tuple()
            .is_some_and(|v| v >= (0, 26))
        {
            out.push(SecretFile {
                path: t.bot_token_file.clone(),
                holds: "Telegram bot token",
            });
        }
    }
    for h in r.webhook.iter().chain(r.watchdog.iter()) {
        if let Some(f) = &h.bearer_token_file {
            out.push(SecretFile {
                path: f.clone(),
                holds: "webhook bearer token",
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

const KEY_ORDER: &[&str] = &[
    "global",
    "route",
    "receivers",
    "inhibit_rules",
    "name",
    "receiver",
    "matchers",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "routes",
    "source_matchers",
    "target_matchers",
    "equal",
    "to",
    "url",
    "api_url_file",
    "channel",
    "chat_id",
];

impl AlertmanagerConfig {
    pub fn to_yaml(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        yaml::to_string_with_header(
            &value,
            KEY_ORDER,
            "Generated by mlstack from the stack file: edit the stack, not this file.\nSecrets are read from mounted files (*_file); none is written here.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::spec::{SlackSpec, TelegramSpec, WebhookSpec};

    fn spec() -> MonitoringSpec {
        let mut s = MonitoringSpec::default();
        s.receivers.sysadmin_email = "ops@example.org".into();
        s.receivers.smtp.smarthost = "smtp.example.org:587".into();
        s.receivers.smtp.auth_username = Some("alerts".into());
        s
    }

    #[test]
    fn critical_to_sysadmin_hourly_others_default_4h() {
        let c = config(&spec());
        assert_eq!(c.route.receiver, DEFAULT);
        assert_eq!(c.route.group_by, ["alertname", "namespace"]);
        assert_eq!(c.route.repeat_interval, Some(PromDuration::hours(4)));
        let crit = &c.route.routes[1];
        assert_eq!(crit.receiver, SYSADMIN);
        assert_eq!(crit.repeat_interval, Some(PromDuration::hours(1)));
        assert_eq!(c.receivers[0].email_configs[0].to, "ops@example.org");
        assert_eq!(c.global.smtp_from, "alertmanager@example.org");
    }

    #[test]
    fn inhibition_keys_on_app() {
        let yaml = config(&spec()).to_yaml();
        assert!(
            yaml.contains("source_matchers:\n      - alertname=\"ModelOverloadedAtMaxReplicas\""),
            "{yaml}"
        );
        assert!(
            yaml.contains("equal:\n      - namespace\n      - app"),
            "{yaml}"
        );
    }

    #[test]
    fn secrets_are_files_and_telegram_depends_on_version() {
        let mut s = spec();
        s.receivers.slack = Some(SlackSpec {
            channel: "#alerts".into(),
            ..SlackSpec::default()
        });
        s.receivers.telegram = Some(TelegramSpec {
            chat_id: -100,
            ..TelegramSpec::default()
        });
        s.receivers.webhook = Some(WebhookSpec {
            url: "https://hooks.example.org/a".into(),
            bearer_token_file: Some("/s/tok".into()),
        });
        let y = config(&s).to_yaml();
        assert!(y.contains("smtp_auth_password_file: /etc/alertmanager/secrets/smtp-password"));
        assert!(y.contains("api_url_file: /etc/alertmanager/secrets/slack-api-url"));
        assert!(y.contains("credentials_file: /s/tok"));
        assert!(y.contains("bot_token: \"$(TELEGRAM_BOT_TOKEN)\""), "{y}");
        s.alertmanager.version = "0.27".into();
        let y = config(&s).to_yaml();
        assert!(
            y.contains("bot_token_file: /etc/alertmanager/secrets/telegram-bot-token")
                && !y.contains("bot_token:")
        );
        assert_eq!(secret_files(&s).len(), 4);
    }
}
