//! Managed Service for Apache Kafka (reference §3.7): clusters (with `bootstrap_servers` from
//! the hosts list), topics and users (children keyed by name; passwords write-only).

use super::mdb::{
    self, child_import, child_lookup_possible, config_key, derive_child_id, non_empty,
    resources_attrs, resources_body, sort_list, versioned,
};
use super::rest::{attr, Children, Collection};
use super::vpc::{common_attrs, common_body};
use super::{Cx, Kind, Readiness, Timeouts};
use crate::client::Service;
use crate::convert::{int64, int_attr, settings_from_api, settings_to_api, strings, Obj};
use crate::diff::keys;
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

const CLUSTERS_PATH: &str = "/managed-kafka/v1/clusters";

const CLUSTERS: Collection = Collection {
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

const TOPICS: Children = Children {
    service: Service::Mdb,
    parent: CLUSTERS_PATH,
    child: "topics",
    spec_key: "topicSpec",
};

pub struct Topic;

fn topic_attrs(cluster_id: &str, t: &Json) -> Json {
    let name = t.get("name").and_then(Json::as_str).unwrap_or("");
    Obj::new()
        .set("id", json!(format!("{cluster_id}:{name}")))
        .set("cluster_id", json!(cluster_id))
        .set("name", json!(name))
        .set("partitions", int_attr(t.get("partitions")))
        .set("replication_factor", int_attr(t.get("replicationFactor")))
        .set(
            "topic_config",
            non_empty(settings_from_api(versioned(t, "topicConfig"))),
        )
        .build()
}

/// The topic config key for the cluster's Kafka version (`topicConfig_3`).
async fn topic_config_key(
    cx: &Cx<'_>,
    kind: &dyn Kind,
    cluster_id: &str,
) -> Result<String, ProviderError> {
    let c = CLUSTERS
        .get(cx, kind, cluster_id)
        .await?
        .unwrap_or(Json::Null);
    let v = c
        .pointer("/config/version")
        .and_then(Json::as_str)
        .unwrap_or("3");
    Ok(config_key("topicConfig", v, 3))
}

fn topic_spec(d: &Json, key: &str) -> Json {
    Obj::new()
        .copy("name", d, "name")
        .set(
            "partitions",
            d.get("partitions").map(int64).unwrap_or(Json::Null),
        )
        .set(
            "replicationFactor",
            d.get("replication_factor").map(int64).unwrap_or(Json::Null),
        )
        .set(key, non_empty(settings_to_api(d.get("topic_config"))))
        .build()
}

#[async_trait::async_trait]
impl Kind for Topic {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_kafka_topic"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(10, 10, 10)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("partitions", "topicSpec.partitions"),
            ("replication_factor", "topicSpec.replicationFactor"),
            ("topic_config.*", "topicSpec.topicConfig.*"),
        ])
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        Vec::new()
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        derive_child_id(planned);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        child_lookup_possible(d)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let cid = attr(attrs, "cluster_id");
        Ok(TOPICS
            .get(cx, self, cid, attr(attrs, "name"))
            .await?
            .map(|t| topic_attrs(cid, &t)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.read(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let cid = attr(d, "cluster_id");
        let key = if d.get("topic_config").is_some() {
            topic_config_key(cx, self, cid).await?
        } else {
            "topicConfig_3".to_string()
        };
        let t = TOPICS
            .create(cx, self, cid, attr(d, "name"), topic_spec(d, &key))
            .await?;
        Ok(topic_attrs(cid, &t))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let cid = attr(prior, "cluster_id");
        let name = attr(prior, "name");
        let key = if mask.iter().any(|m| m.starts_with("topicSpec.topicConfig")) {
            topic_config_key(cx, self, cid).await?
        } else {
            "topicConfig_3".to_string()
        };
        let mask: Vec<String> = mask
            .iter()
            .map(|m| m.replacen("topicSpec.topicConfig", &format!("topicSpec.{key}"), 1))
            .collect();
        let body = json!({"topicSpec": topic_spec(planned, &key)});
        let t = TOPICS
            .update(cx, self, cid, name, name, &body, &mask)
            .await?;
        Ok(topic_attrs(cid, &t))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        TOPICS
            .delete(cx, self, attr(attrs, "cluster_id"), attr(attrs, "name"))
            .await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        child_import(id)
    }
}

const USERS: Children = Children {
    service: Service::Mdb,
    parent: CLUSTERS_PATH,
    child: "users",
    spec_key: "userSpec",
};

pub struct User;

fn user_attrs(cluster_id: &str, u: &Json) -> Json {
    let name = u.get("name").and_then(Json::as_str).unwrap_or("");
    let perms: Vec<Json> = u
        .get("permissions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let hosts = strings(p.get("allowHosts"));
            Obj::new()
                .copy("topic_name", p, "topicName")
                .copy("role", p, "role")
                .set(
                    "allow_hosts",
                    if hosts.as_array().is_some_and(|a| a.is_empty()) {
                        Json::Null
                    } else {
                        hosts
                    },
                )
                .build()
        })
        .collect();
    json!({
        "id": format!("{cluster_id}:{name}"),
        "cluster_id": cluster_id,
        "name": name,
        "permission": perms,
    })
}

