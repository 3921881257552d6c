//! Long-running operations (reference §2.1): a create, update or delete answers with an
//! Operation whose metadata names the resource at once; it is polled at `/operations/{id}` with
//! a growing pause until `done`, within the resource type's timeout. A failed operation surfaces
//! the API's code name and message with what was being done to which resource. MDB's
//! `conflicting operation "<id>"` answers wait for that operation and try again.

use crate::client::{Request, Service};
use crate::retry;
use crate::session::Session;
use crate::status::{code_name, ApiError};
use mlstack_provider_api::ProviderError;
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// An Operation as the API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: String,
    pub done: bool,
    pub metadata: Json,
    pub response: Option<Json>,
    pub error: Option<ApiError>,
}

impl Operation {
    pub fn parse(j: &Json) -> Result<Operation, ApiError> {
        let id = j
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::local("the answer is not an operation (no id)"))?;
        Ok(Operation {
            id: id.to_string(),
            done: j.get("done").and_then(Json::as_bool).unwrap_or(false),
            metadata: j.get("metadata").cloned().unwrap_or(Json::Null),
            response: j.get("response").cloned(),
            error: j.get("error").map(ApiError::from_status),
        })
    }

    /// A string field of the metadata (`networkId`, `clusterId`, ...).
    pub fn meta(&self, key: &str) -> Option<String> {
        self.metadata
            .get(key)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// A provider error for a failed call: `<what>: <CODE> (HTTP n): <message>`.
pub fn fail(what: &str, e: ApiError) -> ProviderError {
    let msg = format!("{what}: {e}");
    if e.retryable() {
        ProviderError::retryable(msg)
    } else {
        ProviderError::new(msg)
    }
}

/// The outcome of a finished operation.
#[derive(Debug, Clone)]
pub struct Done {
    /// The first answer's operation (its metadata names the resource).
    pub operation: Operation,
    /// The final `response` (the resource, or `google.protobuf.Empty`).
    pub response: Json,
}

/// Polls `op` until done or `deadline`. `what` names the action and the resource address
/// (`creating network "net"`).
pub async fn wait(
    session: &Session,
    mut op: Operation,
    deadline: Instant,
    what: &str,
) -> Result<Done, ProviderError> {
    let first = op.clone();
    let mut polls = 0;
    loop {
        // An error may show before `done` while the service rolls back: wait for `done`.
        if op.done {
            break;
        }
        if Instant::now() >= deadline {
            return Err(ProviderError::new(format!(
                "{what}: operation {} did not finish in time (it may still complete; \
                 the next plan looks for the resource again)",
                op.id
            )));
        }
        tokio::time::sleep(retry::poll_pause(polls)).await;
        polls += 1;
        let j = session
            .call(&Request::get(
                Service::Operation,
                format!("/operations/{}", op.id),
            ))
            .await
            .map_err(|e| fail(&format!("{what}: polling operation {}", op.id), e))?;
        op = Operation::parse(&j).map_err(|e| fail(what, e))?;
    }
    if let Some(e) = op.error {
        return Err(ProviderError::new(format!(
            "{what}: operation {} failed: {}: {}",
            op.id,
            code_name(e.code),
            session.scrub(e).message
        )));
    }
    Ok(Done {
        operation: first,
        response: op.response.unwrap_or(Json::Null),
    })
}

/// How many times a mutation waits for a conflicting operation before giving up.
const CONFLICT_WAITS: u32 = 30;

/// Sends a create, update or delete and waits for its operation. The request keeps its
/// `Idempotency-Key` across retries; an MDB `conflicting operation "<id>"` answer waits for that
/// operation and sends again.
pub async fn mutate(
    session: &Session,
    req: Request,
    timeout: Duration,
    what: &str,
) -> Result<Done, ProviderError> {
    match send(session, req, timeout, what, false).await? {
        Some(done) => Ok(done),
        None => Err(ProviderError::new(format!("{what}: not found"))),
    }
}

/// [`mutate`] for a delete: `None` when the resource was already gone (404).
pub async fn mutate_unless_gone(
    session: &Session,
    req: Request,
    timeout: Duration,
    what: &str,
) -> Result<Option<Done>, ProviderError> {
    send(session, req, timeout, what, true).await
}

async fn send(
    session: &Session,
    mut req: Request,
    timeout: Duration,
    what: &str,
    gone_ok: bool,
) -> Result<Option<Done>, ProviderError> {
    let deadline = Instant::now() + timeout;
    let mut conflicts = 0;
    loop {
        let answer = match session.call(&req).await {
            Ok(j) => j,
            Err(e) if gone_ok && e.not_found() => return Ok(None),
            Err(e) => match e.conflicting_operation() {
                Some(other) if conflicts < CONFLICT_WAITS && Instant::now() < deadline => {
                    conflicts += 1;
                    settle(session, &other, deadline).await;
                    continue;
                }
                _ => return Err(fail(what, e)),
            },
        };
        let op = Operation::parse(&answer).map_err(|e| fail(what, e))?;
        match wait(session, op, deadline, what).await {
            Ok(done) => return Ok(Some(done)),
            Err(e) => {
                // The operation itself lost a race with another one: wait, then send again
                // as a new request (the old key would replay the failed operation).
                let other = crate::status::conflicting_operation(&e.message);
                match other {
                    Some(other) if conflicts < CONFLICT_WAITS && Instant::now() < deadline => {
                        conflicts += 1;
                        settle(session, &other, deadline).await;
                        req.idempotency_key = Some(uuid::Uuid::new_v4().to_string());
                    }
                    _ => return Err(e),
                }
            }
        }
    }
}

/// Waits (quietly) for someone else's operation to finish, whatever its outcome.
async fn settle(session: &Session, id: &str, deadline: Instant) {
    let mut polls = 0;
    while Instant::now() < deadline {
        let j = session
            .call(&Request::get(
                Service::Operation,
                format!("/operations/{id}"),
            ))
            .await;
        match j.ok().and_then(|j| Operation::parse(&j).ok()) {
            Some(op) if !op.done => {}
            _ => return,
        }
        tokio::time::sleep(retry::poll_pause(polls)).await;
        polls += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_parsed() {
        let op = Operation::parse(&json!({
            "id": "fcmq0j5033e516c56ctq", "done": false,
            "metadata": {"@type": "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata", "networkId": "enp1"}
        }))
        .unwrap();
        assert_eq!(op.meta("networkId").as_deref(), Some("enp1"));
        assert!(!op.done && op.error.is_none());
        let op = Operation::parse(&json!({
            "id": "x", "done": true, "error": {"code": 9, "message": "quota"}
        }))
        .unwrap();
        assert_eq!(op.error.as_ref().map(|e| e.code), Some(9));
        assert!(Operation::parse(&json!({"code": 5})).is_err());
    }
}
