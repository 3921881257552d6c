//! A small, deterministic YAML writer for the files we generate (rule files, promtool tests,
//! Alertmanager config, PrometheusRule objects).
//!
//! Why our own: `serde_yaml` is unmaintained and its successors are young; what we emit is a
//! plain JSON tree, and YAML for such a tree is a few rules. Strings are written plain only when
//! no YAML 1.1 or 1.2 reader could take them for anything else (so Go's yaml.v2/v3 in promtool
//! and amtool agree), double-quoted otherwise; multi-line text becomes a literal block. Keys
//! follow a caller-given order (what a reader expects first: `alert`, `expr`, `for`, ...), then
//! alphabetical order.

use serde_json::{Map, Value};

/// Renders `value` as a YAML document. Map keys listed in `key_order` come first, in that
/// order; the others follow alphabetically.
pub fn to_string(value: &Value, key_order: &[&str]) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, key_order),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0, key_order),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

/// Like [`to_string`], with a `#` comment block on top (one comment line per input line).
pub fn to_string_with_header(value: &Value, key_order: &[&str], header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&to_string(value, key_order));
    out
}

fn ordered<'a>(m: &'a Map<String, Value>, key_order: &[&str]) -> Vec<(&'a String, &'a Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|(a, _), (b, _)| {
        let rank = |k: &str| key_order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
        rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
    });
    entries
}

fn write_map(out: &mut String, m: &Map<String, Value>, indent: usize, key_order: &[&str]) {
    for (k, v) in ordered(m, key_order) {
        pad(out, indent);
        out.push_str(&string_scalar(k));
        out.push(':');
        write_child(out, v, indent, key_order);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize, key_order: &[&str]) {
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                // Render the map one level deeper, then put the dash on its first line.
                let mut inner = String::new();
                write_map(&mut inner, m, indent + 2, key_order);
                pad(out, indent);
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
            Value::Array(a) if !a.is_empty() => {
                pad(out, indent);
                out.push_str("-\n");
                write_seq(out, a, indent + 2, key_order);
            }
            Value::String(s) if block_ok(s) => {
                pad(out, indent);
                out.push('-');
                write_block(out, s, indent + 2);
            }
            other => {
                pad(out, indent);
                out.push_str("- ");
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:` — a scalar on the same line, or a nested block below.
fn write_child(out: &mut String, v: &Value, indent: usize, key_order: &[&str]) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2, key_order);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2, key_order);
        }
        Value::String(s) if block_ok(s) => write_block(out, s, indent + 2),
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_scalar(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// A string as a plain scalar when that is unambiguous, else double-quoted.
pub fn string_scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

const RESERVED: [&str; 11] = [
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
];

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if RESERVED.contains(&s.to_ascii_lowercase().as_str())
        || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || s.chars()
            .any(|c| c.is_control() || !(c.is_ascii_graphic() || c == ' ' || !c.is_ascii()))
        || s.chars()
            .any(|c| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
    {
        return false;
    }
    // Letters first can only be a string once the reserved words are excluded; anything
    // starting with an indicator, a digit, a sign or a dot might be something else.
    if first.is_ascii_alphabetic() || first == '_' || first == '/' || first == '(' {
        return true;
    }
    // Digits first: only Prometheus durations (`5m`, `1h30m`), never numbers or dates.
    first.is_ascii_digit() && is_duration_like(s)
}

fn is_duration_like(s: &str) -> bool {
    let mut saw_unit = false;
    let mut digits = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if matches!(c, 'w' | 'd' | 'h' | 'm' | 's') && digits > 0 {
            digits = 0;
            saw_unit = true;
        } else {
            return false;
        }
    }
    saw_unit && digits == 0
}

/// A YAML double-quoted scalar (a superset of JSON string syntax).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{85}' || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Multi-line text that reads back exactly from a literal block (`|`, `|-`).
fn block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n', '\t'])
        && !s.ends_with("\n\n")
        && s.chars().all(|c| {
            c == '\n'
                || c == '\t'
                || (!c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
        })
}

fn write_block(out: &mut String, s: &str, indent: usize) {
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(body) => (body, ""),
        None => (s, "-"),
    };
    out.push_str(" |");
    out.push_str(chomp);
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_where_unambiguous() {
        assert_eq!(string_scalar("HighCPUUsage"), "HighCPUUsage");
        assert_eq!(string_scalar("5m"), "5m");
        assert_eq!(string_scalar("1h30m"), "1h30m");
        assert_eq!(
            string_scalar("sum by (a) (x{job=\"y\"}[5m]) > 0.8"),
            "sum by (a) (x{job=\"y\"}[5m]) > 0.8"
        );
        for tricky in [
            "yes",
            "No",
            "on",
            "null",
            "~",
            "",
            "1e5",
            "0x1f",
            "12",
            "-x",
            ".inf",
            "a: b",
            "a #b",
            "2024-01-01",
            "x ",
            "*a",
            "&a",
            "!t",
            "{a}",
            "a:",
            "[x]",
            "\"q\"",
            "'q'",
            "a\tb",
            "%x",
            "@x",
            "`x",
            "|x",
            ">x",
        ] {
            assert!(string_scalar(tricky).starts_with('"'), "{tricky}");
        }
    }

    #[test]
    fn quotes_escape() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn nested_layout_is_stable() {
        let v = json!({
            "groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "labels": {"severity": "critical"}, "for": "5m"}]}],
            "empty": [], "none": {}
        });
        let text = to_string(&v, &["name", "alert", "expr", "for"]);
        assert_eq!(
            text,
            "empty: []\ngroups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: critical\nnone: {}\n"
        );
    }

    #[test]
    fn literal_blocks() {
        let v = json!({"a": "line 1\nline 2", "b": "x\n\ny\n"});
        assert_eq!(
            to_string(&v, &[]),
            "a: |-\n  line 1\n  line 2\nb: |\n  x\n\n  y\n"
        );
    }

    /// Reads the scalars back with a YAML 1.2 parser: strings come back as the same strings,
    /// and only strings we chose to write plain are plain.
    #[test]
    fn strings_read_back_unchanged() {
        use saphyr_parser::{Event, Parser, ScalarStyle};
        let tricky = [
            "plain",
            "yes",
            "NO",
            "null",
            "~",
            "",
            " lead",
            "trail ",
            "1.5",
            "0x1f",
            "1e5",
            "5m",
            "-1",
            "a: b",
            "a #b",
            "#x",
            "{a}",
            "[a]",
            "*a",
            "&a",
            "!a",
            "%a",
            "@a",
            "`a",
            "|a",
            ">a",
            "'a'",
            "\"a\"",
            "x\"y",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "two\nlines\n",
            "\u{1}ctl",
            "ünï",
            "- x",
            "? x",
            "sum by (a) (rate(x{job=\"y\", s=~\"5..\"}[5m])) > 0.8",
            "{{ $labels.pod }} at {{ $value }}",
        ];
        let doc = Value::Array(tricky.iter().map(|s| json!({ "k": s })).collect());
        let text = to_string(&doc, &[]);
        let mut got = Vec::new();
        for ev in Parser::new_from_str(&text) {
            let (ev, _) = ev.unwrap();
            if let Event::Scalar(v, style, ..) = ev {
                if v != "k" {
                    got.push((v.to_string(), style));
                }
            }
        }
        assert_eq!(got.len(), tricky.len(), "{text}");
        for ((v, style), want) in got.iter().zip(tricky) {
            assert_eq!(v, want, "{text}");
            if *style == ScalarStyle::Plain {
                assert!(plain_ok(want), "{want:?} came back plain");
            }
        }
    }
}
