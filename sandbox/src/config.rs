//! How a sandbox API is started and which faults it injects.

use std::path::PathBuf;
use std::time::Duration;

/// Start-up settings. `Default` is an in-memory API with a random token and quick readiness.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where objects are kept (JSON files); `None` keeps them in memory only.
    pub data_dir: Option<PathBuf>,
    /// The bearer token clients must send; `None` generates one.
    pub token: Option<String>,
    /// How long simulated controllers take to report workloads ready.
    pub ready_delay: Duration,
    /// Added to every authenticated request.
    pub latency: Duration,
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    pub faults: Faults,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            data_dir: None,
            token: None,
            ready_delay: Duration::from_millis(200),
            latency: Duration::ZERO,
            port: 0,
            faults: Faults::default(),
        }
    }
}

/// Injected failures on resource endpoints (discovery and `/version` are spared so that
/// clients can still connect): a share of requests answered with an error code, and a
/// share whose connection is dropped without an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// 0.0..=1.0
    pub error_rate: f64,
    /// Codes to pick from (e.g. 500, 429, 409); empty means 500.
    pub error_codes: Vec<u16>,
    /// 0.0..=1.0
    pub drop_rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            error_codes: vec![500, 429, 409],
            drop_rate: 0.0,
        }
    }
}
