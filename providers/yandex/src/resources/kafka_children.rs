//! Topics and users of a Managed Kafka cluster (reference §3.7): children keyed by name,
//! `id` = `<cluster id>:<name>`; a user's password is write-only; topic settings use the
//! cluster's Kafka version (`topicConfig_3`).

use super::kafka::{CLUSTERS, CLUSTERS_PATH};
use super::mdb::{
    child_import, child_lookup_possible, config_key, derive_child_id, non_empty, sort_list,
    versioned,
};
use super::rest::{attr, Children};
use super::{Cx, Kind, Timeouts};
use crate::client::Service;
use crate::convert::{int64, int_attr, settings_from_api, settings_to_api, strings, Obj};
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

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
    use crate::diff::keys;

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
