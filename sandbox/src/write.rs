//! Writes: create, update (PUT), patches and server-side apply, all ending in one commit
//! step that defaults, versions, records ownership and stores (unless dry-run).

use crate::api::{as_version, dry_run, Api, Request, Response};
use crate::apply::{apply, record_update, ApplyRequest, Conflict};
use crate::catalog::ResourceType;
use crate::defaults::apply_defaults;
use crate::error::ApiError;
use crate::fields::{display_path, Schema};
use crate::managed::Managed;
use crate::meta::{meta_str, metadata_mut, new_uid, now_rfc3339};
use crate::patch::{json_patch, merge_patch};
use crate::store::Key;
use crate::strategic::strategic_patch;
use serde_json::{json, Map, Value};

/// Kinds a simulated controller reports on.
const CONTROLLED: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "HorizontalPodAutoscaler",
    "PersistentVolumeClaim",
    "Service",
];

impl Api {
    pub(crate) fn create(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        ns: &str,
    ) -> Result<Response, ApiError> {
        let mut obj = parse_body(req)?;
        self.check_fields(req, rt, &mut obj, false)?;
        let md = metadata_mut(&mut obj);
        if !md.contains_key("name") {
            if let Some(prefix) = md.get("generateName").and_then(Value::as_str) {
                let suffix: String = (0..5)
                    .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
                    .collect();
                md.insert("name".into(), json!(format!("{prefix}{suffix}")));
            }
        }
        let name = meta_str(&obj, "name").unwrap_or_default().to_string();
        let key = self.key_for(rt, ns, &name, &obj)?;
        if self.store.get(&key).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.resource, &name));
        }
        if rt.status {
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        let mut managed = Managed::default();
        let manager = field_manager(req);
        let gv = rt.group_version();
        let areq = apply_req(rt, &gv, &manager, "", false);
        record_update(None, &obj, &mut managed, &areq);
        self.commit(req, rt, key, None, obj, managed)
    }

    pub(crate) fn update(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        sub: &str,
    ) -> Result<Response, ApiError> {
        let mut body = parse_body(req)?;
        let old = self.existing(rt, &key)?;
        self.check_fields(req, rt, &mut body, false)?;
        if let Some(rv) = meta_str(&body, "resourceVersion") {
            if Some(rv) != meta_str(&old, "resourceVersion") {
                return Err(ApiError::conflict(
                    &rt.group,
                    &rt.resource,
                    &key.name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
        }
        self.check_name(rt, &key, &body)?;
        let new = split_status(rt, &old, body, sub);
        self.finish_update(req, rt, key, old, new, sub)
    }

    pub(crate) fn patch(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        sub: &str,
    ) -> Result<Response, ApiError> {
        let ctype = req.content_type.split(';').next().unwrap_or("").trim();
        if ctype == "application/apply-patch+yaml" {
            return self.server_side_apply(req, rt, key, sub);
        }
        let old = self.existing(rt, &key)?;
        let body = parse_body(req)?;
        let mut new = old.clone();
        let schema = schema(rt);
        match ctype {
            "application/merge-patch+json" => merge_patch(&mut new, &body),
            "application/strategic-merge-patch+json" if !rt.custom => {
                strategic_patch(&mut new, &body, &schema)?
            }
            "application/json-patch+json" => json_patch(&mut new, &body)
                .map_err(|e| ApiError::invalid(&rt.kind, &key.name, &e))?,
            _ => {
                let mut types = vec![
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                ];
                if !rt.custom {
                    types.push("application/strategic-merge-patch+json");
                }
                return Err(unsupported_media(&types));
            }
        }
        self.check_name(rt, &key, &new)?;
        self.check_fields(req, rt, &mut new, false)?;
        let new = split_status(rt, &old, new, sub);
        self.finish_update(req, rt, key, old, new, sub)
    }

    /// A write through a subresource other than status (the caller built `new`).
    pub(crate) fn write_subresource(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        old: Value,
        new: Value,
        sub: &str,
    ) -> Result<Response, ApiError> {
        self.finish_update(req, rt, key, old, new, sub)
    }

    fn finish_update(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        old: Value,
        new: Value,
        sub: &str,
    ) -> Result<Response, ApiError> {
        let mut managed = Managed::parse(&old);
        let manager = field_manager(req);
        let gv = rt.group_version();
        record_update(
            Some(&old),
            &new,
            &mut managed,
            &apply_req(rt, &gv, &manager, sub, false),
        );
        self.commit(req, rt, key, Some(&old), new, managed)
    }

    fn server_side_apply(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        sub: &str,
    ) -> Result<Response, ApiError> {
        let mut cfg = parse_body(req)?;
        let manager = req
            .query
            .get("fieldManager")
            .filter(|m| !m.is_empty())
            .cloned()
            .ok_or_else(|| {
                ApiError::bad_request("PATCH, field manager is required for apply requests")
            })?;
        for field in ["apiVersion", "kind"] {
            if cfg
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request(format!(
                    "{field} must be set in an apply request"
                )));
            }
        }
        self.check_name(rt, &key, &cfg)?;
        self.check_fields(req, rt, &mut cfg, true)?;
        let force = req.query.get("force").is_some_and(|v| v == "true");
        let old = self.store.get(&key).cloned();
        let live = match &old {
            Some(o) => o.clone(),
            None => {
                if !sub.is_empty() {
                    return Err(ApiError::not_found(&rt.group, &rt.resource, &key.name));
                }
                json!({"metadata": {"name": key.name}})
            }
        };
        if let Some(m) = cfg.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
            if let Some(Value::Object(md)) = m.get_mut("metadata") {
                for k in [
                    "name",
                    "namespace",
                    "uid",
                    "resourceVersion",
                    "generation",
                    "creationTimestamp",
                    "managedFields",
                ] {
                    md.remove(k);
                }
            }
            if sub == "status" {
                m.retain(|k, _| k == "status");
            } else if rt.status {
                m.remove("status");
            }
        }
        let mut managed = Managed::parse(&live);
        let gv = rt.group_version();
        let areq = apply_req(rt, &gv, &manager, sub, force);
        let merged =
            apply(&live, &cfg, &mut managed, &areq).map_err(|c| conflict_error(&c, rt, &key))?;
        self.commit(req, rt, key, old.as_ref(), merged, managed)
    }

    /// Defaults, versions, ownership and storage common to every write.
    fn commit(
        &mut self,
        req: &Request,
        rt: &ResourceType,
        key: Key,
        old: Option<&Value>,
        mut new: Value,
        mut managed: Managed,
    ) -> Result<Response, ApiError> {
        if old.is_none() && rt.namespaced {
            let ns_key = Key {
                group: String::new(),
                resource: "namespaces".into(),
                namespace: String::new(),
                name: key.namespace.clone(),
            };
            match self.store.get(&ns_key) {
                None => return Err(ApiError::not_found("", "namespaces", &key.namespace)),
                Some(ns) if crate::delete::deleting(ns) => {
                    return Err(crate::delete::terminating_namespace(
                        rt,
                        &key.name,
                        &key.namespace,
                    ))
                }
                Some(_) => {}
            }
        }
        match old {
            Some(o) => crate::delete::guard_update(&rt.kind, &key.name, o, &mut new)?,
            None => {
                let md = metadata_mut(&mut new);
                md.remove("deletionTimestamp");
                md.remove("deletionGracePeriodSeconds");
            }
        }
        if let Some(m) = new.as_object_mut() {
            m.insert("apiVersion".into(), json!(rt.group_version()));
            m.insert("kind".into(), json!(rt.kind));
        }
        let now = now_rfc3339();
        {
            let md = metadata_mut(&mut new);
            md.insert("name".into(), json!(key.name));
            if rt.namespaced {
                md.insert("namespace".into(), json!(key.namespace));
            } else {
                md.remove("namespace");
            }
            md.remove("resourceVersion");
            md.remove("managedFields");
            let keep = |k: &str| old.and_then(|o| o.pointer(&format!("/metadata/{k}")).cloned());
            md.insert(
                "uid".into(),
                keep("uid").unwrap_or_else(|| json!(new_uid())),
            );
            md.insert(
                "creationTimestamp".into(),
                keep("creationTimestamp").unwrap_or_else(|| json!(now)),
            );
            md.insert("generation".into(), keep("generation").unwrap_or(json!(1)));
        }
        if rt.custom {
            crate::openapi::crd::apply_defaults(&self.store, rt, &mut new);
        } else {
            let old_ip = old
                .and_then(|o| o.pointer("/spec/clusterIP"))
                .and_then(Value::as_str)
                .map(String::from);
            let next = &mut self.next_ip;
            apply_defaults(&rt.kind, &mut new, || {
                old_ip.unwrap_or_else(|| {
                    *next += 1;
                    format!("10.96.{}.{}", (*next / 250) % 250, *next % 250 + 1)
                })
            });
        }
        crate::validate::check(rt, &key.name, &new, old)?;
        if rt.custom {
            crate::openapi::crd::check(&self.store, rt, &key.name, &new)?;
        }
        if let (Some(o), false) = (old, rt.custom) {
            crate::immutable::check(&rt.group, &rt.resource, &rt.kind, &key.name, o, &new)?;
        }
        let is_crd =
            rt.group == "apiextensions.k8s.io" && rt.resource == "customresourcedefinitions";
        if is_crd {
            crd_status(&mut new).map_err(|e| ApiError::invalid(&rt.kind, &key.name, &e))?;
        }
        let spec_changed = match old {
            Some(o) => strip(o) != strip(&new),
            None => true,
        };
        if let (Some(o), true) = (old, spec_changed) {
            let g = o
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            metadata_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        managed.prune(&new);
        if !managed.entries.is_empty() {
            let mf = managed.to_json(&now);
            metadata_mut(&mut new).insert("managedFields".into(), mf);
        }
        if let Some(o) = old {
            let mut same = new.clone();
            if let Some(rv) = o.pointer("/metadata/resourceVersion") {
                metadata_mut(&mut same).insert("resourceVersion".into(), rv.clone());
            }
            if &same == o {
                return Ok(Response {
                    code: 200,
                    body: as_version(o, rt),
                });
            }
        }
        let code = if old.is_some() { 200 } else { 201 };
        if dry_run(req) {
            if let Some(rv) = old.and_then(|o| o.pointer("/metadata/resourceVersion")) {
                metadata_mut(&mut new).insert("resourceVersion".into(), rv.clone());
            }
            return Ok(Response {
                code,
                body: as_version(&new, rt),
            });
        }
        let rv = self.store.next_rv();
        metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
        if is_crd {
            self.catalog
                .register_crd(&new)
                .map_err(|e| ApiError::invalid(&rt.kind, &key.name, &e))?;
        }
        if spec_changed && CONTROLLED.contains(&rt.kind.as_str()) && !rt.custom {
            let uid = meta_str(&new, "uid").unwrap_or_default().to_string();
            self.pending.push((key.clone(), uid));
        }
        if crate::delete::ready_to_go(&new) {
            // The last finalizer went: the registry removes the object.
            self.remove_now(rt, &key, &new)?;
            return Ok(Response {
                code,
                body: as_version(&new, rt),
            });
        }
        self.store
            .put(key, new.clone())
            .map_err(|e| ApiError::new(500, "InternalError", e))?;
        Ok(Response {
            code,
            body: as_version(&new, rt),
        })
    }

    fn existing(&self, rt: &ResourceType, key: &Key) -> Result<Value, ApiError> {
        self.store
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, &key.name))
    }

    fn key_for(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: &Value,
    ) -> Result<Key, ApiError> {
        if !valid_name(name) {
            return Err(ApiError::invalid(
                &rt.kind,
                name,
                "metadata.name: Invalid value: must be a lowercase RFC 1123 name",
            ));
        }
        let key = Key {
            group: rt.group.clone(),
            resource: rt.resource.clone(),
            namespace: ns.to_string(),
            name: name.to_string(),
        };
        self.check_name(rt, &key, obj)?;
        Ok(key)
    }

    fn check_name(&self, rt: &ResourceType, key: &Key, obj: &Value) -> Result<(), ApiError> {
        if let Some(n) = meta_str(obj, "name") {
            if n != key.name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({})",
                    key.name
                )));
            }
        }
        if let Some(ns) = meta_str(obj, "namespace") {
            if rt.namespaced && ns != key.namespace {
                return Err(ApiError::bad_request(format!(
                    "the namespace of the provided object does not match the namespace sent on the request ({ns} vs {})",
                    key.namespace
                )));
            }
        }
        Ok(())
    }
}

