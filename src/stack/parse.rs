//! The sections of a stack file (and of a module's rendered templates) read into raw
//! declarations: keys checked, names validated, values still YAML nodes to be resolved later.

use super::fields::{self, boolean, check_name, expect_map, string, string_list, Fields};
use super::parse_vars::{variables, RawVar};
use super::yaml::{Entry, Node, NodeKind};
use super::Mode;
use crate::diag::{did_you_mean, Diagnostic, Span};
use mlstack_provider_api::{parse_path, Path};

/// The top-level keys of a stack file.
pub const STACK_KEYS: &[&str] = &[
    "stack",
    "backend",
    "variables",
    "providers",
    "resources",
    "data",
    "modules",
    "outputs",
];
/// The top-level keys of a rendered module template.
pub const TEMPLATE_KEYS: &[&str] = &["resources", "data", "modules"];
/// The keys of `module.yaml`.
pub const MODULE_KEYS: &[&str] = &["description", "inputs", "outputs", "templates"];

pub const RESOURCE_KEYS: &[&str] = &[
    "type",
    "provider",
    "enabled",
    "depends_on",
    "lifecycle",
    "properties",
];
pub const DATA_KEYS: &[&str] = &["type", "provider", "enabled", "depends_on", "properties"];
pub const MODULE_CALL_KEYS: &[&str] = &["source", "enabled", "depends_on", "inputs"];
pub const OUTPUT_KEYS: &[&str] = &["value", "sensitive", "description"];
pub const LIFECYCLE_KEYS: &[&str] = &["prevent_destroy", "ignore_changes", "create_before_destroy"];

/// A whole stack file, parsed.
#[derive(Debug, Default)]
pub struct RawStack {
    pub name: Option<(String, Span)>,
    pub backend: Option<RawBackend>,
    pub variables: Vec<RawVar>,
    pub providers: Vec<RawProvider>,
    pub body: RawBody,
    pub outputs: Vec<RawOutput>,
}

/// `backend: {KIND: {...}}`.
#[derive(Debug)]
pub struct RawBackend {
    pub kind: String,
    pub kind_span: Span,
    pub config: Vec<Entry>,
}

/// A provider block.
#[derive(Debug)]
pub struct RawProvider {
    pub key: String,
    pub key_span: Span,
    pub type_name: String,
    pub config: Vec<Entry>,
    pub span: Span,
}

/// Resources, data sources and module calls of one scope.
#[derive(Debug, Default)]
pub struct RawBody {
    pub resources: Vec<RawResource>,
    pub modules: Vec<RawModule>,
}

/// A resource or data source.
#[derive(Debug)]
pub struct RawResource {
    pub name: String,
    pub span: Span,
    pub mode: Mode,
    pub type_name: Option<(String, Span)>,
    pub provider: Option<(String, Span)>,
    pub enabled: Option<Node>,
    pub depends_on: Vec<(String, Span)>,
    pub lifecycle: super::Lifecycle,
    pub properties: Option<Node>,
}

/// A module instance.
#[derive(Debug)]
pub struct RawModule {
    pub name: String,
    pub span: Span,
    pub source: Option<(String, Span)>,
    pub enabled: Option<Node>,
    pub depends_on: Vec<(String, Span)>,
    pub inputs: Vec<Entry>,
}

/// An output (of the stack or of a module).
#[derive(Debug, Clone)]
pub struct RawOutput {
    pub name: String,
    pub span: Span,
    pub value: Option<Node>,
    pub sensitive: bool,
    pub description: Option<String>,
}

/// `module.yaml`.
#[derive(Debug, Clone, Default)]
pub struct RawModuleDef {
    pub description: Option<String>,
    pub inputs: Vec<RawVar>,
    pub outputs: Vec<RawOutput>,
    pub templates: Option<Vec<(String, Span)>>,
}

