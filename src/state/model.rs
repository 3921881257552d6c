//! The state file: what mlstack last applied. Versioned JSON; sensitive values are stored (the
//! file is 0600 and encryption comes with remote backends) but their paths are recorded so that
//! every reader can keep them masked.

use crate::stack::Mode;
use mlstack_provider_api::{Path, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state format version this build writes.
pub const STATE_VERSION: u32 = 1;

/// The whole state of one stack.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    /// Increases by one on every write.
    pub serial: u64,
    /// Fixed when the state is first created; a saved plan for another lineage is refused.
    pub lineage: String,
    /// The mlstack version that last wrote it.
    #[serde(default)]
    pub mlstack_version: String,
    /// Resources sorted by address.
    #[serde(default)]
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
}

/// One recorded resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    pub address: String,
    pub mode: Mode,
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider block key it was applied with.
    pub provider: String,
    /// The provider's id for the object, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Attributes in clear (with `sensitive_attributes` naming the secret ones).
    pub attributes: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<Path>,
    /// Addresses this resource depended on when applied (for ordering its deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Kept from the stack so that a resource removed from the stack keeps its protection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,
}

impl ResourceState {
    /// The attributes as a marked value.
    pub fn value(&self) -> Value {
        Value::from(self.attributes.clone()).with_sensitive_paths(&self.sensitive_attributes)
    }

    /// Records a marked value.
    pub fn set_value(&mut self, v: &Value) {
        self.attributes = v.to_json_unmarked();
        self.sensitive_attributes = v.sensitive_paths();
    }
}

/// One recorded output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputState {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

impl State {
    /// A new, empty state with a fresh lineage.
    pub fn new() -> State {
        State {
            version: STATE_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            mlstack_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Resources are kept sorted by address ([`State::upsert`], [`State::sort`]), so lookups
    /// are binary searches: an apply looks resources up once per change.
    pub fn resource(&self, address: &str) -> Option<&ResourceState> {
        self.position(address).ok().map(|i| &self.resources[i])
    }

    fn position(&self, address: &str) -> Result<usize, usize> {
        self.resources
            .binary_search_by(|x| x.address.as_str().cmp(address))
    }

    /// Restores the address order after reading a file that may have been edited by hand.
    pub fn sort(&mut self) {
        if !self
            .resources
            .windows(2)
            .all(|w| w[0].address <= w[1].address)
        {
            self.resources.sort_by(|a, b| a.address.cmp(&b.address));
        }
    }

    /// Inserts or replaces a resource, keeping the list sorted by address.
    pub fn upsert(&mut self, r: ResourceState) {
        match self.position(&r.address) {
            Ok(i) => self.resources[i] = r,
            Err(i) => self.resources.insert(i, r),
        }
    }

    pub fn remove(&mut self, address: &str) -> Option<ResourceState> {
        let i = self.position(address).ok()?;
        Some(self.resources.remove(i))
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}
