//! The `local` provider: things on the machine running mlstack. `local_file` writes files
//! (rendered manifests for GitOps, kubeconfigs); `local_command` runs a command once (and again
//! when its triggers change), as Terraform's local-exec does.

mod command;
mod file;

use mlstack_provider_api::{
    ApplyRequest, PlanRequest, PlannedResource, Provider, ProviderError, ProviderResult,
    ProviderSchema, ReadResult, ResourceRef, ValidationIssue, Value,
};

/// The built-in `local` provider.
pub struct LocalProvider;

fn unknown_type(t: &str) -> ProviderError {
    ProviderError::new(format!("the local provider has no resource type {t}"))
}

#[async_trait::async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resources.insert("local_file", file::schema());
        s.resources.insert("local_command", command::schema());
        s.data_sources.insert("local_file", file::data_schema());
        s.data_sources
            .insert("local_sensitive_file", file::sensitive_data_schema());
        s
    }

    fn offline(&self) -> bool {
        true
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        match type_name {
            "local_file" => file::validate(properties),
            "local_command" => command::validate(properties),
            _ => Vec::new(),
        }
    }

    async fn read(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<ReadResult> {
        match r.type_name {
            "local_file" => file::read(prior).await,
            "local_command" => Ok(ReadResult::Found(prior.clone())),
            t => Err(unknown_type(t)),
        }
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        match req.resource.type_name {
            "local_file" => file::plan(req).await,
            "local_command" => Ok(command::plan(req)),
            t => Err(unknown_type(t)),
        }
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> ProviderResult<Value> {
        match req.resource.type_name {
            "local_file" => file::apply(req).await,
            "local_command" => command::apply(req).await,
            t => Err(unknown_type(t)),
        }
    }

    async fn delete(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<()> {
        match r.type_name {
            "local_file" => file::delete(prior).await,
            "local_command" => command::delete(prior).await,
            t => Err(unknown_type(t)),
        }
    }

    async fn import(&self, r: ResourceRef<'_>, id: &str) -> ProviderResult<Value> {
        match r.type_name {
            "local_file" => file::import(id).await,
            t => Err(ProviderError::new(format!(
                "{t} resources cannot be imported"
            ))),
        }
    }

    async fn read_data(&self, r: ResourceRef<'_>, properties: &Value) -> ProviderResult<Value> {
        match r.type_name {
            "local_file" | "local_sensitive_file" => file::read_data(properties).await,
            t => Err(unknown_type(t)),
        }
    }
}