fn schema(rt: &ResourceType) -> Schema<'_> {
    Schema {
        kind: &rt.kind,
        custom: rt.custom,
    }
}

fn apply_req<'a>(
    rt: &'a ResourceType,
    api_version: &'a str,
    manager: &'a str,
    sub: &'a str,
    force: bool,
) -> ApplyRequest<'a> {
    ApplyRequest {
        manager,
        api_version,
        subresource: sub,
        force,
        schema: schema(rt),
        skip_status: rt.status && sub.is_empty(),
    }
}

/// The field manager of a non-apply write: `fieldManager`, else the user agent's program.
fn field_manager(req: &Request) -> String {
    match req.query.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => m.clone(),
        None => {
            let ua = req.user_agent.split('/').next().unwrap_or("").trim();
            if ua.is_empty() {
                "unknown".into()
            } else {
                ua.to_string()
            }
        }
    }
}

/// Main endpoint: status stays as stored. Status endpoint: only status changes.
fn split_status(rt: &ResourceType, old: &Value, body: Value, sub: &str) -> Value {
    if sub == "status" {
        let mut new = old.clone();
        if let (Some(m), Some(st)) = (new.as_object_mut(), body.get("status")) {
            m.insert("status".into(), st.clone());
        }
        return new;
    }
    let mut new = body;
    if rt.status {
        if let Some(m) = new.as_object_mut() {
            match old.get("status") {
                Some(st) => m.insert("status".into(), st.clone()),
                None => m.remove("status"),
            };
        }
    }
    new
}

