//! Managed Kafka and PostgreSQL shapes: defaults, the topics/users/databases a cluster's
//! create body specifies, and the hosts a cluster reports (FQDNs in `mdb.yandexcloud.net`).

use super::crud::{build, child_key};
use super::errors::CloudError;
use super::json;
use super::state::Record;
use super::types::{TypeSpec, KAFKA_TOPIC, KAFKA_USER, PG_DATABASE, PG_USER};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

const DEFAULT_ZONE: &str = "ru-central1-a";
const HOST_SPECS: &str = "hostSpecs";
/// More brokers than any preset allows are not listed (a typo must not exhaust memory).
const MAX_BROKERS_PER_ZONE: u64 = 64;

/// Kafka defaults and the topics and users of `topicSpecs`/`userSpecs`.
pub fn build_kafka(body: &Value, rec: &mut Record, now: u64) -> Result<Vec<Record>, CloudError> {
    let r = &mut rec.resource;
    for (path, default) in [
        ("environment", json!("PRODUCTION")),
        ("config.brokersCount", json!("1")),
        ("config.zoneId", json!([DEFAULT_ZONE])),
        ("config.assignPublicIp", json!(false)),
    ] {
        if json::get(r, path).is_none() {
            json::set(r, path, default);
        }
    }
    let mut out = children(&KAFKA_TOPIC, body.get("topicSpecs"), rec, now)?;
    out.extend(children(&KAFKA_USER, body.get("userSpecs"), rec, now)?);
    Ok(out)
}

/// PostgreSQL: keeps the host specs, creates the users then the databases of the body.
pub fn build_postgresql(
    body: &Value,
    rec: &mut Record,
    now: u64,
) -> Result<Vec<Record>, CloudError> {
    let mut hosts = Vec::new();
    for h in body
        .get(HOST_SPECS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let named = name_host(&rec.key, h, &hosts);
        hosts.push(named);
    }
    set_host_specs(rec, hosts);
    let mut users = children(&PG_USER, body.get("userSpecs"), rec, now)?;
    for u in &mut users {
        user_defaults(u);
    }
    let names: BTreeSet<&str> = users
        .iter()
        .filter_map(|u| json::str_at(&u.resource, "name"))
        .collect();
    let dbs = children(&PG_DATABASE, body.get("databaseSpecs"), rec, now)?;
    for db in &dbs {
        let owner = json::str_at(&db.resource, "owner").unwrap_or_default();
        if !names.contains(owner) {
            return Err(CloudError::invalid(format!(
                "databaseSpecs: owner \"{owner}\" of database \"{}\" is not among userSpecs",
                json::str_at(&db.resource, "name").unwrap_or_default()
            )));
        }
    }
    users.extend(dbs);
    Ok(users)
}

/// A PostgreSQL cluster's host specs, each with its host name.
pub fn host_specs(rec: &Record) -> Vec<Value> {
    rec.extra
        .get(HOST_SPECS)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub fn set_host_specs(rec: &mut Record, specs: Vec<Value>) {
    rec.extra.insert(HOST_SPECS.into(), Value::Array(specs));
}

/// `spec` with the name of a new host of `cluster`: the first index whose FQDN none of
/// `existing` has, so names stay put when other hosts come and go.
pub fn name_host(cluster: &str, spec: &Value, existing: &[Value]) -> Value {
    let zone = json::str_at(spec, "zoneId").unwrap_or(DEFAULT_ZONE);
    let taken = |n: &str| {
        existing
            .iter()
            .enumerate()
            .any(|(i, h)| host_name(cluster, h, i) == n)
    };
    let name = (0..)
        .map(|i| fqdn(cluster, zone, i))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let mut out = spec.clone();
    out["name"] = json!(name);
    out
}

/// A stored host's name (specs kept before names were stored: by position).
fn host_name(cluster: &str, h: &Value, i: usize) -> String {
    match json::str_at(h, "name") {
        Some(n) => n.to_string(),
        None => fqdn(
            cluster,
            json::str_at(h, "zoneId").unwrap_or(DEFAULT_ZONE),
            i as u64,
        ),
    }
}

/// A PostgreSQL user's defaults.
pub fn user_defaults(rec: &mut Record) {
    let r = &mut rec.resource;
    if r.get("connLimit").is_none() {
        r["connLimit"] = json!("50");
    }
    if r.get("login").is_none() {
        r["login"] = json!(true);
    }
}

fn children(
    spec: &TypeSpec,
    specs: Option<&Value>,
    cluster: &Record,
    now: u64,
) -> Result<Vec<Record>, CloudError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in specs.and_then(Value::as_array).into_iter().flatten() {
        let name = json::str_at(s, "name").unwrap_or_default();
        spec.check_name(name).map_err(CloudError::invalid)?;
        if !seen.insert(name.to_string()) {
            return Err(CloudError::invalid(format!(
                "{} \"{name}\" is specified twice",
                spec.label
            )));
        }
        out.push(build(
            spec,
            child_key(&cluster.key, name),
            Some(cluster.key.clone()),
            cluster.folder.clone(),
            s,
            now,
        ));
    }
    Ok(out)
}

