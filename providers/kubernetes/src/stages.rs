//! The provider stages against a live API server: read (GET, projected onto what the stack
//! declared), plan (server-side apply dry-run diffed against live), apply (server-side apply
//! with force), delete (DELETE, then wait for 404) and wait-ready (per kind).
//!
//! The HPA rule: a Deployment, StatefulSet or ReplicaSet that an existing
//! HorizontalPodAutoscaler in its namespace targets is applied without `spec.replicas` once it
//! exists, so mlstack never fights the autoscaler; `spec.replicas` written through the `scale`
//! subresource (the autoscaler, `kubectl scale`) is not reported as drift either.

use crate::api::{ApiError, Client, ObjectId, FIELD_MANAGER};
use crate::ready::{self, Readiness};
use crate::shape;
use mlstack_provider_api::{parse_path, Path, ProviderError, Value};
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// Fields only the server sets, never ours to diff.
pub const SERVER_FIELDS: &[&str] = &[
    "manifest.metadata.resourceVersion",
    "manifest.metadata.uid",
    "manifest.metadata.generation",
    "manifest.metadata.creationTimestamp",
    "manifest.metadata.managedFields",
    "manifest.status",
];

/// The desired manifest as JSON (sensitive marks dropped: it goes to the API server only).
pub fn manifest_of(v: &Value) -> Json {
    v.get("manifest")
        .map(Value::to_json_unmarked)
        .unwrap_or(Json::Null)
}

/// `{manifest: obj}` with the sensitive paths of `like` (and a Secret's data) marked again.
pub fn wrap(obj: Json, like: &Value) -> Value {
    let secret = obj.get("kind").and_then(Json::as_str) == Some("Secret");
    let mut m = serde_json::Map::new();
    m.insert("manifest".into(), obj);
    let mut v = Value::from(Json::Object(m)).with_sensitive_paths(&like.sensitive_paths());
    if secret {
        for f in ["data", "stringData"] {
            let p = parse_path(&format!("manifest.{f}"));
            if let Some(x) = v.get_path(&p) {
                v.set_path(&p, x.into_sensitive());
            }
        }
    }
    v
}

/// An API error as a provider error naming the object.
pub fn err(id: &ObjectId, what: &str, e: ApiError) -> ProviderError {
    let msg = format!("{id}: {what}: {}", e.message);
    if e.retryable() {
        ProviderError::retryable(msg)
    } else {
        ProviderError::new(msg)
    }
}

const SCALED: &[&str] = &["Deployment", "StatefulSet", "ReplicaSet"];

/// Whether an HPA in the object's namespace targets it (the HPA rule above).
pub async fn hpa_targets(client: &Client, id: &ObjectId) -> Result<bool, ProviderError> {
    if !SCALED.contains(&id.kind.as_str()) {
        return Ok(false);
    }
    let ns = if id.namespace.is_empty() {
        client.default_namespace.clone()
    } else {
        id.namespace.clone()
    };
    let hpas = client
        .list("autoscaling/v2", "HorizontalPodAutoscaler", &ns)
        .await
        .map_err(|e| err(id, "listing autoscalers failed", e))?;
    Ok(hpas.iter().any(|h| {
        let t = |k: &str| {
            h.pointer(&format!("/spec/scaleTargetRef/{k}"))
                .and_then(Json::as_str)
        };
        t("kind") == Some(id.kind.as_str()) && t("name") == Some(id.name.as_str())
    }))
}

/// Whether `spec.replicas` of the live object was last written through `/scale`.
pub fn scaled_externally(live: &Json) -> bool {
    live.pointer("/metadata/managedFields")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .any(|e| {
            e.get("subresource").and_then(Json::as_str) == Some("scale")
                && e.pointer("/fieldsV1/f:spec/f:replicas").is_some()
        })
}

