//! What a provider tells the engine about its resource types before any network call, so that
//! `validate` can reject unknown attributes and wrong types with a line number.

use std::collections::BTreeMap;

/// The type an attribute accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    String,
    Number,
    Bool,
    List,
    Map,
    /// Anything (e.g. a Kubernetes manifest).
    Any,
}

impl AttrType {
    pub fn name(&self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Number => "number",
            AttrType::Bool => "bool",
            AttrType::List => "list",
            AttrType::Map => "map",
            AttrType::Any => "any",
        }
    }
}

/// One top-level attribute of a resource type.
#[derive(Debug, Clone)]
pub struct AttrSchema {
    pub ty: AttrType,
    /// Must be set in the stack.
    pub required: bool,
    /// Set by the provider (may be unknown until apply); the stack may not set it unless `optional`.
    pub computed: bool,
    /// Settable in the stack although computed when absent.
    pub optional: bool,
    /// Never shown.
    pub sensitive: bool,
    /// A change to this attribute replaces the resource.
    pub force_new: bool,
    pub description: &'static str,
}

impl AttrSchema {
    pub const fn input(ty: AttrType) -> Self {
        AttrSchema {
            ty,
            required: false,
            computed: false,
            optional: true,
            sensitive: false,
            force_new: false,
            description: "",
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    pub const fn computed(ty: AttrType) -> Self {
        AttrSchema {
            ty,
            required: false,
            computed: true,
            optional: false,
            sensitive: false,
            force_new: false,
            description: "",
        }
    }

    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub const fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub const fn describe(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
}

/// The schema of one resource or data source type.
#[derive(Debug, Clone, Default)]
pub struct ResourceSchema {
    pub attributes: BTreeMap<&'static str, AttrSchema>,
    /// Accept attributes not listed (the provider validates them itself).
    pub open: bool,
    pub description: &'static str,
}

impl ResourceSchema {
    pub fn new(description: &'static str) -> Self {
        ResourceSchema {
            attributes: BTreeMap::new(),
            open: false,
            description,
        }
    }

    pub fn attr(mut self, name: &'static str, schema: AttrSchema) -> Self {
        self.attributes.insert(name, schema);
        self
    }

    pub fn open(mut self) -> Self {
        self.open = true;
        self
    }
}

/// Everything a provider declares statically.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    /// Settings of the provider block itself.
    pub config: ResourceSchema,
    pub resources: BTreeMap<&'static str, ResourceSchema>,
    pub data_sources: BTreeMap<&'static str, ResourceSchema>,
}
