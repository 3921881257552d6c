//! The JSON-like value every stage exchanges, with two marks a plain JSON value cannot carry:
//! `Unknown` (known only after apply) and `Sensitive` (never printed, logged or saved in a plan).
//! Marks travel with the data, so an expression that touches a secret stays secret.

use serde_json::Number;
use std::collections::BTreeMap;
use std::fmt;

/// One step into a value: a map key or a list index.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(untagged)]
pub enum PathStep {
    Index(usize),
    Key(String),
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Key(k) => write!(f, "{k}"),
            PathStep::Index(i) => write!(f, "{i}"),
        }
    }
}

/// A path into a value, e.g. `spec.template.spec.containers.0.image`.
pub type Path = Vec<PathStep>;

/// Renders a path the way plans and `ignore_changes` spell it: `spec.replicas`, `ports[0].name`.
pub fn path_to_string(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathStep::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Parses `a.b[0].c` (or `a.b.0.c`) into a path. Never fails: odd input becomes keys.
pub fn parse_path(text: &str) -> Path {
    let mut path = Vec::new();
    for part in text.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            let key = &rest[..open];
            if !key.is_empty() {
                path.push(PathStep::Key(key.to_string()));
            }
            let after = &rest[open + 1..];
            match after.find(']') {
                Some(close) => {
                    let inner = &after[..close];
                    match inner.parse::<usize>() {
                        Ok(i) => path.push(PathStep::Index(i)),
                        Err(_) => path.push(PathStep::Key(inner.trim_matches('"').to_string())),
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    path.push(PathStep::Key(rest.to_string()));
                    rest = "";
                }
            }
        }
        if !rest.is_empty() {
            match rest.parse::<usize>() {
                Ok(i) => path.push(PathStep::Index(i)),
                Err(_) => path.push(PathStep::Key(rest.to_string())),
            }
        }
    }
    path
}

