//! `metadata.managedFields`: which manager owns which fields, per operation and subresource.

use crate::fields::{from_fields_v1, get_at, to_fields_v1, FieldSet};
use serde_json::{json, Value};

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: String,
    pub set: FieldSet,
    /// The set as read from the object; a changed set gets a new `time`.
    original: Option<FieldSet>,
}

/// All entries of one object, in their stored order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Managed {
    pub entries: Vec<Entry>,
}

impl Managed {
    /// Reads `metadata.managedFields` (malformed entries are dropped).
    pub fn parse(obj: &Value) -> Managed {
        let entries = obj
            .get("metadata")
            .and_then(|m| m.get("managedFields"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        let s =
                            |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                        let set = from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null));
                        Some(Entry {
                            manager: e.get("manager")?.as_str()?.to_string(),
                            operation: s("operation"),
                            api_version: s("apiVersion"),
                            time: s("time"),
                            subresource: s("subresource"),
                            original: Some(set.clone()),
                            set,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Managed { entries }
    }

    /// The entry for (manager, operation, subresource), created empty when missing.
    pub fn entry(
        &mut self,
        manager: &str,
        operation: &str,
        subresource: &str,
        api_version: &str,
    ) -> &mut Entry {
        let pos = self.entries.iter().position(|e| {
            e.manager == manager && e.operation == operation && e.subresource == subresource
        });
        let idx = match pos {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    manager: manager.to_string(),
                    operation: operation.to_string(),
                    api_version: api_version.to_string(),
                    time: String::new(),
                    subresource: subresource.to_string(),
                    set: FieldSet::new(),
                    original: None,
                });
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[idx];
        if e.api_version != api_version {
            e.api_version = api_version.to_string();
            e.original = None;
        }
        e
    }

    /// Drops owned paths that no longer exist in `obj`, then empty entries.
    pub fn prune(&mut self, obj: &Value) {
        for e in &mut self.entries {
            e.set.retain(|p| get_at(obj, p).is_some());
        }
        self.entries.retain(|e| !e.set.is_empty());
    }

    /// The `managedFields` array; entries whose set changed are stamped `now`.
    pub fn to_json(&self, now: &str) -> Value {
        let items: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let time = if e.original.as_ref() == Some(&e.set) && !e.time.is_empty() {
                    e.time.clone()
                } else {
                    now.to_string()
                };
                let mut v = json!({
                    "manager": e.manager,
                    "operation": e.operation,
                    "apiVersion": e.api_version,
                    "time": time,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": to_fields_v1(&e.set),
                });
                if !e.subresource.is_empty() {
                    v["subresource"] = json!(e.subresource);
                }
                v
            })
            .collect();
        Value::Array(items)
    }
}
