//! The API's request handling, synchronous over the store: routing, CRUD, patches and
//! server-side apply. The network layer (server.rs) only moves bytes in and out.

use crate::catalog::{Catalog, ResourceType};
use crate::discovery;
use crate::error::ApiError;
use crate::router::{route, Route, Target};
use crate::store::{Key, Store};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One HTTP request as the API sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: String,
    pub user_agent: String,
    pub body: Vec<u8>,
}

/// A JSON answer and its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub code: u16,
    pub body: Value,
}

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        Response {
            code: e.code,
            body: e.to_status(),
        }
    }
}

/// The API state: served types, objects, and objects waiting for a simulated controller.
#[derive(Debug)]
pub struct Api {
    pub catalog: Catalog,
    pub store: Store,
    /// `host:port` for `/api`'s serverAddressByClientCIDRs.
    pub server_address: String,
    /// Objects whose spec changed (key, uid), drained by the server to run controllers.
    pub pending: Vec<(Key, String)>,
    pub(crate) next_ip: u32,
    /// What the simulated controllers remember between ticks.
    pub(crate) ctl: crate::controllers::State,
    /// `Warning` headers for the answer being built (unknown fields under `Warn`).
    pub warnings: Vec<String>,
}

impl Api {
    /// Wraps a store, registering the CRDs it holds.
    pub fn new(store: Store) -> Api {
        // Built once per process, here rather than in the first write's request.
        crate::openapi::fields::builtin();
        let mut catalog = Catalog::default();
        let crds: Vec<Value> = store
            .list("apiextensions.k8s.io", "customresourcedefinitions", None)
            .map(|(_, v)| v.clone())
            .collect();
        for crd in &crds {
            let _ = catalog.register_crd(crd);
        }
        Api {
            catalog,
            store,
            server_address: String::new(),
            pending: Vec::new(),
            next_ip: 10,
            ctl: Default::default(),
            warnings: Vec::new(),
        }
    }

    /// Answers one request.
    pub fn handle(&mut self, req: &Request) -> Response {
        let ok = |body: Value| Response { code: 200, body };
        match route(&req.path) {
            Route::Version => ok(discovery::version()),
            Route::Health => ok(json!("ok")),
            Route::CoreVersions => ok(discovery::core_versions(&self.server_address)),
            Route::GroupList => ok(discovery::group_list(&self.catalog)),
            Route::Group(g) => discovery::group(&self.catalog, &g)
                .map(ok)
                .unwrap_or_else(|| not_served().into()),
            Route::ResourceList { group, version } => {
                discovery::resource_list(&self.catalog, &group, &version)
                    .map(ok)
                    .unwrap_or_else(|| not_served().into())
            }
            Route::Resource(t) => match self.resource(req, &t) {
                Ok(r) => r,
                Err(e) => e.into(),
            },
            Route::OpenApiV2 => ok(crate::openapi::v2(&self.catalog, &self.store)),
            Route::OpenApiV3 => ok(crate::openapi::v3_index(&self.catalog, &self.store)),
            Route::OpenApiV3Doc(rest) => crate::openapi::parse_gv(&rest)
                .and_then(|(g, v)| crate::openapi::v3_doc(&self.catalog, &self.store, &g, &v))
                .map(ok)
                .unwrap_or_else(|| not_served().into()),
            Route::NotFound => not_served().into(),
        }
    }

    fn resource(&mut self, req: &Request, t: &Target) -> Result<Response, ApiError> {
        let rt = self
            .catalog
            .find(&t.group, &t.version, &t.resource)
            .cloned()
            .ok_or_else(not_served)?;
        if (t.namespace.is_some() && !rt.namespaced)
            || (t.name.is_some() && t.namespace.is_none() && rt.namespaced)
        {
            return Err(not_served());
        }
        let sub = t.subresource.as_deref().unwrap_or("");
        let scalable = has_scale(&rt);
        if !(sub.is_empty() || (sub == "status" && rt.status) || (sub == "scale" && scalable)) {
            return Err(not_served());
        }
        if crate::review::is_review(&rt) {
            return match (&t.name, req.method.as_str()) {
                (None, "POST") => crate::review::create(&rt, req),
                _ => Err(method_not_allowed()),
            };
        }
        let ns = t.namespace.clone().unwrap_or_default();
        let method = req.method.as_str();
        match (&t.name, method) {
            (None, "GET") => self.list(req, &rt, t.namespace.as_deref()),
            (None, "POST") => self.create(req, &rt, &ns),
            (None, "DELETE") => self.delete_collection(req, &rt, t.namespace.as_deref()),
            (Some(name), _) => {
                let key = Key {
                    group: rt.group.clone(),
                    resource: rt.resource.clone(),
                    namespace: ns,
                    name: name.clone(),
                };
                if sub == "scale" {
                    return self.scale(req, &rt, key);
                }
                match method {
                    "GET" => self.get(&rt, &key),
                    "PUT" => self.update(req, &rt, key, sub),
                    "PATCH" => self.patch(req, &rt, key, sub),
                    "DELETE" if sub.is_empty() => self.delete(req, &rt, &key),
                    _ => Err(method_not_allowed()),
                }
            }
            _ => Err(method_not_allowed()),
        }
    }

    fn get(&self, rt: &ResourceType, key: &Key) -> Result<Response, ApiError> {
        let obj = self
            .store
            .get(key)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, &key.name))?;
        Ok(Response {
            code: 200,
            body: as_version(obj, rt),
        })
    }

    fn list(
        &self,
        req: &Request,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> Result<Response, ApiError> {
        Ok(Response {
            code: 200,
            body: crate::paginate::list(&self.store, req, rt, ns)?,
        })
    }

    pub(crate) fn select(
        &self,
        req: &Request,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> Result<Vec<Value>, ApiError> {
        let filter = crate::paginate::Filter::from_request(req, ns)?;
        Ok(self
            .store
            .list(&rt.group, &rt.resource, ns)
            .filter(|(k, v)| filter.matches(k, v))
            .map(|(_, v)| as_version(v, rt))
            .collect())
    }
}

/// The object as served at `rt`'s version (custom resources share storage across versions).
pub fn as_version(obj: &Value, rt: &ResourceType) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), json!(rt.group_version()));
        m.insert("kind".into(), json!(rt.kind));
    }
    v
}

/// Kinds with a `/scale` subresource (what `kubectl scale` and HPAs write).
pub fn has_scale(rt: &ResourceType) -> bool {
    !rt.custom
        && matches!(
            rt.kind.as_str(),
            "Deployment" | "StatefulSet" | "ReplicaSet"
        )
}

/// Whether the request asks for a dry run (`dryRun=All`).
pub fn dry_run(req: &Request) -> bool {
    req.query.get("dryRun").is_some_and(|v| !v.is_empty())
}

fn not_served() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )
}
