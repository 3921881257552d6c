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

/// A resource type that stands for many resources: the loader expands each item of the list
/// attribute `list_attr` into a resource of type `item_type` whose only property is
/// `item_attr`, addressed `NAME["<key>"]`. The key joins, with `/`, the string values at
/// `key_paths` inside the item (which must be literal, known at load); an optional path that is
/// absent is left out (`v1/Namespace/monitoring` vs `v1/Service/monitoring/prometheus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSpec {
    pub list_attr: &'static str,
    pub item_type: &'static str,
    pub item_attr: &'static str,
    pub key_paths: &'static [KeyPath],
}

/// One part of a bundle item's key: a path inside the item, and whether it must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPath {
    pub path: &'static [&'static str],
    pub required: bool,
}

/// A value the loader writes into every resource of a type (e.g. the labels that mark a
/// Kubernetes object as managed by this stack), so plans, apply and `render` all see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Where, inside the properties (`manifest`, `metadata`, `labels`, `app.kubernetes.io/...`).
    pub path: &'static [&'static str],
    pub value: StampValue,
}

/// What a [`Stamp`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampValue {
    Literal(&'static str),
    /// The stack's name.
    StackName,
}

/// The schema of one resource or data source type.
#[derive(Debug, Clone, Default)]
pub struct ResourceSchema {
    pub attributes: BTreeMap<&'static str, AttrSchema>,
    /// Accept attributes not listed (the provider validates them itself).
    pub open: bool,
    pub description: &'static str,
    /// Set for bundle types, which the loader expands into one resource per item.
    pub bundle: Option<BundleSpec>,
    /// Values written into every resource of this type at load.
    pub stamps: Vec<Stamp>,
}

impl ResourceSchema {
    pub fn new(description: &'static str) -> Self {
        ResourceSchema {
            attributes: BTreeMap::new(),
            open: false,
            description,
            bundle: None,
            stamps: Vec::new(),
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

    pub fn bundle(mut self, spec: BundleSpec) -> Self {
        self.bundle = Some(spec);
        self
    }

    pub fn stamp(mut self, path: &'static [&'static str], value: StampValue) -> Self {
        self.stamps.push(Stamp { path, value });
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