/// `GET …/clusters/{id}/hosts`: Kafka brokers per zone, or the PostgreSQL hosts.
pub fn hosts(rec: &Record) -> Vec<Value> {
    let r = &rec.resource;
    let running = r.get("status").and_then(Value::as_str) == Some("RUNNING");
    // The enums differ: Kafka `Host.Health` has UNKNOWN, PostgreSQL's HEALTH_UNKNOWN.
    let healthy = match (running, rec.kind == "mdb.kafka.cluster") {
        (true, _) => "ALIVE",
        (false, true) => "UNKNOWN",
        (false, false) => "HEALTH_UNKNOWN",
    };
    let mut out = Vec::new();
    if rec.kind == "mdb.kafka.cluster" {
        let zones: Vec<String> = json::get(r, "config.zoneId")
            .and_then(Value::as_array)
            .map(|z| {
                z.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let per_zone = json::get(r, "config.brokersCount")
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
            .unwrap_or(1)
            .min(MAX_BROKERS_PER_ZONE);
        for zone in &zones {
            for i in 0..per_zone {
                out.push(json!({
                    "name": fqdn(&rec.key, zone, i),
                    "clusterId": rec.key,
                    "zoneId": zone,
                    "role": "KAFKA",
                    "health": healthy,
                    "resources": json::get(r, "config.kafka.resources"),
                    "assignPublicIp": json::get(r, "config.assignPublicIp"),
                }));
            }
        }
    } else {
        for (i, h) in host_specs(rec).iter().enumerate() {
            let zone = json::str_at(h, "zoneId").unwrap_or(DEFAULT_ZONE);
            out.push(json!({
                "name": host_name(&rec.key, h, i),
                "clusterId": rec.key,
                "zoneId": zone,
                "subnetId": h.get("subnetId"),
                "role": if i == 0 { "MASTER" } else { "REPLICA" },
                "health": healthy,
                "resources": json::get(r, "config.resources"),
                "assignPublicIp": h.get("assignPublicIp").cloned().unwrap_or(json!(false)),
            }));
        }
    }
    out
}

/// `rc1a-<16 characters derived from the cluster, zone and index>.mdb.yandexcloud.net`.
fn fqdn(cluster: &str, zone: &str, i: u64) -> String {
    let short = match zone.strip_prefix("ru-central1-") {
        Some(z) => format!("rc1{z}"),
        None => "rc1a".to_string(),
    };
    let digest = Sha256::digest(format!("{cluster}/{zone}/{i}").as_bytes());
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = digest
        .iter()
        .take(16)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{short}-{id}.mdb.yandexcloud.net")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(kind: &str, resource: Value) -> Record {
        Record {
            kind: kind.into(),
            key: "c9qcluster".into(),
            seq: 1,
            folder: "f".into(),
            parent: None,
            resource,
            extra: Default::default(),
        }
    }

    #[test]
    fn kafka_brokers_per_zone() {
        let mut rec = cluster(
            "mdb.kafka.cluster",
            json!({"status": "RUNNING", "config": {"zoneId": ["ru-central1-a", "ru-central1-b"], "brokersCount": "2"}}),
        );
        let body = json!({"topicSpecs": [{"name": "events", "partitions": "3"}],
                          "userSpecs": [{"name": "app", "password": "secret-pw"}]});
        let kids = build_kafka(&body, &mut rec, 0).unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[1].resource.get("password"), None);
        assert_eq!(kids[0].key, "c9qcluster/events");
        let h = hosts(&rec);
        assert_eq!(h.len(), 4);
        let name = h[2]["name"].as_str().unwrap();
        assert!(name.starts_with("rc1b-") && name.ends_with(".mdb.yandexcloud.net"));
        assert_eq!(hosts(&rec), h);
    }

    #[test]
    fn postgresql_children_and_owner() {
        let mut rec = cluster("mdb.postgresql.cluster", json!({}));
        let body = json!({"userSpecs": [{"name": "u", "password": "p"}],
                          "databaseSpecs": [{"name": "d", "owner": "u"}]});
        assert_eq!(build_postgresql(&body, &mut rec, 0).unwrap().len(), 2);
        let body = json!({"databaseSpecs": [{"name": "d", "owner": "nobody"}]});
        assert!(build_postgresql(&body, &mut rec, 0).is_err());
        let body = json!({"hostSpecs": [{"zoneId": "ru-central1-a"}, {"zoneId": "ru-central1-a"}]});
        assert_eq!(build_postgresql(&body, &mut rec, 0).unwrap().len(), 0);
        let h = hosts(&rec);
        assert_eq!(
            (h[0]["role"].as_str(), h[1]["role"].as_str()),
            (Some("MASTER"), Some("REPLICA"))
        );
        assert_ne!(h[0]["name"], h[1]["name"]);
        assert_eq!(h[0]["health"], "HEALTH_UNKNOWN");
        // A host added after the first is gone gets a name no other host has.
        let mut specs = host_specs(&rec);
        specs.remove(0);
        let new = name_host(&rec.key, &json!({"zoneId": "ru-central1-a"}), &specs);
        assert_ne!(new["name"], h[1]["name"]);
    }
}
