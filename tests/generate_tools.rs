//! The generated monitoring checked by the real tools: `promtool check rules` and
//! `promtool test rules` (Debian `prometheus`), `amtool check-config` and
//! `amtool config routes test` (Debian `prometheus-alertmanager`).
//!
//! The tools are found on PATH; a missing one fails the test (scripts/check.sh installs them),
//! in CI and outside it: these tests must prove what they claim.

mod common;

use common::tool;
use mlstack::generate::{self, alertmanager, MonitoringSpec};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn spec(json: &str) -> MonitoringSpec {
    serde_json::from_str(json).expect("spec")
}

/// The reference setup: one app with the contract defaults, Kafka filtered to one group, every
/// receiver kind, the Prometheus Operator.
fn full_spec() -> MonitoringSpec {
    spec(
        r##"{
        "apps": [{"name": "fraud-detection", "namespace": "ml"}],
        "kafka": {"consumer_groups": ["fraud-scorer"], "topics": ["transactions"]},
        "receivers": {
            "sysadmin_email": "sysadmin@example.org",
            "team_email": "ml-team@example.org",
            "smtp": {"smarthost": "smtp.example.org:587", "auth_username": "alertmanager"},
            "webhook": {"url": "https://hooks.example.org/alerts", "bearer_token_file": "/etc/alertmanager/secrets/webhook-token"},
            "telegram": {"chat_id": -1001234567890},
            "slack": {"channel": "#ml-alerts"},
            "watchdog": {"url": "https://deadman.example.org/ping/abc"}
        },
        "prometheus_operator": {"namespace": "monitoring", "labels": {"release": "kps"}}
    }"##,
    )
}

/// Unusual but valid choices: several apps with other names and thresholds, no Kafka filter.
fn odd_spec() -> MonitoringSpec {
    spec(
        r#"{
        "apps": [
            {"name": "scorer", "namespace": "models", "deployment": "scorer-v2", "hpa": "scorer-hpa",
             "container": "server", "job": "scorer-metrics", "min_replicas": 1, "max_replicas": 1,
             "cpu_threshold": 0.65, "error_rate_threshold": 0.0012, "latency_p95_seconds": 0.35},
            {"name": "ranker", "namespace": "models", "max_replicas": 12, "cpu_threshold": 1.0,
             "error_rate_threshold": 0.93, "latency_p95_seconds": 59.5}
        ],
        "kafka": {"lag_threshold": 1},
        "receivers": {"sysadmin_email": "root@ops.example.net", "smtp": {"smarthost": "mail.example.net:25", "require_tls": false}},
        "runbook_base_url": "https://git.example.net/ops/runbooks"
    }"#,
    )
}

/// The validation bounds of every threshold.
fn extreme_spec() -> MonitoringSpec {
    spec(
        r#"{
        "apps": [
            {"name": "low", "namespace": "edge", "cpu_threshold": 0.01, "error_rate_threshold": 0.0001,
             "latency_p95_seconds": 0.001, "min_replicas": 1, "max_replicas": 1},
            {"name": "high", "namespace": "edge", "cpu_threshold": 1.0, "error_rate_threshold": 0.9999,
             "latency_p95_seconds": 3600, "min_replicas": 100, "max_replicas": 1000}
        ],
        "kafka": {"lag_threshold": 1000000000000, "consumer_groups": ["a.b", "c|d"], "topics": ["t(1)"]},
        "receivers": {"sysadmin_email": "a@b.io", "smtp": {"smarthost": "mx:25"}}
    }"#,
    )
}

fn write_all(dir: &Path, files: &BTreeMap<String, String>) {
    for (rel, content) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

fn render(spec: &MonitoringSpec) -> (tempfile::TempDir, BTreeMap<String, String>) {
    let files = generate::render_all(spec).expect("valid spec");
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &files);
    (dir, files)
}

fn matching<'a>(
    files: &'a BTreeMap<String, String>,
    prefix: &str,
    suffix: &str,
) -> Vec<&'a String> {
    files
        .keys()
        .filter(|k| {
            k.starts_with(prefix) && k.ends_with(suffix) && !k[prefix.len()..].contains('/')
        })
        .collect()
}

fn check_rules_and_tests(spec: &MonitoringSpec) {
    let promtool = tool("promtool");
    let (dir, files) = render(spec);
    let rule_files = matching(&files, "rules/", ".yaml");
    assert!(rule_files.len() >= 2, "{rule_files:?}");
    for f in &rule_files {
        let (ok, out) = run(Command::new(&promtool)
            .arg("check")
            .arg("rules")
            .arg(dir.path().join(f)));
        assert!(
            ok && out.contains("SUCCESS"),
            "promtool check rules {f}:\n{out}\n{}",
            files[*f]
        );
    }
    let tests = matching(&files, "rules/tests/", ".test.yaml");
    assert_eq!(tests.len(), rule_files.len(), "one test file per rule file");
    for t in &tests {
        let (ok, out) = run(Command::new(&promtool)
            .arg("test")
            .arg("rules")
            .arg(dir.path().join(t)));
        assert!(
            ok && out.contains("SUCCESS"),
            "promtool test rules {t}:\n{out}"
        );
    }
}

