//! A scratch working directory and a way to run the real `mlstack` binary in it.
#![allow(dead_code)]

pub mod mlflow;
pub mod moto;
pub mod prometheus;
pub mod services;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct Work {
    pub dir: tempfile::TempDir,
}

/// What a run printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Stops the working directory's sandbox when dropped, even when an assertion fails.
pub struct SandboxDown<'a>(pub &'a Work);

impl Drop for SandboxDown<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["sandbox", "down"]);
    }
}

/// The body the state-backend tests share: a secret in state (to grep for) and a command
/// whose `gate` variable can make an apply slow or fail while it holds the lock.
pub const LOCKING_STACK_BODY: &str = r#"
variables:
  gate:
    type: string
    default: "true"
resources:
  pw:
    type: random_password
    properties:
      length: 24
  step:
    type: local_command
    properties:
      command: ["sh", "-c", "${var.gate}"]
outputs:
  pw:
    value: ${pw.result}
    sensitive: true
"#;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mlstack"))
}

impl Work {
    pub fn new() -> Work {
        Work {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A scratch directory with a copy of the repository's `modules/` beside the stack file
    /// (stacks name built-in modules by path relative to themselves).
    pub fn with_modules() -> Work {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap() {
                let p = e.unwrap().path();
                let dest = to.join(p.file_name().unwrap());
                if p.is_dir() {
                    copy(&p, &dest);
                } else {
                    std::fs::copy(&p, &dest).unwrap();
                }
            }
        }
        let w = Work::new();
        copy(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("modules"),
            &w.path("modules"),
        );
        w
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("CLICOLOR_FORCE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs mlstack with a generous hang guard (not a timing assertion).
    pub fn run(&self, args: &[&str]) -> Run {
        let child = self.command(args).spawn().expect("spawn mlstack");
        wait_with_guard(child, Duration::from_secs(60))
    }

    pub fn state(&self, stack_name: &str) -> serde_json::Value {
        let text = self.read(&format!(".mlstack/{stack_name}/state.json"));
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    pub fn state_addresses(&self, stack_name: &str) -> Vec<String> {
        self.state(stack_name)["resources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["address"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn wait_with_guard(mut child: std::process::Child, guard: Duration) -> Run {
    // Drain both pipes on threads so a large output cannot fill a pipe and stall the child.
    fn drain<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > guard => {
                let _ = child.kill();
                panic!("mlstack hung for more than {guard:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("wait: {e}"),
        }
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
    }
}

/// Waits (up to a generous guard) until `p` exists: a command under test has reached a point.
pub fn wait_for_file(p: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !p.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            p.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tool the tests drive for real (promtool, amtool, kubectl, moto_server, ...), found on PATH.
/// A missing tool fails the test, in CI and outside it: scripts/check.sh installs every one, so a
/// missing tool is a broken setup, and a test that silently passes without it proves nothing.
pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => p,
        None => panic!(
            "`{name}` is not on PATH: run scripts/check.sh, which installs every tool the tests need (Debian: prometheus, prometheus-alertmanager; PyPI: moto[server], mlflow; Airflow in its own venv, `airflow` linked from ~/.cache/mlstack/airflow-bin; kubectl comes with the machine)"
        ),
    }
}

/// Every file under `dir` by relative path (`/`-separated), for comparing rendered trees.
pub fn read_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
