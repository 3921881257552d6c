//! A real MLflow tracking server (`mlflow server`, PyPI `mlflow`, SQLite backend) on a free
//! loopback port, and MLflow's own Python client to register versions and move aliases.
//! The server and its workers run in their own process group, ended on drop (`services::Proc`).

use super::services::{free_port, wait_ready, Proc};
use super::tool;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Mlflow {
    server: Proc,
    pub uri: String,
    _dir: tempfile::TempDir,
}

impl Mlflow {
    /// Starts the server and waits for `/health` (a missing `mlflow` fails the test:
    /// scripts/check.sh installs it).
    pub fn start() -> Mlflow {
        let bin = tool("mlflow");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg("server")
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
            .env("DO_NOT_TRACK", "true");
        let mut server = Proc::spawn("server", dir.path(), &mut cmd);
        wait_ready(port, "/health", &mut server, Duration::from_secs(120));
        Mlflow {
            server,
            uri: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.server.log).unwrap_or_default()
    }

    fn script(&self, args: &[&str]) -> String {
        let out = Command::new(tool("python3"))
            .arg(fixture())
            .arg(&self.uri)
            .args(args)
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
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

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mlflow/registry.py")
}
