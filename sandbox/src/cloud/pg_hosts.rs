//! PostgreSQL host changes (`POST …/clusters/{id}/hosts:batchCreate` and `:batchDelete`,
//! `ClusterService.AddHosts`/`DeleteHosts`): the cluster's host specs change at once, the
//! operation holds the cluster (UPDATING) and answers `google.protobuf.Empty`.

use super::crud::{self, check_lock, find, lock_of};
use super::errors::CloudError;
use super::json;
use super::mdb;
use super::operations::{empty, Effect, Target};
use super::state::{Ctx, NewOp, State};
use super::types::TypeSpec;
use serde_json::{json, Value};

/// Most hosts one request may add (the real limit is the preset's; this guards memory).
const MAX_HOSTS: usize = 32;

/// `hosts:<verb>` of cluster `key`.
pub fn change(
    st: &mut State,
    spec: &'static TypeSpec,
    key: &str,
    verb: &str,
    body: &Value,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let (meta_type, what) = match verb {
        "batchCreate" => ("AddClusterHostsMetadata", "Add hosts to"),
        "batchDelete" => ("DeleteClusterHostsMetadata", "Delete hosts from"),
        "batchUpdate" => {
            find(st, spec, key)?;
            return Err(CloudError::unimplemented(
                "hosts:batchUpdate is not implemented by the sandbox",
            ));
        }
        _ => return Err(CloudError::not_found("no such method")),
    };
    let mut rec = find(st, spec, key)?.clone();
    let lock = lock_of(spec, key, None);
    check_lock(st, lock.as_deref())?;
    if let Some(op) = crud::deleting(st, spec, key) {
        return Err(CloudError::conflicting(&op));
    }
    let mut specs = mdb::host_specs(&rec);
    let names: Vec<String> = if verb == "batchCreate" {
        let new = body
            .get("hostSpecs")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| CloudError::invalid("hostSpecs is required"))?;
        if new.len() > MAX_HOSTS {
            return Err(CloudError::invalid(format!(
                "hostSpecs: at most {MAX_HOSTS} hosts at a time"
            )));
        }
        let mut added = Vec::new();
        for h in new {
            if json::str_at(h, "zoneId").is_none() {
                return Err(CloudError::invalid("hostSpecs: zoneId is required"));
            }
            let named = mdb::name_host(&rec.key, h, &specs);
            added.push(json::str_at(&named, "name").unwrap_or_default().to_string());
            specs.push(named);
        }
        added
    } else {
        let gone: Vec<String> = body
            .get("hostNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .filter(|a: &Vec<String>| !a.is_empty())
            .ok_or_else(|| CloudError::invalid("hostNames is required"))?;
        for name in &gone {
            if !specs.iter().any(|h| json::str_at(h, "name") == Some(name)) {
                return Err(CloudError::not_found(format!("host \"{name}\" not found")));
            }
        }
        specs.retain(|h| !gone.iter().any(|g| json::str_at(h, "name") == Some(g)));
        if specs.is_empty() {
            return Err(CloudError::precondition(
                "the last host of a cluster cannot be deleted",
            ));
        }
        gone
    };
    mdb::set_host_specs(&mut rec, specs);
    if let Some(lc) = spec.lifecycle {
        if rec.resource.get("status").and_then(Value::as_str) == Some(lc.running) {
            rec.resource["status"] = json!(lc.updating);
        }
    }
    st.put(rec)?;
    st.start_op(
        ctx,
        NewOp {
            spec,
            description: format!("{what} PostgreSQL cluster {key}"),
            metadata: json!({
                "@type": format!("type.googleapis.com/{}.{meta_type}", spec.package),
                "clusterId": key,
                "hostNames": names,
            }),
            effect: Effect::Settle { response: empty() },
            target: Some(Target {
                kind: spec.kind.to_string(),
                key: key.to_string(),
            }),
            lock,
        },
    )
}
