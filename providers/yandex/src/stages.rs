//! The provider stages against the cloud, for every kind alike: read (live attributes, write-only
//! secrets kept from the prior), plan (a create, an adoption of an object found by name, or an
//! update/replace against live), apply, delete, wait-ready, import and the cluster-auth data
//! source.

use crate::config::{ConfigError, Defaults};
use crate::diff::coerce_like;
use crate::planning;
use crate::resources::{Cx, Kind, Readiness};
use crate::session::Session;
use mlstack_provider_api::{
    ApplyRequest, PlanRequest, PlannedResource, ProviderError, ProviderResult, ReadResult,
    ResourceRef, ResourceSchema, Value,
};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the stages need from the provider.
pub struct Ctx<'a> {
    pub kind: &'static dyn Kind,
    pub schema: ResourceSchema,
    pub defaults: Defaults,
    pub session: Result<Arc<Session>, ConfigError>,
    pub resource: ResourceRef<'a>,
}

impl Ctx<'_> {
    fn session(&self) -> ProviderResult<&Session> {
        self.session
            .as_deref()
            .map_err(|e| ProviderError::new(e.to_string()))
    }

    fn cx(&self) -> ProviderResult<Cx<'_>> {
        Ok(Cx {
            session: self.session()?,
            address: self.resource.address,
        })
    }
}

/// Live attributes as the stack sees them: attributes the API never returns taken from `like`
/// (the prior, or the stack's value after an apply), wire forms in `like`'s types, canonical
/// order, and sensitive attributes marked.
pub fn finish(kind: &dyn Kind, schema: &ResourceSchema, live: Json, like: Option<&Value>) -> Value {
    let mut v = Value::from(live);
    if let Some(like) = like {
        for k in kind.kept() {
            let missing = v.get(k).is_none_or(|x| matches!(x, Value::Null));
            if let (true, Some(x)) = (missing, like.get(k)) {
                if !matches!(x, Value::Null | Value::Unknown) {
                    v.set_path(&crate::diff::keys(k), x.clone());
                }
            }
        }
        coerce_like(&mut v, like);
    }
    kind.normalize(&mut v);
    for (name, a) in &schema.attributes {
        if a.sensitive {
            if let Some(x) = v.get(name).cloned() {
                v.set_path(&crate::diff::keys(name), x.into_sensitive());
            }
        }
    }
    v
}

pub async fn read(c: &Ctx<'_>, prior: &Value) -> ProviderResult<ReadResult> {
    let cx = c.cx()?;
    match c.kind.read(&cx, &prior.to_json_unmarked()).await? {
        Some(live) => Ok(ReadResult::Found(finish(
            c.kind,
            &c.schema,
            live,
            Some(prior),
        ))),
        None => Ok(ReadResult::Gone),
    }
}

fn proposal_to_planned(p: planning::Proposal, adopted: Option<Value>) -> PlannedResource {
    PlannedResource {
        planned: p.planned,
        requires_replace: p.replace,
        ignore_paths: Vec::new(),
        notes: p.notes,
        adopted,
    }
}

pub async fn plan(
    c: &Ctx<'_>,
    req: &PlanRequest<'_>,
    offline: bool,
) -> ProviderResult<PlannedResource> {
    if let Some(live) = req.live {
        let p = planning::update(c.kind, &c.schema, req.desired, live, &c.defaults);
        return Ok(proposal_to_planned(p, None));
    }
    let create = planning::create(c.kind, &c.schema, req.desired, &c.defaults);
    // Adoption: only for a resource that was never recorded, with everything known.
    let completed = planning::complete(c.kind, &c.schema, req.desired, &c.defaults, None);
    let folder_known = !c.schema.attributes.contains_key("folder_id")
        || completed.get("folder_id").and_then(Value::as_str).is_some();
    if req.prior.is_some() || offline || !folder_known || !c.kind.lookup_possible(&completed) {
        return Ok(PlannedResource::new(create));
    }
    let session = match &c.session {
        Ok(s) => s,
        Err(ConfigError::NoCredentials) => {
            let mut p = PlannedResource::new(create);
            p.notes.push(
                "not checked for an existing object with this name: no Yandex Cloud credentials"
                    .into(),
            );
            return Ok(p);
        }
        Err(e) => return Err(ProviderError::new(e.to_string())),
    };
    let cx = Cx {
        session,
        address: c.resource.address,
    };
    let Some(found) = c.kind.find(&cx, &completed.to_json_unmarked()).await? else {
        return Ok(PlannedResource::new(create));
    };
    let mut adopted = finish(c.kind, &c.schema, found, Some(&completed));
    // A write-only secret of the found object is unknowable (the lost apply may have set
    // another one): leaving it out makes the plan set the stack's value again.
    for k in c.kind.kept() {
        if c.schema.attributes.get(k).is_some_and(|a| a.sensitive) {
            adopted.remove_path(&crate::diff::keys(k));
        }
    }
    let p = planning::update(c.kind, &c.schema, req.desired, &adopted, &c.defaults);
    let mut notes = vec![format!(
        "adopts the existing {} found by name: an earlier apply created it but did not record it",
        c.kind.type_name()
    )];
    notes.extend(p.notes.iter().cloned());
    let mut planned = proposal_to_planned(p, Some(adopted));
    planned.notes = notes;
    Ok(planned)
}