fn user_spec(d: &Json) -> Json {
    let perms: Vec<Json> = d
        .get("permission")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            Obj::new()
                .copy("topicName", p, "topic_name")
                .copy("role", p, "role")
                .copy("allowHosts", p, "allow_hosts")
                .build()
        })
        .collect();
    Obj::new()
        .copy("name", d, "name")
        .copy("password", d, "password")
        .set("permissions", Json::Array(perms))
        .build()
}

#[async_trait::async_trait]
impl Kind for User {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_kafka_user"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(10, 10, 10)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[("password", "password"), ("permission", "permissions")])
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![("permission", json!([]))]
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn kept(&self) -> &'static [&'static str] {
        &["password"]
    }

    fn normalize(&self, attrs: &mut Value) {
        sort_list(attrs, "permission", &["topic_name", "role"]);
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        derive_child_id(planned);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        child_lookup_possible(d)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let cid = attr(attrs, "cluster_id");
        Ok(USERS
            .get(cx, self, cid, attr(attrs, "name"))
            .await?
            .map(|u| user_attrs(cid, &u)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.read(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let cid = attr(d, "cluster_id");
        let u = USERS
            .create(cx, self, cid, attr(d, "name"), user_spec(d))
            .await?;
        Ok(user_attrs(cid, &u))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let cid = attr(prior, "cluster_id");
        let name = attr(prior, "name");
        let u = USERS
            .update(cx, self, cid, name, name, &user_spec(planned), mask)
            .await?;
        Ok(user_attrs(cid, &u))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        USERS
            .delete(cx, self, attr(attrs, "cluster_id"), attr(attrs, "name"))
            .await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        child_import(id)
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

    #[test]
    fn topics_and_users() {
        let t = topic_spec(
            &json!({"name": "events", "partitions": 6, "replication_factor": 3, "topic_config": {"cleanup_policy": "CLEANUP_POLICY_DELETE"}}),
            "topicConfig_3",
        );
        assert_eq!(
            t,
            json!({"name": "events", "partitions": "6", "replicationFactor": "3",
                "topicConfig_3": {"cleanupPolicy": "CLEANUP_POLICY_DELETE"}})
        );
        let back = topic_attrs("c1", &t);
        assert_eq!(back["id"], "c1:events");
        assert_eq!(back["partitions"], 6);
        let u = user_spec(
            &json!({"name": "app", "password": "p", "permission": [{"topic_name": "*", "role": "ACCESS_ROLE_ADMIN"}]}),
        );
        assert_eq!(
            u["permissions"],
            json!([{"topicName": "*", "role": "ACCESS_ROLE_ADMIN"}])
        );
        let back = user_attrs("c1", &u);
        assert!(back.get("password").is_none());
        assert_eq!(
            back["permission"],
            json!([{"topic_name": "*", "role": "ACCESS_ROLE_ADMIN"}])
        );
        let mut v = Value::from(
            json!({"permission": [{"topic_name": "b", "role": "X"}, {"topic_name": "a", "role": "Y"}]}),
        );
        User.normalize(&mut v);
        assert_eq!(
            v.get_path(&keys("permission")).unwrap().to_json_unmarked()[0]["topic_name"],
            "a"
        );
        assert_eq!(child_import("c1:events").unwrap()["name"], "events");
        assert!(child_import("events").is_err());
    }
}
