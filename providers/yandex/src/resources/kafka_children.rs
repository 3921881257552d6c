//! Topics and users of a Managed Kafka cluster (reference §3.7): children keyed by name,
//! `id` = `<cluster id>:<name>`; a user's password is write-only; topic settings use the
//! cluster's Kafka version (`topicConfig_3`).

use super::child::{ChildKind, Settings};
use super::kafka::{CLUSTERS, CLUSTERS_PATH};
use super::mdb::{non_empty, versioned};
use super::rest::Children;
use crate::client::Service;
use crate::convert::{int64, int_attr, settings_from_api, settings_to_api, strings, Obj};
use serde_json::{json, Value as Json};

/// `yandex_mdb_kafka_topic`: its settings key follows the cluster's Kafka version.
pub static TOPIC: ChildKind = ChildKind {
    type_name: "yandex_mdb_kafka_topic",
    children: Children {
        service: Service::Mdb,
        parent: CLUSTERS_PATH,
        child: "topics",
        spec_key: "topicSpec",
    },
    mask: &[
        ("partitions", "topicSpec.partitions"),
        ("replication_factor", "topicSpec.replicationFactor"),
        ("topic_config.*", "topicSpec.topicConfig.*"),
    ],
    empty_lists: &[],
    kept: &[],
    sorted: &[],
    attrs: topic_attrs,
    spec: topic_spec,
    update_body: |planned, key| json!({"topicSpec": topic_spec(planned, key)}),
    renames: false,
    settings: Some(Settings {
        clusters: &CLUSTERS,
        attr: "topic_config",
        mask: "topicSpec.topicConfig",
        prefix: "topicConfig",
        default_version: "3",
        major_only_from: 3,
    }),
};

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

/// `yandex_mdb_kafka_user`: the password is write-only; permissions are sorted.
pub static USER: ChildKind = ChildKind {
    type_name: "yandex_mdb_kafka_user",
    children: Children {
        service: Service::Mdb,
        parent: CLUSTERS_PATH,
        child: "users",
        spec_key: "userSpec",
    },
    mask: &[("password", "password"), ("permission", "permissions")],
    empty_lists: &["permission"],
    kept: &["password"],
    sorted: &[("permission", &["topic_name", "role"])],
    attrs: user_attrs,
    spec: |d, _| user_spec(d),
    update_body: |planned, _| user_spec(planned),
    renames: false,
    settings: None,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::keys;
    use crate::resources::mdb::child_import;
    use crate::resources::Kind;
    use mlstack_provider_api::Value;

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
        USER.normalize(&mut v);
        assert_eq!(
            v.get_path(&keys("permission")).unwrap().to_json_unmarked()[0]["topic_name"],
            "a"
        );
        assert_eq!(child_import("c1:events").unwrap()["name"], "events");
        assert!(child_import("events").is_err());
    }
}
