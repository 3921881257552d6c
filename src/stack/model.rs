//! The loaded stack: what `stack::load` produces after parsing, evaluating variables and
//! expanding modules. Every later stage (graph, plan, apply, render) reads only these types.
//!
//! Variables, `env.` and known module inputs are already substituted; the only references left
//! are to resource attributes, by absolute address, so modules need no scopes at plan time.

use crate::diag::{SourceMap, Span};
use mlstack_provider_api::{Path, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A fully loaded stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack's name (a Kubernetes label value).
    pub name: String,
    /// The file it was loaded from, as given.
    pub path: std::path::PathBuf,
    pub backend: BackendDecl,
    /// Every variable with its final value (defaults, var files and `--var` applied).
    pub variables: BTreeMap<String, VariableValue>,
    /// Provider blocks by their key (`kubernetes`, or an alias such as `kubernetes.staging`).
    pub providers: BTreeMap<String, ProviderDecl>,
    /// Every enabled resource and data source, modules flattened, sorted by address.
    pub resources: Vec<ResourceDecl>,
    /// Top-level outputs.
    pub outputs: Vec<OutputDecl>,
    /// Every source file the stack came from, for diagnostics.
    pub sources: Arc<SourceMap>,
}

impl Stack {
    pub fn resource(&self, address: &str) -> Option<&ResourceDecl> {
        self.resources
            .binary_search_by(|r| r.address.as_str().cmp(address))
            .ok()
            .map(|i| &self.resources[i])
    }
}

/// Where state lives.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendDecl {
    /// `local` (default), later `s3`, `kubernetes`.
    pub kind: String,
    pub config: BTreeMap<String, Value>,
    pub span: Option<Span>,
}

impl Default for BackendDecl {
    fn default() -> Self {
        BackendDecl {
            kind: "local".into(),
            config: BTreeMap::new(),
            span: None,
        }
    }
}

/// A variable's final value.
#[derive(Debug, Clone)]
pub struct VariableValue {
    pub value: Value,
    pub sensitive: bool,
    pub description: Option<String>,
    /// Where the value came from: `default`, `--var`, a var file's name.
    pub origin: String,
}

/// A provider block.
#[derive(Debug, Clone)]
pub struct ProviderDecl {
    /// The provider type (`kubernetes`, `yandex`, `random`, `local`).
    pub type_name: String,
    /// Its settings; may reference resources (a cluster created in the same stack).
    pub config: Expr,
    pub span: Span,
}

/// Managed resource or read-only data source.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

/// Lifecycle options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub ignore_changes: Vec<Path>,
    pub create_before_destroy: bool,
}

/// One resource or data source, after module expansion.
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    /// `NAME`, `module.INSTANCE.NAME`, or `data.NAME` / `module.X.data.NAME` for data sources.
    pub address: String,
    /// Module instances from the top, e.g. `["airflow", "db"]`.
    pub module_path: Vec<String>,
    /// The name inside its module.
    pub name: String,
    pub mode: Mode,
    /// e.g. `random_password`.
    pub type_name: String,
    /// The provider block key it uses.
    pub provider: String,
    /// The properties, as an expression (a map).
    pub properties: Expr,
    /// Extra dependencies (absolute addresses), from `depends_on`, module `depends_on` included.
    pub depends_on: Vec<String>,
    pub lifecycle: Lifecycle,
    /// The resource's name in its file.
    pub span: Span,
    /// Spans of other parts, for diagnostics of later stages.
    pub spans: DeclSpans,
}

/// Where the parts of a resource declaration are, beyond its name.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeclSpans {
    /// The `type:` value.
    pub type_name: Span,
}

/// A stack output.
#[derive(Debug, Clone)]
pub struct OutputDecl {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub span: Span,
}

/// An expression tree with spans. Strings with `${...}` are templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value, Span),
    Template(Vec<TemplatePart>, Span),
    List(Vec<Expr>, Span),
    Map(BTreeMap<String, (Span, Expr)>, Span),
}

/// A piece of a template string.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Ref(Reference),
    /// Text that came from a sensitive value (a sensitive variable or input substituted at
    /// load): joined like `Text`, but it makes the whole string sensitive.
    SensitiveText(String),
}

/// A reference to an attribute of a resource, by absolute address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The resource's address.
    pub address: String,
    /// The attribute path inside it (may be empty: the whole resource).
    pub path: Path,
    pub span: Span,
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal(_, s) | Expr::Template(_, s) | Expr::List(_, s) | Expr::Map(_, s) => *s,
        }
    }

    /// Every reference in the expression, in source order.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match self {
            Expr::Literal(..) => {}
            Expr::Template(parts, _) => {
                for p in parts {
                    if let TemplatePart::Ref(r) = p {
                        out.push(r);
                    }
                }
            }
            Expr::List(items, _) => items.iter().for_each(|e| e.collect_refs(out)),
            Expr::Map(m, _) => m.values().for_each(|(_, e)| e.collect_refs(out)),
        }
    }

    /// The span of the value at `path` inside this expression, or the closest enclosing one.
    pub fn span_at(&self, path: &[mlstack_provider_api::PathStep]) -> Span {
        use mlstack_provider_api::PathStep;
        let Some((first, rest)) = path.split_first() else {
            return self.span();
        };
        match (first, self) {
            (PathStep::Key(k), Expr::Map(m, _)) => match m.get(k) {
                Some((_, e)) => e.span_at(rest),
                None => self.span(),
            },
            (PathStep::Index(i), Expr::List(l, _)) => match l.get(*i) {
                Some(e) => e.span_at(rest),
                None => self.span(),
            },
            _ => self.span(),
        }
    }

    /// Evaluates with `lookup` giving each referenced value (`Value::Unknown` when not yet
    /// known). A template of exactly one reference keeps the value's type; otherwise the parts
    /// are joined into a string, unknown if any part is, sensitive if any part is.
    pub fn eval(&self, lookup: &dyn Fn(&Reference) -> Value) -> Value {
        match self {
            Expr::Literal(v, _) => v.clone(),
            Expr::Template(parts, _) => {
                if let [TemplatePart::Ref(r)] = parts.as_slice() {
                    return lookup(r);
                }
                let mut out = String::new();
                let mut sensitive = false;
                let mut unknown = false;
                for part in parts {
                    match part {
                        TemplatePart::Text(t) => out.push_str(t),
                        TemplatePart::SensitiveText(t) => {
                            sensitive = true;
                            out.push_str(t);
                        }
                        TemplatePart::Ref(r) => {
                            let v = lookup(r);
                            sensitive |= v.contains_sensitive();
                            unknown |= v.contains_unknown();
                            if !unknown {
                                interpolate(&mut out, &v);
                            }
                        }
                    }
                }
                let v = if unknown {
                    Value::Unknown
                } else {
                    Value::String(out)
                };
                if sensitive {
                    v.into_sensitive()
                } else {
                    v
                }
            }
            Expr::List(items, _) => Value::List(items.iter().map(|e| e.eval(lookup)).collect()),
            Expr::Map(m, _) => Value::Map(
                m.iter()
                    .map(|(k, (_, e))| (k.clone(), e.eval(lookup)))
                    .collect(),
            ),
        }
    }
}

/// How a value reads inside a string: strings as is, scalars as JSON, collections as JSON.
pub fn interpolate(out: &mut String, v: &Value) {
    match v.unmarked() {
        Value::String(s) => out.push_str(s),
        Value::Null => {}
        other => out.push_str(&other.to_json_unmarked().to_string()),
    }
}
