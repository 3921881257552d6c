//! Managed Service for PostgreSQL clusters (reference §3.8): hosts added and removed in place,
//! `fqdn` = `c-<id>.rw.mdb.yandexcloud.net`; databases and users are in
//! `postgresql_children.rs`.

use super::folder::{common_attrs, common_body};
use super::mdb::{
    self, config_key, non_empty, resources_attrs, resources_body, sort_list, versioned,
};
use super::rest::{attr, mutate, Collection};
use super::{Cx, Kind, Readiness, Timeouts};
use crate::client::{Method, Service};
use crate::convert::{int64, int_attr, settings_from_api, settings_to_api, strings, Obj};
use crate::diff::keys;
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

pub(super) const CLUSTERS_PATH: &str = "/managed-postgresql/v1/clusters";

const CLUSTERS: Collection = Collection {
    service: Service::Mdb,
    path: CLUSTERS_PATH,
    list_key: "clusters",
    id_key: "clusterId",
};

/// The mask marker for host changes, which go through `hosts:batchCreate`/`:batchDelete`.
const HOSTS: &str = "@hosts";

pub struct Cluster;

fn host_attrs(h: &Json) -> Json {
    Obj::new()
        .copy("zone", h, "zoneId")
        .copy("subnet_id", h, "subnetId")
        .set(
            "assign_public_ip",
            json!(h
                .get("assignPublicIp")
                .and_then(Json::as_bool)
                .unwrap_or(false)),
        )
        .copy("fqdn", h, "name")
        .build()
}

fn host_spec(h: &Json) -> Json {
    Obj::new()
        .copy("zoneId", h, "zone")
        .copy("subnetId", h, "subnet_id")
        .copy("assignPublicIp", h, "assign_public_ip")
        .build()
}

/// The user's settings of the versioned config (`userConfig` when the API splits them).
fn pg_settings(config: &Json) -> Json {
    match versioned(config, "postgresqlConfig") {
        Some(c) => match c.get("userConfig") {
            Some(u) => settings_from_api(Some(u)),
            None if c.get("effectiveConfig").is_some() => Json::Null,
            None => settings_from_api(Some(c)),
        },
        None => Json::Null,
    }
}

fn cluster_attrs(api: &Json, hosts: &[Json]) -> Json {
    let c = api.get("config").cloned().unwrap_or(Json::Null);
    let id = api.get("id").and_then(Json::as_str).unwrap_or("");
    let config = Obj::new()
        .copy("version", &c, "version")
        .set("resources", resources_attrs(c.get("resources")))
        .set(
            "pooler_config",
            non_empty(settings_from_api(c.get("poolerConfig"))),
        )
        .copy("autofailover", &c, "autofailover")
        .set(
            "backup_retain_period_days",
            int_attr(c.get("backupRetainPeriodDays")),
        )
        .set(
            "backup_window_start",
            c.get("backupWindowStart")
                .map(|w| {
                    json!({"hours": int_attr(w.get("hours")).as_i64().unwrap_or(0),
                           "minutes": int_attr(w.get("minutes")).as_i64().unwrap_or(0)})
                })
                .unwrap_or(Json::Null),
        )
        .set("access", non_empty(settings_from_api(c.get("access"))))
        .set("postgresql_config", non_empty(pg_settings(&c)))
        .build();
    let mut host: Vec<Json> = hosts.iter().map(host_attrs).collect();
    host.sort_by_key(host_key);
    common_attrs(api)
        .copy("environment", api, "environment")
        .copy("network_id", api, "networkId")
        .set("security_group_ids", strings(api.get("securityGroupIds")))
        .set(
            "deletion_protection",
            json!(api
                .get("deletionProtection")
                .and_then(Json::as_bool)
                .unwrap_or(false)),
        )
        .set("config", config)
        .set("host", Json::Array(host))
        .copy("status", api, "status")
        .copy("health", api, "health")
        .set("fqdn", json!(format!("c-{id}.rw.mdb.yandexcloud.net")))
        .build()
}

fn host_key(h: &Json) -> (String, String, String) {
    let s = |k: &str| h.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    (s("zone"), s("subnet_id"), s("fqdn"))
}

fn version(d: &Json) -> String {
    d.pointer("/config/version")
        .and_then(Json::as_str)
        .unwrap_or("16")
        .to_string()
}

