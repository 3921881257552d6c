//! What Managed Kafka and Managed PostgreSQL clusters share (reference §3.7, §3.8): the
//! versioned settings keys (`kafkaConfig_3`, `postgresqlConfig_16`), the hosts list and the
//! status that says a cluster is usable.

use super::rest::list_all;
use super::{Cx, Kind, Readiness};
use crate::client::{Request, Service};
use crate::convert::text;
use mlstack_provider_api::ProviderError;
use serde_json::Value as Json;

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
