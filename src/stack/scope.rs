//! What names mean inside one scope (the stack itself, or one module instance): its values
//! (variables or module inputs), its resources, data sources and module instances.

use super::Expr;
use crate::diag::Span;
use std::collections::{BTreeMap, HashMap};

/// A declared resource or data source, as far as references to it are concerned.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub span: Span,
    /// `Some(false)` when disabled; `None` when its `enabled` could not be evaluated.
    pub enabled: Option<bool>,
    /// A bundle: references name one of its items, `NAME["KEY"]`.
    pub bundle: bool,
}

/// A module instance, as far as references to it are concerned.
#[derive(Debug, Clone, Default)]
pub struct ModuleSlot {
    pub span: Span,
    pub enabled: Option<bool>,
    /// Its outputs once expanded; `None` while not expanded or when expansion failed (then
    /// references to it are not reported again).
    pub outputs: Option<BTreeMap<String, Option<Expr>>>,
    /// Every resource address inside it (nested modules included), for `depends_on: [module.X]`.
    pub addresses: Vec<String>,
}

/// Which kind of values a scope holds: stack variables (`var.`) or module inputs (`input.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRoot {
    Var,
    Input,
}

impl ValueRoot {
    pub fn word(self) -> &'static str {
        match self {
            ValueRoot::Var => "var",
            ValueRoot::Input => "input",
        }
    }
}

/// One scope's names.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Address prefix: `""` or `module.a.` or `module.a.module.b.`.
    pub prefix: String,
    /// Module instances from the top.
    pub module_path: Vec<String>,
    pub root: ValueRoot,
    /// Variables or inputs; `None` where the value is broken (already reported).
    pub values: BTreeMap<String, Option<Expr>>,
    pub resources: HashMap<String, Declared>,
    pub data: HashMap<String, Declared>,
    pub modules: HashMap<String, ModuleSlot>,
}

impl Scope {
    pub fn new(prefix: String, module_path: Vec<String>, root: ValueRoot) -> Scope {
        Scope {
            prefix,
            module_path,
            root,
            values: BTreeMap::new(),
            resources: HashMap::new(),
            data: HashMap::new(),
            modules: HashMap::new(),
        }
    }

    /// `module.a` for a module scope, `the stack` at the top.
    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            "the stack".to_string()
        } else {
            self.prefix.trim_end_matches('.').to_string()
        }
    }

    pub fn resource_address(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn data_address(&self, name: &str) -> String {
        format!("{}data.{name}", self.prefix)
    }

    /// How many names this scope declares (the cost of listing them).
    pub fn name_count(&self) -> usize {
        self.resources.len() + self.data.len() + self.modules.len() + self.values.len()
    }

    /// Every name a reference may start with here, sorted, for "did you mean" and listings.
    pub fn reference_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.resources.keys().cloned().collect();
        names.extend(self.data.keys().map(|n| format!("data.{n}")));
        names.extend(self.modules.keys().map(|n| format!("module.{n}")));
        names.extend(
            self.values
                .keys()
                .map(|n| format!("{}.{n}", self.root.word())),
        );
        names.sort();
        names
    }
}
