//! The providers this build knows, looked up by name or by a resource type's prefix.

use mlstack_provider_api::{Provider, ProviderSchema, ResourceSchema};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The set of providers available to a run.
#[derive(Clone)]
pub struct Registry {
    providers: BTreeMap<&'static str, (Arc<dyn Provider>, ProviderSchema)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.providers.keys()).finish()
    }
}

impl Registry {
    /// An empty registry (tests add their own providers).
    pub fn empty() -> Self {
        Registry {
            providers: BTreeMap::new(),
        }
    }

    /// The built-in providers.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.add(Arc::new(mlstack_provider_random::RandomProvider));
        r.add(Arc::new(mlstack_provider_local::LocalProvider));
        r.add(Arc::new(
            mlstack_provider_kubernetes::KubernetesProvider::new(),
        ));
        r.add(Arc::new(mlstack_provider_yandex::YandexProvider::new()));
        r.add(Arc::new(mlstack_provider_mlflow::MlflowProvider));
        r.add(Arc::new(crate::builtin::MonitoringProvider));
        r
    }

    pub fn add(&mut self, p: Arc<dyn Provider>) {
        let schema = p.schema();
        self.providers.insert(p.name(), (p, schema));
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name).map(|(p, _)| p)
    }

    pub fn schema(&self, name: &str) -> Option<&ProviderSchema> {
        self.providers.get(name).map(|(_, s)| s)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.providers.keys().copied()
    }

    /// The provider a resource type belongs to: the prefix before the first `_`
    /// (`random_password` → `random`).
    pub fn provider_of_type(type_name: &str) -> &str {
        type_name.split('_').next().unwrap_or(type_name)
    }

    /// The schema of a resource type (`data` selects data sources).
    pub fn resource_schema(&self, type_name: &str, data: bool) -> Option<&ResourceSchema> {
        let schema = self.schema(Self::provider_of_type(type_name))?;
        if data {
            schema.data_sources.get(type_name)
        } else {
            schema.resources.get(type_name)
        }
    }

    /// Every resource type name, for "did you mean" hints.
    pub fn all_types(&self, data: bool) -> Vec<&'static str> {
        self.providers
            .values()
            .flat_map(|(_, s)| {
                if data {
                    s.data_sources.keys().copied().collect::<Vec<_>>()
                } else {
                    s.resources.keys().copied().collect::<Vec<_>>()
                }
            })
            .collect()
    }
}
