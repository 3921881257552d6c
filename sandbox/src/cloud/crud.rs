//! Create, get and delete for every type of the table, with the checks the cloud makes:
//! required fields, parents and references that must exist, name rules and uniqueness,
//! one MDB operation at a time, deletion protection, and parents that are not empty.

use super::clock::rfc3339;
use super::errors::CloudError;
use super::hooks;
use super::ids::new_id;
use super::json;
use super::operations::{Effect, Target};
use super::state::{Ctx, NewOp, Record, State};
use super::types::{spec, Scope, TypeSpec, TYPES};
use serde_json::{json, Value};

/// The body as a JSON object (an empty body is `{}`).
pub fn object(body: &[u8]) -> Result<Value, CloudError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(CloudError::invalid(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(CloudError::invalid(format!("invalid JSON body: {e}"))),
    }
}

fn blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// `network "x" not found`.
pub fn not_found(spec: &TypeSpec, key: &str) -> CloudError {
    let shown = key.rsplit('/').next().unwrap_or(key);
    CloudError::not_found(format!("{} \"{shown}\" not found", spec.label))
}

/// The record or NOT_FOUND.
pub fn find<'a>(st: &'a State, spec: &TypeSpec, key: &str) -> Result<&'a Record, CloudError> {
    st.get(spec.kind, key).ok_or_else(|| not_found(spec, key))
}

/// The key of a child under `parent` (`<clusterId>/<name>`).
pub fn child_key(parent: &str, name: &str) -> String {
    format!("{parent}/{name}")
}

