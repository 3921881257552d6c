//! `generate::render_all` as `mlstack render` will call it: the file set, determinism, runbook
//! links that resolve, no secret in any output, and validation errors instead of files.

use mlstack::generate::{self, MonitoringSpec};

fn spec() -> MonitoringSpec {
    serde_json::from_str(
        r##"{
        "apps": [{"name": "fraud-detection", "namespace": "ml"}],
        "kafka": {},
        "receivers": {
            "sysadmin_email": "sysadmin@example.org",
            "smtp": {"smarthost": "smtp.example.org:587", "auth_username": "alertmanager",
                     "auth_password_file": "/etc/alertmanager/secrets/smtp-password"},
            "slack": {"channel": "#alerts"},
            "telegram": {"chat_id": 42},
            "webhook": {"url": "https://hooks.example.org/a", "bearer_token_file": "/etc/alertmanager/secrets/hook"}
        },
        "prometheus_operator": {}
    }"##,
    )
    .unwrap()
}

#[test]
fn renders_the_whole_file_set_deterministically() {
    let files = generate::render_all(&spec()).unwrap();
    for want in [
        "alertmanager.yaml",
        "rules/app-fraud-detection.yaml",
        "rules/kafka.yaml",
        "rules/pipeline.yaml",
        "rules/tests/app-fraud-detection.test.yaml",
        "rules/tests/kafka.test.yaml",
        "rules/tests/pipeline.test.yaml",
        "prometheusrules/app-fraud-detection.yaml",
        "dashboards/app-fraud-detection.json",
        "runbooks/README.md",
        "runbooks/HighKafkaQueueLength.md",
        "runbooks/Watchdog.md",
    ] {
        assert!(
            files.contains_key(want),
            "{want} missing: {:?}",
            files.keys()
        );
    }
    assert_eq!(files, generate::render_all(&spec()).unwrap());
}

#[test]
fn every_runbook_url_points_at_a_shipped_runbook() {
    let files = generate::render_all(&spec()).unwrap();
    let mut seen = 0;
    for rf in generate::rule_files(&spec()) {
        for a in rf.alerts() {
            assert!(
                files.contains_key(&a.runbook_url),
                "{} -> {}",
                a.name,
                a.runbook_url
            );
            seen += 1;
        }
    }
    assert!(seen >= 14);
}

#[test]
fn no_secret_is_written_anywhere() {
    let files = generate::render_all(&spec()).unwrap();
    let am = &files["alertmanager.yaml"];
    assert!(am.contains("smtp_auth_password_file: /etc/alertmanager/secrets/smtp-password"));
    assert!(am.contains("credentials_file: /etc/alertmanager/secrets/hook"));
    for (path, text) in &files {
        for line in text.lines() {
            let l = line.trim_start().trim_start_matches("- ");
            for key in [
                "smtp_auth_password:",
                "auth_password:",
                "api_url:",
                "credentials:",
                "bot_token_file:",
            ] {
                assert!(!l.starts_with(key), "{path}: {line}");
            }
        }
    }
    // Alertmanager 0.25 has no bot_token_file: the token is an environment placeholder.
    assert!(am.contains("bot_token: \"$(TELEGRAM_BOT_TOKEN)\""), "{am}");
}

#[test]
fn invalid_spec_renders_nothing_and_names_fields() {
    let mut s = spec();
    s.apps[0].min_replicas = 9;
    s.receivers.sysadmin_email = "sysadmin".into();
    let errors = generate::render_all(&s).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter()
            .any(|e| e.starts_with("apps[0].min_replicas: (9) must not exceed max_replicas (6)")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|e| e.starts_with("receivers.sysadmin_email")),
        "{text:?}"
    );
}

#[test]
fn spec_deserialises_with_contract_defaults_and_rejects_unknown_keys() {
    let s: MonitoringSpec =
        serde_json::from_str(r#"{"apps": [{"name": "m", "namespace": "ml"}]}"#).unwrap();
    let a = &s.apps[0];
    assert_eq!(
        (
            a.min_replicas,
            a.max_replicas,
            a.cpu_threshold,
            a.error_rate_threshold,
            a.latency_p95_seconds
        ),
        (4, 6, 0.8, 0.05, 2.0)
    );
    assert!(serde_json::from_str::<MonitoringSpec>(r#"{"appz": []}"#).is_err());
}
