//! The sandbox as a background process of its own: `up` starts `mlstack sandbox serve` detached
//! (new session, stdio closed) so it never holds a CI pipe open; the running server records its
//! endpoints in `.mlstack/sandbox/sandbox.json` (0600: it holds the token) and removes the file
//! when it stops. The standalone Kubernetes API keeps its objects under `.mlstack/sandbox/kube/`,
//! the cloud emulator everything it holds (its clusters' Kubernetes APIs included) under
//! `.mlstack/sandbox/cloud/`. The settings of the last explicit `up` (faults included) are kept
//! in `serve-args.json`, so a sandbox that a later command starts again (`--sandbox`) keeps them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a running sandbox records about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Running {
    pub pid: u32,
    pub started: String,
    pub kubernetes: Endpoint,
    /// The emulated Yandex Cloud API (absent in files written before it existed).
    #[serde(default)]
    pub cloud: Option<CloudEndpoint>,
    /// The faults every API injects (absent in files written before they were recorded).
    #[serde(default)]
    pub faults: Option<FaultSettings>,
}

/// The faults a running sandbox injects into every API (the cloud, the standalone Kubernetes
/// API and each cluster's), as `sandbox up` was given them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultSettings {
    pub latency_ms: u64,
    pub error_rate: f64,
    pub error_codes: Vec<u16>,
    pub drop_rate: f64,
}

/// How to reach the emulated cloud: every service's paths on one endpoint, trusting `ca_pem`,
/// authenticating with an OAuth token exchanged for IAM tokens as in the real cloud.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CloudEndpoint {
    pub endpoint: String,
    pub ca_pem: String,
    pub oauth_token: String,
}

/// How to reach one emulated API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Endpoint {
    pub endpoint: String,
    pub ca_pem: String,
    pub token: String,
    /// A client certificate and key (PEM) the API accepts instead of the token.
    #[serde(default)]
    pub client_cert_pem: String,
    #[serde(default)]
    pub client_key_pem: String,
}

impl Running {
    /// A kubeconfig the real kubectl accepts.
    pub fn kubeconfig(&self) -> String {
        let k = &self.kubernetes;
        mlstack_sandbox::kubeconfig_for(&k.endpoint, &k.ca_pem, &k.token)
    }

    /// A kubeconfig that authenticates with the sandbox's client certificate instead.
    pub fn kubeconfig_with_client_cert(&self) -> Option<String> {
        let k = &self.kubernetes;
        (!k.client_cert_pem.is_empty()).then(|| {
            mlstack_sandbox::kubeconfig_with_client_cert(
                &k.endpoint,
                &k.ca_pem,
                &k.client_cert_pem,
                &k.client_key_pem,
            )
        })
    }

    /// What the cloud holds, asked of the running emulator (its status page).
    pub fn cloud_status(&self) -> Result<mlstack_sandbox::CloudStatus, String> {
        let Some(c) = &self.cloud else {
            return Ok(mlstack_sandbox::CloudStatus::default());
        };
        let ca = reqwest::Certificate::from_pem(c.ca_pem.as_bytes())
            .map_err(|e| format!("the sandbox cloud's CA: {e}"))?;
        let client = reqwest::Client::builder()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build an HTTPS client: {e}"))?;
        let url = format!("{}/sandbox/v1/status", c.endpoint.trim_end_matches('/'));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        rt.block_on(async {
            let resp = client
                .get(&url)
                .bearer_auth(&c.oauth_token)
                .send()
                .await
                .map_err(|e| format!("cannot reach the sandbox cloud at {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!(
                    "the sandbox cloud answered {} at {url}",
                    resp.status()
                ));
            }
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("cannot read the sandbox cloud's status: {e}"))?;
            serde_json::from_slice::<mlstack_sandbox::CloudStatus>(&body)
                .map_err(|e| format!("the sandbox cloud's status is not what mlstack expects: {e}"))
        })
    }
}

/// `.mlstack/sandbox` under `base`.
pub fn dir(base: &Path) -> PathBuf {
    base.join(".mlstack").join("sandbox")
}

