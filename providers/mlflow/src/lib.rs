//! The `mlflow` provider: reads the MLflow model registry so a stack can follow it. The data
//! source `mlflow_model_version` resolves a registered model's alias (MLflow ≥ 2.9; stages are
//! deprecated) or an explicit version to its version number, source URI, run id and tags; when
//! the alias moves, the next plan changes exactly what consumes those attributes.
//!
//! Credentials come from the provider block (`token`, or `username` + `password`, sensitive) or
//! from MLflow's own environment variables (`MLFLOW_TRACKING_TOKEN`,
//! `MLFLOW_TRACKING_USERNAME`, `MLFLOW_TRACKING_PASSWORD`), and are never recorded.

pub mod client;
mod model_version;

pub use client::{Auth, Client, ClientError};

use mlstack_provider_api::{
    ApplyRequest, AttrSchema, AttrType, PlanRequest, PlannedResource, Provider, ProviderError,
    ProviderResult, ProviderSchema, ReadResult, ResourceRef, ResourceSchema, ValidationIssue,
    Value,
};

/// The `mlflow` provider (data sources only).
pub struct MlflowProvider;

/// The data source type that resolves one model version.
pub const MODEL_VERSION: &str = "mlflow_model_version";

#[async_trait::async_trait]
impl Provider for MlflowProvider {
    fn name(&self) -> &'static str {
        "mlflow"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: ResourceSchema::new("Where the MLflow tracking server is and how to log in")
                .attr(
                    "tracking_uri",
                    AttrSchema::input(AttrType::String)
                        .describe("default for every data source; else MLFLOW_TRACKING_URI"),
                )
                .attr(
                    "token",
                    AttrSchema::input(AttrType::String)
                        .sensitive()
                        .describe("bearer token; else MLFLOW_TRACKING_TOKEN"),
                )
                .attr(
                    "username",
                    AttrSchema::input(AttrType::String)
                        .describe("basic auth user; else MLFLOW_TRACKING_USERNAME"),
                )
                .attr(
                    "password",
                    AttrSchema::input(AttrType::String)
                        .sensitive()
                        .describe("basic auth password; else MLFLOW_TRACKING_PASSWORD"),
                ),
            ..ProviderSchema::default()
        };
        s.data_sources
            .insert(MODEL_VERSION, model_version::schema());
        s
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        if type_name == MODEL_VERSION {
            model_version::validate(properties)
        } else {
            Vec::new()
        }
    }

    async fn read(&self, r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<ReadResult> {
        Err(no_resources(r.type_name))
    }

    async fn plan(&self, q: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        Err(no_resources(q.resource.type_name))
    }

    async fn apply(&self, q: ApplyRequest<'_>) -> ProviderResult<Value> {
        Err(no_resources(q.resource.type_name))
    }

    async fn delete(&self, r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<()> {
        Err(no_resources(r.type_name))
    }

    async fn read_data(&self, r: ResourceRef<'_>, properties: &Value) -> ProviderResult<Value> {
        if r.type_name != MODEL_VERSION {
            return Err(ProviderError::new(format!(
                "the mlflow provider has no data source {}",
                r.type_name
            )));
        }
        model_version::read(r.provider_config, properties).await
    }
}

fn no_resources(type_name: &str) -> ProviderError {
    ProviderError::new(format!(
        "the mlflow provider has only data sources; `{type_name}` is not one of its resources"
    ))
}

/// The tracking server and credentials for one call: the data source's own `tracking_uri`
/// first, then the provider block, then MLflow's environment variables.
pub fn connect(provider_config: &Value, properties: &Value) -> Result<Client, String> {
    let setting = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let uri = setting(properties, "tracking_uri")
        .or_else(|| setting(provider_config, "tracking_uri"))
        .or_else(|| env("MLFLOW_TRACKING_URI"))
        .ok_or("no MLflow server: set `tracking_uri` on the data source or the mlflow provider block, or MLFLOW_TRACKING_URI")?;
    let token = setting(provider_config, "token").or_else(|| env("MLFLOW_TRACKING_TOKEN"));
    let user = setting(provider_config, "username").or_else(|| env("MLFLOW_TRACKING_USERNAME"));
    let password = setting(provider_config, "password").or_else(|| env("MLFLOW_TRACKING_PASSWORD"));
    let auth = match (token, user, password) {
        (Some(t), _, _) => Auth::Bearer(t),
        (None, Some(username), Some(password)) => Auth::Basic { username, password },
        (None, Some(_), None) => {
            return Err("MLflow basic auth has a username but no password (provider `password` or MLFLOW_TRACKING_PASSWORD)".into())
        }
        _ => Auth::None,
    };
    Client::new(&uri, auth)
}
