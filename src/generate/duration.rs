//! Prometheus-style durations (`30s`, `5m`, `1h30m`): how rule files, Alertmanager and the stack
//! file spell time, parsed once and printed the same way everywhere.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A whole number of seconds, printed in Prometheus notation (`1h30m`, `5m`, `0s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(pub u64);

const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl PromDuration {
    pub const fn seconds(s: u64) -> Self {
        PromDuration(s)
    }

    pub const fn minutes(m: u64) -> Self {
        PromDuration(m * 60)
    }

    pub const fn hours(h: u64) -> Self {
        PromDuration(h * 3_600)
    }

    pub fn as_secs(self) -> u64 {
        self.0
    }

    /// Parses `1h30m`, `5m`, `90s` (units `w d h m s`, largest first, each at most once).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a duration like 30s, 5m, 1h30m");
        if text.is_empty() {
            return Err(bad());
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut last_unit = usize::MAX;
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let idx = UNITS.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
            if digits.is_empty() || (last_unit != usize::MAX && idx <= last_unit) {
                return Err(bad());
            }
            let n: u64 = digits.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(UNITS[idx].1)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            digits.clear();
            last_unit = idx;
        }
        if !digits.is_empty() {
            return Err(bad());
        }
        Ok(PromDuration(total))
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        // Weeks and days are left out on purpose: `25h` reads better than `1d1h` in alert rules.
        for (unit, secs) in UNITS.iter().skip(2) {
            if rest >= *secs {
                write!(f, "{}{}", rest / secs, unit)?;
                rest %= secs;
            }
        }
        Ok(())
    }
}

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PromDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, secs, printed) in [
            ("5m", 300, "5m"),
            ("1h30m", 5400, "1h30m"),
            ("90s", 90, "1m30s"),
            ("0s", 0, "0s"),
            ("1d", 86_400, "24h"),
        ] {
            let d = PromDuration::parse(text).unwrap();
            assert_eq!(d.as_secs(), secs);
            assert_eq!(d.to_string(), printed);
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "5", "m", "5x", "1m1h", "5m5m", "-1m", "1.5m"] {
            assert!(PromDuration::parse(text).is_err(), "{text}");
        }
    }
}