/// The name or id the resource is known by (the last part of a child key).
pub fn short_key(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Operation metadata: `@type`, the resource's id/name key, and the parent's id.
pub fn metadata(spec: &TypeSpec, verb: &str, rec: &Record) -> Value {
    let mut m = json!({"@type": spec.metadata_url(verb), spec.meta_key: short_key(&rec.key)});
    if let (Some(p), Some(parent)) = (spec.parent, &rec.parent) {
        if p.nested.is_some() {
            m[p.field] = json!(parent);
        }
    }
    m
}

/// Refuses when an operation holds the MDB cluster.
pub fn check_lock(st: &State, lock: Option<&str>) -> Result<(), CloudError> {
    match lock.and_then(|l| st.running_on(l)) {
        Some(op) => Err(CloudError::conflicting(op)),
        None => Ok(()),
    }
}

/// The cluster an operation on this resource holds (itself or its parent), for MDB types.
pub fn lock_of(spec: &TypeSpec, key: &str, parent: Option<&str>) -> Option<String> {
    if !spec.exclusive {
        return None;
    }
    Some(match (spec.parent, parent) {
        (Some(_), Some(p)) => p.to_string(),
        _ => key.to_string(),
    })
}

/// Name rule and uniqueness in the type's scope (`except`: the record being renamed).
pub fn check_name(
    st: &State,
    spec: &TypeSpec,
    name: &str,
    folder: &str,
    parent: Option<&str>,
    except: Option<&str>,
) -> Result<(), CloudError> {
    spec.check_name(name).map_err(CloudError::invalid)?;
    if name.is_empty() || spec.scope == Scope::None {
        return Ok(());
    }
    let clash = st.of_kind(spec.kind).into_iter().any(|r| {
        Some(r.key.as_str()) != except
            && r.resource.get("name").and_then(Value::as_str) == Some(name)
            && match spec.scope {
                Scope::Folder => r.folder == folder,
                Scope::Parent => r.parent.as_deref() == parent,
                Scope::Cloud | Scope::Global => true,
                Scope::None => false,
            }
    });
    if clash {
        let place = match spec.scope {
            Scope::Folder => format!(" in folder \"{folder}\""),
            Scope::Parent => " in the cluster".to_string(),
            _ => String::new(),
        };
        return Err(CloudError::already_exists(format!(
            "{} with name \"{name}\" already exists{place}",
            spec.label
        )));
    }
    Ok(())
}

/// Fields naming other resources must name existing ones (only those that changed from
/// `old`, when given).
pub fn check_refs(
    st: &State,
    spec: &TypeSpec,
    resource: &Value,
    old: Option<&Value>,
    parent: Option<&str>,
) -> Result<(), CloudError> {
    let changed = |f: &str| old.is_none_or(|o| o.get(f) != resource.get(f));
    for (field, kind) in spec.refs {
        if let (Some(id), true) = (json::str_at(resource, field), changed(field)) {
            let target = self::spec(kind).ok_or_else(|| CloudError::internal("unknown kind"))?;
            if st.get(kind, id).is_none() {
                return Err(CloudError::not_found(format!(
                    "{field}: {} \"{id}\" not found",
                    target.label
                )));
            }
        }
    }
    for (field, kind) in spec.sibling_refs {
        if let (Some(name), Some(p), true) = (json::str_at(resource, field), parent, changed(field))
        {
            let target = self::spec(kind).ok_or_else(|| CloudError::internal("unknown kind"))?;
            if st.get(kind, &child_key(p, name)).is_none() {
                return Err(CloudError::not_found(format!(
                    "{field}: {} \"{name}\" not found",
                    target.label
                )));
            }
        }
    }
    Ok(())
}

/// A new record from a create body: renames, dropped fields, id, parent, timestamps and
/// the initial status. Checks nothing.
pub fn build(
    spec: &TypeSpec,
    key: String,
    parent: Option<String>,
    folder: String,
    body: &Value,
    now: u64,
) -> Record {
    let mut resource = body.clone();
    json::move_paths(&mut resource, spec.create_renames);
    for d in spec.dropped {
        json::remove(&mut resource, d);
    }
    if !spec.by_name {
        resource["id"] = json!(key);
    }
    if let (Some(p), Some(parent)) = (spec.parent, &parent) {
        resource[p.field] = json!(parent);
    }
    // MDB topics, users and databases carry no timestamp.
    if spec.parent.is_none_or(|p| p.nested.is_none()) {
        resource["createdAt"] = json!(rfc3339(now));
    }
    if let Some(lc) = spec.lifecycle {
        resource["status"] = json!(lc.creating);
        if let Some((initial, _)) = lc.health {
            resource["health"] = json!(initial);
        }
    }
    Record {
        kind: spec.kind.to_string(),
        key,
        seq: 0,
        folder,
        parent,
        resource,
        extra: Default::default(),
    }
}

/// The parent key and the folder of a new resource.
fn placement(
    st: &State,
    spec: &TypeSpec,
    path_parent: Option<&str>,
    body: &Value,
) -> Result<(Option<String>, String), CloudError> {
    let Some(p) = spec.parent else {
        return Ok((
            None,
            json::str_at(body, "folderId")
                .unwrap_or_default()
                .to_string(),
        ));
    };
    let parent_spec = spec_of(p.kind)?;
    let parent_key = match (p.nested, path_parent) {
        (Some(_), Some(k)) => k.to_string(),
        _ => json::str_at(body, p.field)
            .ok_or_else(|| CloudError::invalid(format!("{} is required", p.field)))?
            .to_string(),
    };
    let parent = find(st, parent_spec, &parent_key)?;
    let folder = json::str_at(body, "folderId")
        .unwrap_or(&parent.folder)
        .to_string();
    Ok((Some(parent_key), folder))
}

pub fn spec_of(kind: &str) -> Result<&'static TypeSpec, CloudError> {
    spec(kind).ok_or_else(|| CloudError::internal(format!("unknown kind {kind}")))
}

