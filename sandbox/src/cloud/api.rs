//! The synchronous request handling over the state (everything but the token exchange, key
//! generation and the status page, which the server handles itself).

use super::access;
use super::crud::{self, find};
use super::errors::CloudError;
use super::list::{self, Scope};
use super::mdb;
use super::mk8s;
use super::router::Route;
use super::state::{Ctx, State};
use super::update;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One request as the cloud sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub query: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

fn method_not_allowed(method: &str) -> CloudError {
    CloudError::not_found(format!("method {method} is not defined on this path"))
}

/// Answers a routed request (HTTP 200 with the value, or the error).
pub fn handle(
    st: &mut State,
    route: &Route,
    req: &Request,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let m = req.method.as_str();
    match (route, m) {
        (Route::Operation(id), "GET") => st
            .ops
            .get(id)
            .map(|o| o.to_json())
            .ok_or_else(|| CloudError::not_found(format!("operation \"{id}\" not found"))),
        (Route::CancelOperation(id), "GET") => match st.ops.get(id) {
            // The emulator's operations cannot be cancelled; a done one has nothing to cancel.
            Some(o) if o.done => Ok(o.to_json()),
            Some(_) => Err(CloudError::precondition(format!(
                "operation \"{id}\" cannot be cancelled"
            ))),
            None => Err(CloudError::not_found(format!(
                "operation \"{id}\" not found"
            ))),
        },
        (Route::Folder(id), "GET") => Ok(access::folder(id)),
        (Route::FolderBindings { folder, verb }, "GET") if verb == "listAccessBindings" => {
            access::list(st, folder, &req.query)
        }
        (Route::FolderBindings { folder, verb }, "POST")
            if matches!(
                verb.as_str(),
                "setAccessBindings"
                    | "updateAccessBindings"
                    | "bindAccessPolicy"
                    | "unbindAccessPolicy"
            ) =>
        {
            let body = crud::object(&req.body)?;
            access::change(st, folder, verb, &body, ctx)
        }
        (Route::Versions, "GET") => Ok(mk8s::versions()),
        (Route::Collection { spec, parent }, "GET") => {
            let scope = match parent {
                Some(p) => Scope::Parent(p),
                None => Scope::Query,
            };
            list::list(st, spec, scope, &req.query)
        }
        (Route::Collection { spec, parent }, "POST") => {
            let body = crud::object(&req.body)?;
            crud::create(st, spec, parent.as_deref(), body, ctx)
        }
        (Route::SubList { spec, parent }, "GET") => {
            list::list(st, spec, Scope::Parent(parent), &req.query)
        }
        (Route::Item { spec, key }, "GET") => Ok(find(st, spec, key)?.resource.clone()),
        (Route::Item { spec, key }, "PATCH") => {
            let body = crud::object(&req.body)?;
            update::update(st, spec, key, body, ctx)
        }
        (Route::Item { spec, key }, "DELETE") => crud::delete(st, spec, key, ctx),
        (Route::Verb { spec, key, verb }, _) => {
            if !spec.verbs.contains(&format!("{m} {verb}").as_str()) {
                return Err(CloudError::not_found("no such method"));
            }
            find(st, spec, key)?;
            Err(CloudError::unimplemented(format!(
                "{}:{verb} is not implemented by the sandbox",
                spec.label
            )))
        }
        (Route::HostsVerb { spec, key, verb }, "POST") => {
            let body = crud::object(&req.body)?;
            super::pg_hosts::change(st, spec, key, verb, &body, ctx)
        }
        (Route::Hosts { spec, key }, "GET") => {
            Ok(json!({"hosts": mdb::hosts(find(st, spec, key)?)}))
        }
        (Route::History { spec, key }, "GET") => {
            find(st, spec, key)?;
            let mut ops: Vec<_> = st
                .ops
                .values()
                .filter(|o| {
                    o.target
                        .as_ref()
                        .is_some_and(|t| t.kind == spec.kind && &t.key == key)
                })
                .collect();
            ops.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
            Ok(json!({"operations": ops.iter().map(|o| o.to_json()).collect::<Vec<_>>()}))
        }
        (Route::NotFound, _) => Err(CloudError::not_found("no such method")),
        _ => Err(method_not_allowed(m)),
    }
}
