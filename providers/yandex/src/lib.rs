//! The `yandex` provider: Yandex Cloud network, IAM, Managed Kubernetes, Managed Kafka, Managed
//! PostgreSQL and Object Storage, with Terraform's attribute names.
//!
//! This step is static only: schemas, validation and the plan of a create (the desired
//! attributes with the computed ones unknown), which is all a stack needs to validate, plan from
//! empty state and render without a cloud. Talking to the API (issue 5) comes next; until then
//! read, apply and delete say so.

mod schema;
mod validate;

pub use schema::nested_force_new;
pub use validate::{cidr_prefix, is_cloud_name};

use mlstack_provider_api::{
    ApplyRequest, PlanRequest, PlannedResource, Provider, ProviderError, ProviderResult,
    ProviderSchema, ReadResult, ResourceRef, ValidationIssue, Value,
};

/// The built-in `yandex` provider.
pub struct YandexProvider;

fn no_cloud() -> ProviderError {
    ProviderError::new("the yandex provider cannot reach the cloud yet (issue 5)")
}

/// The planned attributes of a resource that does not exist yet: what the stack sets, the
/// provider's defaults (`folder_id`, a subnet's `zone`) and every other computed attribute
/// unknown.
fn planned_create(type_name: &str, desired: &Value, config: &Value) -> Value {
    let mut planned = desired.clone();
    let Some(rs) = YandexProvider.schema().resources.remove(type_name) else {
        return planned;
    };
    let Value::Map(m) = &mut planned else {
        return planned;
    };
    let defaults = [("folder_id", "folder_id"), ("zone", "zone")];
    for (attr, key) in defaults {
        let unset = m.get(attr).is_none_or(|v| matches!(v, Value::Null));
        if rs.attributes.contains_key(attr) && unset {
            let v = match config.get(key) {
                Some(v) if !matches!(v, Value::Null) => v.clone(),
                _ => Value::Unknown,
            };
            m.insert(attr.to_string(), v);
        }
    }
    for (name, a) in &rs.attributes {
        if a.computed && m.get(*name).is_none_or(|v| matches!(v, Value::Null)) {
            m.insert(name.to_string(), Value::Unknown);
        }
    }
    planned
}

#[async_trait::async_trait]
impl Provider for YandexProvider {
    fn name(&self) -> &'static str {
        "yandex"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: schema::config(),
            ..ProviderSchema::default()
        };
        s.resources.extend(schema::resources());
        s.data_sources.extend(schema::data_sources());
        s
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        if type_name == "yandex" {
            return validate::config(properties);
        }
        validate::resource(type_name, properties)
    }

    async fn read(&self, _r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<ReadResult> {
        Err(no_cloud())
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        let t = req.resource.type_name;
        if !self.schema().resources.contains_key(t) {
            return Err(ProviderError::new(format!(
                "the yandex provider has no resource type {t}"
            )));
        }
        if req.prior.is_none() && req.live.is_none() {
            return Ok(PlannedResource::new(planned_create(
                t,
                req.desired,
                req.resource.provider_config,
            )));
        }
        Err(no_cloud())
    }

    async fn apply(&self, _req: ApplyRequest<'_>) -> ProviderResult<Value> {
        Err(no_cloud())
    }

    async fn delete(&self, _r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<()> {
        Err(no_cloud())
    }

    async fn read_data(&self, _r: ResourceRef<'_>, _properties: &Value) -> ProviderResult<Value> {
        Err(no_cloud())
    }
}

#[cfg(test)]
mod tests;
