//! What the table cannot say: per-type shaping of new resources (defaults, derived fields,
//! child resources created from a cluster's specs) and of updates.

use super::errors::CloudError;
use super::ids::new_id;
use super::json;
use super::state::{Ctx, Record, State};
use super::types::TypeSpec;
use super::{mdb, mk8s, pg_config};
use serde_json::{json, Value};

/// Shapes a new record; returns the child records to create with it.
pub fn on_create(
    st: &State,
    spec: &TypeSpec,
    body: &Value,
    rec: &mut Record,
    ctx: &Ctx,
) -> Result<Vec<Record>, CloudError> {
    match spec.kind {
        "vpc.network" => {
            rec.resource["defaultSecurityGroupId"] = json!(new_id("enp"));
        }
        "k8s.cluster" => mk8s::build_cluster(body, rec),
        "k8s.nodeGroup" => mk8s::build_node_group(st, rec),
        "mdb.kafka.cluster" => return mdb::build_kafka(body, rec, ctx.now),
        "mdb.postgresql.cluster" => return mdb::build_postgresql(body, rec, ctx.now),
        "mdb.postgresql.user" => mdb::user_defaults(rec),
        "storage.bucket" => bucket_defaults(rec),
        _ => {}
    }
    Ok(Vec::new())
}

/// Adjusts an update request before the generic mask handling.
pub fn before_update(spec: &TypeSpec, body: &mut Value, mask: &mut Option<Vec<String>>) {
    if spec.kind == "mdb.postgresql.cluster" {
        return pg_config::before_update(body, mask);
    }
    let version = match spec.kind {
        "k8s.cluster" => "masterSpec.version",
        "k8s.nodeGroup" => "version",
        _ => return,
    };
    mk8s::keep_latest_revision(body, mask, version);
}

/// Recomputes derived fields after a create or update.
pub fn after_write(spec: &TypeSpec, rec: &mut Record) {
    match spec.kind {
        "k8s.cluster" => mk8s::derive_cluster(rec),
        "k8s.nodeGroup" => mk8s::derive_node_group(rec),
        "mdb.postgresql.cluster" => pg_config::shape(&mut rec.resource),
        _ => {}
    }
}

fn bucket_defaults(rec: &mut Record) {
    let r = &mut rec.resource;
    r["id"] = r.get("name").cloned().unwrap_or(Value::Null);
    for (path, default) in [
        ("defaultStorageClass", json!("STANDARD")),
        ("maxSize", json!("0")),
        ("versioning", json!("VERSIONING_DISABLED")),
        (
            "anonymousAccessFlags",
            json!({"read": false, "list": false, "configRead": false}),
        ),
    ] {
        if json::get(r, path).is_none() {
            json::set(r, path, default);
        }
    }
}
