//! Immutable ConfigMaps and Secrets (`ValidateConfigMapUpdate`, `ValidateSecretUpdate`):
//! once `immutable: true`, neither the data nor the flag may change.

use super::Cause;
use serde_json::Value;

const WHY: &str = "field is immutable when `immutable` is set";

/// Adds the causes for an update of an immutable ConfigMap or Secret.
pub fn check_update(kind: &str, old: &Value, new: &Value, causes: &mut Vec<Cause>) {
    let fields: &[&str] = match kind {
        "ConfigMap" => &["data", "binaryData"],
        "Secret" => &["data"],
        _ => return,
    };
    let immutable = |o: &Value| o.get("immutable").and_then(Value::as_bool) == Some(true);
    if !immutable(old) {
        return;
    }
    if !immutable(new) {
        causes.push(Cause::forbidden("immutable".into(), WHY));
    }
    let empty = |v: Option<&Value>| v.is_none_or(|v| v.as_object().is_some_and(|m| m.is_empty()));
    for f in fields {
        let (a, b) = (old.get(*f), new.get(*f));
        if a != b && !(empty(a) && empty(b)) {
            causes.push(Cause::forbidden((*f).into(), WHY));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn immutable_data() {
        let old = json!({"immutable": true, "data": {"k": "v"}});
        let mut c = Vec::new();
        check_update("ConfigMap", &old, &old, &mut c);
        assert!(c.is_empty());
        check_update(
            "ConfigMap",
            &old,
            &json!({"immutable": true, "data": {"k": "w"}}),
            &mut c,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].field.as_str(), c[0].reason),
            ("data", "FieldValueForbidden")
        );
        assert_eq!(
            c[0].message,
            "Forbidden: field is immutable when `immutable` is set"
        );
        let mut c = Vec::new();
        check_update("Secret", &old, &json!({"data": {"k": "v"}}), &mut c);
        assert_eq!(c[0].field, "immutable");
        let mut c = Vec::new();
        check_update(
            "ConfigMap",
            &json!({"data": {}}),
            &json!({"data": {"x": "1"}}),
            &mut c,
        );
        assert!(c.is_empty(), "mutable maps change freely");
    }
}
