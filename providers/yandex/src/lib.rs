//! The `yandex` provider: Yandex Cloud network, IAM, Managed Kubernetes, Managed Kafka, Managed
//! PostgreSQL and Object Storage, with Terraform's attribute names, over the public REST API.
//!
//! Layers, each in its own file: [`client`] (one HTTPS request, reqwest + rustls/ring),
//! [`auth`] and [`jwt`] (IAM tokens from an OAuth token or a service account key, cached and
//! refreshed), [`session`] (authenticated, retried calls with secrets scrubbed from errors),
//! [`operation`] (long-running operations, idempotency, MDB conflicts), [`planning`], [`diff`]
//! and [`mask`] (pure plan logic), one file per service family under `resources/` (attributes ⇄
//! API JSON), and [`stages`] (the `Provider` stages for every type alike).
//!
//! Plans are exact and quiet: what the stack leaves unset is taken from live, write-only
//! secrets come from the prior, updates send an `updateMask` of only the changed fields, and an
//! immutable change plans as a replacement naming the field. A resource with no state whose name
//! exists already (an apply that created it but crashed before recording it) is adopted, not
//! created twice.

mod auth;
mod client;
mod config;
mod convert;
mod diff;
mod jwt;
mod kubeconfig;
mod mask;
mod operation;
mod planning;
mod resources;
mod retry;
mod schema;
mod session;
mod stages;
mod status;
mod validate;

pub use config::Env;
use config::Sandbox;
pub use schema::nested_force_new;
pub use validate::{cidr_prefix, is_cloud_name};

use config::ConfigError;
use mlstack_provider_api::{
    ApplyRequest, PlanRequest, PlannedResource, Provider, ProviderError, ProviderResult,
    ProviderSchema, ReadResult, ResourceRef, ValidationIssue, Value,
};
use session::Session;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The built-in `yandex` provider. Sessions (HTTP client and IAM token cache) are kept per
/// endpoint and credentials.
pub struct YandexProvider {
    env: OnceLock<Env>,
    sandbox: Option<Sandbox>,
    sessions: Mutex<BTreeMap<String, Arc<Session>>>,
}

impl Default for YandexProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl YandexProvider {
    const fn unconfigured() -> Self {
        YandexProvider {
            env: OnceLock::new(),
            sandbox: None,
            sessions: Mutex::new(BTreeMap::new()),
        }
    }

    /// A provider that takes credentials, folder and endpoint from each provider block, then
    /// from `YC_TOKEN`, `YC_IAM_TOKEN`, `YC_SERVICE_ACCOUNT_KEY_FILE`, `YC_FOLDER_ID`,
    /// `YC_ZONE`, `YC_ENDPOINT` (read on first use).
    pub fn new() -> Self {
        Self::unconfigured()
    }

    /// A provider with a fixed environment instead of the process's (tests).
    pub fn with_env(env: Env) -> Self {
        let p = Self::unconfigured();
        let _ = p.env.set(env);
        p
    }

    /// The sandbox cloud (`--sandbox`): every call goes to `endpoint`, trusting `ca_pem`, with
    /// an IAM token exchanged from `oauth_token`; the stack's token, key file and endpoint are
    /// ignored, its folder_id, zone and cloud_id kept (a fixed sandbox folder when unset).
    pub fn sandbox(endpoint: &str, ca_pem: &str, oauth_token: &str) -> Self {
        YandexProvider {
            env: OnceLock::from(Env::default()),
            sandbox: Some(Sandbox {
                endpoint: config::base_url(endpoint),
                ca_pem: ca_pem.to_string(),
                oauth_token: oauth_token.to_string(),
            }),
            sessions: Mutex::new(BTreeMap::new()),
        }
    }

    fn env(&self) -> &Env {
        self.env.get_or_init(Env::from_process)
    }

    /// The session for a provider block's settings.
    fn session(&self, config: &Value) -> Result<Arc<Session>, ConfigError> {
        let settings = config::resolve(config, self.env(), self.sandbox.as_ref())?;
        let key = settings.session_key();
        let mut sessions = self
            .sessions
            .lock()
            .map_err(|_| ConfigError::Invalid("the yandex session cache is poisoned".into()))?;
        if let Some(s) = sessions.get(&key) {
            return Ok(s.clone());
        }
        let s = Arc::new(Session::new(settings).map_err(ConfigError::Invalid)?);
        sessions.insert(key, s.clone());
        Ok(s)
    }

    /// Whether the provider block still holds values known only after apply.
    fn offline(&self, config: &Value) -> bool {
        self.sandbox.is_none() && config.contains_unknown()
    }

    fn ctx<'a>(&self, r: ResourceRef<'a>) -> ProviderResult<stages::Ctx<'a>> {
        let kind = resources::kind(r.type_name).ok_or_else(|| {
            ProviderError::new(format!(
                "the yandex provider has no resource type {}",
                r.type_name
            ))
        })?;
        let schema = schema::resources()
            .into_iter()
            .find(|(t, _)| *t == r.type_name)
            .map(|(_, s)| s)
            .unwrap_or_default();
        let session = if self.offline(r.provider_config) {
            Err(ConfigError::Invalid(
                "the yandex provider block is not known yet".into(),
            ))
        } else {
            self.session(r.provider_config)
        };
        Ok(stages::Ctx {
            kind,
            schema,
            defaults: config::defaults(r.provider_config, self.env(), self.sandbox.is_some()),
            session,
            resource: r,
        })
    }
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

    async fn read(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<ReadResult> {
        stages::read(&self.ctx(r)?, prior).await
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        // No lookups by name while the provider block is not fully known.
        let offline = req.resource.provider_config.contains_unknown();
        stages::plan(&self.ctx(req.resource)?, &req, offline).await
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> ProviderResult<Value> {
        stages::apply(&self.ctx(req.resource)?, &req).await
    }

    async fn delete(&self, r: ResourceRef<'_>, prior: &Value) -> ProviderResult<()> {
        stages::delete(&self.ctx(r)?, prior).await
    }

    async fn wait_ready(
        &self,
        r: ResourceRef<'_>,
        state: &Value,
        timeout: Duration,
    ) -> ProviderResult<()> {
        stages::wait_ready(&self.ctx(r)?, state, timeout).await
    }

    async fn import(&self, r: ResourceRef<'_>, id: &str) -> ProviderResult<Value> {
        stages::import(&self.ctx(r)?, id).await
    }

    async fn read_data(&self, r: ResourceRef<'_>, properties: &Value) -> ProviderResult<Value> {
        if r.type_name != "yandex_kubernetes_cluster_auth" {
            return Err(ProviderError::new(format!(
                "the yandex provider has no data source {}",
                r.type_name
            )));
        }
        let session = self
            .session(r.provider_config)
            .map_err(|e| ProviderError::new(e.to_string()))?;
        stages::cluster_auth(&session, r.address, properties).await
    }
}

#[cfg(test)]
mod tests;