/// A JSON-like value with `Unknown` and `Sensitive` marks.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
    /// A value that must never be shown.
    Sensitive(Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn map() -> Value {
        Value::Map(BTreeMap::new())
    }

    /// Marks this value sensitive (idempotent).
    pub fn into_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// The value without a top-level sensitive mark.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.unmarked(),
            other => other,
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.unmarked(), Value::Unknown)
    }

    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Sensitive(inner) => inner.contains_unknown(),
            Value::List(items) => items.iter().any(Value::contains_unknown),
            Value::Map(map) => map.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// True when the value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(map) => map.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unmarked() {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self.unmarked() {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmarked() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries of a map value whose keys are in `keys`, nulls left out (a provider's inputs).
    pub fn pick(&self, keys: &[&str]) -> BTreeMap<String, Value> {
        self.as_map()
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| keys.contains(&k.as_str()) && !matches!(v, Value::Null))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Looks up a key of a map value (through a sensitive mark, which the result keeps).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a path; a sensitive mark on the way is carried onto the result.
    pub fn get_path(&self, path: &[PathStep]) -> Option<Value> {
        let mut current = self;
        let mut sensitive = false;
        for step in path {
            if let Value::Sensitive(inner) = current {
                sensitive = true;
                current = inner;
            }
            current = match (step, current) {
                (PathStep::Key(k), Value::Map(m)) => m.get(k)?,
                (PathStep::Index(i), Value::List(l)) => l.get(*i)?,
                (PathStep::Key(k), Value::List(l)) => l.get(k.parse::<usize>().ok()?)?,
                (_, Value::Unknown) => return Some(mark(Value::Unknown, sensitive)),
                _ => return None,
            };
        }
        Some(mark(current.clone(), sensitive))
    }

    /// Sets the value at `path`, creating maps on the way. Returns false when a list index is
    /// out of range or a scalar stands in the way.
    pub fn set_path(&mut self, path: &[PathStep], value: Value) -> bool {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return true;
        };
        if let Value::Sensitive(inner) = self {
            return inner.set_path(path, value);
        }
        if matches!(self, Value::Null) {
            *self = Value::map();
        }
        match (first, self) {
            (PathStep::Key(k), Value::Map(m)) => {
                m.entry(k.clone()).or_default().set_path(rest, value)
            }
            (PathStep::Index(i), Value::List(l)) => match l.get_mut(*i) {
                Some(slot) => slot.set_path(rest, value),
                None => false,
            },
            _ => false,
        }
    }

    /// Removes the value at `path`; returns whether something was removed.
    pub fn remove_path(&mut self, path: &[PathStep]) -> bool {
        let Some((last, parent)) = path.split_last() else {
            return false;
        };
        let mut current = self;
        for step in parent {
            if let Value::Sensitive(inner) = current {
                current = inner;
            }
            current = match (step, current) {
                (PathStep::Key(k), Value::Map(m)) => match m.get_mut(k) {
                    Some(v) => v,
                    None => return false,
                },
                (PathStep::Index(i), Value::List(l)) => match l.get_mut(*i) {
                    Some(v) => v,
                    None => return false,
                },
                _ => return false,
            };
        }
        if let Value::Sensitive(inner) = current {
            current = inner;
        }
        match (last, current) {
            (PathStep::Key(k), Value::Map(m)) => m.remove(k).is_some(),
            (PathStep::Index(i), Value::List(l)) if *i < l.len() => {
                l.remove(*i);
                true
            }
            _ => false,
        }
    }

    /// Equality that ignores marks (a sensitive "x" equals a plain "x"); Unknown equals nothing.
    pub fn same_data(&self, other: &Value) -> bool {
        match (self.unmarked(), other.unmarked()) {
            (Value::Unknown, _) | (_, Value::Unknown) => false,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_data(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same_data(vb))
            }
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        }
    }

    /// Paths of every sensitive mark, outermost only.
    pub fn sensitive_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_marks(self, &mut Vec::new(), &mut out, &|v| v.is_sensitive(), true);
        out
    }

    /// Paths of every unknown leaf.
    pub fn unknown_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_marks(
            self,
            &mut Vec::new(),
            &mut out,
            &|v| matches!(v, Value::Unknown),
            false,
        );
        out
    }

    /// Marks the values at `paths` sensitive (used when loading state, which stores marks apart).
    pub fn with_sensitive_paths(mut self, paths: &[Path]) -> Value {
        for path in paths {
            if let Some(v) = self.get_path(path) {
                self.set_path(path, v.into_sensitive());
            }
        }
        self
    }

    /// The value with the data behind every sensitive mark replaced by null (the marks stay):
    /// what may be written where secrets must not be, such as data-source results in state.
    pub fn redact_sensitive(&self) -> Value {
        match self {
            Value::Sensitive(_) => Value::Null.into_sensitive(),
            Value::List(l) => Value::List(l.iter().map(Value::redact_sensitive).collect()),
            Value::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.redact_sensitive()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Plain JSON with every mark dropped: sensitive data in clear, unknowns as null.
    /// Only for places that are allowed to hold secrets (state, provider calls).
    pub fn to_json_unmarked(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(Value::to_json_unmarked).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_unmarked()))
                    .collect(),
            ),
            Value::Sensitive(inner) => inner.to_json_unmarked(),
        }
    }

    /// JSON for display: sensitive values become `"(sensitive)"`, unknowns `"(known after apply)"`.
    pub fn to_json_redacted(&self) -> serde_json::Value {
        match self {
            Value::Sensitive(_) => serde_json::Value::String("(sensitive)".into()),
            Value::Unknown => serde_json::Value::String("(known after apply)".into()),
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(Value::to_json_redacted).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_redacted()))
                    .collect(),
            ),
            other => other.to_json_unmarked(),
        }
    }

    /// JSON with sensitive values removed (null) and unknowns null: what Terraform's plan JSON
    /// puts in `before`/`after`, paired with `*_unknown`/`*_sensitive` mirrors.
    pub fn to_json_masked(&self) -> serde_json::Value {
        match self {
            Value::Sensitive(_) | Value::Unknown => serde_json::Value::Null,
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(Value::to_json_masked).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_masked()))
                    .collect(),
            ),
            other => other.to_json_unmarked(),
        }
    }

    /// Terraform's mirror structure: `true` where `pred` holds, maps/lists where something inside
    /// does, and `false` where nothing does.
    pub fn mirror(&self, pred: &dyn Fn(&Value) -> bool) -> serde_json::Value {
        if pred(self) {
            return serde_json::Value::Bool(true);
        }
        match self.unmarked() {
            Value::Map(m) => {
                let inner: serde_json::Map<String, serde_json::Value> = m
                    .iter()
                    .filter_map(|(k, v)| {
                        let mv = v.mirror(pred);
                        (mv != serde_json::Value::Bool(false)).then(|| (k.clone(), mv))
                    })
                    .collect();
                if inner.is_empty() {
                    serde_json::Value::Bool(false)
                } else {
                    serde_json::Value::Object(inner)
                }
            }
            Value::List(l) => {
                let items: Vec<serde_json::Value> = l.iter().map(|v| v.mirror(pred)).collect();
                if items.iter().all(|v| *v == serde_json::Value::Bool(false)) {
                    serde_json::Value::Bool(false)
                } else {
                    serde_json::Value::Array(items)
                }
            }
            _ => serde_json::Value::Bool(false),
        }
    }

    /// A short type name for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }
}

