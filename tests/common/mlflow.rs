//! A real MLflow tracking server (`mlflow server`, PyPI `mlflow`, SQLite backend) on a free
//! loopback port, and MLflow's own Python client to register versions and move aliases.
//! The server and its workers run in their own process group, killed on drop.

use super::tool;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Mlflow {
    child: Child,
    pub uri: String,
    dir: tempfile::TempDir,
}

impl Mlflow {
    /// Starts the server and waits for `/health` (a missing `mlflow` fails the test:
    /// scripts/check.sh installs it).
    pub fn start() -> Mlflow {
        use std::os::unix::process::CommandExt;
        let bin = tool("mlflow");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(bin)
            .arg("server")
            .arg("--backend-store-uri")
            .arg(format!(
                "sqlite:///{}",
                dir.path().join("mlflow.db").display()
            ))
            .arg("--default-artifact-root")
            .arg(dir.path().join("artifacts"))
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--workers",
                "1",
            ])
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            // MLflow 3 starts a pool of job consumers (huey) beside the server; the registry
            // needs none, and they cost a loaded CI machine seconds of CPU per server.
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .env("DO_NOT_TRACK", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start mlflow server");
        let m = Mlflow {
            child,
            uri: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if health(port) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "mlflow server did not start: {}",
                m.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        m
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn script(&self, args: &[&str]) -> String {
        let out = Command::new(tool("python3"))
            .arg(fixture())
            .arg(&self.uri)
            .args(args)
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            // MLflow 3 starts a pool of job consumers (huey) beside the server; the registry
            // needs none, and they cost a loaded CI machine seconds of CPU per server.
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .env("DO_NOT_TRACK", "true")
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "registry.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Registers a new version of `name` (creating the model) and returns its number.
    pub fn register(&self, name: &str, tags: &[(&str, &str)]) -> String {
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args = vec!["register", name];
        args.extend(tags.iter().map(String::as_str));
        let out = self.script(&args);
        out.lines().last().unwrap_or_default().to_string()
    }

    /// Points `alias` at `version`.
    pub fn alias(&self, name: &str, alias: &str, version: &str) {
        self.script(&["alias", name, alias, version]);
    }

    /// The version's tags, as MLflow's client reads them.
    pub fn tags(&self, name: &str, version: &str) -> serde_json::Value {
        serde_json::from_str(&self.script(&["tags", name, version])).expect("tags JSON")
    }
}

impl Drop for Mlflow {
    fn drop(&mut self) {
        // The server forks workers: end the whole group.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mlflow/registry.py")
}

fn health(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}
