//! One [`Kind`] per resource type: how its Terraform attributes map to and from the API's JSON,
//! which paths an update mask names, and the calls that read, find by name, create, update and
//! delete it. One file per service family; [`rest`] holds the shared REST patterns.

mod child;
mod folder;
mod iam;
mod k8s;
mod k8s_nodes;
mod kafka;
mod kafka_children;
mod maintenance;
mod mdb;
mod postgresql;
mod postgresql_children;
pub mod rest;
mod storage;
mod vpc;

use crate::mask::Rule;
use crate::session::Session;
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

/// Terraform's per-type timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

impl Timeouts {
    pub const fn minutes(create: u64, update: u64, delete: u64) -> Timeouts {
        Timeouts {
            create: Duration::from_secs(create * 60),
            update: Duration::from_secs(update * 60),
            delete: Duration::from_secs(delete * 60),
        }
    }
}

/// What a readiness check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    Ready,
    Waiting(String),
    Failed(String),
}

/// What every call of a kind needs: the session and the resource's address (for messages).
pub struct Cx<'a> {
    pub session: &'a Session,
    pub address: &'a str,
}

impl Cx<'_> {
    /// `<verb> <type> "<address>"`, the subject of messages (`creating yandex_vpc_network "net"`).
    pub fn what(&self, verb: &str, kind: &dyn Kind) -> String {
        format!("{verb} {} \"{}\"", kind.type_name(), self.address)
    }
}

/// A resource type. Attribute values are plain JSON here (marks are handled by the stages).
#[async_trait::async_trait]
pub trait Kind: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(1, 1, 1)
    }

    /// Updatable attributes and their mask paths, for this (planned) value.
    fn mask_rules(&self, planned: &Json) -> Vec<Rule>;

    /// Attributes whose unset value is a known default rather than the server's choice:
    /// leaving them out of the stack clears them (Terraform's optional, non-computed).
    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![("description", json!("")), ("labels", json!({}))]
    }

    /// Maps replaced wholesale (their unset keys are removed, not kept from live).
    fn atomic(&self) -> &'static [&'static str] {
        &["labels"]
    }

    /// Attributes the API never returns (passwords, local flags): a read keeps the prior's.
    fn kept(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether `folder_id` defaults to the provider's folder (false: it comes from live).
    fn folder_default(&self) -> bool {
        true
    }

    /// Puts a value in canonical form (sorted permission lists, ...), for plans and reads alike.
    fn normalize(&self, _attrs: &mut Value) {}

    /// Fills computed attributes that follow from others (`id` of `<cluster>:<name>`, a
    /// bucket's domain, a kubeconfig), and marks unknown those that the `changed` paths will
    /// change. Called on every planned value.
    fn derive(&self, _planned: &mut Value, _changed: &[String]) {}

    /// Whether the stack's value says enough to look the resource up by name.
    fn lookup_possible(&self, desired: &Value) -> bool {
        desired.get("name").is_some_and(|n| n.as_str().is_some())
    }

    /// The live attributes of the recorded resource; `None` when it is gone.
    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError>;

    /// The live attributes of an existing resource with the stack's name (adoption).
    async fn find(&self, cx: &Cx<'_>, desired: &Json) -> Result<Option<Json>, ProviderError>;

    /// Creates; the live attributes.
    async fn create(&self, cx: &Cx<'_>, desired: &Json) -> Result<Json, ProviderError>;

    /// Updates the fields in `mask` to their `planned` values; the live attributes.
    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError>;

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError>;

    /// Whether the resource is usable by its dependents.
    async fn ready(&self, _cx: &Cx<'_>, _attrs: &Json) -> Result<Readiness, ProviderError> {
        Ok(Readiness::Ready)
    }

    /// The identifying attributes behind an import id (`mlstack import STACK ADDR ID`).
    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        Ok(json!({ "id": id }))
    }
}

/// The kind of a resource type.
pub fn kind(type_name: &str) -> Option<&'static dyn Kind> {
    let k: &'static dyn Kind = match type_name {
        "yandex_vpc_network" => &vpc::NETWORK,
        "yandex_vpc_subnet" => &vpc::SUBNET,
        "yandex_iam_service_account" => &iam::SERVICE_ACCOUNT,
        "yandex_resourcemanager_folder_iam_member" => &iam::FolderMember,
        "yandex_kubernetes_cluster" => &k8s::Cluster,
        "yandex_kubernetes_node_group" => &k8s_nodes::NodeGroup,
        "yandex_mdb_kafka_cluster" => &kafka::Cluster,
        "yandex_mdb_kafka_topic" => &kafka_children::TOPIC,
        "yandex_mdb_kafka_user" => &kafka_children::USER,
        "yandex_mdb_postgresql_cluster" => &postgresql::Cluster,
        "yandex_mdb_postgresql_database" => &postgresql_children::DATABASE,
        "yandex_mdb_postgresql_user" => &postgresql_children::USER,
        "yandex_storage_bucket" => &storage::Bucket,
        _ => return None,
    };
    Some(k)
}
