//! Which backend a working copy last used for a stack, in `.mlstack/<stack>/backend.json`
//! (non-secret settings only). When the stack file points at another backend, commands refuse
//! instead of starting from an empty state there, and point at `mlstack state migrate STACK`,
//! as Terraform does when a backend changes.

use super::atomic::replace_file;
use super::backend::{open_backend_for, Backend};
use super::kubernetes::KubernetesBackend;
use super::local::LocalBackend;
use crate::stack::BackendDecl;
use mlstack_provider_api::Value;
use std::path::{Path, PathBuf};

/// `<base_dir>/.mlstack/<stack>/backend.json`.
pub fn record_path(stack_name: &str, base_dir: &Path) -> Result<PathBuf, String> {
    Ok(LocalBackend::default_path(stack_name, base_dir)?.with_file_name("backend.json"))
}

/// The recorded backend identity, if any.
pub fn recorded(stack_name: &str, base_dir: &Path) -> Result<Option<serde_json::Value>, String> {
    let path = record_path(stack_name, base_dir)?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            format!(
                "{} is not valid JSON ({e}); delete it to record the stack's current backend",
                shown(&path, base_dir)
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", shown(&path, base_dir))),
    }
}

/// Records `backend` as the one this working copy uses for the stack.
pub fn record(stack_name: &str, base_dir: &Path, backend: &dyn Backend) -> Result<(), String> {
    let path = record_path(stack_name, base_dir)?;
    let mut bytes = serde_json::to_vec_pretty(&backend.identity())
        .map_err(|e| format!("cannot encode the backend record: {e}"))?;
    bytes.push(b'\n');
    replace_file(&path, None, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", shown(&path, base_dir)))
}

/// Opens the backend an identity describes (the recorded, previous one). Credentials are never
/// recorded: they come from `current` when it is of the same kind (S3 keys, a Kubernetes token
/// and CA), else from the environment.
pub fn open_recorded(
    identity: &serde_json::Value,
    current: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
    stack_arg: &str,
) -> Result<Box<dyn Backend>, String> {
    let mut decl = BackendDecl {
        kind: identity["kind"].as_str().unwrap_or_default().to_string(),
        ..BackendDecl::default()
    };
    if let Some(map) = identity.as_object() {
        for (k, v) in map {
            if k != "kind" {
                decl.config.insert(k.clone(), Value::from(v.clone()));
            }
        }
    }
    if decl.kind == "s3" && current.kind == "s3" {
        for k in super::s3::CREDENTIAL_SETTINGS {
            if let Some(v) = current.config.get(*k) {
                decl.config.insert(k.to_string(), v.clone());
            }
        }
    }
    if decl.kind == "kubernetes" {
        let sandbox = decl.config.remove("sandbox").and_then(|v| v.as_bool()) == Some(true);
        if current.kind == "kubernetes" && current.config.get("host") == decl.config.get("host") {
            for k in super::kubernetes::CREDENTIAL_SETTINGS {
                if let Some(v) = current.config.get(*k) {
                    decl.config.insert(k.to_string(), v.clone());
                }
            }
        }
        return KubernetesBackend::from_recorded(
            &decl.config,
            stack_name,
            base_dir,
            stack_arg,
            sandbox,
        )
        .map(|b| Box::new(b) as Box<dyn Backend>);
    }
    open_backend_for(&decl, stack_name, base_dir, stack_arg)
}

/// Opens the stack's backend, checking it against the recorded one: the first use records it;
/// a change is accepted silently only when the previous backend holds no state; otherwise an
/// error points at `mlstack state migrate`.
pub fn open_checked(
    decl: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
    stack_arg: &str,
) -> Result<Box<dyn Backend>, String> {
    let backend = open_backend_for(decl, stack_name, base_dir, stack_arg)?;
    let identity = backend.identity();
    match recorded(stack_name, base_dir)? {
        Some(old) if old == identity => {}
        None => record(stack_name, base_dir, backend.as_ref())?,
        Some(old) => {
            let previous = open_recorded(&old, decl, stack_name, base_dir, stack_arg);
            let empty = matches!(previous.as_ref().map(|p| p.read_bytes()), Ok(Ok(None)));
            if !empty {
                let from = previous
                    .map(|p| p.describe())
                    .unwrap_or_else(|_| describe_identity(&old));
                return Err(format!(
                    "the stack's backend changed: this working copy last used {from}, the stack \
                     file now says {}.\nRun `mlstack state migrate {stack_arg}` to copy the \
                     state to the new backend (both are locked, the copy is verified), or put \
                     the previous backend settings back.",
                    backend.describe()
                ));
            }
            record(stack_name, base_dir, backend.as_ref())?;
        }
    }
    Ok(backend)
}

/// A short description of a recorded identity that could not be opened.
pub fn describe_identity(id: &serde_json::Value) -> String {
    let kind = id["kind"].as_str().unwrap_or("unknown");
    match kind {
        "local" => format!("local state {}", id["path"].as_str().unwrap_or("?")),
        "s3" => format!(
            "s3 state s3://{}/{} at {}",
            id["bucket"].as_str().unwrap_or("?"),
            id["key"].as_str().unwrap_or("?"),
            id["endpoint"].as_str().unwrap_or("?")
        ),
        "kubernetes" => format!(
            "kubernetes state Secret {}/mlstack-state-{}",
            id["namespace"].as_str().unwrap_or("?"),
            id["secret_suffix"].as_str().unwrap_or("?")
        ),
        other => format!("{other} state"),
    }
}

fn shown(path: &Path, base_dir: &Path) -> String {
    path.strip_prefix(base_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
