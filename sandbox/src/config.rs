//! How a sandbox API is started and which faults it injects.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// An extra bearer-token check, e.g. "any unexpired IAM token the sandbox cloud issued"
/// (the real Managed Kubernetes accepts IAM tokens). Cheap and thread-safe: it runs on every
/// request whose token is not the API's own.
#[derive(Clone)]
pub struct TokenCheck(pub Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl TokenCheck {
    /// Wraps a predicate over the presented token.
    pub fn new(f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        TokenCheck(Arc::new(f))
    }

    /// Whether `token` is accepted.
    pub fn accepts(&self, token: &str) -> bool {
        (self.0)(token)
    }
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCheck(..)")
    }
}

/// Start-up settings. `Default` is an in-memory API with a random token and quick readiness.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where objects, the TLS material and the last port are kept; `None` keeps everything in
    /// memory (a new CA on each start).
    pub data_dir: Option<PathBuf>,
    /// The bearer token clients must send; `None` generates one.
    pub token: Option<String>,
    /// Other bearer tokens to accept besides `token` (IAM tokens of the sandbox cloud).
    pub also_accept: Option<TokenCheck>,
    /// How long simulated controllers take to report workloads ready.
    pub ready_delay: Duration,
    /// Added to every request (network latency; also to health checks and refused ones).
    pub latency: Duration,
    /// Loopback port; 0 reuses the previous port of `data_dir` when free, else picks one.
    pub port: u16,
    pub faults: Faults,
    /// How many changes the watch/pagination history keeps; a resourceVersion or continue
    /// token older than that gets `410 Expired`, as after compaction on a real cluster.
    pub event_window: usize,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("data_dir", &self.data_dir)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("also_accept", &self.also_accept)
            .field("ready_delay", &self.ready_delay)
            .field("latency", &self.latency)
            .field("port", &self.port)
            .field("faults", &self.faults)
            .field("event_window", &self.event_window)
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            data_dir: None,
            token: None,
            also_accept: None,
            ready_delay: Duration::from_millis(200),
            latency: Duration::ZERO,
            port: 0,
            faults: Faults::default(),
            event_window: crate::events::DEFAULT_WINDOW,
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

/// What an injected fault does to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Close the connection without an answer.
    Drop,
    /// Answer with this HTTP status.
    Error(u16),
}

impl Faults {
    /// Draws the fault (if any) for one request.
    pub fn roll(&self) -> Option<Fault> {
        if self.drop_rate > 0.0 && fastrand::f64() < self.drop_rate {
            return Some(Fault::Drop);
        }
        if self.error_rate > 0.0 && fastrand::f64() < self.error_rate {
            return Some(Fault::Error(self.pick_code()));
        }
        None
    }

    /// One of the configured error codes, at random (500 when none are).
    pub fn pick_code(&self) -> u16 {
        if self.error_codes.is_empty() {
            500
        } else {
            self.error_codes[fastrand::usize(..self.error_codes.len())]
        }
    }
}
