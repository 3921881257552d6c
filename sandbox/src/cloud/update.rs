//! PATCH with `updateMask` (reference §0.4): only the masked fields change, a masked field
//! absent from the body is reset; without a mask every updatable field takes the body's
//! value or is reset. A path the type cannot update is refused, naming the field.

use super::crud::{self, check_lock, find, lock_of, metadata, short_key};
use super::errors::CloudError;
use super::hooks;
use super::json;
use super::operations::{Effect, Target};
use super::state::{Ctx, NewOp, State};
use super::types::TypeSpec;
use serde_json::{json, Value};

/// The mask as sent: a comma-separated string (also a list, or `{"paths": [...]}`).
fn take_mask(body: &mut Value) -> Result<Option<Vec<String>>, CloudError> {
    let Some(m) = body.as_object_mut().and_then(|o| o.remove("updateMask")) else {
        return Ok(None);
    };
    let paths: Vec<String> = match &m {
        Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|p| p.trim().to_string())
            .collect(),
        Value::Object(o) => o
            .get("paths")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        Value::Null => Vec::new(),
        _ => return Err(CloudError::invalid("updateMask must be a string")),
    };
    let paths: Vec<String> = paths.into_iter().filter(|p| !p.is_empty()).collect();
    Ok((!paths.is_empty()).then_some(paths))
}

fn immutable_field(spec: &TypeSpec, field: &str) -> CloudError {
    CloudError::invalid(format!(
        "field \"{field}\" of {} cannot be updated",
        spec.label
    ))
}

fn updatable(spec: &TypeSpec, path: &str) -> bool {
    spec.updatable.iter().any(|u| json::under(path, u))
        && !spec.immutable.iter().any(|i| json::under(path, i))
}

/// The resource after applying `body` under `mask` (`None`: a full update).
fn apply(
    spec: &TypeSpec,
    old: &Value,
    body: &Value,
    mask: Option<&[(String, String)]>,
) -> Result<Value, CloudError> {
    let mut new = old.clone();
    let changed = |p: &str| json::get(body, p).is_some_and(|v| Some(v) != json::get(old, p));
    match mask {
        Some(paths) => {
            for (sent, p) in paths {
                if !updatable(spec, p) {
                    return Err(immutable_field(spec, sent));
                }
                if let Some(i) = spec
                    .immutable
                    .iter()
                    .find(|i| json::under(i, p) && changed(i))
                {
                    return Err(immutable_field(spec, i));
                }
            }
            for (_, p) in paths {
                match json::get(body, p) {
                    Some(v) => json::set(&mut new, p, v.clone()),
                    None => {
                        json::remove(&mut new, p);
                    }
                }
            }
        }
        None => {
            if let Some(leaf) = json::leaves(body)
                .into_iter()
                .find(|l| !updatable(spec, l) && changed(l))
            {
                return Err(immutable_field(spec, &leaf));
            }
            for u in spec.updatable {
                match json::get(body, u) {
                    Some(v) => json::set(&mut new, u, v.clone()),
                    None => {
                        json::remove(&mut new, u);
                    }
                }
            }
        }
    }
    for i in spec.immutable {
        match json::get(old, i) {
            Some(v) => json::set(&mut new, i, v.clone()),
            None => {
                json::remove(&mut new, i);
            }
        }
    }
    for d in spec.dropped {
        json::remove(&mut new, d);
    }
    Ok(new)
}

