//! The sandbox as a background process of its own: `up` starts `mlstack sandbox serve` detached
//! (new session, stdio closed) so it never holds a CI pipe open; the running server records its
//! endpoints in `.mlstack/sandbox/sandbox.json` (0600: it holds the token) and removes the file
//! when it stops. Its objects live under `.mlstack/sandbox/kube/`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a running sandbox records about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Running {
    pub pid: u32,
    pub started: String,
    pub kubernetes: Endpoint,
}

/// How to reach one emulated API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Endpoint {
    pub endpoint: String,
    pub ca_pem: String,
    pub token: String,
}

impl Running {
    /// A kubeconfig the real kubectl accepts.
    pub fn kubeconfig(&self) -> String {
        let k = &self.kubernetes;
        mlstack_sandbox::kubeconfig_for(&k.endpoint, &k.ca_pem, &k.token)
    }
}

/// `.mlstack/sandbox` under `base`.
pub fn dir(base: &Path) -> PathBuf {
    base.join(".mlstack").join("sandbox")
}

fn runtime_file(dir: &Path) -> PathBuf {
    dir.join("sandbox.json")
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
}

/// The running sandbox, if its file is there and its process alive (a stale file is removed).
pub fn running(dir: &Path) -> Option<Running> {
    let text = std::fs::read_to_string(runtime_file(dir)).ok()?;
    let r: Running = serde_json::from_str(&text).ok()?;
    if alive(r.pid) {
        Some(r)
    } else {
        let _ = std::fs::remove_file(runtime_file(dir));
        None
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs the sandbox in this process until SIGTERM or SIGINT.
pub fn serve(dir: &Path, mut config: mlstack_sandbox::SandboxConfig) -> Result<(), String> {
    crate::state::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    config.data_dir = Some(dir.join("kube"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let handle = mlstack_sandbox::KubeApi::start(config)
            .await
            .map_err(|e| format!("cannot start the sandbox Kubernetes API: {e}"))?;
        let me = Running {
            pid: std::process::id(),
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            kubernetes: Endpoint {
                endpoint: handle.endpoint.clone(),
                ca_pem: handle.ca_pem.clone(),
                token: handle.token.clone(),
            },
        };
        let text = serde_json::to_string_pretty(&me).map_err(|e| e.to_string())?;
        write_private(&runtime_file(dir), &text)?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        handle.shutdown().await;
        let _ = std::fs::remove_file(runtime_file(dir));
        Ok(())
    })
}

/// Starts `mlstack sandbox serve ARGS` detached and waits until it records its endpoints.
/// Returns the already running sandbox when there is one (idempotent).
pub fn start_detached(dir: &Path, serve_args: &[String]) -> Result<(Running, bool), String> {
    if let Some(r) = running(dir) {
        return Ok((r, false));
    }
    crate::state::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the mlstack binary: {e}"))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("sandbox.log"))
        .map_err(|e| format!("cannot open the sandbox log: {e}"))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("sandbox")
        .arg("serve")
        .args(serve_args)
        .current_dir(
            dir.parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new(".")),
        )
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(log_err);
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe; it detaches the child from our session and terminal.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = running(dir) {
            return Ok((r, true));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the sandbox exited at start ({status}); see {}",
                dir.join("sandbox.log").display()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the sandbox did not start within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the running sandbox; false when none was running.
pub fn stop(dir: &Path) -> Result<bool, String> {
    let Some(r) = running(dir) else {
        return Ok(false);
    };
    // SAFETY: sending SIGTERM to the pid the sandbox recorded for itself.
    unsafe {
        libc::kill(r.pid as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while alive(r.pid) && std::fs::metadata(runtime_file(dir)).is_ok() {
        if Instant::now() > deadline {
            return Err(format!(
                "the sandbox (pid {}) did not stop within 15 s",
                r.pid
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(runtime_file(dir));
    Ok(true)
}
