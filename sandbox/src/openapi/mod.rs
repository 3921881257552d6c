//! `/openapi/v2` and `/openapi/v3` for every served type, generated from one typed
//! description ([`types`]) for the built-in kinds and from `openAPIV3Schema` for CRDs, and
//! the unknown-field check (`fieldValidation`) and CRD schema validation that use the same
//! schemas ([`fields`], [`crd`]).
//!
//! kubectl downloads `/openapi/v3` before `apply`/`create` with validation on: it looks for
//! a PATCH operation of the kind (`x-kubernetes-group-version-kind`) with a
//! `fieldValidation` query parameter and then leaves validation to the server. `/openapi/v2`
//! is served as JSON; its protobuf form is not (406, which client-go reports).

pub(crate) mod crd;
mod dupes;
pub(crate) mod fields;
pub mod types;

use crate::catalog::{Catalog, ResourceType};
use crate::store::Store;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use types::{Def, List, Ty};

/// Where refs point: `#/components/schemas/` (v3) or `#/definitions/` (v2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flavor {
    V2,
    V3,
}

impl Flavor {
    fn prefix(self) -> &'static str {
        match self {
            Flavor::V2 => "#/definitions/",
            Flavor::V3 => "#/components/schemas/",
        }
    }
}

/// A JSON schema for one field type.
fn ty_schema(ty: &Ty, doc: &str, fl: Flavor) -> Value {
    let mut s = match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Int32 => json!({"type": "integer", "format": "int32"}),
        Ty::Int64 => json!({"type": "integer", "format": "int64"}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::IntOrStr => {
            json!({"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true})
        }
        Ty::Quantity => {
            json!({"type": "string", "format": "quantity", "x-kubernetes-int-or-string": true})
        }
        Ty::Time => json!({"type": "string", "format": "date-time"}),
        Ty::Bytes => json!({"type": "string", "format": "byte"}),
        Ty::Ref(name) => {
            let r = json!({"$ref": format!("{}{name}", fl.prefix())});
            match fl {
                Flavor::V2 => r,
                Flavor::V3 => json!({"allOf": [r], "default": {}}),
            }
        }
        Ty::List(item, kind) => {
            let mut s = json!({"type": "array", "items": ty_schema(item, "", fl)});
            match kind {
                List::Atomic => s["x-kubernetes-list-type"] = json!("atomic"),
                List::Set => s["x-kubernetes-list-type"] = json!("set"),
                List::Map { keys, merge } => {
                    s["x-kubernetes-list-type"] = json!("map");
                    s["x-kubernetes-list-map-keys"] = json!(keys);
                    s["x-kubernetes-patch-merge-key"] = json!(merge);
                    s["x-kubernetes-patch-strategy"] = json!("merge");
                }
            }
            s
        }
        Ty::Map(item) => json!({"type": "object", "additionalProperties": ty_schema(item, "", fl)}),
        Ty::Open => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    };
    if !doc.is_empty() {
        s["description"] = json!(doc);
    }
    s
}

fn def_schema(d: &Def, fl: Flavor) -> Value {
    let props: Map<String, Value> = d
        .fields
        .iter()
        .map(|f| (f.name.to_string(), ty_schema(&f.ty, f.doc, fl)))
        .collect();
    let mut s = json!({"type": "object", "properties": props});
    if !d.doc.is_empty() {
        s["description"] = json!(d.doc);
    }
    if !d.required.is_empty() {
        s["required"] = json!(d.required);
    }
    s
}

fn gvk(rt: &ResourceType) -> Value {
    json!([{"group": rt.group, "version": rt.version, "kind": rt.kind}])
}

/// The definition name of a served kind (`io.k8s.api.apps.v1.Deployment`,
/// `com.coreos.monitoring.v1.ServiceMonitor`).
pub fn kind_name(rt: &ResourceType) -> String {
    if rt.custom {
        let rev: Vec<&str> = rt.group.split('.').rev().collect();
        format!("{}.{}.{}", rev.join("."), rt.version, rt.kind)
    } else {
        format!("{}.{}", types::package(&rt.group, &rt.version), rt.kind)
    }
}

/// Every schema of one flavor: named definitions, one per served kind (with its
/// `x-kubernetes-group-version-kind`), keyed by name.
pub fn schemas(catalog: &Catalog, store: &Store, fl: Flavor) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = types::definitions()
        .iter()
        .map(|d| (d.name.to_string(), def_schema(d, fl)))
        .collect();
    for rt in catalog.types() {
        let name = kind_name(rt);
        let mut s = if rt.custom {
            crd::served_schema(store, rt, fl)
        } else {
            def_schema(&types::kind_def("", &rt.kind), fl)
        };
        s["x-kubernetes-group-version-kind"] = gvk(rt);
        let r = |n: &str| match fl {
            Flavor::V2 => json!({"$ref": format!("{}{n}", fl.prefix())}),
            Flavor::V3 => {
                json!({"allOf": [{"$ref": format!("{}{n}", fl.prefix())}], "default": {}})
            }
        };
        let list = json!({
            "description": format!("{}List is a list of {}.", rt.kind, rt.kind),
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
                "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
                "metadata": r(types::LIST_META),
                "items": {"type": "array", "items": r(&name), "description": format!("List of {}.", rt.resource)},
            },
            "x-kubernetes-group-version-kind": [{"group": rt.group, "version": rt.version, "kind": format!("{}List", rt.kind)}],
        });
        out.insert(format!("{name}List"), list);
        out.insert(name, s);
    }
    out
}

