//! Turning state into bytes and back, with errors that name the file and never quote its
//! content (a state file holds secrets).

use super::model::{State, STATE_VERSION};

/// The bytes written for `state`: pretty JSON (diffable), ending with a newline.
pub fn encode(state: &State) -> Result<Vec<u8>, String> {
    let mut bytes =
        serde_json::to_vec_pretty(state).map_err(|e| format!("cannot encode the state: {e}"))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Parses a state. `place` names where it was read (`state file .mlstack/demo/state.json`,
/// `state object s3://bucket/key`) and `backup_hint` says where an older copy is, for the
/// error; the caller must leave what fails here untouched.
pub fn decode(bytes: &[u8], place: &str, backup_hint: &str) -> Result<State, String> {
    let corrupt = |why: String| {
        format!("{place} is not valid mlstack state ({why}); it was left untouched. {backup_hint}")
    };
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(describe(&e)))?;
    let version = match raw.get("version") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| corrupt("`version` is not a whole number".into()))?,
        None => return Err(corrupt("no `version` field".into())),
    };
    if version > u64::from(STATE_VERSION) {
        return Err(format!(
            "{place} has format version {version}, newer than this mlstack {} can read (up \
             to {STATE_VERSION}); it was written by a newer mlstack: upgrade to use it. It was \
             left untouched.",
            env!("CARGO_PKG_VERSION")
        ));
    }
    if version == 0 {
        return Err(corrupt("format version 0 does not exist".into()));
    }
    let mut state: State = serde_json::from_value(raw).map_err(|e| corrupt(describe(&e)))?;
    state.sort();
    Ok(state)
}

/// A serde error without any quoted piece of the input.
fn describe(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "JSON syntax error",
        serde_json::error::Category::Eof => "the file ends early",
        serde_json::error::Category::Data => "unexpected content",
    };
    format!("{what}: {}", strip_quoted(&e.to_string()))
}

/// Replaces every `"..."` in a message with `"…"`: serde quotes offending input values, which
/// could be secrets. Backquoted field names (`lineage`) stay.
fn strip_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if inside {
                out.push('…');
            }
            out.push(c);
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = State::new();
        let back = decode(&encode(&s).unwrap(), "f", "").unwrap();
        assert_eq!(s, back);
    }

    #[test]
    fn errors_never_quote_content() {
        let bytes = br#"{"version": 1, "serial": "hunter2", "lineage": "x"}"#;
        let err = decode(bytes, "f.json", "").unwrap_err();
        assert!(err.contains("f.json"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn newer_version_is_refused() {
        let err = decode(br#"{"version": 99}"#, "f.json", "").unwrap_err();
        assert!(err.contains("version 99"), "{err}");
        assert!(err.contains("newer"), "{err}");
    }

    #[test]
    fn syntax_error_names_the_place() {
        let err = decode(b"{\n  \"version\": 1,\n  oops", "f.json", "").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }
}
