//! The `/scale` subresource of Deployments and StatefulSets (`kubectl scale`, HPAs):
//! an `autoscaling/v1` `Scale` view whose writes change only `spec.replicas`.

use crate::api::{Api, Request, Response};
use crate::catalog::ResourceType;
use crate::error::ApiError;
use crate::patch::{json_patch, merge_patch};
use crate::store::Key;
use serde_json::{json, Value};

impl Api {
    pub(crate) fn scale(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
    ) -> Result<Response, ApiError> {
        let old = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, &key.name))?;
        let view = scale_view(&old);
        if req.method == "GET" {
            return Ok(Response {
                code: 200,
                body: view,
            });
        }
        let body: Value = serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
        let mut patched = view;
        match (
            req.method.as_str(),
            req.content_type.split(';').next().unwrap_or(""),
        ) {
            ("PUT", _) => patched = body,
            ("PATCH", "application/json-patch+json") => json_patch(&mut patched, &body)
                .map_err(|e| ApiError::invalid("Scale", &key.name, &e))?,
            ("PATCH", _) => merge_patch(&mut patched, &body),
            _ => {
                return Err(ApiError::new(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                ))
            }
        }
        let replicas = patched
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::invalid("Scale", &key.name, "spec.replicas is required"))?;
        let mut new = old.clone();
        if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(replicas));
        }
        let resp = self.write_subresource(req, rt, key, old, new, "scale")?;
        Ok(Response {
            code: resp.code,
            body: scale_view(&resp.body),
        })
    }
}

fn scale_view(obj: &Value) -> Value {
    let md = obj.get("metadata").cloned().unwrap_or(Value::Null);
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": md.get("name"),
            "namespace": md.get("namespace"),
            "uid": md.get("uid"),
            "resourceVersion": md.get("resourceVersion"),
            "creationTimestamp": md.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}