fn runtime_file(dir: &Path) -> PathBuf {
    dir.join("sandbox.json")
}

fn args_file(dir: &Path) -> PathBuf {
    dir.join("serve-args.json")
}

/// The `serve` arguments to start with: `given` when there are any (recorded for the next
/// start), else those recorded by the last start that had some.
fn serve_args(dir: &Path, given: &[String]) -> Result<Vec<String>, String> {
    let file = args_file(dir);
    if !given.is_empty() {
        let text = serde_json::to_string(given).map_err(|e| e.to_string())?;
        write_private(&file, &text)?;
        return Ok(given.to_vec());
    }
    match std::fs::read_to_string(&file) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a list of sandbox arguments ({e}): remove it, or run `mlstack sandbox up` with the settings you want",
                file.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
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

/// The environment variable naming where a stopping sandbox writes the cloud exchanges it
/// recorded (for tests).
pub const RECORD_ENV: &str = "MLSTACK_SANDBOX_RECORD";

/// Runs the sandbox in this process until SIGTERM or SIGINT.
pub fn serve(
    dir: &Path,
    mut config: mlstack_sandbox::SandboxConfig,
    mut cloud_config: mlstack_sandbox::CloudConfig,
) -> Result<(), String> {
    crate::state::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    config.data_dir = Some(dir.join("kube"));
    cloud_config.data_dir = Some(dir.join("cloud"));
    let faults = FaultSettings {
        latency_ms: cloud_config.latency.as_millis() as u64,
        error_rate: cloud_config.faults.error_rate,
        error_codes: cloud_config.faults.error_codes.clone(),
        drop_rate: cloud_config.faults.drop_rate,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let handle = mlstack_sandbox::KubeApi::start(config)
            .await
            .map_err(|e| format!("cannot start the sandbox Kubernetes API: {e}"))?;
        cloud_config
            .also_report
            .insert("kubernetes".into(), handle.counters());
        let cloud = mlstack_sandbox::Cloud::start(cloud_config)
            .await
            .map_err(|e| format!("cannot start the sandbox cloud API: {e}"))?;
        // Tests hold the cloud traffic to the published API: with MLSTACK_SANDBOX_RECORD set,
        // every exchange is kept and written there (secrets redacted) when the sandbox stops.
        let record = std::env::var_os(RECORD_ENV).map(std::path::PathBuf::from);
        if record.is_some() {
            cloud.record();
        }
        let me = Running {
            pid: std::process::id(),
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            kubernetes: Endpoint {
                endpoint: handle.endpoint.clone(),
                ca_pem: handle.ca_pem.clone(),
                token: handle.token.clone(),
                client_cert_pem: handle.client_cert_pem.clone(),
                client_key_pem: handle.client_key_pem.clone(),
            },
            cloud: Some(CloudEndpoint {
                endpoint: cloud.endpoint.clone(),
                ca_pem: cloud.ca_pem.clone(),
                oauth_token: cloud.oauth_token.clone(),
            }),
            faults: Some(faults),
        };
        let text = serde_json::to_string_pretty(&me).map_err(|e| e.to_string())?;
        write_private(&runtime_file(dir), &text)?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        if let Some(path) = &record {
            let exchanges: Vec<_> = cloud.exchanges().iter().map(|e| e.redacted()).collect();
            let text = serde_json::to_string(&exchanges).map_err(|e| e.to_string())?;
            write_private(path, &text)?;
        }
        cloud.shutdown().await;
        handle.shutdown().await;
        let _ = std::fs::remove_file(runtime_file(dir));
        Ok(())
    })
}

/// Starts `mlstack sandbox serve ARGS` detached and waits until it records its endpoints;
/// with no ARGS, the ARGS of the last start that had some (so faults survive a restart).
/// Returns the already running sandbox when there is one (idempotent).
pub fn start_detached(dir: &Path, serve_args: &[String]) -> Result<(Running, bool), String> {
    if let Some(r) = running(dir) {
        return Ok((r, false));
    }
    crate::state::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let serve_args = self::serve_args(dir, serve_args)?;
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
        .args(&serve_args)
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
