//! Managed Kubernetes clusters (reference §3.5) with their outputs: `endpoint` (external, or
//! internal when the master has no public address), `internal_endpoint`, `ca_certificate` and an
//! exec-plugin `kubeconfig` (§4).

use super::folder::{common_attrs, common_body};
use super::maintenance;
use super::rest::{attr, Collection};
use super::{Cx, Kind, Readiness, Timeouts};
use crate::client::Service;
use crate::convert::{int64, int_attr, strings, text, Obj};
use crate::diff::keys;
use crate::kubeconfig;
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

const CLUSTERS: Collection = Collection {
    service: Service::Kubernetes,
    path: "/managed-kubernetes/v1/clusters",
    list_key: "clusters",
    id_key: "clusterId",
};

pub struct Cluster;

/// `(external, internal)` endpoints of a cluster as the API shows it.
pub fn cluster_endpoints(api: &Json) -> (String, String) {
    (
        text(api, "/master/endpoints/externalV4Endpoint"),
        text(api, "/master/endpoints/internalV4Endpoint"),
    )
}

fn location(l: &Json) -> Json {
    let subnet = l
        .pointer("/internalV4AddressSpec/subnetId")
        .or_else(|| l.get("subnetId"))
        .cloned()
        .unwrap_or(Json::Null);
    Obj::new()
        .copy("zone", l, "zoneId")
        .set("subnet_id", subnet)
        .build()
}

fn master_attrs(api: &Json) -> Json {
    let m = api.get("master").cloned().unwrap_or(Json::Null);
    let locations: Vec<Json> = m
        .get("locations")
        .and_then(Json::as_array)
        .map(|l| l.iter().map(location).collect())
        .unwrap_or_default();
    let (external, _) = cluster_endpoints(api);
    let mut public = !external.is_empty();
    let mut o = Obj::new();
    if let Some(z) = m.get("zonalMaster") {
        public |= z
            .get("externalV4Address")
            .and_then(Json::as_str)
            .is_some_and(|a| !a.is_empty());
        let subnet = locations
            .first()
            .and_then(|l| l.get("subnet_id"))
            .cloned()
            .unwrap_or(Json::Null);
        o = o.set(
            "zonal",
            Obj::new()
                .copy("zone", z, "zoneId")
                .set("subnet_id", subnet)
                .build(),
        );
    }
    if let Some(r) = m.get("regionalMaster") {
        public |= r
            .get("externalV4Address")
            .and_then(Json::as_str)
            .is_some_and(|a| !a.is_empty());
        o = o.set(
            "regional",
            Obj::new()
                .copy("region", r, "regionId")
                .set("location", Json::Array(locations.clone()))
                .build(),
        );
    }
    o.copy("version", &m, "version")
        .set("public_ip", json!(public))
        .set(
            "maintenance_policy",
            maintenance::from_api(m.get("maintenancePolicy"), false),
        )
        .set("security_group_ids", strings(m.get("securityGroupIds")))
        .set(
            "etcd_cluster_size",
            int_attr(m.get("etcdClusterSize"))
                .as_i64()
                .filter(|n| *n > 0)
                .map(Json::from)
                .unwrap_or(Json::Null),
        )
        .build()
}

fn cluster_attrs(api: &Json) -> Json {
    let (external, internal) = cluster_endpoints(api);
    let endpoint = if external.is_empty() {
        internal.clone()
    } else {
        external
    };
    let ca = text(api, "/master/masterAuth/clusterCaCertificate");
    let id = text(api, "/id");
    let name = text(api, "/name");
    let ip = api.get("ipAllocationPolicy").cloned().unwrap_or(Json::Null);
    common_attrs(api)
        .copy("network_id", api, "networkId")
        .set("master", master_attrs(api))
        .copy("service_account_id", api, "serviceAccountId")
        .copy("node_service_account_id", api, "nodeServiceAccountId")
        .copy("release_channel", api, "releaseChannel")
        .set(
            "network_policy_provider",
            api.pointer("/networkPolicy/provider")
                .filter(|p| {
                    p.as_str()
                        .is_some_and(|s| !s.is_empty() && s != "PROVIDER_UNSPECIFIED")
                })
                .cloned()
                .unwrap_or(Json::Null),
        )
        .copy("cluster_ipv4_range", &ip, "clusterIpv4CidrBlock")
        .copy("service_ipv4_range", &ip, "serviceIpv4CidrBlock")
        .set(
            "node_ipv4_cidr_mask_size",
            int_attr(ip.get("nodeIpv4CidrMaskSize")),
        )
        .set(
            "kms_provider",
            api.pointer("/kmsProvider/keyId")
                .filter(|k| k.as_str().is_some_and(|s| !s.is_empty()))
                .map(|k| json!({"key_id": k}))
                .unwrap_or(Json::Null),
        )
        .copy("status", api, "status")
        .copy("health", api, "health")
        .set("endpoint", json!(endpoint))
        .set("internal_endpoint", json!(internal))
        .set("ca_certificate", json!(ca))
        .set(
            "kubeconfig",
            json!(kubeconfig::build(&id, &name, &endpoint, &ca)),
        )
        .build()
}