/// Reads a stack file's root mapping.
pub fn stack(root: Node, diags: &mut Vec<Diagnostic>) -> RawStack {
    let mut out = RawStack::default();
    let root_span = root.span;
    let Some(mut f) = Fields::new(root, STACK_KEYS, "the stack file", diags) else {
        return out;
    };
    match f.take("stack") {
        Some(e) => {
            let key_span = e.key_span;
            if let Some(mut s) = Fields::new(e.value, &["name", "description"], "`stack`", diags) {
                match s.take("name") {
                    Some(n) => out.name = string(&n.value, "`stack.name`", diags),
                    None => diags.push(
                        Diagnostic::new("missing-key", "`stack` has no `name`")
                            .at(key_span, "add `name:` here"),
                    ),
                }
                if let Some(d) = s.take("description") {
                    string(&d.value, "`stack.description`", diags);
                }
            }
        }
        None => diags.push(
            Diagnostic::new("missing-key", "the stack file has no `stack` section")
                .at(
                    Span {
                        end: root_span.start,
                        ..root_span
                    },
                    "missing `stack:`",
                )
                .help("start the file with:\nstack:\n  name: my-stack"),
        ),
    }
    if let Some(e) = f.take("backend") {
        out.backend = backend(e.value, diags);
    }
    if let Some(e) = f.take("variables") {
        out.variables = variables(e.value, "variable", diags);
    }
    if let Some(e) = f.take("providers") {
        out.providers = providers(e.value, diags);
    }
    out.body = body(&mut f, diags);
    if let Some(e) = f.take("outputs") {
        out.outputs = outputs(e.value, diags);
    }
    out
}

/// Reads a rendered module template's root mapping.
pub fn template(root: Node, diags: &mut Vec<Diagnostic>) -> RawBody {
    match Fields::new(root, TEMPLATE_KEYS, "a module template", diags) {
        Some(mut f) => body(&mut f, diags),
        None => RawBody::default(),
    }
}

/// Reads `module.yaml`.
pub fn module_def(root: Node, diags: &mut Vec<Diagnostic>) -> RawModuleDef {
    let mut out = RawModuleDef::default();
    let Some(mut f) = Fields::new(root, MODULE_KEYS, "module.yaml", diags) else {
        return out;
    };
    if let Some(e) = f.take("description") {
        out.description = string(&e.value, "`description`", diags).map(|s| s.0);
    }
    if let Some(e) = f.take("inputs") {
        out.inputs = variables(e.value, "input", diags);
    }
    if let Some(e) = f.take("outputs") {
        out.outputs = outputs(e.value, diags);
    }
    if let Some(e) = f.take("templates") {
        out.templates = Some(string_list(e.value, "`templates`", diags));
    }
    out
}

fn body(f: &mut Fields, diags: &mut Vec<Diagnostic>) -> RawBody {
    let mut out = RawBody::default();
    if let Some(e) = f.take("resources") {
        resources(e.value, Mode::Managed, &mut out.resources, diags);
    }
    if let Some(e) = f.take("data") {
        resources(e.value, Mode::Data, &mut out.resources, diags);
    }
    if let Some(e) = f.take("modules") {
        for entry in expect_map(e.value, "`modules`", diags).unwrap_or_default() {
            if let Some(m) = module_call(entry, diags) {
                out.modules.push(m);
            }
        }
    }
    out
}

fn backend(node: Node, diags: &mut Vec<Diagnostic>) -> Option<RawBackend> {
    let span = node.span;
    let entries = expect_map(node, "`backend`", diags)?;
    let mut it = entries.into_iter();
    let Some(first) = it.next() else {
        diags.push(
            Diagnostic::new("missing-key", "`backend` names no kind")
                .at(span, "empty")
                .help("for example `backend: {local: {path: .mlstack/demo/state.json}}`"),
        );
        return None;
    };
    for extra in it {
        diags.push(
            Diagnostic::new("unknown-key", "`backend` takes exactly one kind")
                .at(extra.key_span, "a second backend kind")
                .also(first.key_span, "first kind"),
        );
    }
    let Some(&(_, settings)) = BACKEND_SETTINGS.iter().find(|(k, _)| *k == first.key) else {
        let kinds = BACKEND_SETTINGS.iter().map(|(k, _)| *k);
        let d = Diagnostic::new(
            "unknown-key",
            format!("unknown backend kind `{}`", first.key),
        )
        .at(first.key_span, "unknown kind");
        diags.push(match did_you_mean(&first.key, kinds.clone()) {
            Some(h) => d.help(h),
            None => d.help(format!(
                "supported backends: {}",
                kinds.collect::<Vec<_>>().join(", ")
            )),
        });
        return None;
    };
    let what = format!("the `{}` backend", first.key);
    let config = expect_map(first.value, &what, diags)?;
    let mut kept = Vec::with_capacity(config.len());
    for e in config {
        if !settings.contains(&e.key.as_str()) {
            let d = fields::unknown_key(&e.key, e.key_span, &what, settings);
            // The kubernetes provider block's names, which the backend spells as Terraform does.
            diags.push(match (first.key.as_str(), e.key.as_str()) {
                ("kubernetes", "kubeconfig") => d.help("did you mean `config_path`?"),
                ("kubernetes", "context") => d.help("did you mean `config_context`?"),
                _ => d,
            });
            continue;
        }
        if e.key == "encryption" {
            if let NodeKind::Map(inner) = &e.value.kind {
                for i in inner {
                    if !ENCRYPTION_SETTINGS.contains(&i.key.as_str()) {
                        diags.push(fields::unknown_key(
                            &i.key,
                            i.key_span,
                            "`encryption`",
                            ENCRYPTION_SETTINGS,
                        ));
                    }
                }
            }
        }
        if SECRET_SETTINGS.contains(&e.key.as_str()) {
            if let Some(d) = literal_secret(&e) {
                diags.push(d);
                continue;
            }
        }
        kept.push(e);
    }
    Some(RawBackend {
        kind: first.key,
        kind_span: first.key_span,
        config: kept,
    })
}

