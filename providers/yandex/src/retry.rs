//! Bounded retries with exponential backoff and jitter (the SDKs retry UNAVAILABLE with 100 ms
//! doubling; `yc` tries 5 times), and the polling pace of long operations.

use std::time::Duration;

/// How many times one request is tried in all.
pub const TRIES: u32 = 6;

/// The pause before try number `attempt + 1` (attempt counts from 1): up to 200 ms · 2^n,
/// capped at 5 s, jittered over the upper three quarters so parallel clients spread out.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 200u64.saturating_mul(1 << attempt.min(5)).min(5000);
    Duration::from_millis(cap / 4 + fastrand::u64(0..=cap - cap / 4))
}

/// The pause between two polls of an operation that has run for `polls` polls: quick at first
/// (sandbox operations finish within a second), then every few seconds like the SDK waiters.
pub fn poll_pause(polls: u32) -> Duration {
    let ms = match polls {
        0..=4 => 100,
        5..=9 => 300,
        10..=19 => 1000,
        _ => 3000,
    };
    Duration::from_millis(ms + fastrand::u64(0..=ms / 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_are_bounded() {
        for a in 1..40 {
            let b = backoff(a);
            assert!(b <= Duration::from_secs(5) && b >= Duration::from_millis(50));
            assert!(poll_pause(a) <= Duration::from_millis(3600));
        }
    }
}
