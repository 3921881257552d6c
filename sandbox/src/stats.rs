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
    since: Mutex<Since>,
}

/// Rolls and faults since the fault settings last changed: faults come at random, but never
/// fall behind their rate, so `n` rolls at rate `r` inject at least ⌊n·r⌋ (a run that claims
/// faults gets them; the emulator is never kinder than asked).
#[derive(Default)]
struct Since {
    faults: Option<Faults>,
    rolls: u64,
    drops: u64,
    errors: u64,
}

impl Since {
    fn behind(done: u64, rate: f64, of: u64) -> bool {
        rate > 0.0 && (done as f64) < (of as f64 * rate).floor()
    }

    /// The fault of the next roll under `faults`.
    fn next(&mut self, faults: &Faults) -> Option<Fault> {
        if self.faults.as_ref() != Some(faults) {
            *self = Since {
                faults: Some(faults.clone()),
                ..Since::default()
            };
        }
        self.rolls += 1;
        let fault = if Since::behind(self.drops, faults.drop_rate, self.rolls) {
            Some(Fault::Drop)
        } else {
            match faults.roll() {
                None if Since::behind(self.errors, faults.error_rate, self.rolls - self.drops) => {
                    Some(Fault::Error(faults.pick_code()))
                }
                f => f,
            }
        };
        match fault {
            Some(Fault::Drop) => self.drops += 1,
            Some(Fault::Error(_)) => self.errors += 1,
            None => {}
        }
        fault
    }
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
        let faults = faults.lock().ok()?.clone();
        let fault = self.0.since.lock().ok()?.next(&faults)?;
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

    #[test]
    fn faults_never_fall_behind_their_rate() {
        let c = Counters::default();
        let faults = Mutex::new(Faults {
            error_rate: 0.1,
            error_codes: vec![500],
            drop_rate: 0.02,
        });
        for _ in 0..100 {
            c.roll(&faults);
        }
        let s = c.snapshot();
        assert!(s.dropped >= 2, "{s:?}");
        assert!(s.error_total() >= 9, "{s:?}");
        // New settings start a new count: no burst to catch up on requests made before.
        *faults.lock().unwrap() = Faults {
            error_rate: 0.5,
            error_codes: vec![429],
            drop_rate: 0.0,
        };
        let injected = (0..4).filter(|_| c.roll(&faults).is_some()).count();
        assert!(injected >= 2, "at least ⌊4·0.5⌋ faults");
        let since = c.0.since.lock().unwrap();
        assert_eq!((since.rolls, since.drops), (4, 0));
        assert_eq!(since.errors, injected as u64);
    }
}