/// Backend kinds and the settings each takes.
pub const BACKEND_SETTINGS: &[(&str, &[&str])] = &[
    ("local", crate::state::LOCAL_SETTINGS),
    ("s3", crate::state::S3_SETTINGS),
    ("kubernetes", crate::state::KUBERNETES_SETTINGS),
];
use crate::state::ENCRYPTION_SETTINGS;

/// Backend settings that hold a secret: never a literal in the stack file.
pub const SECRET_SETTINGS: &[&str] = &["secret_key", "token"];

/// A secret written in clear in the stack file (not an `${env.NAME}` or `${var.NAME}`
/// reference; that the variable is sensitive is checked when it resolves).
fn literal_secret(e: &Entry) -> Option<Diagnostic> {
    let is_reference = match &e.value.kind {
        NodeKind::Str(s) => {
            let t = s.trim();
            (t.starts_with("${env.") || t.starts_with("${var.")) && t.ends_with('}')
        }
        _ => false,
    };
    (!is_reference).then(|| {
        Diagnostic::new(
            "secret-in-stack",
            format!("`{}` must not be written in the stack file", e.key),
        )
        .at(e.value.span, "a secret in clear")
        .help(format!(
            "use `${{env.NAME}}` or a sensitive variable (`sensitive: true`) for `{}`, or leave \
             it out and {}",
            e.key,
            if e.key == "token" {
                "use `config_path` (a kubeconfig) instead"
            } else {
                "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
            }
        ))
    })
}

fn providers(node: Node, diags: &mut Vec<Diagnostic>) -> Vec<RawProvider> {
    let mut out = Vec::new();
    for e in expect_map(node, "`providers`", diags).unwrap_or_default() {
        let valid = e.key.split('.').all(fields::is_valid_name);
        if !valid {
            diags.push(
                Diagnostic::new("invalid-name", format!("invalid provider name `{}`", e.key))
                    .at(e.key_span, "invalid name"),
            );
            continue;
        }
        let span = e.value.span;
        let what = format!("provider `{}`", e.key);
        let Some(mut config) = expect_map(e.value, &what, diags) else {
            continue;
        };
        let mut type_name = e.key.clone();
        if let Some(i) = config.iter().position(|c| c.key == "type") {
            let t = config.remove(i);
            if let Some((name, _)) = string(&t.value, "`type`", diags) {
                type_name = name;
            }
        }
        out.push(RawProvider {
            key: e.key,
            key_span: e.key_span,
            type_name,
            config,
            span,
        });
    }
    out
}

