//! The `kubernetes` provider: Kubernetes objects, each with its own address.
//!
//! `kubernetes_object` is one object (its whole `manifest`); `kubernetes_manifests` is a bundle
//! the loader expands into one `kubernetes_object` per manifest, addressed
//! `NAME["<apiVersion>/<Kind>/<namespace>/<name>"]` (cluster-scoped: no namespace part). Every
//! object is stamped at load with `app.kubernetes.io/managed-by: mlstack` and
//! `mlstack.dev/stack: <stack>`. Namespaces and CRDs are ordered before what needs them through
//! [`Provider::ordering`].
//!
//! Against a cluster it speaks JSON REST over its own lean HTTPS client (hyper + tokio-rustls
//! with ring, already in the workspace through the sandbox) rather than `kube` + `k8s-openapi`:
//! the provider works on untyped manifests only, so the typed API and its compile time buy
//! nothing. Plans are server-side apply dry-runs (field manager `mlstack`, force) compared with
//! the live object reduced to the fields the stack declares; see [`stages`] for the rules.
//! While the provider configuration holds unknowns (its cluster is created in the same apply),
//! objects plan as creates without contacting anything.

mod api;
mod conn;
mod http;
mod kinds;
mod names;
mod ready;
mod rest;
mod retry;
pub mod rollout;
mod shape;
pub mod stages;
mod validate;
mod yaml;

pub use conn::{from_config, from_kubeconfig, Conn};
pub use kinds::{scope, Scope};
pub use names::{is_dns_label, is_dns_subdomain, is_label_key, is_label_value};
pub use rest::{RestClient, RestResponse};

use api::{Client, ObjectId};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlstack_provider_api::{
    parse_path, ApplyRequest, AttrSchema, AttrType, BundleSpec, KeyPath, OrderingKeys, PathStep,
    PlanRequest, PlannedResource, Provider, ProviderError, ProviderResult, ProviderSchema,
    ReadResult, ResourceRef, ResourceSchema, StampValue, ValidationIssue, Value,
};

/// Label every managed object carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Label naming the stack that manages an object.
pub const STACK_LABEL: &str = "mlstack.dev/stack";

/// How `kubernetes_manifests` expands: the key of an object is
/// `apiVersion/kind[/metadata.namespace]/metadata.name`.
pub const BUNDLE: BundleSpec = BundleSpec {
    list_attr: "manifests",
    item_type: "kubernetes_object",
    item_attr: "manifest",
    key_paths: &[
        KeyPath {
            path: &["apiVersion"],
            required: true,
        },
        KeyPath {
            path: &["kind"],
            required: true,
        },
        KeyPath {
            path: &["metadata", "namespace"],
            required: false,
        },
        KeyPath {
            path: &["metadata", "name"],
            required: true,
        },
    ],
};

/// The built-in `kubernetes` provider. Clients are cached per connection; the full live
/// objects refresh read are kept for the plan's "changed by" notes.
#[derive(Default)]
pub struct KubernetesProvider {
    /// Used instead of every provider block's settings (`--sandbox`).
    override_conn: Option<Conn>,
    /// Leave fields other managers own alone and fail instead (`--no-force-conflicts`).
    no_force_conflicts: bool,
    clients: Mutex<BTreeMap<Conn, Arc<Client>>>,
    live: Mutex<BTreeMap<String, Json>>,
}

impl KubernetesProvider {
    /// A provider that connects as each provider block says.
    pub fn new() -> Self {
        Self::default()
    }

    /// A provider that connects to `conn` whatever the stack says (the sandbox).
    pub fn with_connection(conn: Conn) -> Self {
        KubernetesProvider {
            override_conn: Some(conn),
            ..Self::default()
        }
    }

    /// Apply stops on a field-manager conflict instead of taking the fields back
    /// (`--no-force-conflicts`); the error names the other manager and the fields.
    pub fn without_force_conflicts(mut self) -> Self {
        self.no_force_conflicts = true;
        self
    }

    /// Whether objects of this resource must plan without contacting anything.
    fn offline_config(&self, config: &Value) -> bool {
        self.override_conn.is_none() && config.contains_unknown()
    }

    fn client(&self, config: &Value) -> ProviderResult<Arc<Client>> {
        let conn = match &self.override_conn {
            Some(c) => c.clone(),
            None => conn::from_config(config).map_err(ProviderError::new)?,
        };
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| ProviderError::new("kubernetes client cache poisoned"))?;
        if let Some(c) = clients.get(&conn) {
            return Ok(c.clone());
        }
        let c = Arc::new(Client::new(&conn).map_err(ProviderError::new)?);
        clients.insert(conn, c.clone());
        Ok(c)
    }

    fn remember(&self, address: &str, obj: &Json) {
        if let Ok(mut m) = self.live.lock() {
            m.insert(address.to_string(), obj.clone());
        }
    }

    fn recall(&self, address: &str) -> Option<Json> {
        self.live.lock().ok()?.get(address).cloned()
    }
}

