//! Operations: what create/update/delete answer at once (HTTP 200, `done: false`, metadata
//! with the resource's id), and what they turn into after the operation delay.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What completing an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// The target reaches its running status; the response is the resource.
    Create,
    /// The target leaves its updating status; the response is the resource.
    Update,
    /// The target (and its cascading children) goes away; the response is Empty.
    Delete,
    /// Nothing more happens; the response is fixed.
    Respond { response: Value },
    /// The target leaves its updating status; the response is fixed (host changes: Empty).
    Settle { response: Value },
}

/// The resource an operation acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub kind: String,
    pub key: String,
}

/// An operation with the emulator's bookkeeping (all persisted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    pub description: String,
    pub created_at: String,
    pub created_by: String,
    pub modified_at: String,
    pub done: bool,
    pub metadata: Value,
    #[serde(default)]
    pub response: Option<Value>,
    #[serde(default)]
    pub error: Option<Value>,
    /// When it completes (ms since the epoch).
    pub done_at_ms: u64,
    pub effect: Effect,
    #[serde(default)]
    pub target: Option<Target>,
    /// The MDB cluster it holds while running (conflicting operations are refused).
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

impl Operation {
    /// The wire form (reference §2.1): no `response`/`error` until done.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("description".into(), json!(self.description));
        m.insert("createdAt".into(), json!(self.created_at));
        m.insert("createdBy".into(), json!(self.created_by));
        m.insert("modifiedAt".into(), json!(self.modified_at));
        m.insert("done".into(), json!(self.done));
        m.insert("metadata".into(), self.metadata.clone());
        if let Some(e) = &self.error {
            m.insert("error".into(), e.clone());
        } else if let (true, Some(r)) = (self.done, &self.response) {
            m.insert("response".into(), r.clone());
        }
        Value::Object(m)
    }
}

/// `{"@type": "type.googleapis.com/google.protobuf.Empty"}`.
pub fn empty() -> Value {
    json!({"@type": "type.googleapis.com/google.protobuf.Empty"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_hides_the_response_until_done() {
        let mut op = Operation {
            id: "op".into(),
            description: "Create network".into(),
            created_at: "t".into(),
            created_by: "u".into(),
            modified_at: "t".into(),
            done: false,
            metadata: json!({"networkId": "n"}),
            response: Some(empty()),
            error: None,
            done_at_ms: 0,
            effect: Effect::Delete,
            target: None,
            lock: None,
            idempotency_key: Some("k".into()),
        };
        assert!(op.to_json().get("response").is_none());
        assert!(op.to_json().get("idempotencyKey").is_none());
        op.done = true;
        assert_eq!(op.to_json()["response"], empty());
        let back: Operation = serde_json::from_value(serde_json::to_value(&op).unwrap()).unwrap();
        assert_eq!(back, op);
    }
}
