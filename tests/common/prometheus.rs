//! A real Prometheus (Debian `prometheus`) scraping a fixture exporter every second. The
//! exporter is a thread in the test serving `/metrics` with the serving-metrics contract
//! (`http_requests_total{status}`, `http_request_duration_seconds` histogram); the test sets
//! the share of 5xx answers and of slow (3 s) requests, and each scrape counts 100 more
//! requests at that mix. Prometheus attaches `namespace` and `pod` target labels as the
//! monitoring module's pod discovery does, so the module's default analysis queries apply.
//! Both stop on drop (Prometheus's process group is killed).

use super::services::{free_port, http, urlencode, wait_ready, Proc};
use super::tool;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the exporter's traffic looks like now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mix {
    /// Share of requests answered 5xx.
    pub errors: f64,
    /// Share of requests that take 3 s (the rest take 50 ms).
    pub slow: f64,
}

#[derive(Default)]
struct Counters {
    mix: Mix,
    total: u64,
    errors: u64,
    slow: u64,
    scrapes: u64,
}

pub struct Prometheus {
    proc: Proc,
    port: u16,
    pub url: String,
    counters: Arc<Mutex<Counters>>,
    stop: Arc<AtomicBool>,
    exporter_port: u16,
    _dir: tempfile::TempDir,
}

fn metrics(c: &mut Counters) -> String {
    c.scrapes += 1;
    c.total += 100;
    c.errors += (c.mix.errors * 100.0).round() as u64;
    c.slow += (c.mix.slow * 100.0).round() as u64;
    let ok = c.total - c.errors;
    let fast = c.total - c.slow;
    format!(
        "# TYPE http_requests_total counter\n\
         http_requests_total{{status=\"200\"}} {ok}\n\
         http_requests_total{{status=\"500\"}} {}\n\
         # TYPE http_request_duration_seconds histogram\n\
         http_request_duration_seconds_bucket{{le=\"0.1\"}} {fast}\n\
         http_request_duration_seconds_bucket{{le=\"2.5\"}} {fast}\n\
         http_request_duration_seconds_bucket{{le=\"5\"}} {total}\n\
         http_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}\n\
         http_request_duration_seconds_sum {}\n\
         http_request_duration_seconds_count {total}\n",
        c.errors,
        fast as f64 * 0.05 + c.slow as f64 * 3.0,
        total = c.total,
    )
}

fn serve(listener: TcpListener, counters: Arc<Mutex<Counters>>, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut s) = conn else { continue };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let body = metrics(&mut counters.lock().unwrap());
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

impl Prometheus {
    /// Starts the exporter for app `app` in namespace `ns` (its pod named like the app's
    /// candidate) and Prometheus scraping it every second; waits until it is ready.
    pub fn start(app: &str, ns: &str, mix: Mix) -> Prometheus {
        let bin = tool("prometheus");
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("exporter port");
        let exporter_port = listener.local_addr().unwrap().port();
        let counters = Arc::new(Mutex::new(Counters {
            mix,
            ..Counters::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (c, s) = (counters.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, c, s));
        }
        let config = format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
             scrape_configs:\n\
             - job_name: {app}\n\
             \x20 static_configs:\n\
             \x20   - targets: [\"127.0.0.1:{exporter_port}\"]\n\
             \x20     labels: {{ namespace: {ns}, pod: {app}-candidate-5d9f7c6b8-x2x4z }}\n"
        );
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).expect("config");
        let port = free_port();
        let mut proc = Proc::spawn(
            "prometheus",
            dir.path(),
            Command::new(bin)
                .arg(format!("--config.file={}", cfg.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        );
        wait_ready(port, "/-/ready", &mut proc, Duration::from_secs(60));
        Prometheus {
            proc,
            port,
            url: format!("http://127.0.0.1:{port}"),
            counters,
            stop,
            exporter_port,
            _dir: dir,
        }
    }

    /// Changes the traffic mix from the next scrape on.
    pub fn set_mix(&self, mix: Mix) {
        self.counters.lock().unwrap().mix = mix;
    }

    /// How many times Prometheus scraped the exporter.
    pub fn scrapes(&self) -> u64 {
        self.counters.lock().unwrap().scrapes
    }

    /// The one value of an instant query, if it has one.
    pub fn value(&self, query: &str) -> Option<f64> {
        let path = format!("/api/v1/query?query={}", urlencode(query));
        let Some((200, body)) = http(self.port, "GET", &path, None) else {
            return None;
        };
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
            .filter(|x: &f64| !x.is_nan())
    }

    /// Waits (bounded) until `query` has a value: enough samples for its rate window.
    pub fn wait_for(&self, query: &str) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = self.value(query) {
                return v;
            }
            assert!(Instant::now() < deadline, "no value for {query} in 60 s");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    /// Stops the exporter thread (a last connection wakes its accept); `proc` then ends
    /// Prometheus's process group.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.exporter_port));
    }
}
