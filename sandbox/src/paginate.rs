//! Lists as the real apiserver serves them: label and field selectors, `limit`/`continue`
//! pagination whose later pages come from the snapshot of the first (rebuilt from the
//! event history), `metadata.remainingItemCount`, and the list's resourceVersion. The
//! continue token has the real shape (raw URL-safe base64 of
//! `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name\u0000"}`) but clients must treat it
//! as opaque.

use crate::api::{as_version, Request};
use crate::catalog::ResourceType;
use crate::error::ApiError;
use crate::selector::Selector;
use crate::store::{Key, Store};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The selection of a list or watch: namespace, label selector and field selector.
#[derive(Debug, Clone)]
pub struct Filter {
    pub namespace: Option<String>,
    labels: Selector,
    /// (field, value, equal?) on `metadata.name` / `metadata.namespace`.
    fields: Vec<(String, String, bool)>,
}

impl Filter {
    /// From the request's `labelSelector` and `fieldSelector`; bad ones get the real 400.
    pub fn from_request(req: &Request, namespace: Option<&str>) -> Result<Filter, ApiError> {
        let labels = Selector::parse(req.query.get("labelSelector").map_or("", |s| s))
            .map_err(ApiError::bad_request)?;
        let fields = field_selector(req.query.get("fieldSelector").map_or("", |s| s))?;
        Ok(Filter {
            namespace: namespace.map(String::from),
            labels,
            fields,
        })
    }

    /// Also requires this name (a watch on one object's path).
    pub fn with_name(mut self, name: &str) -> Filter {
        self.fields
            .push(("metadata.name".into(), name.to_string(), true));
        self
    }

    /// Whether no label or field selector was given (then lists count what remains).
    pub fn selects_all(&self) -> bool {
        self.labels == Selector::default() && self.fields.is_empty()
    }

    /// Whether the object at `key` is selected.
    pub fn matches(&self, key: &Key, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| key.namespace == ns)
            && self.labels.matches(obj)
            && self.fields.iter().all(|(f, want, eq)| {
                let have = match f.as_str() {
                    "metadata.name" => key.name.as_str(),
                    _ => key.namespace.as_str(),
                };
                (have == want) == *eq
            })
    }
}

/// `metadata.name=x,metadata.namespace!=y`; other field labels are not supported for the
/// kinds served here (the real message).
pub fn field_selector(s: &str) -> Result<Vec<(String, String, bool)>, ApiError> {
    let mut out = Vec::new();
    for term in s.split(',').filter(|t| !t.trim().is_empty()) {
        let (f, v, eq) = if let Some((f, v)) = term.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            (f, v, true)
        } else {
            return Err(ApiError::bad_request(format!(
                "invalid selector: '{s}'; can't understand '{term}'"
            )));
        };
        let f = f.trim();
        if f != "metadata.name" && f != "metadata.namespace" {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {f}"
            )));
        }
        out.push((f.to_string(), v.trim().to_string(), eq));
    }
    Ok(out)
}

/// Where a continued list resumes: the snapshot's resourceVersion and the key after which
/// to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    pub rv: u64,
    pub start: String,
}

impl Continue {
    /// The token (raw URL-safe base64 of the apiserver's JSON).
    pub fn encode(&self) -> String {
        let body = json!({"v": "meta.k8s.io/v1", "rv": self.rv, "start": self.start});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Parses a token; a malformed one is a 400 as on the real server.
    pub fn decode(token: &str) -> Result<Continue, ApiError> {
        let bad = |why: &str| ApiError::bad_request(format!("invalid continue token: {why}"));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|e| bad(&format!("continue key is not valid: {e}")))?;
        let v: Value = serde_json::from_slice(&raw)
            .map_err(|e| bad(&format!("continue key is not valid: {e}")))?;
        if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
            return Err(bad(
                "continue key is not valid: server does not recognize this encoded key",
            ));
        }
        let rv = v.get("rv").and_then(Value::as_u64).filter(|rv| *rv > 0);
        let start = v
            .get("start")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && !s.starts_with('/') && !s.split('/').any(|p| p == ".."));
        match (rv, start) {
            (Some(rv), Some(start)) => Ok(Continue {
                rv,
                start: start.to_string(),
            }),
            _ => Err(bad(
                "continue key is not valid: incorrect encoded start resourceVersion",
            )),
        }
    }
}

