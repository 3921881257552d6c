//! Variable and module-input types (`string`, `number`, `bool`, `list(T)`, `map(T)`, `object`,
//! `any`) and validation rules, checked against values known at load time.

use mlstack_provider_api::Value;
use std::fmt;

/// A declared type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Map(Box<Type>),
    /// A map with any values.
    Object,
    #[default]
    Any,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object => write!(f, "object"),
            Type::Any => write!(f, "any"),
        }
    }
}

/// The type names, for "did you mean" hints.
pub const TYPE_NAMES: &[&str] = &[
    "string",
    "number",
    "bool",
    "list(any)",
    "map(any)",
    "object",
    "any",
];

impl Type {
    /// Parses `list(map(string))` and friends.
    pub fn parse(text: &str) -> Option<Type> {
        let t = text.trim();
        match t {
            "string" => return Some(Type::String),
            "number" => return Some(Type::Number),
            "bool" => return Some(Type::Bool),
            "object" => return Some(Type::Object),
            "any" => return Some(Type::Any),
            "list" => return Some(Type::List(Box::new(Type::Any))),
            "map" => return Some(Type::Map(Box::new(Type::Any))),
            _ => {}
        }
        let inner = |prefix: &str| {
            t.strip_prefix(prefix)
                .and_then(|r| r.trim_start().strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
        };
        if let Some(i) = inner("list") {
            return Type::parse(i).map(|t| Type::List(Box::new(t)));
        }
        if let Some(i) = inner("map") {
            return Type::parse(i).map(|t| Type::Map(Box::new(t)));
        }
        None
    }

    /// Whether a value read from text (`--var`) is parsed as YAML rather than taken as is.
    pub fn is_string(&self) -> bool {
        matches!(self, Type::String)
    }

    /// Checks `value` against the type, converting numbers and bools to strings where a string
    /// is expected. The error names where inside the value it failed and what was expected.
    pub fn coerce(&self, value: Value) -> Result<Value, String> {
        let mut at = String::new();
        self.coerce_at(value, &mut at)
    }

    fn coerce_at(&self, value: Value, at: &mut String) -> Result<Value, String> {
        if let Value::Sensitive(inner) = value {
            return self.coerce_at(*inner, at).map(Value::into_sensitive);
        }
        let mismatch = |value: &Value, at: &str| {
            let place = if at.is_empty() {
                String::new()
            } else {
                format!(" at `{at}`")
            };
            Err(format!(
                "expected {self}, found {}{place}",
                value.type_name()
            ))
        };
        match (self, value) {
            (Type::Any, v) => Ok(v),
            (_, Value::Unknown) => Ok(Value::Unknown),
            (Type::String, Value::String(s)) => Ok(Value::String(s)),
            (Type::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (Type::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::Number, v @ Value::Number(_)) => Ok(v),
            (Type::Bool, v @ Value::Bool(_)) => Ok(v),
            (Type::Object, v @ Value::Map(_)) => Ok(v),
            (Type::List(t), Value::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("[{i}]"));
                    out.push(t.coerce_at(item, at)?);
                    at.truncate(len);
                }
                Ok(Value::List(out))
            }
            (Type::Map(t), Value::Map(m)) => {
                let mut out = std::collections::BTreeMap::new();
                for (k, item) in m {
                    let len = at.len();
                    if !at.is_empty() {
                        at.push('.');
                    }
                    at.push_str(&k);
                    let v = t.coerce_at(item, at)?;
                    at.truncate(len);
                    out.insert(k, v);
                }
                Ok(Value::Map(out))
            }
            (_, v) => mismatch(&v, at),
        }
    }
}

/// One validation rule: every condition it holds must pass.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub allowed: Option<Vec<Value>>,
    pub pattern: Option<regex::Regex>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub message: Option<String>,
    /// The rule as written (YAML flow), shown when it fails.
    pub text: String,
}

impl Rule {
    /// `None` when the value passes; otherwise why not (never quoting the value itself, which
    /// may be sensitive).
    pub fn check(&self, value: &Value) -> Option<String> {
        let v = value.unmarked();
        if matches!(v, Value::Unknown) {
            return None;
        }
        if let Some(allowed) = &self.allowed {
            if !allowed.iter().any(|a| a.same_data(v)) {
                let list: Vec<String> = allowed
                    .iter()
                    .map(|a| a.to_json_unmarked().to_string())
                    .collect();
                return Some(format!("the value is not one of {}", list.join(", ")));
            }
        }
        if let Some(re) = &self.pattern {
            match v.as_str() {
                Some(s) if re.is_match(s) => {}
                Some(_) => return Some(format!("the value does not match `{}`", re.as_str())),
                None => return Some("a pattern applies to strings only".into()),
            }
        }
        if self.min.is_some() || self.max.is_some() {
            let Some(n) = v.as_f64() else {
                return Some("min/max apply to numbers only".into());
            };
            if let Some(min) = self.min {
                if n < min {
                    return Some(format!("the value is less than {min}"));
                }
            }
            if let Some(max) = self.max {
                if n > max {
                    return Some(format!("the value is greater than {max}"));
                }
            }
        }
        if self.min_length.is_some() || self.max_length.is_some() {
            let len = match v {
                Value::String(s) => s.chars().count(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                _ => return Some("min_length/max_length apply to strings, lists and maps".into()),
            };
            if let Some(min) = self.min_length {
                if len < min {
                    return Some(format!("the length {len} is less than {min}"));
                }
            }
            if let Some(max) = self.max_length {
                if len > max {
                    return Some(format!("the length {len} is greater than {max}"));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_types() {
        assert_eq!(
            Type::parse("list(map(string))"),
            Some(Type::List(Box::new(Type::Map(Box::new(Type::String)))))
        );
        assert_eq!(
            Type::parse("list").map(|t| t.to_string()),
            Some("list(any)".into())
        );
        assert_eq!(Type::parse("strin"), None);
        assert_eq!(Type::parse("list(strin)"), None);
    }

    #[test]
    fn coerces_and_reports_where() {
        let t = Type::parse("list(number)").expect("type");
        assert!(t.coerce(Value::from(json!([1, 2]))).is_ok());
        let err = t
            .coerce(Value::from(json!([1, "x"])))
            .expect_err("mismatch");
        assert_eq!(err, "expected number, found string at `[1]`");
        assert_eq!(
            Type::String.coerce(Value::from(5i64)),
            Ok(Value::string("5"))
        );
        let s = Type::Number.coerce(Value::from(5i64).into_sensitive());
        assert!(s.is_ok_and(|v| v.is_sensitive()));
    }

    #[test]
    fn rules_say_why() {
        let rule = Rule {
            allowed: Some(vec![Value::string("a"), Value::string("b")]),
            ..Rule::default()
        };
        assert!(rule.check(&Value::string("a")).is_none());
        assert_eq!(
            rule.check(&Value::string("c")).as_deref(),
            Some("the value is not one of \"a\", \"b\"")
        );
        let len = Rule {
            min_length: Some(3),
            ..Rule::default()
        };
        assert!(len.check(&Value::string("ab")).is_some());
    }
}
