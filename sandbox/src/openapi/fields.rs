//! Unknown fields against the served schema, as the apiserver handles them per
//! `fieldValidation`: `Strict` fails the request (400), `Warn` (the default) answers with a
//! `Warning` header per field, `Ignore` says nothing; in every mode unknown fields are
//! dropped from what is stored (decoding drops them for built-ins, pruning for custom
//! resources), except below `x-kubernetes-preserve-unknown-fields`.

use super::Flavor;
use crate::api::{Api, Request};
use crate::catalog::{Catalog, ResourceType};
use crate::error::ApiError;
use crate::store::Store;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Directive {
    Ignore,
    Warn,
    Strict,
}

impl Directive {
    /// Reads the request's directive; absent means `Warn`, as on the apiserver.
    pub fn of(req: &Request) -> Result<Directive, ApiError> {
        match req.query.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => Ok(Directive::Warn),
            Some("Ignore") => Ok(Directive::Ignore),
            Some("Strict") => Ok(Directive::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// The built-in definitions and kinds (v3 flavor), built once.
pub fn builtin() -> &'static BTreeMap<String, Value> {
    static CELL: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    CELL.get_or_init(|| super::schemas(&Catalog::default(), &Store::default(), Flavor::V3))
}

/// The root schema `rt`'s objects are checked against.
pub fn root_schema(store: &Store, rt: &ResourceType) -> Option<Value> {
    if rt.custom {
        Some(super::crd::served_schema(store, rt, Flavor::V3))
    } else {
        super::kind_schema(builtin(), rt).cloned()
    }
}

/// An unknown field, in both of the apiserver's spellings.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// `spec.template.spec.containers[0].foo` (the JSON decoder's).
    pub decoder: String,
    /// `.spec.template.spec.containers[name="web"].foo` (server-side apply's).
    pub apply: String,
}

fn resolve(s: &Value) -> &Value {
    let mut cur = s;
    for _ in 0..8 {
        let target = cur
            .get("$ref")
            .or_else(|| cur.pointer("/allOf/0/$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|n| builtin().get(n));
        match target {
            Some(t) => cur = t,
            None => break,
        }
    }
    cur
}

fn preserves(s: &Value) -> bool {
    s.get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Removes the unknown fields of `v` (against `schema`) and returns them.
pub fn prune(schema: &Value, v: &mut Value) -> Vec<Unknown> {
    let mut out = Vec::new();
    walk(schema, v, "", "", &mut out);
    out
}

fn join(base: &str, k: &str) -> String {
    if base.is_empty() {
        k.to_string()
    } else {
        format!("{base}.{k}")
    }
}

fn walk(schema: &Value, v: &mut Value, dec: &str, app: &str, out: &mut Vec<Unknown>) {
    let s = resolve(schema);
    match v {
        Value::Object(m) => {
            let props = s.get("properties").and_then(Value::as_object);
            let extra = s.get("additionalProperties").filter(|a| a.is_object());
            let keep = preserves(s) || s.get("additionalProperties") == Some(&Value::Bool(true));
            let mut drop = Vec::new();
            for (k, child) in m.iter_mut() {
                let (d, a) = (join(dec, k), format!("{app}.{k}"));
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(cs), _) | (None, Some(cs)) => walk(cs, child, &d, &a, out),
                    _ if keep => {}
                    _ => {
                        out.push(Unknown {
                            decoder: d,
                            apply: a,
                        });
                        drop.push(k.clone());
                    }
                }
            }
            for k in drop {
                m.remove(&k);
            }
        }
        Value::Array(items) => {
            let Some(is) = s.get("items") else {
                return;
            };
            let keys: Vec<String> = s
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            for (i, item) in items.iter_mut().enumerate() {
                let a = match item_key(item, &keys) {
                    Some(k) => format!("{app}[{k}]"),
                    None => format!("{app}[{i}]"),
                };
                walk(is, item, &format!("{dec}[{i}]"), &a, out);
            }
        }
        _ => {}
    }
}

/// `name="web"` / `containerPort=80,protocol="TCP"`, as structured-merge-diff prints a key.
fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    if keys.is_empty() {
        return None;
    }
    let m: &Map<String, Value> = item.as_object()?;
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| m.get(k).map(|v| format!("{k}={v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Applies the directive to the unknown fields and duplicate-field messages (see
/// `dupes::messages`) of a write. `Ok(warnings)` to send, or the `Strict` failure.
pub fn judge(
    rt: &ResourceType,
    directive: Directive,
    unknown: &[Unknown],
    duplicates: &[String],
    apply: bool,
) -> Result<Vec<String>, ApiError> {
    let (yaml, json): (Vec<&String>, Vec<&String>) =
        duplicates.iter().partition(|d| d.starts_with("yaml: "));
    let unknown = unknown.iter().map(|u| {
        if apply {
            format!("{}: field not declared in schema", u.apply)
        } else {
            format!("unknown field {:?}", u.decoder)
        }
    });
    let msgs: Vec<String> = yaml
        .into_iter()
        .cloned()
        .chain(unknown)
        .chain(json.into_iter().cloned())
        .collect();
    match directive {
        Directive::Ignore => Ok(Vec::new()),
        Directive::Warn => Ok(msgs),
        Directive::Strict if msgs.is_empty() => Ok(Vec::new()),
        Directive::Strict if apply => Err(ApiError::bad_request(format!(
            "failed to create typed patch object ({}, Kind={}): {}",
            rt.group_version(),
            rt.kind,
            msgs.join("\n")
        ))),
        Directive::Strict => Err(ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: {}",
            msgs.join(", "),
            kind = rt.kind,
            v = rt.version
        ))),
    }
}

impl Api {
    /// Prunes the unknown fields of a write's object and judges them, with the body's
    /// duplicate fields, under the request's `fieldValidation` (warnings go to the answer).
    pub(crate) fn check_fields(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        obj: &mut Value,
        apply: bool,
    ) -> Result<(), ApiError> {
        let directive = Directive::of(req)?;
        let Some(schema) = root_schema(&self.store, rt) else {
            return Ok(());
        };
        let unknown = prune(&schema, obj);
        let dupes = match directive {
            Directive::Ignore => Vec::new(),
            _ => super::dupes::messages(&req.body),
        };
        let warnings = judge(rt, directive, &unknown, &dupes, apply)?;
        self.warnings.extend(warnings);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> ResourceType {
        Catalog::default()
            .types()
            .iter()
            .find(|t| t.kind == "Deployment")
            .cloned()
            .unwrap()
    }

    #[test]
    fn finds_and_prunes_unknown_fields() {
        let rt = deployment();
        let schema = root_schema(&Store::default(), &rt).unwrap();
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "bogus": 1, "labels": {"any": "x"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "x", "imagePullPolcy": "Always",
                 "securityContext": {"anything": true},
                 "ports": [{"containerPort": 80, "extra": 1}]}]}}}});
        let u = prune(&schema, &mut d);
        let dec: Vec<&str> = u.iter().map(|u| u.decoder.as_str()).collect();
        assert_eq!(
            dec,
            vec![
                "metadata.bogus",
                "spec.template.spec.containers[0].imagePullPolcy",
                "spec.template.spec.containers[0].ports[0].extra"
            ]
        );
        assert_eq!(
            u[1].apply,
            ".spec.template.spec.containers[name=\"web\"].imagePullPolcy"
        );
        assert_eq!(
            u[2].apply,
            ".spec.template.spec.containers[name=\"web\"].ports[containerPort=80].extra"
        );
        assert!(d["metadata"].get("bogus").is_none());
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["anything"],
            true
        );
        let e = judge(&rt, Directive::Strict, &u[..1], &[], false).unwrap_err();
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"metadata.bogus\""
        );
        assert_eq!(
            judge(&rt, Directive::Warn, &u[..1], &[], false).unwrap(),
            vec!["unknown field \"metadata.bogus\"".to_string()]
        );
        let dup = vec!["duplicate field \"spec.replicas\"".to_string()];
        let e = judge(&rt, Directive::Strict, &u[..1], &dup, false).unwrap_err();
        assert!(
            e.message.ends_with(
                "strict decoding error: unknown field \"metadata.bogus\", duplicate field \"spec.replicas\""
            ),
            "{}",
            e.message
        );
        assert!(judge(&rt, Directive::Ignore, &u, &[], true)
            .unwrap()
            .is_empty());
    }
}
