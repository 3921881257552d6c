//! The Kubernetes REST calls the provider makes: discovery (kind → resource path, refreshed
//! when a kind is missing, so CRDs registered earlier in the same apply are found), GET,
//! server-side apply (optionally `dryRun=All`), DELETE and LIST, each retried with
//! [`crate::retry`].

use crate::http::{Http, Response};
use crate::retry;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The field manager mlstack applies as.
pub const FIELD_MANAGER: &str = "mlstack";

/// Which object: `apiVersion`, `kind`, namespace (empty: cluster-scoped or default), name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    /// The identity of a manifest.
    pub fn of(manifest: &Json) -> Result<ObjectId, String> {
        let s = |p: &str| {
            manifest
                .pointer(p)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let id = ObjectId {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
        };
        if id.api_version.is_empty() || id.kind.is_empty() || id.name.is_empty() {
            return Err("the manifest needs apiVersion, kind and metadata.name".into());
        }
        Ok(id)
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {} {}", self.api_version, self.kind, self.name)
        } else {
            write!(
                f,
                "{} {} {}/{}",
                self.api_version, self.kind, self.namespace, self.name
            )
        }
    }
}

/// An answer other than success, or no answer at all.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// 0 when the request never got an answer.
    pub status: u16,
    /// The server's `Status` object (or null).
    pub body: Json,
    pub message: String,
}

impl ApiError {
    pub fn not_found(&self) -> bool {
        self.status == 404
    }

    /// Whether retrying might help (after our own retries ran out). A server-side apply
    /// conflict with another field manager never goes away by itself.
    pub fn retryable(&self) -> bool {
        (self.status == 0 || retry::retryable_status(self.status)) && !self.field_conflict()
    }

    /// A server-side apply refused because other managers own fields we send.
    pub fn field_conflict(&self) -> bool {
        self.status == 409
            && self
                .body
                .pointer("/details/causes")
                .and_then(Json::as_array)
                .is_some_and(|c| {
                    c.iter().any(|c| {
                        c.get("type").and_then(Json::as_str) == Some("FieldManagerConflict")
                    })
                })
    }

    /// The fields a 422 Invalid answer calls immutable.
    pub fn immutable_fields(&self) -> Vec<String> {
        if self.status != 422 {
            return Vec::new();
        }
        let mut out: Vec<String> = self
            .body
            .pointer("/details/causes")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter(|c| {
                c.get("message")
                    .and_then(Json::as_str)
                    .is_some_and(|m| m.contains("immutable"))
            })
            .filter_map(|c| c.get("field").and_then(Json::as_str).map(str::to_string))
            .collect();
        if out.is_empty() && self.message.contains("field is immutable") {
            // "Deployment.apps \"x\" is invalid: spec.selector: Invalid value: ...: field is immutable"
            for part in self.message.split(": ") {
                if part.starts_with("spec.")
                    || part.starts_with("metadata.")
                    || part.starts_with("data")
                {
                    out.push(part.to_string());
                    break;
                }
            }
        }
        out
    }
}

/// One resource type as discovery lists it.
#[derive(Debug, Clone)]
struct ResourceType {
    plural: String,
    namespaced: bool,
}

/// A client for one API server.
pub struct Client {
    http: Http,
    /// The namespace for namespaced objects that name none.
    pub default_namespace: String,
    discovery: Mutex<BTreeMap<String, BTreeMap<String, ResourceType>>>,
}

fn gv_path(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    }
}

fn describe(resp: &Response) -> (Json, String) {
    let body: Json = serde_json::from_slice(&resp.body).unwrap_or(Json::Null);
    let msg = body
        .get("message")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}", resp.status));
    (body, msg)
}

impl Client {
    pub fn new(conn: &crate::conn::Conn) -> Result<Client, String> {
        Ok(Client {
            http: Http::new(conn)?,
            default_namespace: conn.namespace.clone(),
            discovery: Mutex::new(BTreeMap::new()),
        })
    }

