//! `authorization.k8s.io/v1` self reviews, so `kubectl auth can-i` (and `--list`) work:
//! the sandbox has one identity that may do everything, so every review is allowed. They are
//! create-only virtual resources, as upstream: nothing is stored.

use crate::api::{Request, Response};
use crate::catalog::ResourceType;
use crate::error::ApiError;
use serde_json::{json, Value};

/// The review resources, served in discovery with the `create` verb only.
pub fn is_review(rt: &ResourceType) -> bool {
    rt.group == "authorization.k8s.io" && !rt.custom
}

/// Answers a POST of a SelfSubjectAccessReview or SelfSubjectRulesReview.
pub fn create(rt: &ResourceType, req: &Request) -> Result<Response, ApiError> {
    let ctype = req.content_type.split(';').next().unwrap_or("").trim();
    let mut obj: Value = if ctype == "application/vnd.kubernetes.protobuf" {
        proto::review(&req.body, &rt.kind)
            .ok_or_else(|| ApiError::bad_request("the protobuf body could not be decoded"))?
    } else {
        serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?
    };
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let invalid = |field: &str, value: &str, why: &str| {
        let message = format!("Invalid value: {value:?}: {why}");
        let mut e = ApiError::new(
            422,
            "Invalid",
            format!(
                "{}.{} \"\" is invalid: {field}: {message}",
                rt.kind, rt.group
            ),
        );
        e.details = json!({"group": rt.group, "kind": rt.kind, "causes": [
            {"reason": "FieldValueInvalid", "message": message, "field": field}]});
        e
    };
    let status = match rt.kind.as_str() {
        "SelfSubjectAccessReview" => {
            let has = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
            if has("resourceAttributes") == has("nonResourceAttributes") {
                let (field, value) = if has("resourceAttributes") {
                    ("spec.nonResourceAttributes", "not null")
                } else {
                    ("spec.resourceAttributes", "null")
                };
                return Err(invalid(
                    field,
                    value,
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                ));
            }
            json!({"allowed": true, "reason": "the mlstack sandbox allows its token everything"})
        }
        _ => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
    };
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(rt.group_version()));
        m.insert("kind".into(), json!(rt.kind));
        m.entry("metadata").or_insert(json!({}));
        m.insert("status".into(), status);
    }
    Ok(Response {
        code: 201,
        body: obj,
    })
}

/// Protobuf wire decoding for the only protobuf bodies the sandbox reads: kubectl sends the
/// self reviews as `application/vnd.kubernetes.protobuf` (the `k8s\0` + `runtime.Unknown`
/// envelope) and does not fall back to JSON.
mod proto {
    use serde_json::{json, Map, Value};

    /// The fields of one message: (field number, bytes of a length-delimited field).
    fn fields(mut b: &[u8]) -> Option<Vec<(u64, &[u8])>> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let (tag, rest) = varint(b)?;
            b = rest;
            match tag & 7 {
                0 => b = varint(b)?.1,
                1 => b = b.get(8..)?,
                5 => b = b.get(4..)?,
                2 => {
                    let (len, rest) = varint(b)?;
                    let len = usize::try_from(len).ok()?;
                    out.push((tag >> 3, rest.get(..len)?));
                    b = rest.get(len..)?;
                }
                _ => return None,
            }
        }
        Some(out)
    }

    fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
        let mut v = 0u64;
        for (i, byte) in b.iter().enumerate().take(10) {
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some((v, &b[i + 1..]));
            }
        }
        None
    }

    fn strings(msg: &[u8], names: &[(u64, &str)]) -> Option<Value> {
        let mut m = Map::new();
        for (n, bytes) in fields(msg)? {
            if let Some((_, name)) = names.iter().find(|(k, _)| *k == n) {
                m.insert(name.to_string(), json!(std::str::from_utf8(bytes).ok()?));
            }
        }
        Some(Value::Object(m))
    }

    /// A self review's spec (the rest of the object is not needed to answer it).
    pub fn review(body: &[u8], kind: &str) -> Option<Value> {
        let unknown = body.strip_prefix(b"k8s\0")?;
        let raw = fields(unknown)?.into_iter().find(|(n, _)| *n == 2)?.1;
        let spec = fields(raw)?
            .into_iter()
            .find(|(n, _)| *n == 2)
            .map(|(_, s)| s)
            .unwrap_or(&[]);
        let mut out = Map::new();
        for (n, msg) in fields(spec)? {
            match (kind, n) {
                ("SelfSubjectAccessReview", 1) => {
                    let names = [
                        (1, "namespace"),
                        (2, "verb"),
                        (3, "group"),
                        (4, "version"),
                        (5, "resource"),
                        (6, "subresource"),
                        (7, "name"),
                    ];
                    out.insert("resourceAttributes".into(), strings(msg, &names)?);
                }
                ("SelfSubjectAccessReview", 2) => {
                    let names = [(1, "path"), (2, "verb")];
                    out.insert("nonResourceAttributes".into(), strings(msg, &names)?);
                }
                ("SelfSubjectRulesReview", 1) => {
                    out.insert("namespace".into(), json!(std::str::from_utf8(msg).ok()?));
                }
                _ => {}
            }
        }
        Some(json!({"metadata": {}, "spec": out}))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn decodes_a_review() {
            // k8s\0, Unknown{raw: SSAR{spec: {resourceAttributes: {verb: "get", resource: "pods"}}}}
            let attrs = [b"\x12\x03get".as_slice(), b"\x2a\x04pods"].concat();
            let spec = [&[0x0a, attrs.len() as u8][..], &attrs].concat();
            let ssar = [&[0x12, spec.len() as u8][..], &spec].concat();
            let unknown = [&[0x12, ssar.len() as u8][..], &ssar].concat();
            let body = [b"k8s\0".as_slice(), &unknown].concat();
            let v = super::review(&body, "SelfSubjectAccessReview").unwrap();
            assert_eq!(v["spec"]["resourceAttributes"]["verb"], "get");
            assert_eq!(v["spec"]["resourceAttributes"]["resource"], "pods");
            assert!(super::review(b"k8s\0\x12\xff", "SelfSubjectAccessReview").is_none());
        }
    }
}
