//! Custom resources against their CRD's `openAPIV3Schema`: the served schema (metadata as
//! `ObjectMeta`, the group/version/kind extension) and the apiserver's value validation
//! (`type`, `enum`, `minimum`/`maximum`, lengths, item counts, `pattern`, `required`,
//! `nullable`) with its 422 causes, and schema defaults.

use super::{types, Flavor};
use crate::catalog::ResourceType;
use crate::store::{Key, Store};
use crate::validate::Cause;
use serde_json::{json, Value};

/// The stored CRD of a custom type.
fn crd<'a>(store: &'a Store, rt: &ResourceType) -> Option<&'a Value> {
    store.get(&Key {
        group: "apiextensions.k8s.io".into(),
        resource: "customresourcedefinitions".into(),
        namespace: String::new(),
        name: format!("{}.{}", rt.resource, rt.group),
    })
}

/// The CRD's `openAPIV3Schema` for `rt`'s version, if it declares one.
pub fn raw_schema(store: &Store, rt: &ResourceType) -> Option<Value> {
    let versions = crd(store, rt)?.pointer("/spec/versions")?.as_array()?;
    let v = versions
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(rt.version.as_str()))?;
    v.pointer("/schema/openAPIV3Schema").cloned()
}

/// The schema a custom kind is served with (and validated against).
pub fn served_schema(store: &Store, rt: &ResourceType, fl: Flavor) -> Value {
    let mut s = raw_schema(store, rt)
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if !s.is_object() {
        s = json!({"type": "object"});
    }
    if s.get("properties").is_none() {
        s["properties"] = json!({});
    }
    let meta_ref = format!(
        "{}{}",
        match fl {
            Flavor::V2 => "#/definitions/",
            Flavor::V3 => "#/components/schemas/",
        },
        types::OBJECT_META
    );
    let meta = match fl {
        Flavor::V2 => json!({"$ref": meta_ref, "description": "Standard object's metadata."}),
        Flavor::V3 => {
            json!({"allOf": [{"$ref": meta_ref}], "description": "Standard object's metadata."})
        }
    };
    s["properties"]["metadata"] = meta;
    s["properties"]["apiVersion"] = json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."});
    s["properties"]["kind"] = json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."});
    s
}

/// Validates a custom object about to be stored against its CRD's schema (422 `Invalid`).
pub fn check(
    store: &Store,
    rt: &ResourceType,
    name: &str,
    obj: &Value,
) -> Result<(), crate::error::ApiError> {
    let Some(schema) = raw_schema(store, rt) else {
        return Ok(());
    };
    let causes = validate(&schema, obj);
    if causes.is_empty() {
        Ok(())
    } else {
        Err(crate::validate::invalid(rt, name, &causes))
    }
}

/// Fills absent fields that declare a `default` (structural defaulting, at every level
/// whose parent object is present), before validation as in the apiserver.
pub fn apply_defaults(store: &Store, rt: &ResourceType, obj: &mut Value) {
    if let Some(schema) = raw_schema(store, rt) {
        default_walk(&schema, obj);
    }
}

fn default_walk(s: &Value, v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, ps) in props {
                    if k == "metadata" {
                        continue;
                    }
                    if let (false, Some(d)) = (m.contains_key(k), ps.get("default")) {
                        m.insert(k.clone(), d.clone());
                    }
                    if let Some(child) = m.get_mut(k) {
                        default_walk(ps, child);
                    }
                }
            } else if let Some(extra) = s.get("additionalProperties").filter(|a| a.is_object()) {
                for child in m.values_mut() {
                    default_walk(extra, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for item in items {
                    default_walk(is, item);
                }
            }
        }
        _ => {}
    }
}

/// A value the way the apiserver prints it in a cause.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn cause(reason: &'static str, field: &str, message: String) -> Cause {
    Cause {
        reason,
        field: field.to_string(),
        message,
    }
}

/// Validates a custom object below its top level (metadata is the apiserver's own).
pub fn validate(schema: &Value, obj: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if let (Some(props), Some(m)) = (
        schema.get("properties").and_then(Value::as_object),
        obj.as_object(),
    ) {
        for (k, v) in m {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(s) = props.get(k) {
                walk(s, v, k, &mut out);
            }
        }
        required(schema, m, "", &mut out);
    }
    out
}

fn required(schema: &Value, m: &serde_json::Map<String, Value>, path: &str, out: &mut Vec<Cause>) {
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !m.contains_key(r) {
            let field = if path.is_empty() {
                r.to_string()
            } else {
                format!("{path}.{r}")
            };
            out.push(cause("FieldValueRequired", &field, "Required value".into()));
        }
    }
}

