//! The REST patterns resource types share (reference §0.3–0.6): collections keyed by id and
//! listed per folder with a `name="…"` filter, children keyed by name under a cluster, paging
//! with `nextPageToken`, and mutations that answer with an operation.

use super::{Cx, Kind};
use crate::client::{Method, Request, Service};
use crate::mask;
use crate::operation::{self, fail, Done};
use crate::status::ApiError;
use mlstack_provider_api::ProviderError;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::time::Duration;

/// GET that reads 404 as "gone".
pub async fn get(
    cx: &Cx<'_>,
    service: Service,
    path: &str,
    what: &str,
) -> Result<Option<Json>, ProviderError> {
    match cx.session.call(&Request::get(service, path)).await {
        Ok(j) => Ok(Some(j)),
        Err(e) if e.not_found() => Ok(None),
        Err(e) => Err(fail(what, e)),
    }
}

/// Every item of a paged list (`pageSize` 1000, following `nextPageToken`).
pub async fn list_all(
    cx: &Cx<'_>,
    req: Request,
    key: &str,
    what: &str,
) -> Result<Vec<Json>, ProviderError> {
    list_pages(cx, req, key).await.map_err(|e| fail(what, e))
}

/// [`list_all`] with the API's error as it is.
pub async fn list_pages(cx: &Cx<'_>, req: Request, key: &str) -> Result<Vec<Json>, ApiError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let mut r = req.clone().query("pageSize", "1000");
        if let Some(t) = &token {
            r = r.query("pageToken", t.clone());
        }
        let j = cx.session.call(&r).await?;
        if let Some(items) = j.get(key).and_then(Json::as_array) {
            out.extend(items.iter().cloned());
        }
        token = j
            .get("nextPageToken")
            .and_then(Json::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Sends a mutation and waits for its operation within `timeout`.
pub async fn mutate(
    cx: &Cx<'_>,
    method: Method,
    service: Service,
    path: &str,
    body: Option<Json>,
    timeout: Duration,
    what: &str,
) -> Result<Done, ProviderError> {
    operation::mutate(
        cx.session,
        Request::mutation(method, service, path, body),
        timeout,
        what,
    )
    .await
}

/// An update body reduced to `mask`, with `updateMask` set.
pub fn masked(body: &Json, mask: &[String]) -> Json {
    let set: BTreeSet<String> = mask.iter().cloned().collect();
    let mut b = mask::prune(body, &set);
    if let Json::Object(m) = &mut b {
        m.insert("updateMask".into(), Json::String(mask::join(&set)));
    }
    b
}

/// Resources keyed by id and listed per folder (networks, subnets, accounts, clusters).
pub struct Collection {
    pub service: Service,
    /// `/vpc/v1/networks`.
    pub path: &'static str,
    /// The list answer's key (`networks`).
    pub list_key: &'static str,
    /// The create metadata's id key (`networkId`).
    pub id_key: &'static str,
}

impl Collection {
    pub fn item(&self, id: &str) -> String {
        format!("{}/{id}", self.path)
    }

    pub async fn get(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        id: &str,
    ) -> Result<Option<Json>, ProviderError> {
        if id.is_empty() {
            return Ok(None);
        }
        get(cx, self.service, &self.item(id), &cx.what("reading", kind)).await
    }

    /// The item named `name` in `folder` (filtered server-side, checked here).
    pub async fn find(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        folder: &str,
        name: &str,
    ) -> Result<Option<Json>, ProviderError> {
        let req = Request::get(self.service, self.path)
            .query("folderId", folder)
            .query("filter", format!("name=\"{name}\""));
        let items = list_all(cx, req, self.list_key, &cx.what("looking up by name", kind)).await?;
        Ok(items
            .into_iter()
            .find(|i| i.get("name").and_then(Json::as_str) == Some(name)))
    }

    /// Creates from `body`; the new resource as the API shows it.
    pub async fn create(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        body: Json,
    ) -> Result<Json, ProviderError> {
        let what = cx.what("creating", kind);
        let done = mutate(
            cx,
            Method::Post,
            self.service,
            self.path,
            Some(body),
            kind.timeouts().create,
            &what,
        )
        .await?;
        let id = done
            .operation
            .meta(self.id_key)
            .or_else(|| {
                done.response
                    .get("id")
                    .and_then(Json::as_str)
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                ProviderError::new(format!("{what}: the operation names no {}", self.id_key))
            })?;
        self.get(cx, kind, &id).await?.ok_or_else(|| {
            ProviderError::new(format!("{what}: {id} was created but cannot be read"))
        })
    }

    /// Updates the masked fields of `id`; the resource as the API shows it after.
    pub async fn update(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        id: &str,
        body: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let what = cx.what("updating", kind);
        mutate(
            cx,
            Method::Patch,
            self.service,
            &self.item(id),
            Some(masked(body, mask)),
            kind.timeouts().update,
            &what,
        )
        .await?;
        self.get(cx, kind, id).await?.ok_or_else(|| {
            ProviderError::new(format!("{what}: {id} disappeared during the update"))
        })
    }

    /// Deletes `id`; already gone is fine.
    pub async fn delete(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        id: &str,
    ) -> Result<(), ProviderError> {
        delete(cx, kind, self.service, &self.item(id)).await
    }
}

/// DELETE and wait; a 404 (already gone) is success.
pub async fn delete(
    cx: &Cx<'_>,
    kind: &dyn Kind,
    service: Service,
    path: &str,
) -> Result<(), ProviderError> {
    let what = cx.what("deleting", kind);
    let req = Request::mutation(Method::Delete, service, path, None);
    operation::mutate_unless_gone(cx.session, req, kind.timeouts().delete, &what).await?;
    Ok(())
}

/// Children of a cluster keyed by name (Kafka topics and users, PostgreSQL databases and users).
pub struct Children {
    pub service: Service,
    /// `/managed-kafka/v1/clusters`.
    pub parent: &'static str,
    /// `topics`.
    pub child: &'static str,
    /// The create body's wrapper key (`topicSpec`).
    pub spec_key: &'static str,
}

impl Children {
    pub fn collection(&self, cluster_id: &str) -> String {
        format!("{}/{cluster_id}/{}", self.parent, self.child)
    }

    pub fn item(&self, cluster_id: &str, name: &str) -> String {
        format!("{}/{name}", self.collection(cluster_id))
    }

    pub async fn get(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        cluster_id: &str,
        name: &str,
    ) -> Result<Option<Json>, ProviderError> {
        if cluster_id.is_empty() || name.is_empty() {
            return Ok(None);
        }
        get(
            cx,
            self.service,
            &self.item(cluster_id, name),
            &cx.what("reading", kind),
        )
        .await
    }

    pub async fn create(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        cluster_id: &str,
        name: &str,
        spec: Json,
    ) -> Result<Json, ProviderError> {
        let what = cx.what("creating", kind);
        let body = serde_json::json!({ self.spec_key: spec });
        mutate(
            cx,
            Method::Post,
            self.service,
            &self.collection(cluster_id),
            Some(body),
            kind.timeouts().create,
            &what,
        )
        .await?;
        self.get(cx, kind, cluster_id, name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("{what}: created but cannot be read")))
    }

    /// PATCH `…/<name>` with a masked body; `new_name` when the update renames it.
    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        cluster_id: &str,
        name: &str,
        new_name: &str,
        body: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let what = cx.what("updating", kind);
        mutate(
            cx,
            Method::Patch,
            self.service,
            &self.item(cluster_id, name),
            Some(masked(body, mask)),
            kind.timeouts().update,
            &what,
        )
        .await?;
        self.get(cx, kind, cluster_id, new_name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("{what}: disappeared during the update")))
    }

    pub async fn delete(
        &self,
        cx: &Cx<'_>,
        kind: &dyn Kind,
        cluster_id: &str,
        name: &str,
    ) -> Result<(), ProviderError> {
        delete(cx, kind, self.service, &self.item(cluster_id, name)).await
    }
}

/// `<cluster id>:<name>` split back (an import id or a recorded `id`).
pub fn split_child_id(id: &str) -> Result<(String, String), String> {
    match id.split_once(':') {
        Some((c, n)) if !c.is_empty() && !n.is_empty() => Ok((c.to_string(), n.to_string())),
        _ => Err(format!("`{id}` is not <cluster id>:<name>")),
    }
}

/// A string attribute of plain attributes, or "".
pub fn attr<'a>(attrs: &'a Json, key: &str) -> &'a str {
    attrs.get(key).and_then(Json::as_str).unwrap_or("")
}