fn config_body(d: &Json) -> Json {
    let c = d.get("config").cloned().unwrap_or(Json::Null);
    let key = config_key("postgresqlConfig", &version(d), 0);
    Obj::new()
        .copy("version", &c, "version")
        .set("resources", resources_body(c.get("resources")))
        .set(
            "poolerConfig",
            non_empty(settings_to_api(c.get("pooler_config"))),
        )
        .copy("autofailover", &c, "autofailover")
        .set(
            "backupRetainPeriodDays",
            c.get("backup_retain_period_days")
                .map(int64)
                .unwrap_or(Json::Null),
        )
        .set(
            "backupWindowStart",
            c.get("backup_window_start")
                .map(|w| {
                    json!({"hours": w.get("hours").cloned().unwrap_or(json!(0)),
                           "minutes": w.get("minutes").cloned().unwrap_or(json!(0)),
                           "seconds": 0, "nanos": 0})
                })
                .unwrap_or(Json::Null),
        )
        .set("access", non_empty(settings_to_api(c.get("access"))))
        .set(&key, non_empty(settings_to_api(c.get("postgresql_config"))))
        .build()
}

fn create_body(d: &Json) -> Json {
    let hosts: Vec<Json> = d
        .get("host")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(host_spec)
        .collect();
    common_body(d)
        .copy("environment", d, "environment")
        .copy("networkId", d, "network_id")
        .copy("securityGroupIds", d, "security_group_ids")
        .copy("deletionProtection", d, "deletion_protection")
        .set("configSpec", config_body(d))
        .set("databaseSpecs", json!([]))
        .set("userSpecs", json!([]))
        .set("hostSpecs", Json::Array(hosts))
        .build()
}

fn update_body(p: &Json) -> Json {
    Obj::new()
        .copy("name", p, "name")
        .copy("description", p, "description")
        .copy("labels", p, "labels")
        .copy("securityGroupIds", p, "security_group_ids")
        .copy("deletionProtection", p, "deletion_protection")
        .set("configSpec", config_body(p))
        .build()
}

/// Hosts to add (specs) and to remove (FQDNs) to go from `live` to `planned`, matching hosts
/// by zone, subnet and public address.
fn host_changes(planned: &[Json], live: &[Json]) -> (Vec<Json>, Vec<String>) {
    let same = |a: &Json, b: &Json| {
        let s = |h: &Json, k: &str| h.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let p = |h: &Json| {
            h.get("assign_public_ip")
                .and_then(Json::as_bool)
                .unwrap_or(false)
        };
        s(a, "zone") == s(b, "zone")
            && (s(a, "subnet_id").is_empty() || s(a, "subnet_id") == s(b, "subnet_id"))
            && p(a) == p(b)
    };
    let mut unmatched: Vec<&Json> = live.iter().collect();
    let mut add = Vec::new();
    for want in planned {
        match unmatched.iter().position(|l| same(want, l)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => add.push(host_spec(want)),
        }
    }
    let remove = unmatched
        .iter()
        .filter_map(|h| h.get("fqdn").and_then(Json::as_str).map(str::to_string))
        .collect();
    (add, remove)
}

impl Cluster {
    async fn attrs(&self, cx: &Cx<'_>, api: &Json) -> Result<Json, ProviderError> {
        let id = api.get("id").and_then(Json::as_str).unwrap_or("");
        let hosts = mdb::hosts(cx, self, CLUSTERS_PATH, id).await?;
        Ok(cluster_attrs(api, &hosts))
    }

