//! The `kubernetes` provider: Kubernetes objects, each with its own address.
//!
//! `kubernetes_object` is one object (its whole `manifest`); `kubernetes_manifests` is a bundle
//! the loader expands into one `kubernetes_object` per manifest, addressed
//! `NAME["<apiVersion>/<Kind>/<namespace>/<name>"]` (cluster-scoped: no namespace part). Every
//! object is stamped at load with `app.kubernetes.io/managed-by: mlstack` and
//! `mlstack.dev/stack: <stack>`. Namespaces and CRDs are ordered before what needs them through
//! [`Provider::ordering`].
//!
//! This step is static only: schema and validation. Talking to a cluster (server-side apply,
//! dry-run diffs, readiness) comes with the sandbox; until then only planning the creation of an
//! object that exists nowhere works, which is what a stack whose cluster is not created yet needs.

mod kinds;
mod names;
mod validate;

pub use kinds::{scope, Scope};
pub use names::{is_dns_label, is_dns_subdomain, is_label_key, is_label_value};

use mlstack_provider_api::{
    ApplyRequest, AttrSchema, AttrType, BundleSpec, KeyPath, OrderingKeys, PathStep, PlanRequest,
    PlannedResource, Provider, ProviderError, ProviderResult, ProviderSchema, ReadResult,
    ResourceRef, ResourceSchema, StampValue, ValidationIssue, Value,
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

/// The built-in `kubernetes` provider.
pub struct KubernetesProvider;

fn no_cluster() -> ProviderError {
    ProviderError::new(
        "the kubernetes provider cannot reach a cluster yet (coming with the sandbox)",
    )
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

    async fn read(&self, _r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<ReadResult> {
        Err(no_cluster())
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        if req.resource.type_name != "kubernetes_object" {
            return Err(ProviderError::new(format!(
                "the kubernetes provider has no resource type {}",
                req.resource.type_name
            )));
        }
        if req.prior.is_none() && req.live.is_none() {
            return Ok(PlannedResource::new(planned_create(req.desired)));
        }
        Err(no_cluster())
    }

    async fn apply(&self, _req: ApplyRequest<'_>) -> ProviderResult<Value> {
        Err(no_cluster())
    }

    async fn delete(&self, _r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<()> {
        Err(no_cluster())
    }
}

#[cfg(test)]
mod tests;