fn resources(node: Node, mode: Mode, out: &mut Vec<RawResource>, diags: &mut Vec<Diagnostic>) {
    let (section, kind, keys) = match mode {
        Mode::Managed => ("`resources`", "resource", RESOURCE_KEYS),
        Mode::Data => ("`data`", "data source", DATA_KEYS),
    };
    for e in expect_map(node, section, diags).unwrap_or_default() {
        if !check_name(&e.key, e.key_span, kind, diags) {
            continue;
        }
        let what = format!("{kind} `{}`", e.key);
        let mut r = RawResource {
            name: e.key,
            span: e.key_span,
            mode,
            type_name: None,
            provider: None,
            enabled: None,
            depends_on: Vec::new(),
            lifecycle: super::Lifecycle::default(),
            properties: None,
        };
        let Some(mut f) = Fields::new(e.value, keys, &what, diags) else {
            out.push(r);
            continue;
        };
        match f.take("type") {
            Some(t) => r.type_name = string(&t.value, "`type`", diags),
            None => diags.push(
                Diagnostic::new("missing-key", format!("{what} has no `type`"))
                    .at(r.span, "add `type:`")
                    .help("for example `type: random_password`"),
            ),
        }
        if let Some(p) = f.take("provider") {
            r.provider = string(&p.value, "`provider`", diags);
        }
        r.enabled = f.take("enabled").map(|e| e.value);
        if let Some(d) = f.take("depends_on") {
            r.depends_on = string_list(d.value, "`depends_on`", diags);
        }
        if let Some(l) = f.take("lifecycle") {
            r.lifecycle = lifecycle(l.value, diags);
        }
        r.properties = f.take("properties").map(|p| p.value);
        out.push(r);
    }
}

fn lifecycle(node: Node, diags: &mut Vec<Diagnostic>) -> super::Lifecycle {
    let mut out = super::Lifecycle::default();
    let Some(mut f) = Fields::new(node, LIFECYCLE_KEYS, "`lifecycle`", diags) else {
        return out;
    };
    if let Some(e) = f.take("prevent_destroy") {
        out.prevent_destroy = boolean(&e.value, "`prevent_destroy`", diags).unwrap_or(false);
    }
    if let Some(e) = f.take("create_before_destroy") {
        out.create_before_destroy =
            boolean(&e.value, "`create_before_destroy`", diags).unwrap_or(false);
    }
    if let Some(e) = f.take("ignore_changes") {
        out.ignore_changes = string_list(e.value, "`ignore_changes`", diags)
            .into_iter()
            .map(|(p, _)| parse_path(&p))
            .collect::<Vec<Path>>();
    }
    out
}

fn module_call(e: Entry, diags: &mut Vec<Diagnostic>) -> Option<RawModule> {
    if !check_name(&e.key, e.key_span, "module", diags) {
        return None;
    }
    let what = format!("module `{}`", e.key);
    let mut m = RawModule {
        name: e.key,
        span: e.key_span,
        source: None,
        enabled: None,
        depends_on: Vec::new(),
        inputs: Vec::new(),
    };
    let Some(mut f) = Fields::new(e.value, MODULE_CALL_KEYS, &what, diags) else {
        return Some(m);
    };
    match f.take("source") {
        Some(s) => m.source = string(&s.value, "`source`", diags),
        None => diags.push(
            Diagnostic::new("missing-key", format!("{what} has no `source`"))
                .at(m.span, "add `source:`")
                .help("`source` names a directory under modules/, or a path starting ./ or ../"),
        ),
    }
    m.enabled = f.take("enabled").map(|e| e.value);
    if let Some(d) = f.take("depends_on") {
        m.depends_on = string_list(d.value, "`depends_on`", diags);
    }
    if let Some(i) = f.take("inputs") {
        m.inputs = expect_map(i.value, "`inputs`", diags).unwrap_or_default();
    }
    Some(m)
}

fn outputs(node: Node, diags: &mut Vec<Diagnostic>) -> Vec<RawOutput> {
    let mut out = Vec::new();
    for e in expect_map(node, "`outputs`", diags).unwrap_or_default() {
        if !check_name(&e.key, e.key_span, "output", diags) {
            continue;
        }
        let what = format!("output `{}`", e.key);
        let mut o = RawOutput {
            name: e.key,
            span: e.key_span,
            value: None,
            sensitive: false,
            description: None,
        };
        if let Some(mut f) = Fields::new(e.value, OUTPUT_KEYS, &what, diags) {
            match f.take("value") {
                Some(v) => o.value = Some(v.value),
                None => diags.push(
                    Diagnostic::new("missing-key", format!("{what} has no `value`"))
                        .at(o.span, "add `value:`"),
                ),
            }
            if let Some(s) = f.take("sensitive") {
                o.sensitive = boolean(&s.value, "`sensitive`", diags).unwrap_or(false);
            }
            if let Some(d) = f.take("description") {
                o.description = string(&d.value, "`description`", diags).map(|s| s.0);
            }
        }
        out.push(o);
    }
    out
}
