//! Module definitions: finding the modules directory and a module's directory, reading
//! `module.yaml` (inputs with checked defaults, outputs, templates) and parsing its tera
//! templates once for all instances.

use super::fields::to_value;
use super::hints::listing;
use super::loader::Loader;
use super::parse::{self, RawModuleDef};
use super::variables::check_value;
use super::{source, yaml};
use crate::diag::{did_you_mean, Diagnostic, Span};
use mlstack_provider_api::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Where module directories live.
#[derive(Debug, Clone)]
pub struct ModulesDir {
    pub path: PathBuf,
    /// As shown in diagnostics (relative when the stack path was).
    pub display: String,
}

/// A loaded module definition, shared by all its instances.
pub struct ModuleDef {
    pub dir: PathBuf,
    pub display: String,
    pub def: RawModuleDef,
    /// Checked defaults of inputs (`None` when the default is broken).
    pub defaults: BTreeMap<String, Option<Value>>,
    pub tera: tera::Tera,
    /// Templates to render, in order.
    pub render: Vec<String>,
}

/// Finds `modules/` beside the stack file or in up to three parent directories.
pub fn find_modules_dir(stack: &Path) -> Option<ModulesDir> {
    let mut dir = stack.parent().map(Path::to_path_buf).unwrap_or_default();
    for _ in 0..4 {
        let candidate = dir.join("modules");
        if candidate.is_dir() {
            return Some(ModulesDir {
                display: normalize(&candidate).display().to_string(),
                path: candidate,
            });
        }
        dir = dir.join("..");
    }
    None
}

/// Removes `.` and `name/..` lexically (for display only).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

impl Loader<'_> {
    /// Finds and loads a module definition (cached per directory).
    pub fn module_def(
        &mut self,
        source: &str,
        span: Span,
        base_dir: &Path,
    ) -> Option<Rc<ModuleDef>> {
        let relative = source.starts_with("./") || source.starts_with("../");
        let (dir, display) = if relative {
            let dir = base_dir.join(source);
            (dir.clone(), normalize(&dir).display().to_string())
        } else {
            let Some(md) = &self.modules_dir else {
                self.diags.push(
                    Diagnostic::new(
                        "module-not-found",
                        format!("module source `{source}` not found: there is no modules/ directory"),
                    )
                    .at(span, "not found")
                    .help("put modules in `modules/` beside the stack file (or up to three directories above), or use a path starting with ./"),
                );
                return None;
            };
            (
                md.path.join(source),
                format!("{}/{source}", md.display.trim_end_matches('/')),
            )
        };
        let canonical = match std::fs::canonicalize(&dir) {
            Ok(c) if c.join("module.yaml").is_file() => c,
            found => {
                let why = if found.is_ok() {
                    format!("`{display}` has no module.yaml")
                } else {
                    format!("no directory `{display}`")
                };
                let d = Diagnostic::new(
                    "module-not-found",
                    format!("module source `{source}` not found: {why}"),
                )
                .at(span, "not found");
                let names = if relative {
                    Vec::new()
                } else {
                    self.module_names().to_vec()
                };
                self.diags.push(
                    match self.hints.nearest(source, names.iter().map(String::as_str)) {
                        Some(h) => d.help(h),
                        None if names.is_empty() => d,
                        None => d.help(format!(
                            "modules: {}",
                            listing(names.iter().map(String::as_str), names.len())
                        )),
                    },
                );
                return None;
            }
        };
        if let Some(cached) = self.defs.get(&canonical) {
            return cached.clone();
        }
        let def = self.read_module_def(canonical.clone(), display);
        self.defs.insert(canonical, def.clone());
        def
    }

    fn read_module_def(&mut self, dir: PathBuf, display: String) -> Option<Rc<ModuleDef>> {
        let before = self.diags.len();
        let yaml_path = dir.join("module.yaml");
        let text = match source::read(&yaml_path, "module file") {
            Ok(t) => t,
            Err(d) => {
                self.diags.push(*d);
                return None;
            }
        };
        let file = self
            .sources
            .add(format!("{display}/module.yaml"), text.as_str());
        let def = match yaml::parse_lenient(&text, file, &mut self.diags) {
            Ok(Some(root)) => parse::module_def(root, &mut self.diags),
            Ok(None) => RawModuleDef::default(),
            Err(()) => return None,
        };
        let mut defaults = BTreeMap::new();
        for decl in &def.inputs {
            if let Some(node) = &decl.default {
                let checked = match check_value(decl, to_value(node)) {
                    Ok(v) => Some(v),
                    Err(p) => {
                        self.diags.push(p.diagnostic(
                            "wrong-type",
                            "validation-failed",
                            &format!("the default of input `{}`", decl.name),
                            Some(node.span),
                        ));
                        None
                    }
                };
                defaults.insert(decl.name.clone(), checked);
            }
        }
        let mut tera = tera::Tera::default();
        tera.register_function("canary_analysis", crate::generate::canary::tera_function);
        let mut all = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".tera") && entry.path().is_file() {
                    all.push(name);
                }
            }
        }
        all.sort();
        for name in &all {
            let path = dir.join(name);
            let text = match source::read(&path, "module template") {
                Ok(t) => t,
                Err(d) => {
                    self.diags.push(*d);
                    continue;
                }
            };
            let file = self.sources.add(format!("{display}/{name}"), text.as_str());
            if let Err(e) = tera.add_raw_template(name, &text) {
                self.diags.push(
                    Diagnostic::new(
                        "template-error",
                        format!(
                            "template `{display}/{name}` does not parse: {}",
                            error_chain(&e)
                        ),
                    )
                    .at(Span::new(file, 0, 0), "in this template"),
                );
            }
        }
        let render = match &def.templates {
            Some(listed) => {
                for (name, span) in listed {
                    if !all.contains(name) {
                        let d = Diagnostic::new(
                            "template-error",
                            format!("template `{name}` not found in `{display}`"),
                        )
                        .at(*span, "no such file");
                        self.diags
                            .push(match did_you_mean(name, all.iter().map(String::as_str)) {
                                Some(h) => d.help(h),
                                None => d,
                            });
                    }
                }
                listed.iter().map(|(n, _)| n.clone()).collect()
            }
            None => all
                .iter()
                .filter(|n| n.ends_with(".yaml.tera"))
                .cloned()
                .collect(),
        };
        if self.diags.len() > before {
            return None;
        }
        Some(Rc::new(ModuleDef {
            dir,
            display,
            def,
            defaults,
            tera,
            render,
        }))
    }

    /// The module directories under the modules directory (listed once), for hints.
    fn module_names(&mut self) -> &[String] {
        if self.module_names.is_none() {
            let names = self
                .modules_dir
                .as_ref()
                .map(|md| list_module_dirs(&md.path))
                .unwrap_or_default();
            self.module_names = Some(names);
        }
        self.module_names.as_deref().unwrap_or_default()
    }
}

fn list_module_dirs(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("module.yaml").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A tera error with its causes, on one line.
pub fn error_chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg.replace('\n', " ")
}
