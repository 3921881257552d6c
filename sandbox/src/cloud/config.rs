//! How the cloud emulator is started.

use crate::config::Faults;
use crate::stats::Counters;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Start-up settings. `Default`: in memory, a generated OAuth token, operations done after
/// 300 ms, cluster Kubernetes APIs ready after 200 ms, no latency or faults, any port.
#[derive(Clone)]
pub struct CloudConfig {
    /// Where everything is kept (resources, operations, issued tokens, TLS, the clusters'
    /// Kubernetes data under `clusters/<id>/kube`); `None` keeps it in memory.
    pub data_dir: Option<PathBuf>,
    /// The OAuth token the token exchange accepts; `None` reuses the one in `data_dir`,
    /// else generates one (a secret — keep it out of logs).
    pub oauth_token: Option<String>,
    /// How long create/update/delete operations run.
    pub operation_delay: Duration,
    /// The readiness delay of the clusters' Kubernetes APIs (their simulated controllers).
    pub ready_delay: Duration,
    /// Added to every request.
    pub latency: Duration,
    /// Injected failures (Yandex-format error bodies, dropped connections); the clusters'
    /// Kubernetes APIs inject the same (Kubernetes `Status` bodies), with the same latency.
    pub faults: Faults,
    /// Loopback port; 0 reuses the previous port of `data_dir` when free, else picks one.
    pub port: u16,
    /// Counters of other APIs of the same sandbox (the standalone Kubernetes API as
    /// `kubernetes`) that the status page reports beside the cloud's own.
    pub also_report: BTreeMap<String, Counters>,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            data_dir: None,
            oauth_token: None,
            operation_delay: Duration::from_millis(300),
            ready_delay: Duration::from_millis(200),
            latency: Duration::ZERO,
            faults: Faults::default(),
            port: 0,
            also_report: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudConfig")
            .field("data_dir", &self.data_dir)
            .field(
                "oauth_token",
                &self.oauth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("operation_delay", &self.operation_delay)
            .field("ready_delay", &self.ready_delay)
            .field("latency", &self.latency)
            .field("faults", &self.faults)
            .field("port", &self.port)
            .field("also_report", &self.also_report)
            .finish()
    }
}
