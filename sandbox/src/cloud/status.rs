//! The sandbox-only status page (`GET /sandbox/v1/status`, [`CloudHandle::status`]): the
//! Managed Kubernetes clusters with how to reach their APIs, resource counts by type, and
//! per API the requests served and faults injected since the sandbox started.
//!
//! [`CloudHandle::status`]: super::CloudHandle::status

use super::json;
use super::mk8s::KUBE_TOKEN;
use super::state::State;
use super::types::K8S_CLUSTER;
use crate::stats::ApiStats;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the cloud holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudStatus {
    /// Managed Kubernetes clusters, oldest first.
    pub clusters: Vec<ClusterStatus>,
    /// Resources per type (`vpc.network`, `k8s.cluster`, …), every type listed.
    pub counts: BTreeMap<String, usize>,
    /// Requests served and faults injected by `cloud` and the other APIs of the sandbox
    /// (`kubernetes`: the standalone API), since they started.
    #[serde(default)]
    pub apis: BTreeMap<String, ApiStats>,
    /// The same for each cluster's Kubernetes API by cluster id, deleted clusters included.
    #[serde(default)]
    pub cluster_apis: BTreeMap<String, ClusterApiStats>,
}

/// Requests served and faults injected by one cluster's Kubernetes API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterApiStats {
    /// The cluster's name.
    pub name: String,
    /// False once the cluster is deleted (or the sandbox stopping).
    pub running: bool,
    #[serde(flatten)]
    pub stats: ApiStats,
}

/// One Managed Kubernetes cluster and its sandbox Kubernetes API.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    pub id: String,
    pub name: String,
    pub folder_id: String,
    /// PROVISIONING, RUNNING, RECONCILING, DELETING.
    pub status: String,
    /// `https://127.0.0.1:PORT` once the cluster runs.
    pub endpoint: Option<String>,
    /// The CA of that API (PEM).
    pub ca_pem: Option<String>,
    /// The API's own static bearer token (for a kubeconfig); a secret.
    pub token: String,
    pub created_at: String,
}

impl std::fmt::Debug for ClusterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterStatus")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("status", &self.status)
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The status of `st`.
pub fn status(st: &State) -> CloudStatus {
    let text = |v: &Value, p: &str| json::str_at(v, p).unwrap_or_default().to_string();
    let mut clusters: Vec<ClusterStatus> = st
        .of_kind(K8S_CLUSTER.kind)
        .into_iter()
        .map(|r| ClusterStatus {
            id: r.key.clone(),
            name: text(&r.resource, "name"),
            folder_id: r.folder.clone(),
            status: text(&r.resource, "status"),
            endpoint: json::str_at(&r.resource, "master.endpoints.externalV4Endpoint")
                .map(str::to_string),
            ca_pem: json::str_at(&r.resource, "master.masterAuth.clusterCaCertificate")
                .map(str::to_string),
            token: r
                .extra
                .get(KUBE_TOKEN)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            created_at: text(&r.resource, "createdAt"),
        })
        .collect();
    clusters.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    CloudStatus {
        clusters,
        counts: st.counts(),
        ..CloudStatus::default()
    }
}
