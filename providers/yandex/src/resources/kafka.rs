//! Managed Service for Apache Kafka clusters (reference §3.7), with `bootstrap_servers` from
//! the hosts list; topics and users are in `kafka_children.rs`.

use super::folder::{common_attrs, common_body};
use super::mdb::{self, config_key, non_empty, resources_attrs, resources_body, versioned};
use super::rest::{attr, Collection};
use super::{Cx, Kind, Readiness, Timeouts};
use crate::client::Service;
use crate::convert::{int64, int_attr, settings_from_api, settings_to_api, strings, Obj};
use crate::diff::keys;
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

pub(super) const CLUSTERS_PATH: &str = "/managed-kafka/v1/clusters";

pub(super) const CLUSTERS: Collection = Collection {
    service: Service::Mdb,
    path: CLUSTERS_PATH,
    list_key: "clusters",
    id_key: "clusterId",
};

/// The SASL_SSL port clients connect to.
const PORT: u16 = 9091;

pub struct Cluster;

fn bootstrap(hosts: &[Json]) -> String {
    let mut names: Vec<&str> = hosts
        .iter()
        .filter(|h| {
            h.get("role")
                .and_then(Json::as_str)
                .is_none_or(|r| r == "KAFKA")
        })
        .filter_map(|h| h.get("name").and_then(Json::as_str))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| format!("{n}:{PORT}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn cluster_attrs(api: &Json, hosts: &[Json]) -> Json {
    let c = api.get("config").cloned().unwrap_or(Json::Null);
    let kafka = c.get("kafka").cloned().unwrap_or(Json::Null);
    let mut subnets: Vec<&str> = hosts
        .iter()
        .filter(|h| {
            h.get("role")
                .and_then(Json::as_str)
                .is_none_or(|r| r == "KAFKA")
        })
        .filter_map(|h| h.get("subnetId").and_then(Json::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    subnets.sort();
    subnets.dedup();
    let config = Obj::new()
        .copy("version", &c, "version")
        .set("zones", strings(c.get("zoneId")))
        .set("brokers_count", int_attr(c.get("brokersCount")))
        .set(
            "assign_public_ip",
            json!(c
                .get("assignPublicIp")
                .and_then(Json::as_bool)
                .unwrap_or(false)),
        )
        .set(
            "schema_registry",
            json!(c
                .get("schemaRegistry")
                .and_then(Json::as_bool)
                .unwrap_or(false)),
        )
        .nested(
            "kafka",
            Obj::new()
                .set("resources", resources_attrs(kafka.get("resources")))
                .set(
                    "kafka_config",
                    non_empty(settings_from_api(versioned(&kafka, "kafkaConfig"))),
                ),
        )
        .set(
            "zookeeper",
            c.pointer("/zookeeper/resources")
                .map(|r| json!({"resources": resources_attrs(Some(r))}))
                .unwrap_or(Json::Null),
        )
        .build();
    common_attrs(api)
        .copy("environment", api, "environment")
        .copy("network_id", api, "networkId")
        .set(
            "subnet_ids",
            if subnets.is_empty() {
                Json::Null
            } else {
                json!(subnets)
            },
        )
        .set("security_group_ids", strings(api.get("securityGroupIds")))
        .set("host_group_ids", strings(api.get("hostGroupIds")))
        .set(
            "deletion_protection",
            json!(api
                .get("deletionProtection")
                .and_then(Json::as_bool)
                .unwrap_or(false)),
        )
        .set("config", config)
        .copy("status", api, "status")
        .copy("health", api, "health")
        .set("bootstrap_servers", json!(bootstrap(hosts)))
        .build()
}

fn version(d: &Json) -> String {
    d.pointer("/config/version")
        .and_then(Json::as_str)
        .unwrap_or("3")
        .to_string()
}

fn config_body(d: &Json) -> Json {
    let c = d.get("config").cloned().unwrap_or(Json::Null);
    let key = config_key("kafkaConfig", &version(d), 3);
    let kafka = Obj::new()
        .set("resources", resources_body(c.pointer("/kafka/resources")))
        .set(
            &key,
            non_empty(settings_to_api(c.pointer("/kafka/kafka_config"))),
        );
    Obj::new()
        .copy("version", &c, "version")
        .nested("kafka", kafka)
        .set(
            "zookeeper",
            c.pointer("/zookeeper/resources")
                .map(|r| json!({"resources": resources_body(Some(r))}))
                .unwrap_or(Json::Null),
        )
        .copy("zoneId", &c, "zones")
        .set(
            "brokersCount",
            c.get("brokers_count").map(int64).unwrap_or(Json::Null),
        )
        .copy("assignPublicIp", &c, "assign_public_ip")
        .copy("schemaRegistry", &c, "schema_registry")
        .build()
}

fn create_body(d: &Json) -> Json {
    common_body(d)
        .copy("environment", d, "environment")
        .copy("networkId", d, "network_id")
        // Create names it `subnetId` (a list); update `subnetIds`.
        .copy("subnetId", d, "subnet_ids")
        .copy("securityGroupIds", d, "security_group_ids")
        .copy("hostGroupIds", d, "host_group_ids")
        .copy("deletionProtection", d, "deletion_protection")
        .set("configSpec", config_body(d))
        .set("topicSpecs", json!([]))
        .set("userSpecs", json!([]))
        .build()
}

fn update_body(p: &Json) -> Json {
    Obj::new()
        .copy("name", p, "name")
        .copy("description", p, "description")
        .copy("labels", p, "labels")
        .copy("securityGroupIds", p, "security_group_ids")
        .copy("deletionProtection", p, "deletion_protection")
        .copy("subnetIds", p, "subnet_ids")
        .set("configSpec", config_body(p))
        .build()
}

impl Cluster {
    async fn attrs(&self, cx: &Cx<'_>, api: &Json) -> Result<Json, ProviderError> {
        let id = api.get("id").and_then(Json::as_str).unwrap_or("");
        let hosts = mdb::hosts(cx, self, CLUSTERS_PATH, id).await?;
        Ok(cluster_attrs(api, &hosts))
    }
}

#[async_trait::async_trait]
impl Kind for Cluster {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_kafka_cluster"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(60, 60, 60)
    }

    fn mask_rules(&self, planned: &Json) -> Vec<Rule> {
        let key = config_key("kafkaConfig", &version(planned), 3);
        let mut r = rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
            ("security_group_ids", "securityGroupIds"),
            ("deletion_protection", "deletionProtection"),
            ("subnet_ids", "subnetIds"),
            ("config.version", "configSpec.version"),
            ("config.zones", "configSpec.zoneId"),
            ("config.brokers_count", "configSpec.brokersCount"),
            ("config.schema_registry", "configSpec.schemaRegistry"),
            (
                "config.kafka.resources.resource_preset_id",
                "configSpec.kafka.resources.resourcePresetId",
            ),
            (
                "config.kafka.resources.disk_size",
                "configSpec.kafka.resources.diskSize",
            ),
            (
                "config.zookeeper.resources.resource_preset_id",
                "configSpec.zookeeper.resources.resourcePresetId",
            ),
            (
                "config.zookeeper.resources.disk_size",
                "configSpec.zookeeper.resources.diskSize",
            ),
        ]);
        r.push(Rule {
            tf: "config.kafka.kafka_config.*".into(),
            api: format!("configSpec.kafka.{key}.*"),
        });
        r
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![
            ("description", json!("")),
            ("labels", json!({})),
            ("environment", json!("PRODUCTION")),
        ]
    }

    fn kept(&self) -> &'static [&'static str] {
        &["subnet_ids"]
    }

    fn normalize(&self, attrs: &mut Value) {
        if let Some(Value::List(l)) = attrs.get("subnet_ids").map(Value::unmarked).cloned() {
            if l.iter().all(|v| v.as_str().is_some()) {
                let mut l = l;
                l.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                attrs.set_path(&keys("subnet_ids"), Value::List(l));
            }
        }
    }

    fn derive(&self, planned: &mut Value, changed: &[String]) {
        let moves = ["config.zones", "config.brokers_count", "subnet_ids"];
        if changed.iter().any(|c| {
            moves
                .iter()
                .any(|m| c == m || c.starts_with(&format!("{m}.")))
        }) {
            planned.set_path(&keys("bootstrap_servers"), Value::Unknown);
        }
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        match CLUSTERS.get(cx, self, attr(attrs, "id")).await? {
            Some(api) => Ok(Some(self.attrs(cx, &api).await?)),
            None => Ok(None),
        }
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        match CLUSTERS
            .find(cx, self, attr(d, "folder_id"), attr(d, "name"))
            .await?
        {
            Some(api) => Ok(Some(self.attrs(cx, &api).await?)),
            None => Ok(None),
        }
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = CLUSTERS.create(cx, self, create_body(d)).await?;
        self.attrs(cx, &api).await
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
        self.attrs(cx, &api).await
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        CLUSTERS.delete(cx, self, attr(attrs, "id")).await
    }

    async fn ready(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Readiness, ProviderError> {
        Ok(match CLUSTERS.get(cx, self, attr(attrs, "id")).await? {
            Some(api) => mdb::readiness(&api),
            None => Readiness::Failed("the cluster disappeared".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_map_both_ways() {
        let d = json!({"name": "kafka", "folder_id": "f", "environment": "PRODUCTION",
            "network_id": "n", "subnet_ids": ["s1"],
            "config": {"version": "3.6", "zones": ["ru-central1-a"], "brokers_count": 1,
                "assign_public_ip": false,
                "kafka": {"resources": {"resource_preset_id": "s2.micro", "disk_size": 32, "disk_type_id": "network-ssd"},
                          "kafka_config": {"log_retention_ms": 3600000, "compression_type": "COMPRESSION_TYPE_ZSTD"}}}});
        let b = create_body(&d);
        assert_eq!(b["subnetId"], json!(["s1"]));
        assert_eq!(b["configSpec"]["brokersCount"], "1");
        assert_eq!(
            b["configSpec"]["kafka"]["resources"]["diskSize"],
            "34359738368"
        );
        assert_eq!(
            b["configSpec"]["kafka"]["kafkaConfig_3"],
            json!({"logRetentionMs": "3600000", "compressionType": "COMPRESSION_TYPE_ZSTD"})
        );
        let mut api = json!({"id": "c1", "name": "kafka", "folderId": "f", "environment": "PRODUCTION",
            "networkId": "n", "status": "RUNNING", "health": "ALIVE"});
        api["config"] = b["configSpec"].clone();
        let hosts = [
            json!({"name": "rc1a-2.mdb.yandexcloud.net", "role": "KAFKA", "subnetId": "s1"}),
            json!({"name": "rc1a-1.mdb.yandexcloud.net", "role": "KAFKA", "subnetId": "s1"}),
            json!({"name": "zk.mdb.yandexcloud.net", "role": "ZOOKEEPER", "subnetId": "s1"}),
        ];
        let a = cluster_attrs(&api, &hosts);
        assert_eq!(
            a["bootstrap_servers"],
            "rc1a-1.mdb.yandexcloud.net:9091,rc1a-2.mdb.yandexcloud.net:9091"
        );
        assert_eq!(a["subnet_ids"], json!(["s1"]));
        assert_eq!(a["config"]["kafka"]["resources"]["disk_size"], 32);
        assert_eq!(a["config"]["brokers_count"], 1);
        assert_eq!(
            a["config"]["kafka"]["kafka_config"]["log_retention_ms"],
            "3600000"
        );
        let r = Cluster.mask_rules(&d);
        assert!(r
            .iter()
            .any(|r| r.api == "configSpec.kafka.kafkaConfig_3.*"));
    }
}