/// The schema of a served kind, with refs resolvable in `all` (see [`schemas`]).
pub fn kind_schema<'a>(all: &'a BTreeMap<String, Value>, rt: &ResourceType) -> Option<&'a Value> {
    all.get(&kind_name(rt))
}

/// The names `root` refers to, transitively.
fn closure(all: &BTreeMap<String, Value>, roots: &[String], fl: Flavor) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(s) = all.get(&n) {
            collect_refs(s, fl, &mut todo);
        }
    }
    seen
}

fn collect_refs(v: &Value, fl: Flavor, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                if k == "$ref" {
                    if let Some(n) = c.as_str().and_then(|s| s.strip_prefix(fl.prefix())) {
                        out.push(n.to_string());
                    }
                } else {
                    collect_refs(c, fl, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, fl, out)),
        _ => {}
    }
}

fn query_param(name: &str, doc: &str, fl: Flavor) -> Value {
    match fl {
        Flavor::V2 => {
            json!({"name": name, "in": "query", "type": "string", "uniqueItems": true, "description": doc})
        }
        Flavor::V3 => {
            json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}, "description": doc})
        }
    }
}

fn path_param(name: &str, fl: Flavor) -> Value {
    let doc = format!("{name} of the resource");
    match fl {
        Flavor::V2 => {
            json!({"name": name, "in": "path", "required": true, "type": "string", "uniqueItems": true, "description": doc})
        }
        Flavor::V3 => {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}, "description": doc})
        }
    }
}

const FIELD_VALIDATION_DOC: &str = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict.";