/// The object without metadata and status: what a generation counts changes of.
fn strip(obj: &Value) -> Map<String, Value> {
    let mut m = obj.as_object().cloned().unwrap_or_default();
    for k in ["metadata", "status", "apiVersion", "kind"] {
        m.remove(k);
    }
    m
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
}

/// Protobuf bodies are not decoded here: 415, which clients understand, not a parse error.
pub(crate) fn refuse_protobuf(req: &Request) -> Result<(), ApiError> {
    let ctype = req.content_type.split(';').next().unwrap_or("").trim();
    if ctype == "application/vnd.kubernetes.protobuf" {
        return Err(unsupported_media(&["application/json", "application/yaml"]));
    }
    Ok(())
}

/// 415 in the apiserver's words (`negotiation.NewUnsupportedMediaTypeError`).
fn unsupported_media(accepted: &[&str]) -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            accepted.join(", ")
        ),
    )
}

/// JSON, else YAML (apply bodies may be either). Protobuf is not served: 415, not a parse error.
fn parse_body(req: &Request) -> Result<Value, ApiError> {
    refuse_protobuf(req)?;
    if let Ok(v) = serde_json::from_slice::<Value>(&req.body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    crate::yaml::parse(text).map_err(ApiError::bad_request)
}

fn conflict_error(conflicts: &[Conflict], rt: &ResourceType, key: &Key) -> ApiError {
    let n = conflicts.len();
    let mut lines = Vec::new();
    let mut causes = Vec::new();
    for c in conflicts {
        let field = display_path(&c.path);
        lines.push(format!("conflict with \"{}\": {field}", c.manager));
        causes.push(json!({
            "type": "FieldManagerConflict",
            "message": format!("conflict with \"{}\"", c.manager),
            "field": field,
        }));
    }
    let plural = if n == 1 { "conflict" } else { "conflicts" };
    let mut e = ApiError::new(
        409,
        "Conflict",
        format!("Apply failed with {n} {plural}: {}", lines.join("\n")),
    )
    .with_details(&rt.group, &rt.resource, &key.name);
    e.details["causes"] = Value::Array(causes);
    e
}

/// A CRD is accepted and Established at once (nothing to wait for in the sandbox).
fn crd_status(crd: &mut Value) -> Result<(), String> {
    let types = crate::catalog::crd_types(crd)?;
    let names = crd.pointer("/spec/names").cloned().unwrap_or(Value::Null);
    let stored: Vec<String> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let stored = if stored.is_empty() {
        vec![types[0].version.clone()]
    } else {
        stored
    };
    let now = crd
        .pointer("/metadata/creationTimestamp")
        .cloned()
        .unwrap_or(json!(now_rfc3339()));
    let cond = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg});
    if let Some(m) = crd.as_object_mut() {
        m.insert(
            "status".into(),
            json!({
                "acceptedNames": names,
                "conditions": [
                    cond("NamesAccepted", "NoConflicts", "no conflicts found for the names"),
                    cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                ],
                "storedVersions": stored,
            }),
        );
    }
    Ok(())
}