pub async fn apply(c: &Ctx<'_>, req: &ApplyRequest<'_>) -> ProviderResult<Value> {
    let cx = c.cx()?;
    let what = |verb: &str| cx.what(verb, c.kind);
    let (live, planned) = match req.prior {
        None => {
            let planned = planning::create(c.kind, &c.schema, req.desired, &c.defaults);
            if planned.get("folder_id").is_some_and(Value::is_unknown) {
                return Err(ProviderError::new(format!(
                    "{}: no folder: set folder_id on the resource or in the yandex provider block (or YC_FOLDER_ID)",
                    what("creating")
                )));
            }
            let live = c.kind.create(&cx, &planned.to_json_unmarked()).await?;
            (live, planned)
        }
        Some(prior) => {
            let p = planning::update(c.kind, &c.schema, req.desired, prior, &c.defaults);
            if !p.replace.is_empty() {
                let names: Vec<String> = p
                    .replace
                    .iter()
                    .map(|x| mlstack_provider_api::path_to_string(x))
                    .collect();
                return Err(ProviderError::new(format!(
                    "{}: {} cannot be changed in place; plan again to replace it",
                    what("updating"),
                    names.join(", ")
                )));
            }
            if p.mask.is_empty() {
                // Nothing to send: only what the state holds changed (e.g. force_destroy), or
                // an object adopted by name. That one may still be settling (its create came
                // from an interrupted run): wait for it, then record what it is now.
                let mut out = p.planned;
                strip_unknown(&mut out);
                wait_ready(c, prior, c.kind.timeouts().create).await?;
                if let Some(live) = c.kind.read(&cx, &prior.to_json_unmarked()).await? {
                    return Ok(finish(c.kind, &c.schema, live, Some(&out)));
                }
                return Ok(finish(
                    c.kind,
                    &c.schema,
                    out.to_json_unmarked(),
                    Some(req.desired),
                ));
            }
            let live = c
                .kind
                .update(
                    &cx,
                    &p.planned.to_json_unmarked(),
                    &prior.to_json_unmarked(),
                    &p.mask,
                )
                .await?;
            (live, p.planned)
        }
    };
    // What the API does not return (passwords, local flags) comes from the plan.
    Ok(finish(c.kind, &c.schema, live, Some(&planned)))
}

fn strip_unknown(v: &mut Value) {
    if let Value::Map(m) = v {
        m.retain(|_, x| !x.is_unknown());
        for x in m.values_mut() {
            strip_unknown(x);
        }
    }
}

pub async fn delete(c: &Ctx<'_>, prior: &Value) -> ProviderResult<()> {
    let cx = c.cx()?;
    c.kind.delete(&cx, &prior.to_json_unmarked()).await
}

pub async fn wait_ready(c: &Ctx<'_>, state: &Value, timeout: Duration) -> ProviderResult<()> {
    let cx = c.cx()?;
    let attrs = state.to_json_unmarked();
    // Leave a margin so that our message wins over the engine's timeout.
    let deadline = Instant::now() + timeout.saturating_sub(Duration::from_secs(1));
    let mut polls = 0;
    loop {
        match c.kind.ready(&cx, &attrs).await? {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(why) => {
                return Err(ProviderError::new(format!(
                    "{}: {why}",
                    cx.what("waiting for", c.kind)
                )))
            }
            Readiness::Waiting(why) if Instant::now() >= deadline => {
                return Err(ProviderError::new(format!(
                    "{}: not ready: {why}",
                    cx.what("waiting for", c.kind)
                )))
            }
            Readiness::Waiting(_) => {}
        }
        tokio::time::sleep(crate::retry::poll_pause(polls)).await;
        polls += 1;
    }
}

pub async fn import(c: &Ctx<'_>, id: &str) -> ProviderResult<Value> {
    let cx = c.cx()?;
    let attrs = c
        .kind
        .import_attrs(id)
        .map_err(|e| ProviderError::new(format!("{}: {e}", cx.what("importing", c.kind))))?;
    match c.kind.read(&cx, &attrs).await? {
        Some(live) => Ok(finish(c.kind, &c.schema, live, None)),
        None => Err(ProviderError::new(format!(
            "{}: there is no {} `{id}`",
            cx.what("importing", c.kind),
            c.kind.type_name()
        ))),
    }
}

/// `yandex_kubernetes_cluster_auth`: the caller's IAM token for the cluster's API (what
/// `yc k8s create-token` prints), after checking that the cluster exists.
pub async fn cluster_auth(
    session: &Session,
    address: &str,
    properties: &Value,
) -> ProviderResult<Value> {
    let what = format!("reading yandex_kubernetes_cluster_auth \"{address}\"");
    let cluster_id = properties
        .get("cluster_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ProviderError::new(format!("{what}: cluster_id is not set")))?;
    let req = crate::client::Request::get(
        crate::client::Service::Kubernetes,
        format!("/managed-kubernetes/v1/clusters/{cluster_id}"),
    );
    match session.call(&req).await {
        Ok(_) => {}
        Err(e) if e.not_found() => {
            return Err(ProviderError::new(format!(
                "{what}: there is no Kubernetes cluster {cluster_id}"
            )))
        }
        Err(e) => return Err(crate::operation::fail(&what, e)),
    }
    let token = session
        .token()
        .await
        .map_err(|e| crate::operation::fail(&what, e))?;
    let mut m = std::collections::BTreeMap::new();
    m.insert("cluster_id".to_string(), Value::from(cluster_id));
    m.insert(
        "token".to_string(),
        Value::from(token.value).into_sensitive(),
    );
    m.insert(
        "expires_at".to_string(),
        token.expires_at.map(Value::from).unwrap_or(Value::Null),
    );
    Ok(Value::Map(m))
}
