//! Folder access bindings (reference §3.4): `:listAccessBindings` (paged),
//! `:setAccessBindings` (replace all) and `:updateAccessBindings` (ADD/REMOVE deltas). Any
//! folder id exists. Changes apply at once; the operation completes after the delay.

use super::errors::CloudError;
use super::json;
use super::operations::Effect;
use super::state::{Ctx, NewOp, State};
use super::types::TypeSpec;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const SUBJECT_TYPES: &[&str] = &[
    "userAccount",
    "serviceAccount",
    "federatedUser",
    "group",
    "invitee",
    "system",
];

/// Only for operation ids and `@type`s of access operations.
const ACCESS: TypeSpec = TypeSpec {
    package: "yandex.cloud.access",
    message: "AccessBindings",
    id_prefix: "b1g",
    ..super::types::NETWORK
};

/// A binding in canonical form, or why it is invalid.
fn binding(v: &Value) -> Result<Value, CloudError> {
    let role =
        json::str_at(v, "roleId").ok_or_else(|| CloudError::invalid("roleId is required"))?;
    let id = json::str_at(v, "subject.id")
        .ok_or_else(|| CloudError::invalid("subject.id is required"))?;
    let kind = json::str_at(v, "subject.type")
        .ok_or_else(|| CloudError::invalid("subject.type is required"))?;
    if !SUBJECT_TYPES.contains(&kind) {
        return Err(CloudError::invalid(format!(
            "subject.type {kind:?} is not one of {}",
            SUBJECT_TYPES.join(", ")
        )));
    }
    Ok(json!({"roleId": role, "subject": {"id": id, "type": kind}}))
}

/// `GET …/folders/{id}:listAccessBindings`.
pub fn list(
    st: &State,
    folder: &str,
    query: &BTreeMap<String, String>,
) -> Result<Value, CloudError> {
    let all = st.bindings.get(folder).cloned().unwrap_or_default();
    let size = match query.get("pageSize").map(|s| s.parse::<usize>()) {
        None | Some(Ok(0)) => 100,
        Some(Ok(n)) if n <= 1000 => n,
        _ => return Err(CloudError::invalid("pageSize must be between 0 and 1000")),
    };
    let from = match query.get("pageToken").filter(|t| !t.is_empty()) {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| CloudError::invalid(format!("invalid pageToken {t:?}")))?,
        None => 0,
    };
    let page: Vec<Value> = all.iter().skip(from).take(size).cloned().collect();
    let mut out = json!({"accessBindings": page});
    let next = from.saturating_add(size);
    if next < all.len() {
        out["nextPageToken"] = json!(next.to_string());
    }
    Ok(out)
}

/// `POST …/folders/{id}:setAccessBindings` and `:updateAccessBindings`.
pub fn change(
    st: &mut State,
    folder: &str,
    verb: &str,
    body: &Value,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let mut current = st.bindings.get(folder).cloned().unwrap_or_default();
    let (meta_type, response) = match verb {
        "setAccessBindings" => {
            let list = body
                .get("accessBindings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut new = Vec::new();
            for b in &list {
                let b = binding(b)?;
                if !new.contains(&b) {
                    new.push(b);
                }
            }
            // The result lists what changed (`AccessBindingsOperationResult`).
            let mut effective: Vec<Value> = current
                .iter()
                .filter(|b| !new.contains(b))
                .map(|b| json!({"action": "REMOVE", "accessBinding": b}))
                .collect();
            effective.extend(
                new.iter()
                    .filter(|b| !current.contains(b))
                    .map(|b| json!({"action": "ADD", "accessBinding": b})),
            );
            current = new;
            (
                "SetAccessBindingsMetadata",
                json!({"@type": "type.googleapis.com/yandex.cloud.access.AccessBindingsOperationResult",
                       "effectiveDeltas": effective}),
            )
        }
        "updateAccessBindings" => {
            let deltas = body
                .get("accessBindingDeltas")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if deltas.is_empty() || deltas.len() > 1000 {
                return Err(CloudError::invalid(
                    "accessBindingDeltas must hold 1 to 1000 deltas",
                ));
            }
            let mut effective = Vec::new();
            for d in &deltas {
                let b = binding(d.get("accessBinding").unwrap_or(&Value::Null))?;
                match json::str_at(d, "action") {
                    Some("ADD") if !current.contains(&b) => {
                        current.push(b.clone());
                        effective.push(json!({"action": "ADD", "accessBinding": b}));
                    }
                    Some("REMOVE") if current.contains(&b) => {
                        current.retain(|x| x != &b);
                        effective.push(json!({"action": "REMOVE", "accessBinding": b}));
                    }
                    Some("ADD") | Some("REMOVE") => {}
                    other => {
                        return Err(CloudError::invalid(format!(
                            "action must be ADD or REMOVE, not {other:?}"
                        )))
                    }
                }
            }
            (
                "UpdateAccessBindingsMetadata",
                json!({"@type": "type.googleapis.com/yandex.cloud.access.AccessBindingsOperationResult",
                       "effectiveDeltas": effective}),
            )
        }
        other => {
            return Err(CloudError::unimplemented(format!(
                "folders:{other} is not implemented by the sandbox"
            )))
        }
    };
    if current.is_empty() {
        st.bindings.remove(folder);
    } else {
        st.bindings.insert(folder.to_string(), current);
    }
    st.save_bindings()?;
    st.start_op(
        ctx,
        NewOp {
            spec: &ACCESS,
            description: format!("Change access bindings of folder {folder}"),
            metadata: json!({"@type": format!("type.googleapis.com/yandex.cloud.access.{meta_type}"), "resourceId": folder}),
            effect: Effect::Respond { response },
            target: None,
            lock: None,
        },
    )
}

/// `GET /resource-manager/v1/folders/{id}`: every folder exists.
pub fn folder(id: &str) -> Value {
    json!({"id": id, "cloudId": "b1gsandboxcloud00001", "name": id, "status": "ACTIVE",
           "createdAt": "2024-01-01T00:00:00.000Z"})
}