fn object_type(type_name: &str) -> ProviderResult<()> {
    if type_name == "kubernetes_object" {
        Ok(())
    } else {
        Err(ProviderError::new(format!(
            "the kubernetes provider has no resource type {type_name}"
        )))
    }
}

fn id_of(v: &Value) -> ProviderResult<ObjectId> {
    ObjectId::of(&stages::manifest_of(v)).map_err(ProviderError::new)
}

fn object_schema() -> ResourceSchema {
    ResourceSchema::new("One Kubernetes object of any kind, applied server-side")
        .attr(
            "manifest",
            AttrSchema::input(AttrType::Any)
                .required()
                .describe("the object: apiVersion, kind, metadata, and the rest"),
        )
        .stamp(
            &["manifest", "metadata", "labels", MANAGED_BY_LABEL],
            StampValue::Literal("mlstack"),
        )
        .stamp(
            &["manifest", "metadata", "labels", STACK_LABEL],
            StampValue::StackName,
        )
}

fn config_schema() -> ResourceSchema {
    let s = |d| AttrSchema::input(AttrType::String).describe(d);
    ResourceSchema::new("How to reach the cluster; values may refer to a cluster resource")
        .attr("kubeconfig", s("path of a kubeconfig file"))
        .attr("context", s("the kubeconfig context to use"))
        .attr("host", s("API server URL, e.g. ${cluster.endpoint}"))
        .attr("cluster_ca_certificate", s("PEM of the cluster CA"))
        .attr(
            "token",
            AttrSchema::input(AttrType::String)
                .sensitive()
                .describe("bearer token"),
        )
        .attr(
            "insecure",
            AttrSchema::input(AttrType::Bool).describe("skip TLS verification (tests only)"),
        )
}

/// The planned attributes of an object that does not exist yet: the manifest with the fields
/// only the API server sets unknown.
fn planned_create(desired: &Value) -> Value {
    let mut planned = desired.clone();
    for field in ["uid", "resourceVersion"] {
        let path: Vec<PathStep> = ["manifest", "metadata", field]
            .iter()
            .map(|s| PathStep::Key(s.to_string()))
            .collect();
        planned.set_path(&path, Value::Unknown);
    }
    planned
}

fn text<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