fn master_spec(m: &Json) -> Json {
    let public = m.get("public_ip").and_then(Json::as_bool).unwrap_or(false);
    let external = if public { json!({}) } else { Json::Null };
    let mut o = Obj::new();
    if let Some(z) = m.get("zonal") {
        o = o.set(
            "zonalMasterSpec",
            Obj::new()
                .copy("zoneId", z, "zone")
                .set(
                    "internalV4AddressSpec",
                    Obj::new().copy("subnetId", z, "subnet_id").build(),
                )
                .set("externalV4AddressSpec", external.clone())
                .build(),
        );
    }
    if let Some(r) = m.get("regional") {
        let locations: Vec<Json> = r
            .get("location")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|l| {
                Obj::new()
                    .copy("zoneId", l, "zone")
                    .set(
                        "internalV4AddressSpec",
                        Obj::new().copy("subnetId", l, "subnet_id").build(),
                    )
                    .build()
            })
            .collect();
        o = o.set(
            "regionalMasterSpec",
            Obj::new()
                .set(
                    "regionId",
                    r.get("region").cloned().unwrap_or(json!("ru-central1")),
                )
                .set("locations", Json::Array(locations))
                .set("externalV4AddressSpec", external)
                .build(),
        );
    }
    o.copy("version", m, "version")
        .set(
            "maintenancePolicy",
            maintenance::to_api(m.get("maintenance_policy"), false),
        )
        .copy("securityGroupIds", m, "security_group_ids")
        .set(
            "etcdClusterSize",
            m.get("etcd_cluster_size").map(int64).unwrap_or(Json::Null),
        )
        .build()
}

fn create_body(d: &Json) -> Json {
    let m = d.get("master").cloned().unwrap_or(Json::Null);
    let ip = Obj::new()
        .copy("clusterIpv4CidrBlock", d, "cluster_ipv4_range")
        .copy("serviceIpv4CidrBlock", d, "service_ipv4_range")
        .set(
            "nodeIpv4CidrMaskSize",
            d.get("node_ipv4_cidr_mask_size")
                .map(int64)
                .unwrap_or(Json::Null),
        );
    common_body(d)
        .copy("networkId", d, "network_id")
        .set("masterSpec", master_spec(&m))
        .nested("ipAllocationPolicy", ip)
        .copy("serviceAccountId", d, "service_account_id")
        .copy("nodeServiceAccountId", d, "node_service_account_id")
        .copy("releaseChannel", d, "release_channel")
        .set(
            "networkPolicy",
            d.get("network_policy_provider")
                .and_then(Json::as_str)
                .map(|p| json!({"provider": p.to_ascii_uppercase()}))
                .unwrap_or(Json::Null),
        )
        .set(
            "kmsProvider",
            d.pointer("/kms_provider/key_id")
                .map(|k| json!({"keyId": k}))
                .unwrap_or(Json::Null),
        )
        .build()
}

fn update_body(p: &Json) -> Json {
    let m = p.get("master").cloned().unwrap_or(Json::Null);
    let spec = Obj::new()
        .set(
            "version",
            m.get("version")
                .map(|v| json!({"version": v}))
                .unwrap_or(Json::Null),
        )
        .set(
            "maintenancePolicy",
            maintenance::to_api(m.get("maintenance_policy"), false),
        )
        .copy("securityGroupIds", &m, "security_group_ids");
    Obj::new()
        .copy("name", p, "name")
        .copy("description", p, "description")
        .copy("labels", p, "labels")
        .copy("serviceAccountId", p, "service_account_id")
        .copy("nodeServiceAccountId", p, "node_service_account_id")
        .nested("masterSpec", spec)
        .build()
}

