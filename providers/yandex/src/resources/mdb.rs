//! What Managed Kafka and Managed PostgreSQL share (reference §3.7, §3.8): the versioned
//! settings keys (`kafkaConfig_3`, `postgresqlConfig_16`), resources in GB, the hosts list, the
//! status that says a cluster is usable, and the rules of children keyed `<cluster id>:<name>`.

use super::rest::{list_all, split_child_id};
use super::{Cx, Kind, Readiness};
use crate::client::{Request, Service};
use crate::convert::{bytes_to_gb, gb_to_bytes, text, Obj};
use crate::diff::keys;
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

/// The versioned key of a settings message: `kafkaConfig` + `3.6` → `kafkaConfig_3`,
/// `2.8` → `kafkaConfig_2_8`; `postgresqlConfig` + `16` → `postgresqlConfig_16`.
pub fn config_key(prefix: &str, version: &str, major_only_from: u32) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("");
    let minor = parts.next();
    let major_n: u32 = major.parse().unwrap_or(0);
    match minor {
        Some(m) if major_n < major_only_from && !m.is_empty() => format!("{prefix}_{major}_{m}"),
        _ => format!("{prefix}_{major}"),
    }
}

/// The settings message of `config` whose key starts with `prefix` (any version).
pub fn versioned<'a>(config: &'a Json, prefix: &str) -> Option<&'a Json> {
    config
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with(&format!("{prefix}_")))
        .map(|(_, v)| v)
}

/// The hosts of a cluster (`GET <clusters>/<id>/hosts`).
pub async fn hosts(
    cx: &Cx<'_>,
    kind: &dyn Kind,
    clusters: &str,
    id: &str,
) -> Result<Vec<Json>, ProviderError> {
    let req = Request::get(Service::Mdb, format!("{clusters}/{id}/hosts"));
    list_all(cx, req, "hosts", &cx.what("listing the hosts of", kind)).await
}

/// An MDB cluster is usable when RUNNING.
pub fn readiness(api: &Json) -> Readiness {
    let status = text(api, "/status");
    match status.as_str() {
        "RUNNING" => Readiness::Ready,
        "ERROR" | "STOPPED" | "STOPPING" => Readiness::Failed(format!(
            "the cluster is {status} (health {})",
            text(api, "/health")
        )),
        _ => Readiness::Waiting(format!("status {status}")),
    }
}

/// `{resource_preset_id, disk_size (GB), disk_type_id}` ⇄ `{resourcePresetId, diskSize, diskTypeId}`.
pub fn resources_attrs(r: Option<&Json>) -> Json {
    let Some(r) = r else { return Json::Null };
    Obj::new()
        .copy("resource_preset_id", r, "resourcePresetId")
        .set("disk_size", bytes_to_gb(r.get("diskSize")))
        .copy("disk_type_id", r, "diskTypeId")
        .build()
}

/// The stack's `resources` for the wire.
pub fn resources_body(r: Option<&Json>) -> Json {
    let Some(r) = r else { return Json::Null };
    Obj::new()
        .copy("resourcePresetId", r, "resource_preset_id")
        .set(
            "diskSize",
            r.get("disk_size").map(gb_to_bytes).unwrap_or(Json::Null),
        )
        .copy("diskTypeId", r, "disk_type_id")
        .build()
}

/// An empty settings object as absent (never sent, never read back).
pub fn non_empty(v: Json) -> Json {
    match &v {
        Json::Object(m) if m.is_empty() => Json::Null,
        _ => v,
    }
}

/// Children (`id` = `<cluster id>:<name>`) share these plan-time rules.
pub fn derive_child_id(planned: &mut Value) {
    let known = |k: &str| planned.get(k).and_then(Value::as_str).map(str::to_string);
    let id = match (known("cluster_id"), known("name")) {
        (Some(c), Some(n)) => Value::from(format!("{c}:{n}")),
        _ => Value::Unknown,
    };
    planned.set_path(&keys("id"), id);
}

/// A child can be looked up once its cluster and name are known.
pub fn child_lookup_possible(d: &Value) -> bool {
    ["name", "cluster_id"]
        .iter()
        .all(|k| d.get(k).is_some_and(|v| v.as_str().is_some()))
}

/// The attributes behind a child's import id `<cluster id>:<name>`.
pub fn child_import(id: &str) -> Result<Json, String> {
    let (c, n) = split_child_id(id)?;
    Ok(json!({"id": id, "cluster_id": c, "name": n}))
}

/// Sorts the list at `key` by the string fields `by`, so order never reads as a change.
pub fn sort_list(attrs: &mut Value, key: &str, by: &[&str]) {
    let Some(Value::List(mut l)) = attrs.get(key).map(Value::unmarked).cloned() else {
        return;
    };
    let sort_key = |v: &Value| -> Vec<String> {
        by.iter()
            .map(|k| v.get(k).and_then(Value::as_str).unwrap_or("").to_string())
            .collect()
    };
    l.sort_by_key(sort_key);
    attrs.set_path(&keys(key), Value::List(l));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versioned_keys() {
        assert_eq!(config_key("kafkaConfig", "3.6", 3), "kafkaConfig_3");
        assert_eq!(config_key("kafkaConfig", "2.8", 3), "kafkaConfig_2_8");
        assert_eq!(config_key("kafkaConfig", "4.0", 3), "kafkaConfig_4");
        assert_eq!(
            config_key("postgresqlConfig", "16", 0),
            "postgresqlConfig_16"
        );
        let c = json!({"version": "3.6", "kafkaConfig_3": {"a": 1}});
        assert_eq!(versioned(&c, "kafkaConfig"), Some(&json!({"a": 1})));
        assert_eq!(readiness(&json!({"status": "RUNNING"})), Readiness::Ready);
        assert!(matches!(
            readiness(&json!({"status": "ERROR"})),
            Readiness::Failed(_)
        ));
    }
}
