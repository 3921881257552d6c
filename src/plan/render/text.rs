//! How single values, keys and free text are spelled in plans: quoted and escaped so that no
//! value can break the layout or send control sequences to a terminal.

use mlstack_provider_api::Value;

/// Shown instead of anything under a sensitive mark (never its data, length or a diff of it).
pub(crate) const SENSITIVE: &str = "(sensitive value)";
/// Shown for values known only after apply.
pub(crate) const UNKNOWN: &str = "(known after apply)";

/// A scalar (or an empty collection) on one line: strings quoted and escaped, marks as
/// placeholders. Collections with content are rendered by the diff, not here.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::Sensitive(_) => SENSITIVE.to_string(),
        Value::Unknown => UNKNOWN.to_string(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::List(l) if l.is_empty() => "[]".to_string(),
        Value::Map(m) if m.is_empty() => "{}".to_string(),
        Value::List(_) => "[...]".to_string(),
        Value::Map(_) => "{...}".to_string(),
    }
}

/// A JSON-quoted string (escapes quotes, backslashes and control characters).
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A map key: bare when it reads as an identifier, quoted otherwise (`"app.kubernetes.io/name"`).
pub(crate) fn key(k: &str) -> String {
    let mut chars = k.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// Free text (addresses, reasons, notes, heredoc lines) with control characters escaped so it
/// cannot move the cursor or colour a terminal. Tabs are kept.
pub(crate) fn clean(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `1 attribute` / `3 attributes`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_and_marks_hidden() {
        assert_eq!(scalar(&Value::from("a\"b")), r#""a\"b""#);
        assert_eq!(scalar(&Value::from("x").into_sensitive()), SENSITIVE);
        assert_eq!(scalar(&Value::Unknown), UNKNOWN);
        assert_eq!(scalar(&Value::from(3i64)), "3");
    }

    #[test]
    fn keys_quoted_only_when_needed() {
        assert_eq!(key("replicas"), "replicas");
        assert_eq!(key("app.kubernetes.io/name"), "\"app.kubernetes.io/name\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn control_characters_escaped() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("tab\there"), "tab\there");
    }
}