/// The message of the real 410 for a continue token older than the history.
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// The key's place in the real key order (`namespace/name`, or `name`).
fn suffix(key: &Key) -> String {
    if key.namespace.is_empty() {
        key.name.clone()
    } else {
        format!("{}/{}", key.namespace, key.name)
    }
}

/// Answers a list request on `rt` (optionally in one namespace).
pub fn list(
    store: &Store,
    req: &Request,
    rt: &ResourceType,
    ns: Option<&str>,
) -> Result<Value, ApiError> {
    let filter = Filter::from_request(req, ns)?;
    let limit = match req.query.get("limit").map(|s| s.trim()) {
        None | Some("") => 0,
        Some(s) => s.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid value for limit: {s:?}, expected an integer"
            ))
        })?,
    };
    let token = match req.query.get("continue").map(|s| s.trim()) {
        None | Some("") => None,
        Some(t) => Some(Continue::decode(t)?),
    };
    let current = || -> BTreeMap<Key, Value> {
        store
            .list(&rt.group, &rt.resource, None)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (rv, objects, start) = match &token {
        Some(c) => {
            if req
                .query
                .get("resourceVersion")
                .is_some_and(|v| !v.is_empty())
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let snap = store
                .events
                .snapshot_at(c.rv, current(), &rt.group, &rt.resource)
                .map_err(|_| ApiError::new(410, "Expired", CONTINUE_EXPIRED))?;
            (c.rv, snap, Some(c.start.clone()))
        }
        None => (store.resource_version(), current(), None),
    };
    let mut selected: Vec<(String, &Value)> = objects
        .iter()
        .filter(|(k, v)| filter.matches(k, v))
        .map(|(k, v)| (suffix(k), v))
        .filter(|(s, _)| start.as_deref().is_none_or(|st| s.as_str() >= st))
        .collect();
    selected.sort_by(|a, b| a.0.cmp(&b.0));
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if limit > 0 && selected.len() as i64 > limit {
        let rest = selected.split_off(limit as usize);
        if let Some((last, _)) = selected.last() {
            let token = Continue {
                rv,
                start: format!("{last}\u{0}"),
            };
            metadata["continue"] = json!(token.encode());
        }
        if filter.selects_all() {
            metadata["remainingItemCount"] = json!(rest.len());
        }
    }
    let items: Vec<Value> = selected.iter().map(|(_, v)| as_version(v, rt)).collect();
    Ok(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.group_version(),
        "metadata": metadata,
        "items": items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let c = Continue {
            rv: 42,
            start: "ns/b\u{0}".into(),
        };
        let t = c.encode();
        assert!(!t.contains('='), "raw base64 like the apiserver: {t}");
        assert_eq!(Continue::decode(&t).unwrap(), c);
    }

    #[test]
    fn malformed_continue_tokens_are_bad_requests() {
        for t in [
            "!!!",
            "e30",
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(r#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#),
        ] {
            let e = Continue::decode(t).unwrap_err();
            assert_eq!((e.code, e.reason), (400, "BadRequest"), "{t}");
            assert!(
                e.message.starts_with("invalid continue token"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn field_selectors_on_name_and_namespace_only() {
        let f = field_selector("metadata.name==a,metadata.namespace!=b").unwrap();
        assert_eq!(f.len(), 2);
        assert!(!f[1].2);
        let e = field_selector("spec.nodeName=x").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "field label not supported: spec.nodeName")
        );
    }
}
