//! Deletion as the real API server does it: `DeleteOptions` (propagation policy, grace
//! period, preconditions), finalizers that hold an object with a `deletionTimestamp` until
//! they are removed, graceful deletion of Pods, Namespaces that go `Terminating`, and the
//! garbage collector's `orphan` / `foregroundDeletion` finalizers. What follows a deletion
//! (dependents, namespace contents) is done by the controllers in `controllers/`.

use crate::api::{as_version, dry_run, Api, Request, Response};
use crate::catalog::ResourceType;
use crate::error::ApiError;
use crate::meta::{meta_str, metadata_mut, rfc3339};
use crate::store::Key;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// The garbage collector's finalizer for `propagationPolicy: Orphan`.
pub const ORPHAN: &str = "orphan";
/// The garbage collector's finalizer for `propagationPolicy: Foreground`.
pub const FOREGROUND: &str = "foregroundDeletion";

/// How dependents of a deleted object are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// The parts of `DeleteOptions` the sandbox honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOptions {
    pub propagation: Option<Propagation>,
    pub grace_period: Option<i64>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl DeleteOptions {
    /// Reads the options from the body (a `DeleteOptions` object) and the query.
    pub fn parse(req: &Request) -> Result<DeleteOptions, ApiError> {
        let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
        };
        let text = |k: &str| {
            req.query
                .get(k)
                .cloned()
                .or_else(|| body.get(k).and_then(Value::as_str).map(String::from))
        };
        let propagation = match text("propagationPolicy").as_deref() {
            None | Some("") => match body.get("orphanDependents").and_then(Value::as_bool) {
                Some(true) => Some(Propagation::Orphan),
                Some(false) => Some(Propagation::Background),
                None => None,
            },
            Some("Background") => Some(Propagation::Background),
            Some("Foreground") => Some(Propagation::Foreground),
            Some("Orphan") => Some(Propagation::Orphan),
            Some(other) => {
                return Err(ApiError::invalid(
                    "DeleteOptions",
                    "",
                    &format!("propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""),
                ))
            }
        };
        let grace_period =
            match req.query.get("gracePeriodSeconds") {
                Some(s) => Some(s.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid gracePeriodSeconds {s:?}"))
                })?),
                None => body.get("gracePeriodSeconds").and_then(Value::as_i64),
            };
        if grace_period.is_some_and(|g| g < 0) {
            return Err(ApiError::invalid(
                "DeleteOptions",
                "",
                "gracePeriodSeconds: Invalid value: must be >= 0",
            ));
        }
        let pre = |k: &str| {
            body.pointer(&format!("/preconditions/{k}"))
                .and_then(Value::as_str)
                .map(String::from)
        };
        Ok(DeleteOptions {
            propagation,
            grace_period,
            uid: pre("uid"),
            resource_version: pre("resourceVersion"),
        })
    }
}

/// What a deletion did.
#[derive(Debug, Clone, PartialEq)]
pub enum Deleted {
    /// The object is gone (its last state).
    Gone(Value),
    /// The object stays, marked for deletion, until finalizers or its grace period end.
    Pending(Value),
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the object has a `deletionTimestamp`.
pub fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// A marked object whose finalizers are all gone and whose grace period is over: the
/// store removes it (the real registry's `shouldDeleteDuringUpdate`).
pub fn ready_to_go(obj: &Value) -> bool {
    let spec_finalizers = obj.get("kind").and_then(Value::as_str) == Some("Namespace")
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    deleting(obj)
        && finalizers(obj).is_empty()
        && !spec_finalizers
        && obj
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
}

/// An update may not touch the deletion marks, and may not add finalizers to an object
/// that is being deleted (`ValidateObjectMetaUpdate`).
pub fn guard_update(kind: &str, name: &str, old: &Value, new: &mut Value) -> Result<(), ApiError> {
    let md = metadata_mut(new);
    for k in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
        match old.pointer(&format!("/metadata/{k}")) {
            Some(v) => md.insert(k.into(), v.clone()),
            None => md.remove(k),
        };
    }
    if deleting(old) {
        let before = finalizers(old);
        let added: Vec<String> = finalizers(new)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            return Err(ApiError::invalid(
                kind,
                name,
                &format!("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
            ));
        }
    }
    Ok(())
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The 403 the NamespaceLifecycle admission plugin gives a create in a Terminating namespace.
pub fn terminating_namespace(rt: &ResourceType, name: &str, ns: &str) -> ApiError {
    let mut e = ApiError::new(
        403,
        "Forbidden",
        format!(
            "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            qualified(rt)
        ),
    )
    .with_details(&rt.group, &rt.resource, name);
    e.details["causes"] = json!([{
        "type": "NamespaceTerminating",
        "message": format!("namespace {ns} is being terminated"),
        "field": "metadata.namespace",
    }]);
    e
}

fn qualified(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.resource.clone()
    } else {
        format!("{}.{}", rt.resource, rt.group)
    }
}

