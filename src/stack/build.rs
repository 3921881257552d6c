//! Assembling a [`Stack`] from a stack file's text: parse, compute variables, load the root
//! scope (modules expanded), then outputs, provider blocks and the backend.

use super::hints::Hints;
use super::{
    loader, module_def, parse, scope, source, variables, yaml, BackendDecl, Expr, LoadOptions,
    OutputDecl, ProviderDecl, Stack,
};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};
use mlstack_provider_api::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Builds a [`Stack`] from the text of a stack file.
pub fn build(path: &Path, text: &str, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    let mut sources = SourceMap::default();
    let fail = |sources: SourceMap, mut items: Vec<Diagnostic>| {
        // In file order (stable: equal places keep the order they were found in).
        items.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
        Err(Diagnostics::new(Arc::new(sources), items))
    };
    let file = sources.add(path.display().to_string(), text);
    let mut diags = Vec::new();
    let root = match yaml::parse_lenient(text, file, &mut diags) {
        Ok(Some(root)) => root,
        Ok(None) => return fail(sources, vec![source::empty_file("stack file", path)]),
        Err(()) => return fail(sources, diags),
    };
    let raw = parse::stack(root, &mut diags);
    let name = match &raw.name {
        Some((name, span)) => {
            check_stack_name(name, *span, &mut diags);
            name.clone()
        }
        None => String::new(),
    };
    let hints = Hints::default();
    let computed = variables::compute(&raw.variables, options, &mut sources, &hints, &mut diags);
    let modules_dir = match &options.modules_dir {
        Some(p) => Some(module_def::ModulesDir {
            path: p.clone(),
            display: p.display().to_string(),
        }),
        None => module_def::find_modules_dir(path),
    };
    let mut loader = loader::Loader {
        sources,
        diags,
        env: &options.env,
        modules_dir,
        stack_name: name.clone(),
        provider_keys: raw
            .providers
            .iter()
            .map(|p| (p.key.clone(), p.key_span))
            .collect(),
        implicit_providers: BTreeMap::new(),
        resources: Vec::new(),
        defs: HashMap::new(),
        hints,
        module_names: None,
        registry: options
            .registry
            .clone()
            .unwrap_or_else(crate::providers::Registry::builtin),
        provider_types: raw
            .providers
            .iter()
            .map(|p| (p.key.clone(), p.type_name.clone()))
            .collect(),
        bundles: BTreeMap::new(),
    };
    let mut root_scope = scope::Scope::new(String::new(), Vec::new(), scope::ValueRoot::Var);
    root_scope.values = computed.scope_values;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    loader.load_body(raw.body, &mut root_scope, &base_dir, &[], &[]);

    let mut outputs = Vec::with_capacity(raw.outputs.len());
    for o in &raw.outputs {
        let Some(node) = &o.value else { continue };
        if let Some(value) = loader.resolve(node, &root_scope) {
            let value = match value {
                Expr::Literal(v, s) if o.sensitive => Expr::Literal(v.into_sensitive(), s),
                other => other,
            };
            outputs.push(OutputDecl {
                name: o.name.clone(),
                value,
                sensitive: o.sensitive,
                description: o.description.clone(),
                span: o.span,
            });
        }
    }

    let mut providers = BTreeMap::new();
    for p in &raw.providers {
        if let Some(config) = loader.provider_config(&p.config, p.span, &root_scope) {
            providers.insert(
                p.key.clone(),
                ProviderDecl {
                    type_name: p.type_name.clone(),
                    config,
                    span: p.key_span,
                },
            );
        }
    }
    for (key, span) in std::mem::take(&mut loader.implicit_providers) {
        providers.entry(key.clone()).or_insert(ProviderDecl {
            type_name: key,
            config: Expr::Map(BTreeMap::new(), span),
            span,
        });
    }

    let mut backend = BackendDecl::default();
    if let Some(b) = &raw.backend {
        backend.kind = b.kind.clone();
        backend.span = Some(b.kind_span);
        for e in &b.config {
            if let Some(v) = loader.known(&e.value, &root_scope, &format!("backend `{}`", e.key)) {
                let from_var = matches!(&e.value.kind, super::yaml::NodeKind::Str(t) if t.trim().starts_with("${var."));
                if parse::SECRET_SETTINGS.contains(&e.key.as_str()) && from_var && !v.is_sensitive()
                {
                    loader.diags.push(
                        crate::diag::Diagnostic::new(
                            "secret-in-stack",
                            format!("backend `{}` refers to a variable that is not sensitive", e.key),
                        )
                        .at(e.value.span, "not sensitive")
                        .help("declare the variable with `sensitive: true` so that it is masked everywhere"),
                    );
                }
                backend.config.insert(e.key.clone(), v);
            }
        }
    }
    if backend.kind == "local" && !backend.config.contains_key("path") {
        backend.config.insert(
            "path".into(),
            Value::String(format!(".mlstack/{name}/state.json")),
        );
    }

    loader.finish_bundles();
    let loader::Loader {
        sources,
        diags,
        mut resources,
        ..
    } = loader;
    if !diags.is_empty() {
        return fail(sources, diags);
    }
    resources.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(Stack {
        name,
        path: path.to_path_buf(),
        backend,
        variables: computed.variables,
        providers,
        resources,
        outputs,
        sources: Arc::new(sources),
    })
}

/// A stack name is a Kubernetes label value: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63.
pub fn is_valid_stack_name(name: &str) -> bool {
    mlstack_provider_api::names::is_dns_label(name)
}

fn check_stack_name(name: &str, span: Span, diags: &mut Vec<Diagnostic>) {
    if !is_valid_stack_name(name) {
        diags.push(
            Diagnostic::new("invalid-name", format!("invalid stack name `{name}`"))
                .at(span, "not a Kubernetes label value")
                .help(
                    "a stack name is lowercase letters, digits and `-`, starting and ending with \
                     a letter or digit, at most 63 characters",
                ),
        );
    }
}
