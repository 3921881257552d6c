//! Wire conversions Terraform makes between its attributes and the API's JSON: int64 as
//! strings (numbers accepted), sizes in GB in the stack and bytes on the wire, snake_case
//! attribute names and lowerCamelCase fields.

use serde_json::{Map, Value as Json};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// An integer from a JSON number or an int64 string.
pub fn int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float from a JSON number or a numeric string.
pub fn float(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An int64 for the wire: a JSON string.
pub fn int64(v: &Json) -> Json {
    match int(v) {
        Some(i) => Json::String(i.to_string()),
        None => Json::Null,
    }
}

/// A number for the stack: an integer when whole, else a float.
pub fn number(f: f64) -> Json {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// An integer from the wire as a stack number.
pub fn int_attr(v: Option<&Json>) -> Json {
    v.and_then(int).map(Json::from).unwrap_or(Json::Null)
}

/// GB in the stack (may be fractional: 0.5) → bytes as an int64 string.
pub fn gb_to_bytes(v: &Json) -> Json {
    match float(v) {
        Some(gb) => Json::String(((gb * GIB).round() as i64).to_string()),
        None => Json::Null,
    }
}

/// Bytes on the wire → GB in the stack (whole GB as an integer).
pub fn bytes_to_gb(v: Option<&Json>) -> Json {
    match v.and_then(float) {
        Some(b) => {
            let gb = b / GIB;
            // Three decimals are plenty for memory sizes such as 0.5 or 1.5 GB.
            number((gb * 1000.0).round() / 1000.0)
        }
        None => Json::Null,
    }
}

/// `snake_case` → `lowerCamelCase` (`core_fraction` → `coreFraction`).
pub fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `lowerCamelCase` → `snake_case` (`logRetentionMs` → `log_retention_ms`).
pub fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A settings map from the stack (`kafka_config`, `postgresql_config`) for the wire: camelCase
/// keys, whole numbers as int64 strings, other values as they are.
pub fn settings_to_api(v: Option<&Json>) -> Json {
    let Some(m) = v.and_then(Json::as_object) else {
        return Json::Null;
    };
    let out: Map<String, Json> = m
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                Json::Number(n) if n.is_i64() || n.is_u64() => int64(v),
                other => other.clone(),
            };
            (camel(k), v)
        })
        .collect();
    Json::Object(out)
}

/// A settings map from the wire for the stack: snake_case keys, values as they are (the
/// read coerces numeric strings to the stack's numbers, see [`crate::diff::coerce_like`]).
pub fn settings_from_api(v: Option<&Json>) -> Json {
    let Some(m) = v.and_then(Json::as_object) else {
        return Json::Null;
    };
    Json::Object(
        m.iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (snake(k), v.clone()))
            .collect(),
    )
}

/// A string at a JSON pointer, or "".
pub fn text(v: &Json, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

/// A list of strings at a key (absent: empty).
pub fn strings(v: Option<&Json>) -> Json {
    Json::Array(
        v.and_then(Json::as_array)
            .map(|a| a.iter().filter(|x| x.is_string()).cloned().collect())
            .unwrap_or_default(),
    )
}

/// An object builder that leaves out nulls, so optional fields are simply absent.
#[derive(Default)]
pub struct Obj(Map<String, Json>);

impl Obj {
    pub fn new() -> Self {
        Obj(Map::new())
    }

    /// Sets `key` unless `value` is null.
    pub fn set(mut self, key: &str, value: Json) -> Self {
        if !value.is_null() {
            self.0.insert(key.to_string(), value);
        }
        self
    }

    /// Sets `key` to a copy of `from[src]` unless it is absent or null.
    pub fn copy(self, key: &str, from: &Json, src: &str) -> Self {
        let v = from.get(src).cloned().unwrap_or(Json::Null);
        self.set(key, v)
    }

    /// Sets `key` only when the object built by `f` is not empty.
    pub fn nested(self, key: &str, inner: Obj) -> Self {
        if inner.0.is_empty() {
            self
        } else {
            self.set(key, Json::Object(inner.0))
        }
    }

    pub fn build(self) -> Json {
        Json::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_and_int64s() {
        assert_eq!(gb_to_bytes(&json!(16)), json!("17179869184"));
        assert_eq!(gb_to_bytes(&json!(0.5)), json!("536870912"));
        assert_eq!(bytes_to_gb(Some(&json!("17179869184"))), json!(16));
        assert_eq!(bytes_to_gb(Some(&json!(536870912))), json!(0.5));
        assert_eq!(int64(&json!(3)), json!("3"));
        assert_eq!(int64(&json!("3")), json!("3"));
        assert_eq!(int(&json!("42")), Some(42));
        assert_eq!(int(&json!(4.0)), Some(4));
        assert_eq!(int_attr(Some(&json!("7"))), json!(7));
    }

    #[test]
    fn names_and_settings() {
        assert_eq!(camel("core_fraction"), "coreFraction");
        assert_eq!(snake("logRetentionMs"), "log_retention_ms");
        assert_eq!(
            camel(&snake("autoCreateTopicsEnable")),
            "autoCreateTopicsEnable"
        );
        assert_eq!(
            settings_to_api(Some(
                &json!({"log_retention_ms": 1000, "compression_type": "COMPRESSION_TYPE_ZSTD", "ratio": 0.5, "x": null})
            )),
            json!({"logRetentionMs": "1000", "compressionType": "COMPRESSION_TYPE_ZSTD", "ratio": 0.5})
        );
        assert_eq!(
            settings_from_api(Some(&json!({"logRetentionMs": "1000"}))),
            json!({"log_retention_ms": "1000"})
        );
    }

    #[test]
    fn objects_leave_out_nulls() {
        let o = Obj::new()
            .set("a", json!(1))
            .set("b", Json::Null)
            .nested("c", Obj::new())
            .nested("d", Obj::new().set("e", json!("x")));
        assert_eq!(o.build(), json!({"a": 1, "d": {"e": "x"}}));
    }
}