/// The read projection: `live` reduced to the recorded shape. A `spec.replicas` written
/// through `/scale` is not ours: the recorded value stays, so it never reads as drift.
pub fn read_projection(live: &Json, recorded: &Json) -> Json {
    let mut p = if recorded.is_object() {
        shape::project(live, &[recorded])
    } else {
        live.clone()
    };
    if scaled_externally(live) {
        if let Some(spec) = p.get_mut("spec").and_then(Json::as_object_mut) {
            match recorded.pointer("/spec/replicas") {
                Some(r) => spec.insert("replicas".into(), r.clone()),
                None => spec.remove("replicas"),
            };
        }
    }
    p
}

/// Notes naming who changed each field the plan would set back.
/// Paths in `ignored` (engine paths under `manifest`) get no note.
pub fn drift_notes(
    planned: &Json,
    live_projection: &Json,
    live_full: &Json,
    ignored: &[Path],
) -> Vec<String> {
    let mut notes = Vec::new();
    for p in shape::diff_paths(planned, live_projection) {
        let text = format!("manifest.{}", shape::path_text(&p));
        if ignored
            .iter()
            .any(|i| text.starts_with(&mlstack_provider_api::path_to_string(i)))
        {
            continue;
        }
        let owners = shape::owners(live_full, &p, FIELD_MANAGER);
        if !owners.is_empty() {
            notes.push(format!("{text} was changed by {}", owners.join(", ")));
        }
    }
    notes
}

/// Paths (as engine paths) of the immutable fields a dry-run refused.
pub fn replace_paths(fields: &[String]) -> Vec<Path> {
    fields
        .iter()
        .map(|f| parse_path(&format!("manifest.{f}")))
        .collect()
}

/// Deletes and waits (bounded) until the object is gone.
pub async fn delete(client: &Client, id: &ObjectId) -> Result<(), ProviderError> {
    if !client
        .delete(id)
        .await
        .map_err(|e| err(id, "delete failed", e))?
    {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match client.get(id).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) if Instant::now() >= deadline => {
                return Err(ProviderError::new(format!(
                    "{id}: still present 2 minutes after deletion (finalizers?)"
                )))
            }
            Ok(Some(_)) => {}
            Err(e) => return Err(err(id, "checking the deletion failed", e)),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls until the object is ready, failed, or `timeout` passed.
pub async fn wait_ready(
    client: &Client,
    id: &ObjectId,
    timeout: Duration,
) -> Result<(), ProviderError> {
    // Leave a margin so that our message (with conditions) wins over the engine's timeout.
    let deadline = Instant::now()
        + timeout
            .saturating_sub(Duration::from_secs(1))
            .max(Duration::from_millis(500));
    let mut pause = Duration::from_millis(50);
    loop {
        let obj = client
            .get(id)
            .await
            .map_err(|e| err(id, "reading readiness failed", e))?
            .ok_or_else(|| ProviderError::new(format!("{id}: disappeared while waiting for it")))?;
        match ready::check(&obj) {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(why) => return Err(ProviderError::new(format!("{id}: {why}"))),
            Readiness::Waiting(why) if Instant::now() >= deadline => {
                return Err(ProviderError::new(format!(
                    "{id}: not ready: {why}; {}",
                    ready::conditions_text(&obj)
                )))
            }
            Readiness::Waiting(_) => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replicas_written_through_scale_are_not_ours() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}}]}, "spec": {"replicas": 5, "x": 1}});
        let rec = json!({"spec": {"replicas": 4, "x": 1}});
        assert_eq!(
            read_projection(&live, &rec),
            json!({"spec": {"replicas": 4, "x": 1}})
        );
        let rec = json!({"spec": {"x": 1}});
        assert_eq!(read_projection(&live, &rec), json!({"spec": {"x": 1}}));
    }

    #[test]
    fn secrets_stay_sensitive() {
        let v = wrap(
            json!({"kind": "Secret", "data": {"p": "c2VjcmV0"}}),
            &Value::map(),
        );
        assert!(v.contains_sensitive());
        assert!(!v.to_json_redacted().to_string().contains("c2VjcmV0"));
    }
}