#[test]
fn promtool_accepts_and_passes_generated_rules_and_tests() {
    check_rules_and_tests(&full_spec());
}

#[test]
fn promtool_passes_generated_tests_for_unusual_thresholds_and_names() {
    check_rules_and_tests(&odd_spec());
}

#[test]
fn promtool_passes_generated_tests_at_the_validation_bounds() {
    check_rules_and_tests(&extreme_spec());
}

#[test]
fn promtool_accepts_the_prometheus_rule_spec() {
    let promtool = tool("promtool");
    let spec = full_spec();
    let dir = tempfile::tempdir().unwrap();
    for rf in generate::rule_files(&spec) {
        let op = spec.prometheus_operator.clone().unwrap();
        let obj = rf.to_prometheus_rule(&op);
        assert_eq!(obj["metadata"]["labels"]["release"], "kps");
        let path = dir.path().join(format!("{}.yaml", rf.name));
        std::fs::write(
            &path,
            generate::yaml::to_string(&obj["spec"], generate::rules::RULE_KEY_ORDER),
        )
        .unwrap();
        let (ok, out) = run(Command::new(&promtool).arg("check").arg("rules").arg(&path));
        assert!(ok, "{out}");
    }
}

#[test]
fn amtool_accepts_the_config_and_routes_by_severity() {
    let amtool = tool("amtool");
    for spec in [full_spec(), odd_spec()] {
        let (dir, files) = render(&spec);
        let cfg = dir.path().join("alertmanager.yaml");
        let (ok, out) = run(Command::new(&amtool).arg("check-config").arg(&cfg));
        assert!(
            ok && out.contains("SUCCESS"),
            "amtool check-config:\n{out}\n{}",
            files["alertmanager.yaml"]
        );
        let route = |receiver: &str, labels: &[&str]| {
            let mut cmd = Command::new(&amtool);
            cmd.args(["config", "routes", "test"])
                .arg(format!("--config.file={}", cfg.display()))
                .arg(format!("--verify.receivers={receiver}"))
                .args(labels);
            run(&mut cmd)
        };
        for (receiver, labels) in [
            (
                alertmanager::SYSADMIN,
                &[
                    "alertname=HighErrorRate",
                    "severity=critical",
                    "namespace=ml",
                ][..],
            ),
            (
                alertmanager::SYSADMIN,
                &[
                    "alertname=ModelOverloadedAtMaxReplicas",
                    "severity=critical",
                    "app=fraud-detection",
                ][..],
            ),
            (
                alertmanager::SYSADMIN,
                &["alertname=HighKafkaQueueLength", "severity=critical"][..],
            ),
            (
                alertmanager::DEFAULT,
                &["alertname=HighCPUUsage", "severity=warning", "namespace=ml"][..],
            ),
            (
                alertmanager::DEFAULT,
                &["alertname=ModelScaledToMax", "severity=info"][..],
            ),
            (alertmanager::DEFAULT, &["alertname=Unknown"][..]),
            (
                alertmanager::WATCHDOG,
                &["alertname=Watchdog", "severity=none"][..],
            ),
        ] {
            let (ok, out) = route(receiver, labels);
            assert!(ok, "{labels:?} should reach {receiver}:\n{out}");
        }
        // And the check has teeth: a critical alert does not end at the default receiver.
        let (ok, _) = route(
            alertmanager::DEFAULT,
            &["alertname=HighErrorRate", "severity=critical"],
        );
        assert!(
            !ok,
            "amtool --verify.receivers must reject a wrong receiver"
        );
    }
}

