//! The reference stack's rendered monitoring run by the real programs (issue 13 item 4):
//! `mlstack render stacks/fraud-detection.yaml`, then a real Prometheus (Debian `prometheus`)
//! loaded with the rendered configuration and rules scrapes the real model API
//! (examples/model-api under uvicorn, its model trained into a real `mlflow server`) and
//! fixture exporters standing in for the kubelet/cAdvisor, kube-state-metrics and
//! kafka-exporter; a real Alertmanager (Debian `prometheus-alertmanager`) with the rendered
//! configuration mails a local SMTP sink (PyPI `aiosmtpd`) in place of the sysadmin's server.
//!
//! What is changed to run outside a cluster is done by tests/fixtures/monitoring/localize.py,
//! which prints every change (targets to loopback, Kubernetes discovery to static targets with
//! the same `__meta_kubernetes_*` labels so the rendered relabelling runs, plain SMTP); the
//! tests assert that list. `the_overload_alert_mails_the_sysadmin_after_five_real_minutes` runs
//! the rules unchanged and waits the real 5 minutes; `..._not_at_five_replicas_or_70_percent`
//! runs a copy whose ModelOverloadedAtMaxReplicas `for:` is shortened to 30s, and says so.

mod common;

use common::mlflow::Mlflow;
use common::services::{free_port, http, urlencode, wait_listening, wait_ready, Proc};
use common::{tool, Work};
use mlstack::generate::{queries, AppSpec};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const OVERLOAD: &str = "ModelOverloadedAtMaxReplicas";
/// The serving pods the fixture reports (the model API's own target is the first).
const POD_A: &str = "fraud-detection-5d8f7c9b4-k2x7q";
const POD_B: &str = "fraud-detection-5d8f7c9b4-p9m4z";
/// The model-serving module's default CPU limit (cores).
const CPU_LIMIT: f64 = 1.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- fixture exporters

/// The infrastructure the test controls: HPA replicas and each serving pod's CPU use (share
/// of its limit). CPU counters integrate the share over time, as cAdvisor's do.
#[derive(Default)]
struct Infra {
    replicas: f64,
    /// pod -> (share of the CPU limit, cumulated CPU seconds)
    pods: BTreeMap<String, (f64, f64)>,
    last: Option<Instant>,
    lag: f64,
}

impl Infra {
    fn advance(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last {
            let dt = now.duration_since(last).as_secs_f64();
            for (share, total) in self.pods.values_mut() {
                *total += *share * CPU_LIMIT * dt;
            }
        }
        self.last = Some(now);
    }

    fn set(&mut self, replicas: f64, pods: &[(&str, f64)]) {
        self.advance();
        self.replicas = replicas;
        let keep: BTreeMap<String, (f64, f64)> = pods
            .iter()
            .map(|(p, share)| {
                let total = self.pods.get(*p).map(|v| v.1).unwrap_or(0.0);
                (p.to_string(), (*share, total))
            })
            .collect();
        self.pods = keep;
    }

