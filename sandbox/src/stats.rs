//! What each API served and which faults it injected, so that a reliability test can prove
//! its faults happened (`mlstack sandbox status --json` reports them per API).

use crate::config::{Fault, Faults};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Live counters of one API; cheap to clone (shared), safe to bump from any task.
#[derive(Clone, Default)]
pub struct Counters(Arc<Inner>);

#[derive(Default)]
struct Inner {
    requests: AtomicU64,
    delayed: AtomicU64,
    dropped: AtomicU64,
    errors: Mutex<BTreeMap<u16, u64>>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.snapshot().fmt(f)
    }
}

/// A snapshot of [`Counters`]: requests received, requests delayed by `--latency`, injected
/// error answers by HTTP code, and connections dropped without an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStats {
    pub requests: u64,
    pub latency_delayed: u64,
    /// Injected error answers by HTTP status code (`"500"`, `"429"`, …).
    pub errors: BTreeMap<String, u64>,
    pub dropped: u64,
}

impl ApiStats {
    /// Every injected error answer, whatever its code.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl Counters {
    /// Counts one request the API received.
    pub(crate) fn request(&self) {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Sleeps `latency` (when set) and counts the delayed request.
    pub(crate) async fn delay(&self, latency: Duration) {
        if !latency.is_zero() {
            self.0.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(latency).await;
        }
    }

    /// Draws the fault of one request from `faults` and counts it.
    pub(crate) fn roll(&self, faults: &Mutex<Faults>) -> Option<Fault> {
        let fault = faults.lock().ok()?.roll()?;
        match fault {
            Fault::Drop => {
                self.0.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Fault::Error(code) => {
                if let Ok(mut e) = self.0.errors.lock() {
                    *e.entry(code).or_default() += 1;
                }
            }
        }
        Some(fault)
    }

    /// What was counted so far.
    pub fn snapshot(&self) -> ApiStats {
        let errors = self
            .0
            .errors
            .lock()
            .map(|e| e.iter().map(|(c, n)| (c.to_string(), *n)).collect())
            .unwrap_or_default();
        ApiStats {
            requests: self.0.requests.load(Ordering::Relaxed),
            latency_delayed: self.0.delayed.load(Ordering::Relaxed),
            errors,
            dropped: self.0.dropped.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_kind_of_fault() {
        let c = Counters::default();
        let always_error = Mutex::new(Faults {
            error_rate: 1.0,
            error_codes: vec![429],
            drop_rate: 0.0,
        });
        let always_drop = Mutex::new(Faults {
            error_rate: 0.0,
            error_codes: vec![],
            drop_rate: 1.0,
        });
        for _ in 0..3 {
            c.request();
            assert_eq!(c.roll(&always_error), Some(Fault::Error(429)));
        }
        c.request();
        assert_eq!(c.roll(&always_drop), Some(Fault::Drop));
        assert_eq!(c.roll(&Mutex::new(Faults::default())), None);
        let s = c.snapshot();
        assert_eq!(s.requests, 4);
        assert_eq!(s.errors.get("429"), Some(&3));
        assert_eq!((s.error_total(), s.dropped, s.latency_delayed), (3, 1, 0));
    }
}