#[test]
fn every_dashboard_query_is_valid_promql() {
    let promtool = tool("promtool");
    for spec in [full_spec(), odd_spec()] {
        let files = generate::render_all(&spec).unwrap();
        let mut queries = Vec::new();
        for (path, json) in files.iter().filter(|(k, _)| k.starts_with("dashboards/")) {
            let v: serde_json::Value =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(v["schemaVersion"].as_u64().unwrap() >= 39, "{path}");
            for panel in v["panels"].as_array().unwrap() {
                assert_eq!(panel["datasource"]["uid"], "prometheus", "{path}");
                for t in panel["targets"].as_array().unwrap() {
                    queries.push(t["expr"].as_str().unwrap().to_string());
                }
            }
            for a in v["annotations"]["list"].as_array().unwrap() {
                queries.push(a["expr"].as_str().unwrap().to_string());
            }
        }
        assert!(queries.len() >= 15, "{}", queries.len());
        // Each query becomes a recording rule: promtool parses every expression.
        let rules: Vec<serde_json::Value> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| serde_json::json!({"record": format!("mlstack:dashboard_query:{i}"), "expr": generate::dashboards::for_promtool(q)}))
            .collect();
        let doc = serde_json::json!({"groups": [{"name": "dashboard-queries", "rules": rules}]});
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dashboard-queries.yaml");
        std::fs::write(
            &path,
            generate::yaml::to_string(&doc, &["name", "record", "expr"]),
        )
        .unwrap();
        let (ok, out) = run(Command::new(&promtool).arg("check").arg("rules").arg(&path));
        assert!(
            ok && out.contains(&format!("SUCCESS: {} rules found", queries.len())),
            "{out}"
        );
    }
}

/// Stops the Alertmanager this test started, whatever happens.
struct Started(std::process::Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// amtool cannot evaluate inhibition, so the real Alertmanager does: it runs on loopback with
/// the generated config (no notification leaves: group_wait 1h, SMTP relay on 127.0.0.1:9),
/// gets the alerts through `amtool alert add` and reports each one's state.
#[test]
fn alertmanager_inhibits_cpu_and_scaled_alerts_of_the_same_app_only() {
    let amtool = tool("amtool");
    let binary = ["alertmanager", "prometheus-alertmanager"]
        .iter()
        .find_map(|n| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join(n))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| tool("prometheus-alertmanager"));
    let mut spec = full_spec();
    spec.receivers.smtp.smarthost = "127.0.0.1:9".into();
    spec.alertmanager.group_wait = generate::duration::PromDuration::hours(1);
    let (dir, _) = render(&spec);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = dir.path().join("data");
    let _am = Started(
        Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yaml").display()
            ))
            .arg(format!("--storage.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start alertmanager"),
    );
    let url = format!("--alertmanager.url=http://127.0.0.1:{port}");
    let amtool_run = |args: &[&str]| run(Command::new(&amtool).arg(&url).args(args));
    // Wait until it answers (a guard against a hang, not a timing assertion).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !amtool_run(&["alert", "query"]).0 {
        assert!(
            std::time::Instant::now() < deadline,
            "alertmanager did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let same = ["namespace=ml", "app=fraud-detection"];
    let alerts: [(&str, &str, &[&str]); 5] = [
        ("ModelOverloadedAtMaxReplicas", "severity=critical", &same),
        (
            "HighCPUUsage",
            "severity=warning",
            &[
                "namespace=ml",
                "app=fraud-detection",
                "pod=fraud-detection-1",
            ],
        ),
        ("ModelScaledToMax", "severity=info", &same),
        (
            "HighCPUUsage",
            "severity=warning",
            &["namespace=ml", "app=other", "pod=other-1"],
        ),
        ("HighErrorRate", "severity=critical", &same),
    ];
    for (name, sev, labels) in alerts {
        let mut args = vec!["alert", "add"];
        let n = format!("alertname={name}");
        args.push(&n);
        args.push(sev);
        args.extend_from_slice(labels);
        let (ok, out) = amtool_run(&args);
        assert!(ok, "{out}");
    }
    let (ok, out) = amtool_run(&["alert", "query", "--active", "--inhibited", "-o", "json"]);
    assert!(ok, "{out}");
    let got: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let state = |name: &str, app: &str| -> String {
        let a = got
            .iter()
            .find(|a| a["labels"]["alertname"] == name && a["labels"]["app"] == app)
            .unwrap_or_else(|| panic!("{name}/{app} not in {out}"));
        let inhibited = !a["status"]["inhibitedBy"].as_array().unwrap().is_empty();
        format!(
            "{}{}",
            a["status"]["state"].as_str().unwrap(),
            if inhibited { "+inhibited" } else { "" }
        )
    };
    assert_eq!(
        state("HighCPUUsage", "fraud-detection"),
        "suppressed+inhibited"
    );
    assert_eq!(
        state("ModelScaledToMax", "fraud-detection"),
        "suppressed+inhibited"
    );
    assert_eq!(
        state("HighCPUUsage", "other"),
        "active",
        "another app is not inhibited"
    );
    assert_eq!(
        state("HighErrorRate", "fraud-detection"),
        "active",
        "only the listed alerts are inhibited"
    );
    assert_eq!(
        state("ModelOverloadedAtMaxReplicas", "fraud-detection"),
        "active"
    );
}