#[async_trait::async_trait]
impl Kind for Cluster {
    fn type_name(&self) -> &'static str {
        "yandex_kubernetes_cluster"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(30, 30, 20)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
            ("service_account_id", "serviceAccountId"),
            ("node_service_account_id", "nodeServiceAccountId"),
            ("master.version", "masterSpec.version.version"),
            ("master.maintenance_policy", "masterSpec.maintenancePolicy"),
            ("master.security_group_ids", "masterSpec.securityGroupIds"),
        ])
    }

    fn normalize(&self, attrs: &mut Value) {
        maintenance::normalize(attrs, &["master", "maintenance_policy"]);
        // The provider name is accepted in any case; the API knows it in capitals.
        if let Some(p) = attrs.get("network_policy_provider").and_then(Value::as_str) {
            let up = p.to_ascii_uppercase();
            attrs.set_path(&keys("network_policy_provider"), Value::from(up));
        }
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        let known = |k: &str| planned.get(k).and_then(Value::as_str).map(str::to_string);
        let kc = match (
            known("id"),
            known("name"),
            known("endpoint"),
            known("ca_certificate"),
        ) {
            (Some(id), Some(name), Some(ep), Some(ca)) => {
                Value::from(kubeconfig::build(&id, &name, &ep, &ca))
            }
            _ => Value::Unknown,
        };
        planned.set_path(&keys("kubeconfig"), kc.into_sensitive());
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(CLUSTERS
            .get(cx, self, attr(attrs, "id"))
            .await?
            .map(|a| cluster_attrs(&a)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(CLUSTERS
            .find(cx, self, attr(d, "folder_id"), attr(d, "name"))
            .await?
            .map(|a| cluster_attrs(&a)))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = CLUSTERS.create(cx, self, create_body(d)).await?;
        Ok(cluster_attrs(&api))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let api = CLUSTERS
            .update(cx, self, attr(prior, "id"), &update_body(planned), mask)
            .await?;
        Ok(cluster_attrs(&api))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        CLUSTERS.delete(cx, self, attr(attrs, "id")).await
    }

    async fn ready(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Readiness, ProviderError> {
        let Some(api) = CLUSTERS.get(cx, self, attr(attrs, "id")).await? else {
            return Ok(Readiness::Failed("the cluster disappeared".into()));
        };
        let status = text(&api, "/status");
        let health = text(&api, "/health");
        Ok(match status.as_str() {
            "RUNNING" if health == "HEALTHY" || health.is_empty() => Readiness::Ready,
            "STOPPING" | "STOPPED" | "DELETING" => {
                Readiness::Failed(format!("the cluster is {status}"))
            }
            _ => Readiness::Waiting(format!("status {status}, health {health}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack_cluster() -> Json {
        json!({
            "name": "k8s", "description": "", "labels": {}, "folder_id": "f",
            "network_id": "net", "service_account_id": "sa", "node_service_account_id": "nsa",
            "release_channel": "REGULAR", "network_policy_provider": "calico",
            "master": {"version": "1.30", "public_ip": true,
                "zonal": {"zone": "ru-central1-a", "subnet_id": "sub"},
                "maintenance_policy": {"auto_upgrade": true}}
        })
    }

    #[test]
    fn create_body_follows_the_api() {
        let b = create_body(&stack_cluster());
        assert_eq!(
            b["masterSpec"],
            json!({"zonalMasterSpec": {"zoneId": "ru-central1-a",
                    "internalV4AddressSpec": {"subnetId": "sub"}, "externalV4AddressSpec": {}},
                "version": "1.30",
                "maintenancePolicy": {"autoUpgrade": true, "maintenanceWindow": {"anytime": {}}}})
        );
        assert_eq!(b["networkPolicy"], json!({"provider": "CALICO"}));
        assert!(b.get("ipAllocationPolicy").is_none());
        assert_eq!(b["folderId"], "f");
    }

    #[test]
    fn the_api_object_reads_back_with_outputs() {
        let api = json!({
            "id": "cat1", "folderId": "f", "createdAt": "2024-01-01T00:00:00Z", "name": "k8s",
            "networkId": "net", "status": "RUNNING", "health": "HEALTHY",
            "master": {"zonalMaster": {"zoneId": "ru-central1-a", "internalV4Address": "10.0.0.5", "externalV4Address": "1.2.3.4"},
                "locations": [{"zoneId": "ru-central1-a", "subnetId": "sub"}],
                "version": "1.30",
                "endpoints": {"internalV4Endpoint": "https://10.0.0.5", "externalV4Endpoint": "https://1.2.3.4"},
                "masterAuth": {"clusterCaCertificate": "PEM"},
                "maintenancePolicy": {"autoUpgrade": true, "maintenanceWindow": {"anytime": {}}}},
            "ipAllocationPolicy": {"clusterIpv4CidrBlock": "10.112.0.0/16", "nodeIpv4CidrMaskSize": "24", "serviceIpv4CidrBlock": "10.96.0.0/16"},
            "serviceAccountId": "sa", "nodeServiceAccountId": "nsa", "releaseChannel": "REGULAR",
            "networkPolicy": {"provider": "CALICO"}
        });
        let a = cluster_attrs(&api);
        assert_eq!(a["endpoint"], "https://1.2.3.4");
        assert_eq!(a["internal_endpoint"], "https://10.0.0.5");
        assert_eq!(a["ca_certificate"], "PEM");
        assert_eq!(a["node_ipv4_cidr_mask_size"], 24);
        assert_eq!(
            a["master"],
            json!({"version": "1.30", "public_ip": true,
                "zonal": {"zone": "ru-central1-a", "subnet_id": "sub"},
                "maintenance_policy": {"auto_upgrade": true}, "security_group_ids": []})
        );
        assert!(a["kubeconfig"]
            .as_str()
            .unwrap()
            .contains("yc-managed-k8s-cat1"));
        // What the stack set reads back the same.
        let stack = stack_cluster();
        for k in [
            "name",
            "network_id",
            "service_account_id",
            "release_channel",
        ] {
            assert_eq!(a[k], stack[k], "{k}");
        }
    }

    #[test]
    fn updates_send_the_masked_fields_only() {
        let body = super::super::rest::masked(
            &update_body(&stack_cluster()),
            &["masterSpec.version.version".to_string()],
        );
        assert_eq!(
            body,
            json!({"masterSpec": {"version": {"version": "1.30"}}, "updateMask": "masterSpec.version.version"})
        );
    }
}