impl Api {
    /// `DELETE` on one object.
    pub(crate) fn delete(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: &Key,
    ) -> Result<Response, ApiError> {
        let opts = DeleteOptions::parse(req)?;
        let dry = dry_run(req);
        match self.delete_object(rt, key, &opts, dry)? {
            Deleted::Gone(obj) => Ok(Response {
                code: 200,
                body: json!({
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {
                        "name": key.name,
                        "group": rt.group,
                        "kind": rt.resource,
                        "uid": obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
                    },
                }),
            }),
            Deleted::Pending(obj) => Ok(Response {
                code: 200,
                body: as_version(&obj, rt),
            }),
        }
    }

    /// `DELETE` on a collection: every selected object, as one by one.
    pub(crate) fn delete_collection(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> Result<Response, ApiError> {
        let opts = DeleteOptions::parse(req)?;
        let items = self.select(req, rt, ns)?;
        let dry = dry_run(req);
        let mut out = Vec::new();
        for item in &items {
            let key = Key {
                group: rt.group.clone(),
                resource: rt.resource.clone(),
                namespace: meta_str(item, "namespace").unwrap_or_default().to_string(),
                name: meta_str(item, "name").unwrap_or_default().to_string(),
            };
            match self.delete_object(rt, &key, &opts, dry) {
                Ok(Deleted::Gone(o) | Deleted::Pending(o)) => out.push(as_version(&o, rt)),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Response {
            code: 200,
            body: json!({
                "kind": format!("{}List", rt.kind),
                "apiVersion": rt.group_version(),
                "metadata": {"resourceVersion": self.store.resource_version().to_string()},
                "items": out,
            }),
        })
    }

    /// The registry's `Delete`: preconditions, graceful deletion, finalizers, then removal.
    pub(crate) fn delete_object(
        &mut self,
        rt: &ResourceType,
        key: &Key,
        opts: &DeleteOptions,
        dry: bool,
    ) -> Result<Deleted, ApiError> {
        let internal = |e: String| ApiError::new(500, "InternalError", e);
        let obj = self
            .store
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, &key.name))?;
        let uid = meta_str(&obj, "uid").unwrap_or_default().to_string();
        if let Some(want) = &opts.uid {
            if *want != uid {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.resource,
                    &key.name,
                    &format!("Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"),
                ));
            }
        }
        if let Some(want) = &opts.resource_version {
            let have = meta_str(&obj, "resourceVersion").unwrap_or_default();
            if want != have {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.resource,
                    &key.name,
                    &format!("Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {have}"),
                ));
            }
        }
        let is_pod = rt.group.is_empty() && rt.resource == "pods" && !rt.custom;
        let is_ns = rt.group.is_empty() && rt.resource == "namespaces" && !rt.custom;
        // Pods end gracefully unless never scheduled or already finished.
        let grace = if is_pod {
            let finished = matches!(
                obj.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            );
            let scheduled = obj
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if finished || !scheduled {
                0
            } else {
                opts.grace_period.unwrap_or_else(|| {
                    obj.pointer("/spec/terminationGracePeriodSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(30)
                })
            }
        } else {
            0
        };
        let mut new = obj.clone();
        let mut fin = finalizers(&obj);
        match opts.propagation {
            Some(Propagation::Orphan) => {
                fin.retain(|f| f != FOREGROUND);
                if !fin.iter().any(|f| f == ORPHAN) {
                    fin.push(ORPHAN.into());
                }
            }
            Some(Propagation::Foreground) => {
                fin.retain(|f| f != ORPHAN);
                if !fin.iter().any(|f| f == FOREGROUND) {
                    fin.push(FOREGROUND.into());
                }
            }
            _ => {}
        }
        let was_deleting = deleting(&obj);
        let old_grace = obj
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64);
        {
            let md = metadata_mut(&mut new);
            if fin.is_empty() {
                md.remove("finalizers");
            } else {
                md.insert("finalizers".into(), json!(fin));
            }
            if !was_deleting || old_grace.is_some_and(|g| grace < g) {
                let at = rfc3339(epoch_secs() + grace.max(0) as u64);
                md.insert("deletionTimestamp".into(), json!(at));
                md.insert("deletionGracePeriodSeconds".into(), json!(grace));
                if !was_deleting {
                    let gen = md.get("generation").and_then(Value::as_i64).unwrap_or(0);
                    if gen > 0 {
                        md.insert("generation".into(), json!(gen + 1));
                    }
                }
            }
        }
        if is_ns {
            if let Some(st) = new.get_mut("status").and_then(Value::as_object_mut) {
                st.insert("phase".into(), json!("Terminating"));
            } else if let Some(m) = new.as_object_mut() {
                m.insert("status".into(), json!({"phase": "Terminating"}));
            }
        }
        if ready_to_go(&new) {
            if !dry {
                self.remove_now(rt, key, &obj)?;
            }
            return Ok(Deleted::Gone(obj));
        }
        if new == obj {
            return Ok(Deleted::Pending(obj));
        }
        if dry {
            return Ok(Deleted::Pending(new));
        }
        let rv = self.store.next_rv();
        metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
        self.store.put(key.clone(), new.clone()).map_err(internal)?;
        Ok(Deleted::Pending(new))
    }

    /// Removes an object from the store; a CRD takes its custom resources along.
    pub(crate) fn remove_now(
        &mut self,
        rt: &ResourceType,
        key: &Key,
        obj: &Value,
    ) -> Result<(), ApiError> {
        let internal = |e: String| ApiError::new(500, "InternalError", e);
        let mut doomed: Vec<Key> = Vec::new();
        if rt.group == "apiextensions.k8s.io" && rt.resource == "customresourcedefinitions" {
            if let Some((g, r)) = self.catalog.unregister_crd(obj) {
                doomed.extend(
                    self.store
                        .keys()
                        .filter(|k| k.group == g && k.resource == r)
                        .cloned(),
                );
            }
        }
        for k in doomed {
            self.store.remove(&k).map_err(internal)?;
        }
        self.store.next_rv();
        self.store.remove(key).map_err(internal)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_objects_go_when_finalizers_and_grace_end() {
        let mut o = json!({"kind": "ConfigMap", "metadata": {"deletionTimestamp": "t",
            "deletionGracePeriodSeconds": 0, "finalizers": ["a"]}});
        assert!(!ready_to_go(&o));
        o["metadata"]["finalizers"] = json!([]);
        assert!(ready_to_go(&o));
        o["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        assert!(!ready_to_go(&o));
        let ns = json!({"kind": "Namespace", "metadata": {"deletionTimestamp": "t"},
            "spec": {"finalizers": ["kubernetes"]}});
        assert!(!ready_to_go(&ns));
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let old = json!({"metadata": {"deletionTimestamp": "t", "finalizers": ["a"]}});
        let mut new = json!({"metadata": {"finalizers": ["a", "b"]}});
        let e = guard_update("ConfigMap", "x", &old, &mut new).unwrap_err();
        assert_eq!(e.code, 422);
        let mut new = json!({"metadata": {}});
        guard_update("ConfigMap", "x", &old, &mut new).unwrap();
        assert_eq!(new["metadata"]["deletionTimestamp"], "t");
    }

    #[test]
    fn parses_options() {
        let req = Request {
            body: br#"{"propagationPolicy":"Foreground","gracePeriodSeconds":5}"#.to_vec(),
            ..Default::default()
        };
        let o = DeleteOptions::parse(&req).unwrap();
        assert_eq!(o.propagation, Some(Propagation::Foreground));
        assert_eq!(o.grace_period, Some(5));
        let req = Request {
            body: br#"{"propagationPolicy":"Sideways"}"#.to_vec(),
            ..Default::default()
        };
        assert_eq!(DeleteOptions::parse(&req).unwrap_err().code, 422);
    }
}