fn walk(s: &Value, v: &Value, path: &str, out: &mut Vec<Cause>) {
    if v.is_null() {
        if s.get("nullable").and_then(Value::as_bool) != Some(true) {
            if let Some(ty) = s.get("type").and_then(Value::as_str) {
                out.push(cause(
                    "FieldValueTypeInvalid",
                    path,
                    format!(
                        "Invalid value: \"null\": {path} in body must be of type {ty}: \"null\""
                    ),
                ));
            }
        }
        return;
    }
    let int_or_string = s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    if let Some(ty) = s.get("type").and_then(Value::as_str) {
        if !(int_or_string && (v.is_string() || v.is_i64() || v.is_u64())) && !type_ok(ty, v) {
            let got = match v {
                Value::Object(_) => "object",
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_f64() => "number",
                Value::Number(_) => "integer",
                Value::Null => "null",
            };
            out.push(cause(
                "FieldValueTypeInvalid",
                path,
                format!("Invalid value: \"{got}\": {path} in body must be of type {ty}: \"{got}\""),
            ));
            return;
        }
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            let list: Vec<String> = allowed.iter().map(shown).collect();
            out.push(cause(
                "FieldValueNotSupported",
                path,
                format!(
                    "Unsupported value: {}: supported values: {}",
                    shown(v),
                    list.join(", ")
                ),
            ));
        }
    }
    if let Some(n) = v.as_f64() {
        let bound = |k: &str| s.get(k).and_then(Value::as_f64);
        let excl = |k: &str| s.get(k).and_then(Value::as_bool) == Some(true);
        if let Some(max) = bound("maximum") {
            if n > max || (excl("exclusiveMaximum") && n >= max) {
                let op = if excl("exclusiveMaximum") {
                    "less than"
                } else {
                    "less than or equal to"
                };
                out.push(cause(
                    "FieldValueInvalid",
                    path,
                    format!(
                        "Invalid value: {v}: {path} in body should be {op} {}",
                        s["maximum"]
                    ),
                ));
            }
        }
        if let Some(min) = bound("minimum") {
            if n < min || (excl("exclusiveMinimum") && n <= min) {
                let op = if excl("exclusiveMinimum") {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                out.push(cause(
                    "FieldValueInvalid",
                    path,
                    format!(
                        "Invalid value: {v}: {path} in body should be {op} {}",
                        s["minimum"]
                    ),
                ));
            }
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                out.push(cause(
                    "FieldValueTooLong",
                    path,
                    format!("Too long: may not be more than {max} bytes"),
                ));
            }
        }
        if let Some(pat) = s.get("pattern").and_then(Value::as_str) {
            // RE2 and Rust's regex share the syntax CRD patterns use; a pattern neither
            // compiles is not enforced (the apiserver refuses such a CRD up front).
            if let Ok(re) = regex::Regex::new(pat) {
                if !re.is_match(text) {
                    out.push(cause(
                        "FieldValueInvalid",
                        path,
                        format!(
                            "Invalid value: {}: {path} in body should match '{pat}'",
                            shown(v)
                        ),
                    ));
                }
            }
        }
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if len < min {
                out.push(cause(
                    "FieldValueInvalid",
                    path,
                    format!(
                        "Invalid value: {}: {path} in body should be at least {min} chars long",
                        shown(v)
                    ),
                ));
            }
        }
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as u64;
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if n > max {
                out.push(cause(
                    "FieldValueTooMany",
                    path,
                    format!("Too many: {n}: must have at most {max} items"),
                ));
            }
        }
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if n < min {
                out.push(cause(
                    "FieldValueInvalid",
                    path,
                    format!("Invalid value: {n}: {path} in body should have at least {min} items"),
                ));
            }
        }
        if let Some(is) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                walk(is, item, &format!("{path}[{i}]"), out);
            }
        }
    }
    if let Some(m) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        let extra = s.get("additionalProperties").filter(|a| a.is_object());
        for (k, c) in m {
            let child = format!("{path}.{k}");
            match (props.and_then(|p| p.get(k)), extra) {
                (Some(cs), _) | (None, Some(cs)) => walk(cs, c, &child, out),
                _ => {}
            }
        }
        required(s, m, path, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_enums_types_and_required() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
            "replicas": {"type": "integer", "minimum": 1, "maximum": 5},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "name": {"type": "string", "maxLength": 3},
            "size": {"type": "integer"},
            "tag": {"type": "string", "pattern": "^v[0-9]+$"}}}}});
        let causes = validate(
            &s,
            &json!({"spec": {"replicas": 0, "mode": "c", "name": "long"}}),
        );
        let got: Vec<(&str, &str, &str)> = causes
            .iter()
            .map(|c| (c.reason, c.field.as_str(), c.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "FieldValueNotSupported",
                    "spec.mode",
                    "Unsupported value: \"c\": supported values: \"a\", \"b\""
                ),
                (
                    "FieldValueTooLong",
                    "spec.name",
                    "Too long: may not be more than 3 bytes"
                ),
                (
                    "FieldValueInvalid",
                    "spec.replicas",
                    "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
                ),
                ("FieldValueRequired", "spec.size", "Required value"),
            ]
        );
        let causes = validate(&s, &json!({"spec": {"size": 1, "tag": "latest"}}));
        assert_eq!(
            causes[0].message,
            "Invalid value: \"latest\": spec.tag in body should match '^v[0-9]+$'"
        );
        assert!(validate(&s, &json!({"spec": {"size": 1, "tag": "v2"}})).is_empty());
        let causes = validate(&s, &json!({"spec": {"replicas": "2", "size": 1}}));
        assert_eq!(
            causes[0].message,
            "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
        );
        assert!(validate(&s, &json!({"spec": {"replicas": 5, "size": 1}})).is_empty());
        let d = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "mode": {"type": "string", "default": "a"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "protocol": {"type": "string", "default": "TCP"}}}}}}}});
        let mut o = json!({"spec": {"ports": [{}, {"protocol": "UDP"}]}});
        default_walk(&d, &mut o);
        assert_eq!(
            o,
            json!({"spec": {"mode": "a", "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}]}})
        );
    }
}