fn mark(v: Value, sensitive: bool) -> Value {
    if sensitive {
        v.into_sensitive()
    } else {
        v
    }
}

fn collect_marks(
    v: &Value,
    at: &mut Path,
    out: &mut Vec<Path>,
    pred: &dyn Fn(&Value) -> bool,
    stop_at_match: bool,
) {
    if pred(v) {
        out.push(at.clone());
        if stop_at_match {
            return;
        }
    }
    match v {
        Value::Sensitive(inner) => collect_marks(inner, at, out, pred, stop_at_match),
        Value::List(l) => {
            for (i, item) in l.iter().enumerate() {
                at.push(PathStep::Index(i));
                collect_marks(item, at, out, pred, stop_at_match);
                at.pop();
            }
        }
        Value::Map(m) => {
            for (k, item) in m {
                at.push(PathStep::Key(k.clone()));
                collect_marks(item, at, out, pred, stop_at_match);
                at.pop();
            }
        }
        _ => {}
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

/// Displays the value for humans, redacting marks.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Sensitive(_) => write!(f, "(sensitive)"),
            Value::Unknown => write!(f, "(known after apply)"),
            Value::String(s) => write!(f, "{s}"),
            other => write!(f, "{}", other.to_json_redacted()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let p = parse_path("spec.ports[0].name");
        assert_eq!(path_to_string(&p), "spec.ports[0].name");
        assert_eq!(parse_path("a.0.b"), parse_path("a[0].b"));
    }

    #[test]
    fn sensitive_marks_survive_lookup_and_redaction() {
        let v = Value::from(serde_json::json!({"a": {"b": 1}}));
        let v = v.with_sensitive_paths(&[parse_path("a")]);
        assert!(v
            .get_path(&parse_path("a.b"))
            .is_some_and(|x| x.is_sensitive()));
        assert_eq!(
            v.to_json_redacted(),
            serde_json::json!({"a": "(sensitive)"})
        );
        assert_eq!(v.to_json_masked(), serde_json::json!({"a": null}));
        assert_eq!(
            v.mirror(&Value::is_sensitive),
            serde_json::json!({"a": true})
        );
        assert_eq!(v.sensitive_paths(), vec![parse_path("a")]);
    }

    #[test]
    fn set_and_remove_paths() {
        let mut v = Value::Null;
        assert!(v.set_path(&parse_path("a.b"), Value::from(1i64)));
        assert!(v.remove_path(&parse_path("a.b")));
        assert_eq!(v.to_json_unmarked(), serde_json::json!({"a": {}}));
    }
}
