//! The stages a provider takes part in, as one async trait.

use crate::{Path, ProviderSchema, Value};
use std::fmt;
use std::time::Duration;

/// An error from a provider. The message must never contain a sensitive value.
#[derive(Debug, Clone)]
pub struct ProviderError {
    pub message: String,
    /// Worth retrying (throttling, a transient server error, a dropped connection).
    pub retryable: bool,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: false,
        }
    }

    pub fn retryable(message: impl Into<String>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: true,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProviderError {}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// A problem found by static validation, at a path inside the resource's properties.
#[derive(Debug, Clone)]
pub struct ValidationIssue {
    pub path: Path,
    pub message: String,
    pub hint: Option<String>,
}

/// What the engine knows about one resource when it asks the provider something.
#[derive(Debug, Clone, Copy)]
pub struct ResourceRef<'a> {
    /// The stable address, e.g. `db_password` or `module.app.object["v1/Service/app/api"]`.
    pub address: &'a str,
    /// The resource type, e.g. `random_password`.
    pub type_name: &'a str,
    /// The provider block's evaluated configuration (may hold unknowns during plan).
    pub provider_config: &'a Value,
}

/// Refresh: what the provider found live for a resource it created before.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadResult {
    /// The object exists; its current attributes.
    Found(Value),
    /// The object is gone (deleted out of band).
    Gone,
}

/// The provider's proposal for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedResource {
    /// The attributes after apply, with `Unknown` where only apply can tell.
    pub planned: Value,
    /// Attributes whose change forces a replacement (empty: update in place is possible).
    pub requires_replace: Vec<Path>,
    /// Attribute paths whose change is not a real difference (server defaults, other managers).
    /// The engine diffs only what the provider did not list here.
    pub ignore_paths: Vec<Path>,
    /// Short notes to show under the change (e.g. "field spec.replicas changed by kubectl").
    pub notes: Vec<String>,
    /// An object with no state that the provider found by its unique name (a create that was
    /// sent but never recorded, e.g. the process was killed): its live attributes. The engine
    /// then plans an update of that object (adoption) instead of a second create.
    pub adopted: Option<Value>,
}

impl PlannedResource {
    pub fn new(planned: Value) -> Self {
        PlannedResource {
            planned,
            requires_replace: Vec::new(),
            ignore_paths: Vec::new(),
            notes: Vec::new(),
            adopted: None,
        }
    }
}

/// A request to plan one resource.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    pub resource: ResourceRef<'a>,
    /// The desired properties from the stack (may contain unknowns).
    pub desired: &'a Value,
    /// What the last apply recorded, if anything.
    pub prior: Option<&'a Value>,
    /// What refresh found live, if anything.
    pub live: Option<&'a Value>,
}

/// A request to create or update one resource.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    pub resource: ResourceRef<'a>,
    /// The desired properties, fully known now.
    pub desired: &'a Value,
    /// The recorded attributes when updating; `None` when creating.
    pub prior: Option<&'a Value>,
    /// The paths the engine must not force (ignore_changes, HPA-owned replicas, ...).
    pub ignore_paths: &'a [Path],
}

/// What one resource offers to and needs from others, as opaque keys the engine matches to add
/// ordering edges (a Kubernetes object needs `namespace/NAME`, which a Namespace object
/// offers). The engine adds an edge only when some resource offers the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderingKeys {
    pub provides: Vec<String>,
    pub requires: Vec<String>,
}

/// The stages every provider takes part in.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name in stack files (`random`, `local`, `kubernetes`, `yandex`).
    fn name(&self) -> &'static str;

    /// Types and attributes, for static validation and for marking sensitive attributes.
    fn schema(&self) -> ProviderSchema;

    /// Static checks beyond the schema. No network.
    fn validate(&self, _type_name: &str, _properties: &Value) -> Vec<ValidationIssue> {
        Vec::new()
    }

    /// True when reading this provider's data sources touches no network (local files, pure
    /// generators): `mlstack render`, which never contacts an API, reads them.
    fn offline(&self) -> bool {
        false
    }

    /// Ordering keys of one resource from its properties as known at load (unknowns inside).
    fn ordering(&self, _type_name: &str, _properties: &Value) -> OrderingKeys {
        OrderingKeys::default()
    }

    /// Refresh one resource from its recorded attributes.
    async fn read(&self, resource: ResourceRef<'_>, prior: &Value) -> ProviderResult<ReadResult>;

    /// Decide what the resource will look like after apply.
    async fn plan(&self, request: PlanRequest<'_>) -> ProviderResult<PlannedResource>;

    /// Create or update; returns the attributes to record.
    async fn apply(&self, request: ApplyRequest<'_>) -> ProviderResult<Value>;

    /// Delete a resource from its recorded attributes.
    async fn delete(&self, resource: ResourceRef<'_>, prior: &Value) -> ProviderResult<()>;

    /// Wait until the resource is usable by its dependents.
    async fn wait_ready(
        &self,
        _resource: ResourceRef<'_>,
        _state: &Value,
        _timeout: Duration,
    ) -> ProviderResult<()> {
        Ok(())
    }

    /// Adopt an existing object by its provider id (`mlstack import`): its live attributes,
    /// which state records as if mlstack had created it; the next plan shows any difference.
    async fn import(&self, resource: ResourceRef<'_>, id: &str) -> ProviderResult<Value> {
        let _ = id;
        Err(ProviderError::new(format!(
            "{} resources cannot be imported",
            resource.type_name
        )))
    }

    /// Read a data source (action `<=`).
    async fn read_data(
        &self,
        resource: ResourceRef<'_>,
        _properties: &Value,
    ) -> ProviderResult<Value> {
        Err(ProviderError::new(format!(
            "provider {} has no data source {}",
            self.name(),
            resource.type_name
        )))
    }
}
