//! What the real server's decoder refuses before any validation (400 BadRequest): a string
//! where an integer belongs, a malformed resource quantity, invalid base64 in Secret `data`.

use serde_json::Value;

/// The decoder's message for the first problem in `obj`.
pub fn check(kind: &str, obj: &Value) -> Result<(), String> {
    ints(kind, obj)?;
    quantities(kind, obj)?;
    if kind == "Secret" {
        if let Some(Value::Object(data)) = obj.get("data") {
            for v in data.values() {
                match v {
                    Value::String(s) => base64(s)?,
                    Value::Null => {}
                    other => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field Secret.data of type []uint8",
                            json_type(other)
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// `string`, `number 2.5`, `bool`, `object`, `array` (encoding/json's wording).
fn json_type(v: &Value) -> String {
    match v {
        Value::String(_) => "string".into(),
        Value::Number(n) => format!("number {n}"),
        Value::Bool(_) => "bool".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::Null => "null".into(),
    }
}

/// (kinds, path below the object where `*` is every list item, Go struct, Go type)
type IntField = (
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

const INTS: &[IntField] = &[
    (&["Deployment"], "spec.replicas", "DeploymentSpec", "int32"),
    (
        &["StatefulSet"],
        "spec.replicas",
        "StatefulSetSpec",
        "int32",
    ),
    (&["ReplicaSet"], "spec.replicas", "ReplicaSetSpec", "int32"),
    (
        &["Deployment"],
        "spec.revisionHistoryLimit",
        "DeploymentSpec",
        "int32",
    ),
    (&["Job"], "spec.completions", "JobSpec", "int32"),
    (&["Job"], "spec.parallelism", "JobSpec", "int32"),
    (&["Job"], "spec.backoffLimit", "JobSpec", "int32"),
    (
        &["HorizontalPodAutoscaler"],
        "spec.minReplicas",
        "HorizontalPodAutoscalerSpec",
        "int32",
    ),
    (
        &["HorizontalPodAutoscaler"],
        "spec.maxReplicas",
        "HorizontalPodAutoscalerSpec",
        "int32",
    ),
    (&["Service"], "spec.ports.*.port", "ServicePort", "int32"),
];

fn ints(kind: &str, obj: &Value) -> Result<(), String> {
    for (kinds, path, st, ty) in INTS {
        if kinds.contains(&kind) {
            each(obj, path, &mut |v| int_ok(v, st, path, ty))?;
        }
    }
    if let Some((ptr, prefix)) = super::pod_spec_path(kind) {
        if let Some(spec) = obj.pointer(ptr) {
            for list in ["containers", "initContainers"] {
                let path = format!("{list}.*.ports.*.containerPort");
                each(spec, &path, &mut |v| {
                    int_ok(
                        v,
                        "ContainerPort",
                        &format!("{prefix}.{list}.ports.containerPort"),
                        "int32",
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn int_ok(v: &Value, st: &str, path: &str, ty: &str) -> Result<(), String> {
    let ok = match v {
        Value::Null => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let field = path.replace(".*", "");
    Err(format!(
        "json: cannot unmarshal {} into Go struct field {st}.{field} of type {ty}",
        json_type(v)
    ))
}

/// Calls `f` on every value at `path` (`*` = each item of a list).
fn each(
    v: &Value,
    path: &str,
    f: &mut dyn FnMut(&Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((head, rest)) = path.split_once('.').map_or(Some((path, "")), Some) else {
        return Ok(());
    };
    let next: Vec<&Value> = if head == "*" {
        v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
    } else {
        v.get(head).into_iter().collect()
    };
    for n in next {
        if rest.is_empty() {
            f(n)?;
        } else {
            each(n, rest, f)?;
        }
    }
    Ok(())
}

const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// `resource.ParseQuantity`: a signed decimal number, then a binary or decimal SI suffix
/// or a decimal exponent.
pub fn parse_quantity(s: &str) -> Result<(), &'static str> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let num_len = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_len);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(QUANTITY_FORMAT);
    }
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
    if suffix_ok {
        return Ok(());
    }
    let shape = suffix
        .trim_start_matches(|c: char| "eEinumkKMGTP".contains(c))
        .trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c.is_ascii_digit());
    Err(if shape {
        "unable to parse quantity's suffix"
    } else {
        QUANTITY_FORMAT
    })
}

/// The value of a well-formed quantity (for comparisons; precision beyond f64 is not needed).
pub fn quantity_value(v: &Value) -> Option<f64> {
    let s = match v {
        Value::Number(n) => return n.as_f64(),
        Value::String(s) => s.as_str(),
        _ => return None,
    };
    parse_quantity(s).ok()?;
    let split = s
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e => 10f64.powi(e.get(1..)?.parse().ok()?),
    };
    Some(n * mult)
}

fn quantity_ok(v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => parse_quantity(s).map_err(String::from),
        Value::Number(_) | Value::Null => Ok(()),
        _ => Err(QUANTITY_FORMAT.into()),
    }
}

fn quantities(kind: &str, obj: &Value) -> Result<(), String> {
    let mut maps = |v: &Value| -> Result<(), String> {
        for part in ["requests", "limits"] {
            if let Some(Value::Object(m)) = v.get(part) {
                for q in m.values() {
                    quantity_ok(q)?;
                }
            }
        }
        Ok(())
    };
    if kind == "PersistentVolumeClaim" {
        if let Some(r) = obj.pointer("/spec/resources") {
            maps(r)?;
        }
    }
    if let Some((ptr, _)) = super::pod_spec_path(kind) {
        if let Some(spec) = obj.pointer(ptr) {
            for list in ["containers", "initContainers"] {
                each(spec, &format!("{list}.*.resources"), &mut maps)?;
            }
        }
    }
    Ok(())
}

/// Standard base64 with padding, as Go's `encoding/base64.StdEncoding` decodes `[]byte`.
fn base64(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    let bad = |i: usize| Err(format!("illegal base64 data at input byte {i}"));
    let mut pad = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let alpha = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        if b == b'=' {
            pad += 1;
            if pad > 2 {
                return bad(i);
            }
        } else if !alpha || pad > 0 {
            return bad(i);
        }
    }
    if !bytes.len().is_multiple_of(4) {
        // Go reports the offset where the incomplete quantum starts.
        return bad(bytes.len() - bytes.len() % 4);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        for ok in [
            "100m", "1", "0.5", "1Gi", "512Mi", "1e3", "+1", "1.5G", "2E",
        ] {
            assert_eq!(parse_quantity(ok), Ok(()), "{ok}");
        }
        assert_eq!(parse_quantity("banana"), Err(QUANTITY_FORMAT));
        assert_eq!(parse_quantity(""), Err(QUANTITY_FORMAT));
        assert_eq!(
            parse_quantity("1Gb"),
            Err(QUANTITY_FORMAT),
            "b is not a suffix letter"
        );
        assert_eq!(
            parse_quantity("1mm"),
            Err("unable to parse quantity's suffix")
        );
        let pod = json!({"spec": {"containers": [{"name": "a",
            "resources": {"limits": {"memory": "lots"}}}]}});
        assert_eq!(check("Pod", &pod), Err(QUANTITY_FORMAT.to_string()));
    }

    #[test]
    fn base64_like_go() {
        assert!(base64("aGVsbG8=").is_ok());
        assert!(base64("").is_ok());
        assert_eq!(
            base64("not base64!"),
            Err("illegal base64 data at input byte 3".into())
        );
        assert_eq!(
            base64("aGVsbG8"),
            Err("illegal base64 data at input byte 4".into())
        );
        let s = json!({"data": {"k": "%%%%"}});
        assert!(check("Secret", &s).is_err());
    }

    #[test]
    fn ints_name_the_go_field() {
        let svc = json!({"spec": {"ports": [{"port": "80"}]}});
        assert_eq!(
            check("Service", &svc),
            Err("json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32".into())
        );
        let d = json!({"spec": {"template": {"spec": {"containers": [{"ports": [{"containerPort": 1.5}]}]}}}});
        assert_eq!(
            check("Deployment", &d),
            Err("json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32".into())
        );
    }
}