/// The operations of one resource type: collection and object paths.
fn paths_for(rt: &ResourceType, fl: Flavor, out: &mut Map<String, Value>) {
    let prefix = if rt.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let ns = if rt.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{prefix}{ns}/{}", rt.resource);
    let object = format!("{collection}/{{name}}");
    let kind_ref = format!("{}{}", fl.prefix(), kind_name(rt));
    let id = |verb: &str, suffix: &str| {
        let scope = if rt.namespaced { "Namespaced" } else { "" };
        let gv: String = format!("{}{}", rt.group.split('.').next().unwrap_or(""), rt.version)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        format!("{verb}{gv}{scope}{}{suffix}", rt.kind)
    };
    let write_params = |fl| {
        vec![
            query_param("dryRun", "When present, indicates that modifications should not be persisted.", fl),
            query_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes.", fl),
            query_param("fieldValidation", FIELD_VALIDATION_DOC, fl),
        ]
    };
    let body = |fl: Flavor, types: &[&str]| -> Value {
        match fl {
            Flavor::V2 => {
                json!({"name": "body", "in": "body", "required": true, "schema": {"$ref": kind_ref}})
            }
            Flavor::V3 => {
                let content: Map<String, Value> = types
                    .iter()
                    .map(|t| (t.to_string(), json!({"schema": {"$ref": kind_ref}})))
                    .collect();
                json!({"required": true, "content": content})
            }
        }
    };
    let ok = |fl: Flavor| -> Value {
        match fl {
            Flavor::V2 => json!({"200": {"description": "OK", "schema": {"$ref": kind_ref}}}),
            Flavor::V3 => {
                json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": kind_ref}}}}})
            }
        }
    };
    let op = |verb: &str,
              action: &str,
              suffix: &str,
              params: Vec<Value>,
              body_types: Option<&[&str]>| {
        let mut o = json!({
            "operationId": id(verb, suffix),
            "tags": [rt.group_version()],
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
            "responses": ok(fl),
        });
        let mut params = params;
        if let Some(t) = body_types {
            match fl {
                Flavor::V2 => params.push(body(fl, t)),
                Flavor::V3 => o["requestBody"] = body(fl, t),
            }
        }
        o["parameters"] = Value::Array(params);
        o
    };
    let json_types: &[&str] = &["*/*"];
    let patch_types: &[&str] = &[
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ];
    let mut common = vec![];
    if rt.namespaced {
        common.push(path_param("namespace", fl));
    }
    let list_ref = format!("{kind_ref}List");
    let list_gvk =
        json!({"group": rt.group, "version": rt.version, "kind": format!("{}List", rt.kind)});
    let mut coll = json!({
        "get": retarget(op("list", "list", "", vec![
            query_param("labelSelector", "A selector to restrict the list of returned objects by their labels.", fl),
            query_param("fieldSelector", "A selector to restrict the list of returned objects by their fields.", fl),
            query_param("limit", "limit is a maximum number of responses to return for a list call.", fl),
            query_param("continue", "The continue option should be set when retrieving more results from the server.", fl),
            query_param("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", fl),
        ], None), &kind_ref, &list_ref, &list_gvk),
        "parameters": common.clone(),
    });
    if !crate::review::is_review(rt) {
        coll["post"] = op("create", "post", "", write_params(fl), Some(json_types));
        coll["delete"] = op("deletecollection", "deletecollection", "", vec![], None);
    } else {
        coll = json!({"post": op("create", "post", "", write_params(fl), Some(json_types))});
    }
    out.insert(collection, coll);
    if crate::review::is_review(rt) {
        return;
    }
    let mut obj_common = common.clone();
    obj_common.insert(0, path_param("name", fl));
    let mut patch_params = write_params(fl);
    patch_params.push(query_param(
        "force",
        "Force is going to \"force\" Apply requests.",
        fl,
    ));
    out.insert(
        object.clone(),
        json!({
            "get": op("read", "get", "", vec![], None),
            "put": op("replace", "put", "", write_params(fl), Some(json_types)),
            "patch": op("patch", "patch", "", patch_params.clone(), Some(patch_types)),
            "delete": op("delete", "delete", "", vec![query_param("dryRun", "When present, indicates that modifications should not be persisted.", fl)], None),
            "parameters": obj_common.clone(),
        }),
    );
    if rt.status {
        out.insert(
            format!("{object}/status"),
            json!({
                "get": op("read", "get", "Status", vec![], None),
                "put": op("replace", "put", "Status", write_params(fl), Some(json_types)),
                "patch": op("patch", "patch", "Status", patch_params, Some(patch_types)),
                "parameters": obj_common.clone(),
            }),
        );
    }
    if crate::api::has_scale(rt) {
        let scale_ref = format!("{}{}", fl.prefix(), types::SCALE);
        let gvk = json!({"group": "autoscaling", "version": "v1", "kind": "Scale"});
        let mut patch_params = write_params(fl);
        patch_params.push(query_param(
            "force",
            "Force is going to \"force\" Apply requests.",
            fl,
        ));
        let mut p = json!({"parameters": obj_common});
        for (method, verb, action, params, body) in [
            ("get", "read", "get", vec![], None),
            ("put", "replace", "put", write_params(fl), Some(json_types)),
            ("patch", "patch", "patch", patch_params, Some(patch_types)),
        ] {
            p[method] = retarget(
                op(verb, action, "Scale", params, body),
                &kind_ref,
                &scale_ref,
                &gvk,
            );
        }
        out.insert(format!("{object}/scale"), p);
    }
}

