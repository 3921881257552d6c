//! Alert annotation templates as data: rendered to Prometheus (Go text/template) syntax for the
//! rule files, and expanded in Rust the way Prometheus does, so the generated promtool tests can
//! state the exact annotations each firing alert must carry.

use std::collections::BTreeMap;

/// How `$value` is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// `humanizePercentage`: 0.816 → `81.6%`.
    Percentage,
    /// `humanizeDuration`: 2.04 → `2.04s`, 0.5 → `500ms`.
    Duration,
    /// `printf "%.0f"`: 1001 → `1001`.
    Integer,
    /// `printf "%.3g"`: 0.255 → `0.255` (an index such as PSI).
    Decimal,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Label(String),
    Value(ValueFormat),
}

/// An annotation template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template(pub Vec<Part>);

impl Template {
    pub fn new() -> Self {
        Template(Vec::new())
    }

    pub fn text(mut self, s: impl Into<String>) -> Self {
        self.0.push(Part::Text(s.into()));
        self
    }

    pub fn label(mut self, name: &str) -> Self {
        self.0.push(Part::Label(name.to_string()));
        self
    }

    pub fn value(mut self, format: ValueFormat) -> Self {
        self.0.push(Part::Value(format));
        self
    }

    /// The Go template Prometheus evaluates.
    pub fn to_go(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                // `{{` in literal text would start an action: write it through a string.
                Part::Text(t) => out.push_str(&t.replace("{{", "{{ \"{{\" }}")),
                Part::Label(l) => out.push_str(&format!("{{{{ $labels.{l} }}}}")),
                Part::Value(ValueFormat::Percentage) => {
                    out.push_str("{{ $value | humanizePercentage }}")
                }
                Part::Value(ValueFormat::Duration) => {
                    out.push_str("{{ $value | humanizeDuration }}")
                }
                Part::Value(ValueFormat::Integer) => out.push_str("{{ printf \"%.0f\" $value }}"),
                Part::Value(ValueFormat::Decimal) => out.push_str("{{ printf \"%.3g\" $value }}"),
            }
        }
        out
    }

    /// What Prometheus prints for this template given the alert's series labels and value.
    pub fn expand(&self, labels: &BTreeMap<String, String>, value: f64) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Label(l) => out.push_str(labels.get(l).map(String::as_str).unwrap_or("")),
                Part::Value(ValueFormat::Percentage) => {
                    out.push_str(&go_g4(value * 100.0));
                    out.push('%');
                }
                Part::Value(ValueFormat::Duration) => out.push_str(&humanize_duration(value)),
                Part::Value(ValueFormat::Integer) => out.push_str(&format!("{value:.0}")),
                Part::Value(ValueFormat::Decimal) => out.push_str(&go_g(value, 3)),
            }
        }
        out
    }
}

/// Go's `fmt.Sprintf("%.4g", v)` for finite values.
pub fn go_g4(v: f64) -> String {
    go_g(v, 4)
}

/// Go's `fmt.Sprintf("%.<prec>g", v)` (prec >= 1).
pub fn go_g(v: f64, prec: usize) -> String {
    let prec = prec.max(1);
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Correctly rounded to `prec` significant digits, as Go does.
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..prec as i32).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{:.*}", decimals, v)).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Prometheus' `humanizeDuration` for finite values.
pub fn humanize_duration(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0s".into() } else { go_g4(v) };
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let secs = v.abs().trunc() as i64;
        let (d, h, m, s) = (
            secs / 86_400,
            (secs / 3_600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        return if d != 0 {
            format!("{sign}{d}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", go_g4(v.abs()))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g4(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formatting() {
        assert_eq!(go_g4(81.6), "81.6");
        assert_eq!(go_g4(80.0), "80");
        assert_eq!(go_g4(5.1), "5.1");
        assert_eq!(go_g4(12.345678), "12.35");
        assert_eq!(go_g4(0.00012), "0.00012");
        assert_eq!(go_g4(123456.0), "1.235e+05");
        assert_eq!(go_g4(0.00001234), "1.234e-05");
        assert_eq!(go_g(0.255, 3), "0.255");
        assert_eq!(go_g(0.25, 3), "0.25");
        assert_eq!(go_g(1234.0, 3), "1.23e+03");
        assert_eq!(go_g(0.0001234, 3), "0.000123");
        assert_eq!(humanize_duration(2.04), "2.04s");
        assert_eq!(humanize_duration(0.5), "500ms");
        assert_eq!(humanize_duration(90.5), "1m 30s");
        assert_eq!(humanize_duration(3700.0), "1h 1m 40s");
    }

    #[test]
    fn renders_and_expands() {
        let t = Template::new()
            .text("Pod ")
            .label("pod")
            .text(" at ")
            .value(ValueFormat::Percentage)
            .text(" {{x}}");
        assert_eq!(
            t.to_go(),
            "Pod {{ $labels.pod }} at {{ $value | humanizePercentage }} {{ \"{{\" }}x}}"
        );
        let labels = BTreeMap::from([("pod".to_string(), "p-1".to_string())]);
        assert_eq!(t.expand(&labels, 0.816), "Pod p-1 at 81.6% {{x}}");
    }
}