    fn cadvisor(&mut self) -> String {
        self.advance();
        let mut out = String::new();
        for (pod, (_, total)) in &self.pods {
            let l = format!(r#"namespace="ml",pod="{pod}""#);
            out += &format!("container_cpu_usage_seconds_total{{{l},container=\"fraud-detection\",cpu=\"total\",image=\"mlstack/model-api:0.1.0\"}} {total}\n");
            // The pod cgroup and the pause container: the rules must not count them.
            out += &format!(
                "container_cpu_usage_seconds_total{{{l},container=\"\",cpu=\"total\"}} {}\n",
                total * 1.5 + 1.0
            );
            out += &format!(
                "container_cpu_usage_seconds_total{{{l},container=\"POD\",cpu=\"total\"}} {}\n",
                total + 5.0
            );
            out += &format!("container_memory_working_set_bytes{{{l},container=\"fraud-detection\"}} 268435456\n");
        }
        out
    }

    fn kube_state_metrics(&self) -> String {
        let hpa = r#"namespace="ml",horizontalpodautoscaler="fraud-detection""#;
        let mut out = format!(
            "kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} {r}\n\
             kube_horizontalpodautoscaler_status_desired_replicas{{{hpa}}} {r}\n\
             kube_horizontalpodautoscaler_spec_min_replicas{{{hpa}}} 4\n\
             kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}} 6\n\
             kube_deployment_status_replicas_ready{{namespace=\"ml\",deployment=\"fraud-detection\"}} {r}\n",
            r = self.replicas
        );
        for pod in self.pods.keys() {
            let l =
                format!(r#"namespace="ml",pod="{pod}",container="fraud-detection",node="node-1""#);
            out += &format!("kube_pod_container_resource_limits{{{l},resource=\"cpu\",unit=\"core\"}} {CPU_LIMIT}\n");
            out += &format!("kube_pod_container_resource_limits{{{l},resource=\"memory\",unit=\"byte\"}} 536870912\n");
        }
        out
    }

    fn kafka(&self) -> String {
        let mut out = String::new();
        for (p, v) in [("0", self.lag), ("1", self.lag), ("2", -1.0)] {
            out += &format!("kafka_consumergroup_lag{{consumergroup=\"fraud-scorer\",topic=\"transactions\",partition=\"{p}\"}} {v}\n");
        }
        out
    }
}

/// A tiny exporter on a loopback port answering every GET with `body(path)`.
fn exporter(infra: Arc<Mutex<Infra>>, body: fn(&mut Infra, &str) -> String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind exporter");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n")
                && conn.read(&mut byte).map(|n| n == 1).unwrap_or(false)
            {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let text = match infra.lock() {
                Ok(mut i) => body(&mut i, &path),
                Err(_) => String::new(),
            };
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

// ---------------------------------------------------------------- the monitoring pipeline

struct Ports {
    prometheus: u16,
    alertmanager: u16,
    smtp: u16,
    api: u16,
    kubelet: u16,
    kube_state_metrics: u16,
    kafka_exporter: u16,
}

/// Prometheus, Alertmanager and the SMTP sink running the rendered (localized) files.
struct Pipeline {
    work: Work,
    ports: Ports,
    infra: Arc<Mutex<Infra>>,
    procs: Vec<Proc>,
    /// What localize.py changed, line by line.
    changes: Vec<String>,
}

impl Pipeline {
    /// Renders the reference stack and starts the programs. `api`: the model API's port (or
    /// `None`: the apps job scrapes the fixture kubelet instead). `shorten`: alerts whose `for:`
    /// the copy shortens.
    fn start(api: Option<u16>, shorten: &[(&str, &str)]) -> Pipeline {
        let work = Work::new();
        let infra = Arc::new(Mutex::new(Infra {
            lag: 3.0,
            ..Infra::default()
        }));
        let kubelet = exporter(infra.clone(), |i, path| {
            if path.starts_with("/metrics/cadvisor") {
                i.cadvisor()
            } else {
                "kubelet_running_pods 6\nnode_load1 0.5\n".into()
            }
        });
        let ports = Ports {
            prometheus: free_port(),
            alertmanager: free_port(),
            smtp: free_port(),
            api: api.unwrap_or(kubelet),
            kubelet,
            kube_state_metrics: exporter(infra.clone(), |i, _| i.kube_state_metrics()),
            kafka_exporter: exporter(infra.clone(), |i, _| i.kafka()),
        };

        // The stack's own variable points the mail at the sink; nothing else is overridden.
        let smarthost = format!("smtp_smarthost=127.0.0.1:{}", ports.smtp);
        let stack = root().join("stacks/fraud-detection.yaml");
        let run = work.run(&[
            "render",
            &stack.to_string_lossy(),
            "--out",
            "rendered",
            "--var",
            &smarthost,
        ]);
        assert_eq!(run.code, 0, "render: {run:?}");

        let settings = serde_json::json!({
            "rendered": work.path("rendered"), "out": work.path("local"),
            "prometheus": ports.prometheus, "alertmanager": ports.alertmanager, "api": ports.api,
            "kubelet": ports.kubelet, "kube_state_metrics": ports.kube_state_metrics,
            "kafka_exporter": ports.kafka_exporter,
            "shorten": shorten.iter().map(|(a, d)| (a.to_string(), serde_json::Value::from(*d))).collect::<serde_json::Map<_, _>>(),
        });
        let settings_path = work.write("settings.json", &settings.to_string());
        let out = Command::new(tool("python3"))
            .arg(root().join("tests/fixtures/monitoring/localize.py"))
            .arg(&settings_path)
            .output()
            .expect("localize.py");
        assert!(
            out.status.success(),
            "localize.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let changes: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let shortened: Vec<&String> = changes
            .iter()
            .filter(|c| c.starts_with("SHORTENED"))
            .collect();
        assert_eq!(shortened.len(), shorten.len(), "{changes:?}");
        // The rendered mail settings are what Alertmanager gets (only TLS is relaxed).
        let am = work.read("rendered/monitoring/module.monitoring.data.bundle/alertmanager.yaml");
        assert!(
            am.contains(&format!("smtp_smarthost: \"127.0.0.1:{}\"", ports.smtp)),
            "{am}"
        );
        assert!(am.contains("to: sysadmin@example.org"), "{am}");

        let logs = work.path("logs");
        std::fs::create_dir_all(&logs).expect("logs dir");
        let mut procs = Vec::new();

        let maildir = work.path("mail");
        let mut smtp = Proc::spawn(
            "aiosmtpd",
            &logs,
            Command::new(tool("python3"))
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{}", ports.smtp))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir),
        );
        wait_listening(ports.smtp, &mut smtp, Duration::from_secs(60));
        procs.push(smtp);

        let mut am = Proc::spawn(
            "alertmanager",
            &logs,
            Command::new(alertmanager_bin())
                .arg(format!(
                    "--config.file={}",
                    work.path("local/alertmanager.yaml").display()
                ))
                .arg(format!("--storage.path={}", work.path("am-data").display()))
                .arg(format!(
                    "--web.listen-address=127.0.0.1:{}",
                    ports.alertmanager
                ))
                .arg("--cluster.listen-address="),
        );
        wait_ready(
            ports.alertmanager,
            "/-/ready",
            &mut am,
            Duration::from_secs(60),
        );
        procs.push(am);

        let mut prom = Proc::spawn(
            "prometheus",
            &logs,
            Command::new(tool("prometheus"))
                .arg(format!(
                    "--config.file={}",
                    work.path("local/prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    work.path("tsdb").display()
                ))
                .arg(format!(
                    "--web.listen-address=127.0.0.1:{}",
                    ports.prometheus
                )),
        );
        wait_ready(
            ports.prometheus,
            "/-/ready",
            &mut prom,
            Duration::from_secs(60),
        );
        procs.push(prom);

        Pipeline {
            work,
            ports,
            infra,
            procs,
            changes,
        }
    }

    fn logs(&self) -> String {
        self.procs
            .iter()
            .map(Proc::tail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn set(&self, replicas: f64, pods: &[(&str, f64)]) {
        self.infra.lock().expect("infra").set(replicas, pods);
    }

    /// `/api/v1/query`: the `data` of a successful answer; panics (with the logs) otherwise.
    fn query(&self, q: &str) -> serde_json::Value {
        let path = format!("/api/v1/query?query={}", urlencode(q));
        let (status, body) = http(self.ports.prometheus, "GET", &path, None)
            .unwrap_or_else(|| panic!("Prometheus did not answer {q}\n{}", self.logs()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert!(
            status == 200 && v["status"] == "success",
            "Prometheus refused {q}: {status} {body}"
        );
        v["data"].clone()
    }

    fn result(&self, q: &str) -> Vec<serde_json::Value> {
        self.query(q)["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The overload alert's state in Prometheus: "pending", "firing" or "" (none).
    fn overload_state(&self) -> String {
        self.result(&format!("ALERTS{{alertname=\"{OVERLOAD}\"}}"))
            .first()
            .and_then(|s| s["metric"]["alertstate"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Every mail the sink received: (headers + decoded body).
    fn mails(&self) -> Vec<String> {
        let dir = self.work.path("mail/new");
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                out.push(decode_qp(&std::fs::read_to_string(p).unwrap_or_default()));
            }
        }
        out
    }

    fn overload_mails(&self) -> Vec<String> {
        self.mails()
            .into_iter()
            .filter(|m| subject(m).contains(OVERLOAD))
            .collect()
    }

    /// Waits (generous guard) for `cond`, checking the programs are alive.
    fn wait_for(&mut self, what: &str, guard: Duration, mut cond: impl FnMut(&Pipeline) -> bool) {
        let deadline = Instant::now() + guard;
        loop {
            if cond(self) {
                return;
            }
            for p in &mut self.procs {
                p.assert_running();
            }
            assert!(
                Instant::now() < deadline,
                "{what} within {guard:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// `cond` holds at every check for `span` (the checks run every 3 s).
    fn holds_for(&self, what: &str, span: Duration, cond: impl Fn(&Pipeline) -> bool) {
        let until = Instant::now() + span;
        while Instant::now() < until {
            assert!(cond(self), "{what}\n{}", self.logs());
            std::thread::sleep(Duration::from_secs(3));
        }
    }
}

fn alertmanager_bin() -> PathBuf {
    // Upstream names it `alertmanager`; Debian's package `prometheus-alertmanager`.
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    on_path("alertmanager").unwrap_or_else(|| tool("prometheus-alertmanager"))
}

/// Quoted-printable soft breaks and escapes undone (Alertmanager's HTML part uses it).
fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn subject(mail: &str) -> String {
    mail.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}

fn header<'a>(mail: &'a str, name: &str) -> &'a str {
    mail.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Prometheus' RFC 3339 `activeAt` (UTC, `2026-12-04T21:30:15.123456789Z`) in Unix seconds.
fn rfc3339_utc(s: &str) -> f64 {
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap_or(("", ""));
    let d: Vec<i64> = date.split('-').filter_map(|x| x.parse().ok()).collect();
    let t: Vec<f64> = time.split(':').filter_map(|x| x.parse().ok()).collect();
    assert!(d.len() == 3 && t.len() == 3, "activeAt {s}");
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m, day) = (if d[1] <= 2 { d[0] - 1 } else { d[0] }, d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days as f64 * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}

// ---------------------------------------------------------------- the model API

/// A real `mlflow server` with a model trained by the example's script, and the model API
/// serving `models:/fraud-detection@champion` from it under uvicorn.
struct ModelApi {
    _mlflow: Mlflow,
    proc: Proc,
    port: u16,
    version: String,
    _logs: tempfile::TempDir,
}

impl ModelApi {
    fn start() -> ModelApi {
        let mlflow = Mlflow::start();
        let example = root().join("examples/model-api");
        let out = Command::new(tool("python3"))
            .arg(example.join("train_example.py"))
            .args([
                "--tracking-uri",
                &mlflow.uri,
                "--name",
                "fraud-detection",
                "--alias",
                "champion",
            ])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .output()
            .expect("train_example.py");
        assert!(
            out.status.success(),
            "train_example.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let version = String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        let logs = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut proc = Proc::spawn(
            "model-api",
            logs.path(),
            Command::new(tool("python3"))
                .args([
                    "-m",
                    "uvicorn",
                    "model_api.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .current_dir(&example)
                .env("MODEL_URI", "models:/fraud-detection@champion")
                .env("MLFLOW_TRACKING_URI", &mlflow.uri)
                .env("FAULT_RATE", "0.02")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("MLFLOW_DISABLE_TELEMETRY", "true"),
        );
        wait_ready(port, "/health", &mut proc, Duration::from_secs(180));
        ModelApi {
            _mlflow: mlflow,
            proc,
            port,
            version,
            _logs: logs,
        }
    }
}

/// Posts batches of transactions to `/predict` until dropped; counts answers by status.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let (s, o, e) = (stop.clone(), ok.clone(), errors.clone());
        let thread = std::thread::spawn(move || {
            let mut n: u64 = 0;
            while !s.load(Ordering::Relaxed) {
                let rows: Vec<String> = (0..5)
                    .map(|k| {
                        n += 1;
                        let x = (n * 7919 + k) % 1000;
                        format!(
                            r#"{{"amount": {}, "hour": {}, "merchant_risk": {}}}"#,
                            20.0 + (x % 200) as f64,
                            7 + (x % 17),
                            0.05 + (x % 30) as f64 / 100.0
                        )
                    })
                    .collect();
                let body = format!(r#"{{"instances": [{}]}}"#, rows.join(", "));
                match http(port, "POST", "/predict", Some(&body)) {
                    Some((200, _)) => o.fetch_add(1, Ordering::Relaxed),
                    Some((500, _)) => e.fetch_add(1, Ordering::Relaxed),
                    other => panic!("/predict answered {other:?}"),
                };
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Load {
            stop,
            ok,
            errors,
            thread: Some(thread),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn dashboard_queries(p: &Pipeline) -> Vec<(String, String)> {
    let text = p.work.read(
        "rendered/monitoring/module.monitoring.data.bundle/dashboards/app-fraud-detection.json",
    );
    let d: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut out = Vec::new();
    for panel in d["panels"].as_array().expect("panels") {
        for t in panel["targets"].as_array().expect("targets") {
            let q = t["expr"]
                .as_str()
                .expect("expr")
                .replace("$__rate_interval", "1m");
            out.push((panel["title"].as_str().unwrap_or_default().to_string(), q));
        }
    }
    for a in d["annotations"]["list"].as_array().expect("annotations") {
        out.push((
            "annotation".into(),
            a["expr"].as_str().expect("expr").to_string(),
        ));
    }
    out
}

fn assert_local_changes(p: &Pipeline) {
    for want in [
        "rule_files:",
        "alerting target ['alertmanager.monitoring.svc:9093']",
        "scrape job apps: targets -> loopback",
        "alertmanager smtp_require_tls: True -> False",
    ] {
        assert!(
            p.changes.iter().any(|c| c.starts_with(want)),
            "{want} not in {:?}",
            p.changes
        );
    }
}

// ---------------------------------------------------------------- the tests

/// The rules unchanged: at 6 replicas (the maximum) with a replica at 90 % of its CPU limit,
/// ModelOverloadedAtMaxReplicas goes pending, fires after the real 5 minutes and reaches the
/// sysadmin as an e-mail naming its runbook; every dashboard query is accepted and has data.
#[test]
fn the_overload_alert_mails_the_sysadmin_after_five_real_minutes() {
    let mut api = ModelApi::start();
    let mut p = Pipeline::start(Some(api.port), &[]);
    assert_local_changes(&p);
    assert!(
        !p.changes.iter().any(|c| c.starts_with("SHORTENED")),
        "{:?}",
        p.changes
    );
    let load = Load::start(api.port);
    p.set(6.0, &[(POD_A, 0.95), (POD_B, 0.5)]);

    // The rendered relabelling found the API's port in the annotation and named the target.
    p.wait_for(
        "the model API scraped as job fraud-detection",
        Duration::from_secs(120),
        |p| {
            p.result(&format!(
                r#"up{{job="fraud-detection", namespace="ml", pod="{POD_A}"}} == 1"#
            ))
            .len()
                == 1
        },
    );
    assert!(
        p.result(r#"up{job="unannotated"}"#).is_empty(),
        "a pod without prometheus.io/scrape was scraped"
    );
    for job in [
        "prometheus",
        "alertmanager",
        "kubelet",
        "cadvisor",
        "kube-state-metrics",
        "node-exporter",
        "kafka-exporter",
    ] {
        p.wait_for(&format!("job {job} up"), Duration::from_secs(120), |p| {
            !p.result(&format!(r#"up{{job="{job}"}} == 1"#)).is_empty()
        });
    }
    let version = api.version.clone();
    assert_eq!(
        p.result(&format!(
            r#"model_info{{job="fraud-detection", version="{version}"}}"#
        ))
        .len(),
        1,
        "model_info of the served version"
    );

    // Pending first, and no mail while pending.
    // A new pod's 5-minute rate ramps up (Prometheus extrapolates only to its first sample):
    // over 80 % after about 4 minutes.
    p.wait_for(
        "the overload alert pending",
        Duration::from_secs(480),
        |p| {
            let s = p.overload_state();
            assert_ne!(s, "firing", "fired before pending was seen");
            s == "pending"
        },
    );
    assert!(p.overload_mails().is_empty(), "mailed while pending");
    for (_, q) in dashboard_queries(&p) {
        p.query(&q); // accepted (a refusal panics with Prometheus' error)
    }

    p.wait_for("the overload e-mail", Duration::from_secs(540), |p| {
        !p.overload_mails().is_empty()
    });
    api.proc.assert_running();
    let mail = p.overload_mails().remove(0);
    assert_eq!(header(&mail, "To"), "sysadmin@example.org", "{mail}");
    assert!(subject(&mail).starts_with("[FIRING:1]"), "{mail}");
    for want in [
        "runbooks/ModelOverloadedAtMaxReplicas.md",
        "fraud-detection is overloaded at its maximum of 6 replicas",
        "severity",
        "critical",
    ] {
        assert!(mail.contains(want), "the mail lacks {want:?}:\n{mail}");
    }
    let runbook = p.work.read("rendered/monitoring/module.monitoring.data.bundle/runbooks/ModelOverloadedAtMaxReplicas.md");
    assert!(
        runbook.starts_with("# ModelOverloadedAtMaxReplicas"),
        "the mailed runbook is shipped"
    );

    // Prometheus held it pending for the whole `for:` of the rendered rule (5 minutes).
    let (_, body) = http(p.ports.prometheus, "GET", "/api/v1/alerts", None).expect("alerts");
    let v: serde_json::Value = serde_json::from_str(&body).expect("alerts JSON");
    let active = v["data"]["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["labels"]["alertname"] == OVERLOAD))
        .and_then(|a| a["activeAt"].as_str().map(str::to_string))
        .expect("overload alert active");
    let active_at = rfc3339_utc(&active);
    assert!(
        unix_now() - active_at >= 300.0,
        "firing {active} less than 5 minutes after it became active"
    );

    // Every dashboard query is accepted and, with the API, the exporters and a firing alert,
    // returns data; the injected 5xx (FAULT_RATE) are what the error ratio shows.
    assert!(
        load.errors.load(Ordering::Relaxed) > 0,
        "no 5xx was injected"
    );
    assert!(
        load.ok.load(Ordering::Relaxed) > 0,
        "no prediction succeeded"
    );
    let mut empty = Vec::new();
    for (title, q) in dashboard_queries(&p) {
        if p.result(&q).is_empty() {
            empty.push(format!("{title}: {q}"));
        }
    }
    assert!(
        empty.is_empty(),
        "panel queries without data:\n{}",
        empty.join("\n")
    );
    drop(load);
}

/// A copy of the rendered rules with ModelOverloadedAtMaxReplicas' `for:` shortened from 5m to
/// 30s (the only change, asserted): no alert at 6 replicas with 70 % CPU, none at 5 replicas
/// with 90 %, and then at 6 replicas with 90 % it fires and mails the sysadmin (the check can
/// fail).
#[test]
fn the_overload_alert_is_not_mailed_at_five_replicas_or_70_percent() {
    let mut p = Pipeline::start(None, &[(OVERLOAD, "30s")]);
    assert_local_changes(&p);
    assert!(
        p.changes
            .contains(&format!("SHORTENED {OVERLOAD} for: 5m -> 30s")),
        "{:?}",
        p.changes
    );
    let hpa = r#"kube_horizontalpodautoscaler_status_current_replicas{namespace="ml"}"#;
    let value = |p: &Pipeline, q: &str| -> f64 {
        p.result(q)
            .first()
            .and_then(|s| s["value"][1].as_str().and_then(|v| v.parse().ok()))
            .unwrap_or(-1.0)
    };

    // The rule's own CPU ratio (5-minute rate), built by the same code as the rule.
    let app: AppSpec =
        serde_json::from_str(r#"{"name": "fraud-detection", "namespace": "ml"}"#).expect("app");
    let ratio = format!(
        "max({})",
        queries::cpu_ratio_per_pod(&app, queries::RULE_WINDOW)
    );

    // 6 replicas (the maximum), CPU at 70 % of the limit, until the 5-minute rate has
    // converged (a new pod's rate ramps up over the window).
    p.set(6.0, &[(POD_B, 0.7)]);
    p.wait_for(
        "70 % CPU at 6 replicas visible in the rule's ratio",
        Duration::from_secs(480),
        |p| value(p, &ratio) > 0.66 && value(p, hpa) == 6.0,
    );
    p.holds_for(
        "no overload alert at 70 % CPU",
        Duration::from_secs(60),
        |p| p.overload_state().is_empty(),
    );

    // 5 replicas, a new replica at 95 % (the 70 % pod is gone: its rate cannot linger).
    p.set(5.0, &[(POD_A, 0.95)]);
    p.wait_for(
        "HighCPUUsage pending at 5 replicas (the same CPU data sees the hot replica)",
        Duration::from_secs(480),
        |p| !p.result(r#"ALERTS{alertname="HighCPUUsage"}"#).is_empty() && value(p, hpa) == 5.0,
    );
    p.holds_for(
        "no overload alert at 5 replicas",
        Duration::from_secs(60),
        |p| p.overload_state().is_empty(),
    );
    assert!(
        p.overload_mails().is_empty(),
        "mailed at 5 replicas or 70 % CPU: {:?}",
        p.mails()
    );

    // 6 replicas at 90 %: it fires and is mailed.
    p.set(6.0, &[(POD_A, 0.95)]);
    p.wait_for(
        "the overload e-mail at 6 replicas and 90 %",
        Duration::from_secs(240),
        |p| !p.overload_mails().is_empty(),
    );
    let mail = p.overload_mails().remove(0);
    assert_eq!(header(&mail, "To"), "sysadmin@example.org", "{mail}");
    assert!(
        mail.contains("runbooks/ModelOverloadedAtMaxReplicas.md"),
        "{mail}"
    );
}

#[test]
fn rfc3339_parses_prometheus_times() {
    assert_eq!(rfc3339_utc("1970-01-01T00:00:00Z"), 0.0);
    assert_eq!(rfc3339_utc("2026-12-04T21:30:15.5Z"), 1_796_419_815.5);
    assert_eq!(decode_qp("a=3Db=\r\nc"), "a=bc");
}