/// An operation of another type than the kind's (its List, its Scale): refs and GVK moved.
fn retarget(mut op: Value, from: &str, to: &str, gvk: &Value) -> Value {
    fn walk(v: &mut Value, from: &str, to: &str) {
        match v {
            Value::String(s) if s == from => *s = to.to_string(),
            Value::Object(m) => m.values_mut().for_each(|c| walk(c, from, to)),
            Value::Array(a) => a.iter_mut().for_each(|c| walk(c, from, to)),
            _ => {}
        }
    }
    walk(&mut op, from, to);
    op["x-kubernetes-group-version-kind"] = gvk.clone();
    op
}

/// `/openapi/v3`: one entry per served group/version, with a content hash.
pub fn v3_index(catalog: &Catalog, store: &Store) -> Value {
    let all = schemas(catalog, store, Flavor::V3);
    let mut paths = Map::new();
    for (group, versions) in catalog.groups() {
        for v in versions {
            let rel = gv_path(&group, &v);
            let doc = gv_doc(catalog, &all, &group, &v).unwrap_or(Value::Null);
            let hash: String = Sha256::digest(doc.to_string().as_bytes())
                .iter()
                .take(16)
                .map(|b| format!("{b:02X}"))
                .collect();
            paths.insert(
                rel.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{rel}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Parses `api/v1` / `apis/apps/v1` (the part after `/openapi/v3/`).
pub fn parse_gv(rest: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["api", v] => Some((String::new(), v.to_string())),
        ["apis", g, v] => Some((g.to_string(), v.to_string())),
        _ => None,
    }
}

/// `/openapi/v3/apis/GROUP/VERSION`: the paths and schemas of one group/version.
pub fn v3_doc(catalog: &Catalog, store: &Store, group: &str, version: &str) -> Option<Value> {
    gv_doc(
        catalog,
        &schemas(catalog, store, Flavor::V3),
        group,
        version,
    )
}

fn gv_doc(
    catalog: &Catalog,
    all: &BTreeMap<String, Value>,
    group: &str,
    version: &str,
) -> Option<Value> {
    let served: Vec<&ResourceType> = catalog
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for rt in &served {
        paths_for(rt, Flavor::V3, &mut paths);
    }
    let mut roots: Vec<String> = served.iter().map(|t| kind_name(t)).collect();
    collect_refs(&Value::Object(paths.clone()), Flavor::V3, &mut roots);
    let keep = closure(all, &roots, Flavor::V3);
    let comps: Map<String, Value> = all
        .iter()
        .filter(|(k, _)| keep.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-mlstack-sandbox"},
        "paths": paths,
        "components": {"schemas": comps},
    }))
}

/// `/openapi/v2`: one Swagger 2.0 document with everything.
pub fn v2(catalog: &Catalog, store: &Store) -> Value {
    let mut paths = Map::new();
    for rt in catalog.types() {
        paths_for(rt, Flavor::V2, &mut paths);
    }
    let defs: Map<String, Value> = schemas(catalog, store, Flavor::V2).into_iter().collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-mlstack-sandbox"},
        "paths": paths,
        "definitions": defs,
    })
}

#[cfg(test)]
mod tests;

/// `/openapi/v2` in protobuf is not served: a client that accepts only protobuf gets 406
/// (`NotAcceptable`, as the apiserver answers media types it does not offer).
pub fn refuse_accept(accept: &str) -> Option<crate::error::ApiError> {
    let ok = accept.is_empty()
        || accept
            .split(',')
            .map(|t| t.split(';').next().unwrap_or("").trim())
            .any(|t| matches!(t, "application/json" | "*/*" | "application/*"));
    (!ok).then(|| {
        crate::error::ApiError::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json",
        )
    })
}

/// A `Warning` header value (RFC 7234 code 299, agent `-`, quoted text), as the apiserver
/// sends them and kubectl prints them (`Warning: unknown field "spec.foo"`).
pub fn warning_header(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("299 - \"{escaped}\"")
}