    /// A request with retries; 2xx answers parsed as JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Json, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.http.request(method, path, body.clone()).await;
            let err = match outcome {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    return serde_json::from_slice(&resp.body).map_err(|e| ApiError {
                        status: resp.status,
                        body: Json::Null,
                        message: format!("the answer is not JSON: {e}"),
                    });
                }
                Ok(resp) => {
                    let (body, message) = describe(&resp);
                    ApiError {
                        status: resp.status,
                        body,
                        message,
                    }
                }
                Err(t) => ApiError {
                    status: 0,
                    body: Json::Null,
                    message: t.0,
                },
            };
            if !err.retryable() || attempt >= retry::TRIES {
                if err.retryable() {
                    return Err(ApiError {
                        message: format!("{} (gave up after {attempt} tries)", err.message),
                        ..err
                    });
                }
                return Err(err);
            }
            tokio::time::sleep(retry::backoff(attempt)).await;
        }
    }

    /// A request whose every answer goes back to the caller; only dropped connections, 429
    /// and 5xx are retried (see [`crate::RestClient`]).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<crate::RestResponse, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.http.request(method, path, body.clone()).await;
            let retry = match &outcome {
                Ok(resp) => resp.status == 429 || resp.status >= 500,
                Err(_) => true,
            };
            if !retry || attempt >= retry::TRIES {
                return match outcome {
                    Ok(resp) => Ok(crate::RestResponse {
                        status: resp.status,
                        body: serde_json::from_slice(&resp.body).unwrap_or(Json::Null),
                    }),
                    Err(t) => Err(format!("{} (gave up after {attempt} tries)", t.0)),
                };
            }
            tokio::time::sleep(retry::backoff(attempt)).await;
        }
    }

    async fn resource_type(&self, id: &ObjectId) -> Result<ResourceType, ApiError> {
        for refresh in [false, true] {
            if !refresh {
                let cache = self.discovery.lock().ok();
                if let Some(t) = cache
                    .as_ref()
                    .and_then(|c| c.get(&id.api_version))
                    .and_then(|m| m.get(&id.kind))
                {
                    return Ok(t.clone());
                }
                continue;
            }
            let list = match self.call("GET", &gv_path(&id.api_version), None).await {
                Ok(l) => l,
                Err(e) if e.not_found() => Json::Null,
                Err(e) => return Err(e),
            };
            let mut types = BTreeMap::new();
            for r in list
                .get("resources")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(kind)) = (
                    r.get("name").and_then(Json::as_str),
                    r.get("kind").and_then(Json::as_str),
                ) else {
                    continue;
                };
                if name.contains('/') {
                    continue;
                }
                types.insert(
                    kind.to_string(),
                    ResourceType {
                        plural: name.to_string(),
                        namespaced: r.get("namespaced").and_then(Json::as_bool).unwrap_or(true),
                    },
                );
            }
            let found = types.get(&id.kind).cloned();
            if let Ok(mut c) = self.discovery.lock() {
                c.insert(id.api_version.clone(), types);
            }
            if let Some(t) = found {
                return Ok(t);
            }
        }
        Err(ApiError {
            status: 404,
            body: Json::Null,
            message: format!(
                "the server has no resource type for kind {} in {}",
                id.kind, id.api_version
            ),
        })
    }

    /// The object's URL path (without query).
    pub async fn path(&self, id: &ObjectId) -> Result<String, ApiError> {
        Ok(format!("{}/{}", self.collection(id).await?, id.name))
    }

    async fn collection(&self, id: &ObjectId) -> Result<String, ApiError> {
        let t = self.resource_type(id).await?;
        let base = gv_path(&id.api_version);
        Ok(if t.namespaced {
            let ns = if id.namespace.is_empty() {
                &self.default_namespace
            } else {
                &id.namespace
            };
            format!("{base}/namespaces/{ns}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        })
    }

    /// The live object, `None` when it (or its type) does not exist.
    pub async fn get(&self, id: &ObjectId) -> Result<Option<Json>, ApiError> {
        let path = match self.path(id).await {
            Ok(p) => p,
            Err(e) if e.not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        match self.call("GET", &path, None).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply of `manifest` as [`FIELD_MANAGER`].
    pub async fn apply(
        &self,
        manifest: &Json,
        dry_run: bool,
        force: bool,
    ) -> Result<Json, ApiError> {
        let id = ObjectId::of(manifest).map_err(|m| ApiError {
            status: 400,
            body: Json::Null,
            message: m,
        })?;
        let mut path = format!("{}?fieldManager={FIELD_MANAGER}", self.path(&id).await?);
        if force {
            path.push_str("&force=true");
        }
        if dry_run {
            path.push_str("&dryRun=All");
        }
        let body = serde_json::to_vec(manifest).unwrap_or_default();
        self.call("PATCH", &path, Some(("application/apply-patch+yaml", body)))
            .await
    }

    /// Deletes the object; `Ok(false)` when it was not there.
    pub async fn delete(&self, id: &ObjectId) -> Result<bool, ApiError> {
        let path = match self.path(id).await {
            Ok(p) => p,
            Err(e) if e.not_found() => return Ok(false),
            Err(e) => return Err(e),
        };
        match self
            .call(
                "DELETE",
                &format!("{path}?propagationPolicy=Background"),
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The items of a collection (e.g. the HPAs of a namespace); empty when the type is absent.
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
    ) -> Result<Vec<Json>, ApiError> {
        let id = ObjectId {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: String::new(),
        };
        let path = match self.collection(&id).await {
            Ok(p) => p,
            Err(e) if e.not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let v = self.call("GET", &path, None).await?;
        Ok(v.get("items")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn immutable_fields_from_causes_or_message() {
        let e = ApiError {
            status: 422,
            body: json!({"details": {"causes": [{"field": "spec.selector", "message": "field is immutable"}]}}),
            message: "x".into(),
        };
        assert_eq!(e.immutable_fields(), vec!["spec.selector"]);
        let e = ApiError {
            status: 422,
            body: Json::Null,
            message: "Service \"a\" is invalid: spec.clusterIP: Invalid value: \"1.2.3.4\": field is immutable".into(),
        };
        assert_eq!(e.immutable_fields(), vec!["spec.clusterIP"]);
    }

    #[test]
    fn ids_display() {
        let id = ObjectId::of(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}})).unwrap();
        assert_eq!(id.to_string(), "v1 ConfigMap n/a");
        assert!(ObjectId::of(&json!({"kind": "X"})).is_err());
    }
}
