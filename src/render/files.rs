//! From evaluated values to files: Kubernetes objects as `kubernetes/<namespace or
//! _cluster>/<Kind>-<name>.yaml`, monitoring bundles under `monitoring/<address>/...`.

use super::{SENSITIVE, UNKNOWN};
use crate::stack::{Mode, Stack};
use mlstack_provider_api::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFile {
    /// Relative to the output directory, `/`-separated.
    pub path: String,
    pub content: String,
    /// The resource it came from.
    pub address: String,
}

/// The order of a Kubernetes object's keys a reader expects.
const KEY_ORDER: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "data",
    "stringData",
];

/// A path component from any text: `[A-Za-z0-9._-]` kept, the rest `_`; never `.` or `..`.
fn component(s: &str) -> String {
    let c: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match c.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => c,
    }
}

/// A relative path from generated text, each component made safe.
fn safe_path(p: &str) -> String {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(component)
        .collect::<Vec<_>>()
        .join("/")
}

fn text_at(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

/// Every file the stack renders, sorted by path. Two resources rendering to one path is an
/// error naming both.
pub fn files(stack: &Stack, values: &BTreeMap<String, Value>) -> Result<Vec<RenderedFile>, String> {
    let mut out: BTreeMap<String, RenderedFile> = BTreeMap::new();
    let mut add = |f: RenderedFile| -> Result<(), String> {
        if let Some(prev) = out.get(&f.path) {
            return Err(format!(
                "{} and {} both render to {}",
                prev.address, f.address, f.path
            ));
        }
        out.insert(f.path.clone(), f);
        Ok(())
    };
    for r in &stack.resources {
        let Some(v) = values.get(&r.address) else {
            continue;
        };
        match (r.mode, r.type_name.as_str()) {
            (Mode::Managed, "kubernetes_object") => {
                let manifest = v.get("manifest").cloned().unwrap_or(Value::Unknown);
                let json = manifest.to_json_redacted();
                let ns = text_at(&json, &["metadata", "namespace"]);
                let kind = text_at(&json, &["kind"]).unwrap_or_else(|| "Object".into());
                let name =
                    text_at(&json, &["metadata", "name"]).unwrap_or_else(|| "unnamed".into());
                let dir = ns
                    .as_deref()
                    .map_or_else(|| "_cluster".to_string(), component);
                let header = format!("Rendered by mlstack from {}; not applied.", r.address);
                add(RenderedFile {
                    path: format!(
                        "kubernetes/{dir}/{}-{}.yaml",
                        component(&kind),
                        component(&name)
                    ),
                    content: crate::generate::yaml::to_string_with_header(
                        &json, KEY_ORDER, &header,
                    ),
                    address: r.address.clone(),
                })?;
            }
            (Mode::Data, "monitoring_bundle") => {
                let dir = format!("monitoring/{}", component(&r.address));
                match v.get("files").map(Value::unmarked) {
                    Some(Value::Map(files)) => {
                        for (name, content) in files {
                            let content = match content {
                                Value::String(s) => s.clone(),
                                Value::Sensitive(_) => format!("{SENSITIVE}\n"),
                                _ => format!("{UNKNOWN}\n"),
                            };
                            add(RenderedFile {
                                path: format!("{dir}/{}", safe_path(name)),
                                content,
                                address: r.address.clone(),
                            })?;
                        }
                    }
                    _ => {
                        add(RenderedFile {
                            path: format!("{dir}/UNKNOWN.txt"),
                            content: format!(
                                "The files of {} are {UNKNOWN}: its spec refers to values only apply can tell.\n",
                                r.address
                            ),
                            address: r.address.clone(),
                        })?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out.into_values().collect())
}

/// Writes the files under `dir` (created when missing) and `index.txt` listing each file and
/// its resource. Returns the paths written, index last.
pub fn write(dir: &Path, files: &[RenderedFile]) -> Result<Vec<String>, String> {
    let mut written = Vec::with_capacity(files.len() + 1);
    let mut index = String::new();
    for f in files {
        let target = dir.join(&f.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&target, &f.content)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        index.push_str(&format!("{}\t{}\n", f.path, f.address));
        written.push(f.path.clone());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let index_path = dir.join("index.txt");
    std::fs::write(&index_path, index)
        .map_err(|e| format!("cannot write {}: {e}", index_path.display()))?;
    written.push("index.txt".into());
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_safe() {
        assert_eq!(component("../x"), ".._x");
        assert_eq!(component(".."), "_");
        assert_eq!(component("data.m[\"k\"]"), "data.m__k__");
        assert_eq!(safe_path("rules/../app.yaml"), "rules/_/app.yaml");
    }
}
