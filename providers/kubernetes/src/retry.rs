//! Bounded retries with exponential backoff and full jitter, for throttling (429), server
//! errors (5xx), injected or transient conflicts (409) and dropped connections.

use std::time::Duration;

/// How many times a request is tried in all.
pub const TRIES: u32 = 6;

/// Whether an HTTP status is worth another try.
pub fn retryable_status(status: u16) -> bool {
    status == 429 || status == 409 || status >= 500
}

/// The pause before try number `attempt + 1` (attempt counts from 1): up to 100 ms · 2^n,
/// capped at 3 s, uniformly jittered so that parallel clients do not retry in step.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 100u64.saturating_mul(1 << attempt.min(5)).min(3000);
    Duration::from_millis(cap / 4 + fastrand::u64(0..=cap - cap / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_bounds() {
        assert!(retryable_status(429) && retryable_status(503) && retryable_status(409));
        assert!(!retryable_status(404) && !retryable_status(422));
        for a in 1..20 {
            assert!(backoff(a) <= Duration::from_secs(3));
        }
    }
}
