//! Managed Kubernetes shapes: the cluster's `master` built from its `masterSpec`, versions,
//! node groups, and the endpoint of the cluster's own sandbox Kubernetes API.

use super::ids::{new_id, static_token};
use super::json;
use super::state::{Record, State};
use serde_json::{json, Value};

/// The version a cluster gets when its spec names none.
pub const DEFAULT_VERSION: &str = "1.30";
const VERSIONS: &[&str] = &["1.29", "1.30", "1.31"];
const INTERNAL_ADDRESS: &str = "10.0.0.10";
const EXTERNAL_ADDRESS: &str = "127.0.0.1";

/// The key of a cluster's own static Kubernetes token in its record.
pub const KUBE_TOKEN: &str = "kubeToken";

/// `GET /managed-kubernetes/v1/versions`.
pub fn versions() -> Value {
    let channels: Vec<Value> = ["RAPID", "REGULAR", "STABLE"]
        .iter()
        .map(|c| json!({"releaseChannel": c, "versions": VERSIONS}))
        .collect();
    json!({ "availableVersions": channels })
}

/// `master` from `masterSpec` (zonal, regional or new-style locations).
pub fn build_cluster(body: &Value, rec: &mut Record) {
    let spec = body.get("masterSpec").cloned().unwrap_or_else(|| json!({}));
    let mut master = json!({});
    let external = |s: &Value| s.get("externalV4AddressSpec").is_some();
    let mut locations: Vec<Value> = Vec::new();
    if let Some(z) = spec.get("zonalMasterSpec") {
        let mut m = json!({"zoneId": z.get("zoneId"), "internalV4Address": INTERNAL_ADDRESS});
        if external(z) {
            m["externalV4Address"] = json!(EXTERNAL_ADDRESS);
        }
        master["zonalMaster"] = m;
        locations.push(json!({
            "zoneId": z.get("zoneId"),
            "subnetId": json::get(z, "internalV4AddressSpec.subnetId"),
        }));
    } else if let Some(r) = spec.get("regionalMasterSpec") {
        let mut m = json!({"regionId": r.get("regionId"), "internalV4Address": INTERNAL_ADDRESS});
        if external(r) {
            m["externalV4Address"] = json!(EXTERNAL_ADDRESS);
        }
        master["regionalMaster"] = m;
        for l in r
            .get("locations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            locations.push(json!({
                "zoneId": l.get("zoneId"),
                "subnetId": json::get(l, "internalV4AddressSpec.subnetId"),
            }));
        }
    }
    if let Some(l) = spec.get("locations").and_then(Value::as_array) {
        locations = l.clone();
    }
    master["etcdClusterSize"] = spec
        .get("etcdClusterSize")
        .cloned()
        .unwrap_or_else(|| json!(locations.len().max(1).to_string()));
    if !locations.is_empty() {
        master["locations"] = json!(locations);
    }
    master["version"] = json!(json::str_at(&spec, "version").unwrap_or(DEFAULT_VERSION));
    master["maintenancePolicy"] = spec
        .get("maintenancePolicy")
        .cloned()
        .unwrap_or_else(|| json!({"autoUpgrade": true, "maintenanceWindow": {"anytime": {}}}));
    for f in ["securityGroupIds", "masterLogging"] {
        if let Some(v) = spec.get(f) {
            master[f] = v.clone();
        }
    }
    rec.resource["master"] = master;
    if rec.resource.get("releaseChannel").is_none() {
        rec.resource["releaseChannel"] = json!("REGULAR");
    }
    rec.extra.insert(KUBE_TOKEN.into(), json!(static_token()));
}

/// A node group takes its cluster's version when it names none.
pub fn build_node_group(st: &State, rec: &mut Record) {
    if json::str_at(&rec.resource, "versionInfo.currentVersion").is_none() {
        let v = rec
            .parent
            .as_deref()
            .and_then(|c| st.get("k8s.cluster", c))
            .and_then(|c| json::str_at(&c.resource, "master.version"))
            .unwrap_or(DEFAULT_VERSION)
            .to_string();
        json::set(&mut rec.resource, "versionInfo.currentVersion", json!(v));
    }
    rec.resource["instanceGroupId"] = json!(new_id("cl1"));
}

/// `master.versionInfo` follows `master.version`.
pub fn derive_cluster(rec: &mut Record) {
    if let Some(v) = json::str_at(&rec.resource, "master.version").map(str::to_string) {
        json::set(
            &mut rec.resource,
            "master.versionInfo",
            json!({"currentVersion": v, "newRevisionAvailable": false, "versionDeprecated": false}),
        );
    }
}

/// `nodeVersion` (deprecated) follows `versionInfo.currentVersion`.
pub fn derive_node_group(rec: &mut Record) {
    if let Some(v) = json::str_at(&rec.resource, "versionInfo.currentVersion").map(str::to_string) {
        rec.resource["nodeVersion"] = json!(v);
    }
}

/// `{"latestRevision": true}` asks for the newest revision of the current version: the
/// emulator has one revision per version, so the version stays as it is.
pub fn keep_latest_revision(body: &mut Value, mask: &mut Option<Vec<String>>, path: &str) {
    let latest = json::get(body, path)
        .and_then(|v| v.get("latestRevision"))
        .and_then(Value::as_bool)
        == Some(true);
    if !latest {
        return;
    }
    json::remove(body, path);
    if let Some(m) = mask {
        m.retain(|p| !json::under(&json::camel(p), path));
    }
}

/// Records the cluster's Kubernetes API (endpoint and CA) in its `master`.
pub fn attach(rec: &mut Record, endpoint: &str, ca_pem: &str) {
    json::set(
        &mut rec.resource,
        "master.endpoints",
        json!({"internalV4Endpoint": endpoint, "externalV4Endpoint": endpoint}),
    );
    json::set(
        &mut rec.resource,
        "master.masterAuth",
        json!({"clusterCaCertificate": ca_pem}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(resource: Value) -> Record {
        Record {
            kind: "k8s.cluster".into(),
            key: "c".into(),
            seq: 1,
            folder: "f".into(),
            parent: None,
            resource,
            extra: Default::default(),
        }
    }

    #[test]
    fn zonal_master() {
        let body = json!({"masterSpec": {"zonalMasterSpec": {"zoneId": "ru-central1-a",
            "internalV4AddressSpec": {"subnetId": "s"}, "externalV4AddressSpec": {}},
            "version": "1.29"}});
        let mut rec = record(json!({"id": "c"}));
        build_cluster(&body, &mut rec);
        derive_cluster(&mut rec);
        let m = &rec.resource["master"];
        assert_eq!(m["zonalMaster"]["externalV4Address"], EXTERNAL_ADDRESS);
        assert_eq!(m["locations"][0]["subnetId"], "s");
        assert_eq!(m["etcdClusterSize"], "1");
        assert_eq!(m["versionInfo"]["currentVersion"], "1.29");
        assert_eq!(rec.resource["releaseChannel"], "REGULAR");
        assert!(rec.extra.contains_key(KUBE_TOKEN));
    }

    #[test]
    fn latest_revision_keeps_the_version() {
        let mut body = json!({"masterSpec": {"version": {"latestRevision": true}}, "name": "x"});
        let mut mask = Some(vec!["master_spec.version".to_string(), "name".to_string()]);
        keep_latest_revision(&mut body, &mut mask, "masterSpec.version");
        assert_eq!(body, json!({"name": "x"}));
        assert_eq!(mask, Some(vec!["name".to_string()]));
    }
}