/// PATCH on an item.
pub fn update(
    st: &mut State,
    spec: &'static TypeSpec,
    key: &str,
    mut body: Value,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let mut rec = find(st, spec, key)?.clone();
    let lock = lock_of(spec, key, rec.parent.as_deref());
    check_lock(st, lock.as_deref())?;
    if let Some(op) = crud::deleting(st, spec, key) {
        return Err(CloudError::conflicting(&op));
    }
    let mut mask = take_mask(&mut body)?;
    // The path's id may be repeated in the body (`networkId`); it is not a field.
    if let Some(o) = body.as_object_mut() {
        o.remove(spec.meta_key);
    }
    hooks::before_update(spec, &mut body, &mut mask);
    let full = match &mask {
        None if spec.mask_required => {
            return Err(CloudError::invalid(
                "updateMask is required (\"*\" updates all fields)",
            ))
        }
        None => true,
        Some(m) => m.iter().any(|p| p == "*"),
    };
    json::int64_as_strings(&mut body);
    json::move_paths(&mut body, spec.update_renames);
    let paths: Option<Vec<(String, String)>> = (!full).then(|| {
        mask.unwrap_or_default()
            .into_iter()
            .map(|sent| {
                let p = json::rename(&json::camel(&sent), spec.update_renames);
                (sent, p)
            })
            .collect()
    });
    let old = rec.resource.clone();
    rec.resource = apply(spec, &old, &body, paths.as_deref())?;
    let name = json::str_at(&rec.resource, "name")
        .unwrap_or_default()
        .to_string();
    if json::str_at(&old, "name").unwrap_or_default() != name {
        crud::check_name(
            st,
            spec,
            &name,
            &rec.folder,
            rec.parent.as_deref(),
            Some(key),
        )?;
    }
    crud::check_refs(st, spec, &rec.resource, Some(&old), rec.parent.as_deref())?;
    hooks::after_write(spec, &mut rec);
    if let Some(lc) = spec.lifecycle {
        if rec.resource.get("status").and_then(Value::as_str) == Some(lc.running) {
            rec.resource["status"] = json!(lc.updating);
        }
    }
    let meta = metadata(spec, "Update", &rec);
    st.put(rec)?;
    st.start_op(
        ctx,
        NewOp {
            spec,
            description: format!("Update {} {}", spec.label, short_key(key)),
            metadata: meta,
            effect: Effect::Update,
            target: Some(Target {
                kind: spec.kind.to_string(),
                key: key.to_string(),
            }),
            lock,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::types::{K8S_CLUSTER, KAFKA_CLUSTER, NETWORK};

    fn mask(v: &[&str], spec: &TypeSpec) -> Vec<(String, String)> {
        v.iter()
            .map(|s| {
                (
                    s.to_string(),
                    json::rename(&json::camel(s), spec.update_renames),
                )
            })
            .collect()
    }

    #[test]
    fn masked_fields_change_and_reset() {
        let old = json!({"id": "n", "name": "a", "description": "d", "labels": {"x": "1"}});
        let body = json!({"name": "b", "labels": {"y": "2"}});
        let m = mask(&["name", "description"], &NETWORK);
        let new = apply(&NETWORK, &old, &body, Some(&m)).unwrap();
        assert_eq!(new, json!({"id": "n", "name": "b", "labels": {"x": "1"}}));
        // No mask: the body's updatable fields, the rest reset.
        let new = apply(&NETWORK, &old, &body, None).unwrap();
        assert_eq!(new, json!({"id": "n", "name": "b", "labels": {"y": "2"}}));
    }

    #[test]
    fn immutable_fields_are_named() {
        let old = json!({"id": "n", "folderId": "f", "name": "a"});
        let e = apply(
            &NETWORK,
            &old,
            &json!({}),
            Some(&mask(&["folder_id"], &NETWORK)),
        );
        assert!(e.unwrap_err().message.contains("\"folder_id\""));
        let e = apply(&NETWORK, &old, &json!({"folderId": "g", "name": "a"}), None);
        assert!(e.unwrap_err().message.contains("\"folderId\""));
        // Unchanged immutable fields in a full update are fine.
        assert!(apply(&NETWORK, &old, &json!({"folderId": "f", "name": "a"}), None).is_ok());
        let old = json!({"config": {"assignPublicIp": false, "brokersCount": "1"}});
        let mut body = json!({"configSpec": {"assignPublicIp": true, "brokersCount": "3"}});
        json::move_paths(&mut body, KAFKA_CLUSTER.update_renames);
        let e = apply(
            &KAFKA_CLUSTER,
            &old,
            &body,
            Some(&mask(&["configSpec"], &KAFKA_CLUSTER)),
        );
        assert!(e.unwrap_err().message.contains("config.assignPublicIp"));
    }

    #[test]
    fn nested_renames() {
        let old = json!({"master": {"version": "1.29", "zonalMaster": {"zoneId": "a"}}});
        let mut body = json!({"masterSpec": {"version": {"version": "1.30"}}});
        json::move_paths(&mut body, K8S_CLUSTER.update_renames);
        let m = mask(&["master_spec.version.version"], &K8S_CLUSTER);
        let new = apply(&K8S_CLUSTER, &old, &body, Some(&m)).unwrap();
        assert_eq!(new["master"]["version"], "1.30");
        assert_eq!(new["master"]["zonalMaster"]["zoneId"], "a");
        let m = mask(&["masterSpec.zonalMasterSpec"], &K8S_CLUSTER);
        let e = apply(&K8S_CLUSTER, &old, &body, Some(&m)).unwrap_err();
        assert!(e.message.contains("masterSpec.zonalMasterSpec"));
    }
}