#[async_trait::async_trait]
impl Provider for KubernetesProvider {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: config_schema(),
            ..ProviderSchema::default()
        };
        s.resources.insert("kubernetes_object", object_schema());
        s.resources.insert(rollout::TYPE, rollout::schema());
        s.resources.insert(
            "kubernetes_manifests",
            ResourceSchema::new(
                "Many objects, each its own resource NAME[\"apiVersion/Kind/namespace/name\"]",
            )
            .attr(
                "manifests",
                AttrSchema::input(AttrType::List)
                    .required()
                    .describe("a list of Kubernetes objects"),
            )
            .bundle(BUNDLE),
        );
        s
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        match type_name {
            "kubernetes_object" => validate::object(properties),
            rollout::TYPE => rollout::spec::validate(properties),
            _ => Vec::new(),
        }
    }

    fn ordering(&self, type_name: &str, properties: &Value) -> OrderingKeys {
        let mut keys = OrderingKeys::default();
        let Some(m) = properties
            .get("manifest")
            .filter(|_| type_name == "kubernetes_object")
        else {
            return keys;
        };
        let kind = text(m, &["kind"]);
        if let Some(ns) = text(m, &["metadata", "namespace"]) {
            keys.requires.push(format!("namespace/{ns}"));
        }
        if let (Some((group, _)), Some(k)) = (
            text(m, &["apiVersion"]).and_then(|a| a.split_once('/')),
            kind,
        ) {
            keys.requires.push(format!("kind/{group}/{k}"));
        }
        match kind {
            Some("Namespace") => {
                if let Some(n) = text(m, &["metadata", "name"]) {
                    keys.provides.push(format!("namespace/{n}"));
                }
            }
            Some("CustomResourceDefinition") => {
                if let (Some(g), Some(k)) = (
                    text(m, &["spec", "group"]),
                    text(m, &["spec", "names", "kind"]),
                ) {
                    keys.provides.push(format!("kind/{g}/{k}"));
                }
            }
            _ => {}
        }
        keys
    }

    async fn read(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<ReadResult> {
        if r.type_name == rollout::TYPE {
            // The rollout's record is the truth about its phase; its objects are checked by apply.
            return Ok(ReadResult::Found(prior.clone()));
        }
        object_type(r.type_name)?;
        let id = id_of(prior)?;
        let client = self.client(r.provider_config)?;
        match client.get(&id).await {
            Ok(Some(live)) => {
                self.remember(r.address, &live);
                let recorded = stages::manifest_of(prior);
                Ok(ReadResult::Found(stages::wrap(
                    stages::read_projection(&live, &recorded),
                    prior,
                )))
            }
            Ok(None) => Ok(ReadResult::Gone),
            Err(e) => Err(stages::err(&id, "read failed", e)),
        }
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        if req.resource.type_name == rollout::TYPE {
            return rollout::plan(&req);
        }
        object_type(req.resource.type_name)?;
        let Some(live) = req.live else {
            return Ok(PlannedResource::new(planned_create(req.desired)));
        };
        let mut ignore: Vec<_> = stages::SERVER_FIELDS
            .iter()
            .map(|p| parse_path(p))
            .collect();
        if self.offline_config(req.resource.provider_config) || req.desired.contains_unknown() {
            let mut p = PlannedResource::new(planned_create(req.desired));
            p.ignore_paths = ignore;
            return Ok(p);
        }
        let id = id_of(req.desired)?;
        let client = self.client(req.resource.provider_config)?;
        let mut want = stages::manifest_of(req.desired);
        let mut notes = Vec::new();
        let full = self.recall(req.resource.address);
        if full.as_ref().is_some_and(stages::scaled_externally) {
            ignore.push(parse_path("manifest.spec.replicas"));
        }
        if stages::hpa_targets(&client, &id).await? {
            if let Some(spec) = want.get_mut("spec").and_then(Json::as_object_mut) {
                if spec.remove("replicas").is_some() {
                    notes.push(
                        "spec.replicas is left to the HorizontalPodAutoscaler that targets it"
                            .to_string(),
                    );
                }
            }
            ignore.push(parse_path("manifest.spec.replicas"));
        }
        let live_manifest = stages::manifest_of(live);
        match client.apply(&want, true, true).await {
            Ok(result) => {
                let planned = shape::project(&result, &[&want, &live_manifest]);
                if let Some(full) = &full {
                    notes.extend(stages::drift_notes(&planned, &live_manifest, full, &ignore));
                }
                Ok(PlannedResource {
                    planned: stages::wrap(planned, req.desired),
                    requires_replace: Vec::new(),
                    ignore_paths: ignore,
                    notes,
                    adopted: None,
                })
            }
            Err(e) if !e.immutable_fields().is_empty() => {
                let fields = e.immutable_fields();
                notes.push(format!(
                    "the API server refuses to change {} in place",
                    fields.join(", ")
                ));
                Ok(PlannedResource {
                    planned: planned_create(req.desired),
                    requires_replace: stages::replace_paths(&fields),
                    ignore_paths: ignore,
                    notes,
                    adopted: None,
                })
            }
            Err(e) if e.not_found() => {
                let mut p = PlannedResource::new(planned_create(req.desired));
                p.ignore_paths = ignore;
                Ok(p)
            }
            Err(e) => Err(stages::err(&id, "server-side apply dry-run failed", e)),
        }
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> ProviderResult<Value> {
        if req.resource.type_name == rollout::TYPE {
            let client = self.client(req.resource.provider_config)?;
            return rollout::apply(&client, &req).await;
        }
        object_type(req.resource.type_name)?;
        let id = id_of(req.desired)?;
        let client = self.client(req.resource.provider_config)?;
        let mut want = stages::manifest_of(req.desired);
        if req.prior.is_some() && stages::hpa_targets(&client, &id).await? {
            if let Some(spec) = want.get_mut("spec").and_then(Json::as_object_mut) {
                spec.remove("replicas");
            }
        }
        if !req.ignore_paths.is_empty() {
            // ignore_changes: fields we leave to others are not sent, so not owned.
            let mut v = stages::wrap(want, &Value::map());
            for p in req.ignore_paths {
                v.remove_path(p);
            }
            want = stages::manifest_of(&v);
        }
        let result = client
            .apply(&want, false, !self.no_force_conflicts)
            .await
            .map_err(|e| {
                if e.field_conflict() {
                    stages::err(
                        &id,
                        "server-side apply stopped (--no-force-conflicts); apply without it to take these fields back",
                        e,
                    )
                } else {
                    stages::err(&id, "server-side apply failed", e)
                }
            })?;
        self.remember(req.resource.address, &result);
        Ok(stages::wrap(shape::project(&result, &[&want]), req.desired))
    }

    async fn delete(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<()> {
        if r.type_name == rollout::TYPE {
            let client = self.client(r.provider_config)?;
            return rollout::delete(&client, prior).await;
        }
        object_type(r.type_name)?;
        let id = id_of(prior)?;
        let client = self.client(r.provider_config)?;
        stages::delete(&client, &id).await
    }

    async fn wait_ready(
        &self,
        r: ResourceRef<'_>,
        state: &Value,
        timeout: Duration,
    ) -> ProviderResult<()> {
        if r.type_name == rollout::TYPE {
            // Apply returns only once the rollout finished.
            return Ok(());
        }
        object_type(r.type_name)?;
        let id = id_of(state)?;
        let client = self.client(r.provider_config)?;
        stages::wait_ready(&client, &id, timeout.min(Duration::from_secs(300))).await
    }
}

#[cfg(test)]
mod tests;