    async fn change_hosts(
        &self,
        cx: &Cx<'_>,
        id: &str,
        planned: &Json,
        prior: &Json,
    ) -> Result<(), ProviderError> {
        let list = |v: &Json| {
            v.get("host")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (add, remove) = host_changes(&list(planned), &list(prior));
        let what = cx.what("changing the hosts of", self);
        let t = self.timeouts().update;
        if !add.is_empty() {
            let path = format!("{CLUSTERS_PATH}/{id}/hosts:batchCreate");
            mutate(
                cx,
                Method::Post,
                Service::Mdb,
                &path,
                Some(json!({"hostSpecs": add})),
                t,
                &what,
            )
            .await?;
        }
        if !remove.is_empty() {
            let path = format!("{CLUSTERS_PATH}/{id}/hosts:batchDelete");
            mutate(
                cx,
                Method::Post,
                Service::Mdb,
                &path,
                Some(json!({"hostNames": remove})),
                t,
                &what,
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Kind for Cluster {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_postgresql_cluster"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(30, 60, 15)
    }

    fn mask_rules(&self, planned: &Json) -> Vec<Rule> {
        let key = config_key("postgresqlConfig", &version(planned), 0);
        let mut r = rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
            ("security_group_ids", "securityGroupIds"),
            ("deletion_protection", "deletionProtection"),
            ("config.version", "configSpec.version"),
            (
                "config.resources.resource_preset_id",
                "configSpec.resources.resourcePresetId",
            ),
            (
                "config.resources.disk_size",
                "configSpec.resources.diskSize",
            ),
            (
                "config.resources.disk_type_id",
                "configSpec.resources.diskTypeId",
            ),
            ("config.pooler_config.*", "configSpec.poolerConfig.*"),
            ("config.autofailover", "configSpec.autofailover"),
            (
                "config.backup_retain_period_days",
                "configSpec.backupRetainPeriodDays",
            ),
            ("config.backup_window_start", "configSpec.backupWindowStart"),
            ("config.access.*", "configSpec.access.*"),
            ("host", HOSTS),
        ]);
        r.push(Rule {
            tf: "config.postgresql_config.*".into(),
            api: format!("configSpec.{key}.*"),
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

    fn normalize(&self, attrs: &mut Value) {
        sort_list(attrs, "host", &["zone", "subnet_id", "fqdn"]);
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        let fqdn = match planned.get("id").and_then(Value::as_str) {
            Some(id) => Value::from(format!("c-{id}.rw.mdb.yandexcloud.net")),
            None => Value::Unknown,
        };
        planned.set_path(&keys("fqdn"), fqdn);
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
        let id = attr(prior, "id");
        let (hosts, fields): (Vec<String>, Vec<String>) =
            mask.iter().cloned().partition(|m| m == HOSTS);
        if !hosts.is_empty() {
            self.change_hosts(cx, id, planned, prior).await?;
        }
        let api = if fields.is_empty() {
            CLUSTERS.get(cx, self, id).await?.ok_or_else(|| {
                ProviderError::new(format!(
                    "{}: the cluster disappeared",
                    cx.what("updating", self)
                ))
            })?
        } else {
            CLUSTERS
                .update(cx, self, id, &update_body(planned), &fields)
                .await?
        };
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
        let d = json!({"name": "pg", "folder_id": "f", "environment": "PRODUCTION", "network_id": "n",
            "config": {"version": "16", "resources": {"resource_preset_id": "s3-c2-m8", "disk_size": 20, "disk_type_id": "network-ssd"},
                       "postgresql_config": {"max_connections": 200}},
            "host": [{"zone": "ru-central1-a", "subnet_id": "s"}]});
        let b = create_body(&d);
        assert_eq!(b["configSpec"]["resources"]["diskSize"], "21474836480");
        assert_eq!(
            b["configSpec"]["postgresqlConfig_16"],
            json!({"maxConnections": "200"})
        );
        assert_eq!(
            b["hostSpecs"],
            json!([{"zoneId": "ru-central1-a", "subnetId": "s"}])
        );
        let mut api = json!({"id": "c9q", "name": "pg", "folderId": "f", "environment": "PRODUCTION", "networkId": "n"});
        api["config"] = json!({"version": "16", "resources": b["configSpec"]["resources"].clone(),
            "postgresqlConfig_16": {"effectiveConfig": {"maxConnections": "200", "x": "1"}, "userConfig": {"maxConnections": "200"}}});
        let a = cluster_attrs(
            &api,
            &[
                json!({"name": "rc1a-x.mdb.yandexcloud.net", "zoneId": "ru-central1-a", "subnetId": "s", "assignPublicIp": false}),
            ],
        );
        assert_eq!(a["fqdn"], "c-c9q.rw.mdb.yandexcloud.net");
        assert_eq!(a["config"]["resources"]["disk_size"], 20);
        assert_eq!(
            a["config"]["postgresql_config"],
            json!({"max_connections": "200"})
        );
        assert_eq!(a["host"][0]["fqdn"], "rc1a-x.mdb.yandexcloud.net");
    }

    #[test]
    fn hosts_are_added_and_removed_by_place() {
        let live = [
            json!({"zone": "ru-central1-a", "subnet_id": "a", "assign_public_ip": false, "fqdn": "h1"}),
            json!({"zone": "ru-central1-b", "subnet_id": "b", "assign_public_ip": false, "fqdn": "h2"}),
        ];
        let planned = [
            json!({"zone": "ru-central1-a", "subnet_id": "a"}),
            json!({"zone": "ru-central1-d", "subnet_id": "d"}),
        ];
        let (add, remove) = host_changes(&planned, &live);
        assert_eq!(add, [json!({"zoneId": "ru-central1-d", "subnetId": "d"})]);
        assert_eq!(remove, ["h2"]);
    }
}