/// POST on a collection.
pub fn create(
    st: &mut State,
    spec: &'static TypeSpec,
    path_parent: Option<&str>,
    body: Value,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let mut body = match spec.wrapper {
        Some(w) => body
            .get(w)
            .filter(|v| v.is_object())
            .cloned()
            .ok_or_else(|| CloudError::invalid(format!("{w} is required")))?,
        None => body,
    };
    json::int64_as_strings(&mut body);
    for f in spec.required {
        if blank(body.get(*f)) {
            return Err(CloudError::invalid(format!("{f} is required")));
        }
    }
    let (parent, folder) = placement(st, spec, path_parent, &body)?;
    check_refs(st, spec, &body, None, parent.as_deref())?;
    let name = json::str_at(&body, "name").unwrap_or_default().to_string();
    check_name(st, spec, &name, &folder, parent.as_deref(), None)?;
    let key = match (spec.by_name, &parent) {
        (true, Some(p)) => child_key(p, &name),
        (true, None) => name.clone(),
        (false, _) => new_id(spec.id_prefix),
    };
    let lock = lock_of(spec, &key, parent.as_deref());
    check_lock(st, lock.as_deref())?;
    let mut rec = build(spec, key, parent, folder, &body, ctx.now);
    let children = hooks::on_create(st, spec, &body, &mut rec, ctx)?;
    hooks::after_write(spec, &mut rec);
    rec.seq = st.next_seq();
    let meta = metadata(spec, "Create", &rec);
    let target = Target {
        kind: spec.kind.to_string(),
        key: rec.key.clone(),
    };
    st.put(rec)?;
    for mut child in children {
        child.seq = st.next_seq();
        st.put(child)?;
    }
    st.start_op(
        ctx,
        NewOp {
            spec,
            description: format!("Create {}", spec.label),
            metadata: meta,
            effect: Effect::Create,
            target: Some(target),
            lock,
        },
    )
}

/// A running delete operation on the record, if any.
pub fn deleting(st: &State, spec: &TypeSpec, key: &str) -> Option<String> {
    st.ops
        .values()
        .find(|o| {
            !o.done
                && o.effect == Effect::Delete
                && o.target
                    .as_ref()
                    .is_some_and(|t| t.kind == spec.kind && t.key == key)
        })
        .map(|o| o.id.clone())
}

/// DELETE on an item.
pub fn delete(
    st: &mut State,
    spec: &'static TypeSpec,
    key: &str,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let mut rec = find(st, spec, key)?.clone();
    let lock = lock_of(spec, key, rec.parent.as_deref());
    check_lock(st, lock.as_deref())?;
    if let Some(op) = deleting(st, spec, key) {
        return Err(CloudError::conflicting(&op));
    }
    if rec.resource.get("deletionProtection") == Some(&json!(true)) {
        return Err(CloudError::precondition(format!(
            "{} \"{}\" has deletion protection enabled",
            spec.label,
            short_key(key)
        )));
    }
    for child in TYPES {
        if !child
            .parent
            .is_some_and(|p| p.kind == spec.kind && !p.cascade)
        {
            continue;
        }
        let names: Vec<String> = st
            .of_kind(child.kind)
            .into_iter()
            .filter(|r| r.parent.as_deref() == Some(key))
            .map(|r| r.key.clone())
            .collect();
        if !names.is_empty() {
            return Err(CloudError::precondition(format!(
                "{} \"{}\" is not empty: it still has {} {} ({}); delete them first",
                spec.label,
                short_key(key),
                names.len(),
                child.plural,
                names.join(", ")
            )));
        }
    }
    if let Some(d) = spec.lifecycle.and_then(|l| l.deleting) {
        rec.resource["status"] = json!(d);
        st.put(rec.clone())?;
    }
    st.start_op(
        ctx,
        NewOp {
            spec,
            description: format!("Delete {}", spec.label),
            metadata: metadata(spec, "Delete", &rec),
            effect: Effect::Delete,
            target: Some(Target {
                kind: spec.kind.to_string(),
                key: key.to_string(),
            }),
            lock,
        },
    )
}
