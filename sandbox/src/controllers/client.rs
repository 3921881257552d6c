//! How the simulated controllers write: as API clients (through [`Api::handle`], like
//! kube-controller-manager and the kubelet do over HTTP), so every write gets the same
//! defaulting, versioning, managed fields and deletion rules as a user's.

use crate::api::{Api, Request, Response};
use crate::meta::meta_str;
use crate::store::Key;
use serde_json::{json, Value};

/// The user agent (hence field manager) of the controller manager.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager/v1.32.0 (linux/amd64) sandbox";
/// The user agent of the (single, simulated) node's kubelet.
pub const KUBELET: &str = "kubelet/v1.32.0 (linux/amd64) sandbox";

/// The URL path of `key`'s collection (or object, with `name`) at its served version.
pub fn path(api: &Api, key: &Key, name: bool) -> Option<String> {
    let rt = api
        .catalog
        .types()
        .iter()
        .find(|t| t.group == key.group && t.resource == key.resource)?;
    let mut p = if rt.group.is_empty() {
        format!("/api/{}", rt.version)
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    if !key.namespace.is_empty() {
        p.push_str(&format!("/namespaces/{}", key.namespace));
    }
    p.push('/');
    p.push_str(&key.resource);
    if name {
        p.push('/');
        p.push_str(&key.name);
    }
    Some(p)
}

fn call(api: &mut Api, agent: &str, method: &str, path: String, body: &Value) -> Response {
    api.handle(&Request {
        method: method.into(),
        path,
        query: Default::default(),
        content_type: "application/json".into(),
        user_agent: agent.into(),
        body: body.to_string().into_bytes(),
    })
}

/// Creates `obj` in `key`'s collection (`key.name` is ignored: the body names it).
pub fn create(api: &mut Api, agent: &str, key: &Key, obj: &Value) -> Option<Value> {
    let p = path(api, key, false)?;
    let r = call(api, agent, "POST", p, obj);
    (r.code == 201).then_some(r.body)
}

/// Replaces the object (or, with `status`, its status) without a resourceVersion
/// precondition: controllers hold the API lock, nothing can interleave.
pub fn update(api: &mut Api, agent: &str, key: &Key, obj: &Value, status: bool) -> bool {
    let Some(mut p) = path(api, key, true) else {
        return false;
    };
    if status {
        p.push_str("/status");
    }
    let mut body = obj.clone();
    if let Some(md) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("resourceVersion");
        md.remove("managedFields");
    }
    call(api, agent, "PUT", p, &body).code == 200
}

/// Deletes with the given `DeleteOptions` body.
pub fn delete(api: &mut Api, agent: &str, key: &Key, options: &Value) -> bool {
    let Some(p) = path(api, key, true) else {
        return false;
    };
    call(api, agent, "DELETE", p, options).code == 200
}

/// A controller ownerReference to `owner` (served as `api_version`/`kind`).
pub fn controller_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": meta_str(owner, "name").unwrap_or_default(),
        "uid": meta_str(owner, "uid").unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether `obj`'s controller ownerReference points at `uid`.
pub fn controlled_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("controller").and_then(Value::as_bool) == Some(true)
                    && r.get("uid").and_then(Value::as_str) == Some(uid)
            })
        })
}

/// Whether `obj`'s controller ownerReference is of `kind`.
pub fn controlled_by_kind(obj: &Value, kind: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("controller").and_then(Value::as_bool) == Some(true)
                    && r.get("kind").and_then(Value::as_str) == Some(kind)
            })
        })
}

/// Sets `value` at `path` (maps created on the way; a non-map in the way is replaced).
pub fn set(obj: &mut Value, path: &[&str], value: Value) {
    if let Some((last, parents)) = path.split_last() {
        crate::meta::ensure_map(obj, parents).insert((*last).into(), value);
    }
}

/// Objects of (group, resource) in `ns` controlled by `uid`, with their keys.
pub fn owned(api: &Api, group: &str, resource: &str, ns: &str, uid: &str) -> Vec<(Key, Value)> {
    api.store
        .list(group, resource, Some(ns))
        .filter(|(_, v)| controlled_by(v, uid))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A key in the same namespace as `like`.
pub fn key(group: &str, resource: &str, ns: &str, name: &str) -> Key {
    Key {
        group: group.into(),
        resource: resource.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

/// Five characters of the alphabet Kubernetes uses for generated names.
pub fn suffix(n: usize) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| ALPHANUMS[fastrand::usize(..ALPHANUMS.len())] as char)
        .collect()
}

/// `rand.SafeEncodeString`: each byte mapped into the same alphabet (for template hashes).
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// The pod-template-hash of a template: FNV-32a of its canonical JSON, encoded as the
/// real controller encodes its hash (so names look like `web-7c5ddbdf54`).
pub fn template_hash(template: &Value, collisions: i64) -> String {
    let text = format!("{template}{collisions}");
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    safe_encode(&h.to_string())
}

/// `int` or `"25%"` of `total`, rounded up or down (`intstr.GetScaledValueFromIntOrPercent`).
pub fn scaled(v: Option<&Value>, total: i64, round_up: bool, default: &str) -> i64 {
    let v = v.cloned().unwrap_or(json!(default));
    if let Some(n) = v.as_i64() {
        return n.max(0);
    }
    let s = v.as_str().unwrap_or(default);
    let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
    let x = pct * total;
    (if round_up { (x + 99) / 100 } else { x / 100 }).max(0)
}

/// `status.conditions[type]`.
pub fn condition<'a>(obj: &'a Value, t: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_look_like_real_ones() {
        let h = template_hash(&json!({"spec": {}}), 0);
        assert!(h.chars().all(|c| "456789bcdf".contains(c)), "{h}");
        assert_ne!(h, template_hash(&json!({"spec": {"x": 1}}), 0));
        assert_eq!(scaled(Some(&json!("25%")), 3, true, "25%"), 1);
        assert_eq!(scaled(Some(&json!("25%")), 3, false, "25%"), 0);
        assert_eq!(scaled(Some(&json!(2)), 3, false, "25%"), 2);
    }
}
