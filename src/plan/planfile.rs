//! Saved plans: `mlstack plan --out FILE` writes one, `apply FILE` and `show FILE` read it.
//!
//! The file is versioned JSON (`"mlstack_plan": 1` first, which is how [`is_plan_file`] tells
//! it from a stack file), written atomically with mode 0600. It never holds a secret in clear:
//! every value is stored masked (sensitive and unknown parts as `null`) next to the paths of its
//! unknown and sensitive parts. Loading puts the marks back, so a sensitive part comes back as
//! `Value::Sensitive(Box::new(Value::Unknown))`: still marked, its data withheld. Sensitive
//! variables are stored by name only and come back the same way; `apply` must take their values
//! (and recompute withheld data) from the stack and `--var` again. [`as_saved`] gives what a plan
//! looks like after this round trip, for comparing a saved plan with a fresh one.

use super::{Action, OutputChange, Plan, PlanMode, ResourceChange};
use crate::stack::Mode;
use mlstack_provider_api::{Path, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The plan-file format this build writes and reads.
pub const PLAN_FORMAT: u64 = 1;

/// Writes `plan` to `path` (atomically, mode 0600), with every sensitive value removed.
pub fn save(plan: &Plan, path: &std::path::Path) -> Result<(), String> {
    save_encrypted(plan, path, None)
}

/// [`save`], encrypted with `enc` when set (the stack's backend encryption): the file is then
/// `{"mlstack_plan": 1, "encrypted": <envelope>}`, the envelope naming where its key is read
/// from so that `apply` and `show` can find it.
pub fn save_encrypted(
    plan: &Plan,
    path: &std::path::Path,
    enc: Option<&crate::state::Encryption>,
) -> Result<(), String> {
    let mut bytes = serde_json::to_vec_pretty(&to_file(plan))
        .map_err(|e| format!("cannot encode the plan: {e}"))?;
    bytes.push(b'\n');
    if let Some(enc) = enc {
        let wrapped = serde_json::json!({
            "mlstack_plan": PLAN_FORMAT,
            "encrypted": enc.seal(&bytes, "plan")?,
        });
        bytes = serde_json::to_vec_pretty(&wrapped)
            .map_err(|e| format!("cannot encode the plan: {e}"))?;
        bytes.push(b'\n');
    }
    write_atomic(path, &bytes)
        .map_err(|e| format!("cannot write plan file {}: {e}", path.display()))
}

/// Reads a plan saved by [`save`] or [`save_encrypted`] (the key of an encrypted plan is read
/// from where its envelope says, relative to the working directory). A missing, foreign,
/// corrupt or undecryptable file is an error worded for the user.
pub fn load(path: &std::path::Path) -> Result<Plan, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read plan file {shown}: {e}"))?;
    if !is_plan_file(&bytes) {
        return Err(format!(
            "{shown} is not an mlstack plan file (save one with `mlstack plan STACK --out FILE`)"
        ));
    }
    #[derive(Deserialize)]
    struct Wrapped {
        encrypted: Option<crate::state::crypt::Envelope>,
    }
    let bytes = match serde_json::from_slice::<Wrapped>(&bytes) {
        Ok(Wrapped {
            encrypted: Some(env),
        }) => {
            let cwd = std::env::current_dir()
                .map_err(|e| format!("cannot read the working directory: {e}"))?;
            let enc = env.key.load(&cwd).map_err(|e| {
                format!("plan file {shown} is encrypted and its key is not available: {e}")
            })?;
            enc.open(&env, "plan", &format!("plan file {shown}"))?
        }
        _ => bytes,
    };
    load_clear(&bytes, &shown.to_string())
}

/// Parses a plan file's clear JSON.
fn load_clear(bytes: &[u8], shown: &str) -> Result<Plan, String> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "plan file {shown} is corrupt (invalid JSON at line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    match json.get("mlstack_plan").and_then(serde_json::Value::as_u64) {
        Some(PLAN_FORMAT) => {}
        Some(n) if n > PLAN_FORMAT => {
            return Err(format!(
                "plan file {shown} has format {n}, written by a newer mlstack; this build reads \
                 format {PLAN_FORMAT}"
            ))
        }
        _ => return Err(format!("plan file {shown} has an unsupported format")),
    }
    let file: FileV1 =
        serde_json::from_value(json).map_err(|e| format!("plan file {shown} is corrupt: {e}"))?;
    Ok(from_file(file))
}

/// Whether `bytes` are a saved plan rather than a stack file: a JSON object whose
/// `mlstack_plan` key is at the start (as [`save`] writes it) or anywhere at the top level.
pub fn is_plan_file(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if bytes.get(start) != Some(&b'{') {
        return false;
    }
    let head = &bytes[start..bytes.len().min(start + 64)];
    let head = String::from_utf8_lossy(head);
    if head[1..].trim_start().starts_with("\"mlstack_plan\"") {
        return true;
    }
    #[derive(Deserialize)]
    struct Probe {
        mlstack_plan: Option<serde_json::Value>,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.mlstack_plan.is_some())
}

/// `plan` as it comes back from [`save`] then [`load`]: sensitive data withheld, marks kept.
pub fn as_saved(plan: &Plan) -> Plan {
    from_file(to_file(plan))
}

/// The file's shape, version 1.
#[derive(Serialize, Deserialize)]
struct FileV1 {
    mlstack_plan: u64,
    mlstack_version: String,
    stack_name: String,
    stack_path: String,
    mode: PlanMode,
    lineage: String,
    serial: u64,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    sandbox: bool,
    #[serde(default)]
    warnings: Vec<String>,
    /// Non-sensitive variables.
    #[serde(default)]
    variables: BTreeMap<String, StoredValue>,
    /// Names of the sensitive variables (their values are not stored).
    #[serde(default)]
    sensitive_variables: Vec<String>,
    #[serde(default)]
    changes: Vec<StoredChange>,
    #[serde(default)]
    drift: Vec<StoredChange>,
    #[serde(default)]
    output_changes: Vec<StoredOutput>,
}

/// A marked value without its secrets: masked data plus where the marks were.
#[derive(Serialize, Deserialize)]
struct StoredValue {
    value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<Path>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sensitive: Vec<Path>,
}

#[derive(Serialize, Deserialize)]
struct StoredChange {
    address: String,
    mode: Mode,
    #[serde(rename = "type")]
    type_name: String,
    provider: String,
    action: Action,
    before: Option<StoredValue>,
    after: Option<StoredValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    replace_paths: Vec<Path>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredOutput {
    name: String,
    action: Action,
    before: Option<StoredValue>,
    after: Option<StoredValue>,
    #[serde(default)]
    sensitive: bool,
}

fn store(v: &Value) -> StoredValue {
    let sensitive = v.sensitive_paths();
    // Unknowns inside a sensitive part would tell its shape: the sensitive mark covers them.
    let unknown = v
        .unknown_paths()
        .into_iter()
        .filter(|u| !sensitive.iter().any(|s| u.starts_with(s)))
        .collect();
    StoredValue {
        value: v.to_json_masked(),
        unknown,
        sensitive,
    }
}

fn restore(s: StoredValue) -> Value {
    let mut v = Value::from(s.value);
    for p in &s.unknown {
        v.set_path(p, Value::Unknown);
    }
    for p in &s.sensitive {
        v.set_path(p, withheld());
    }
    v
}

/// What a sensitive value becomes in a saved plan.
fn withheld() -> Value {
    Value::Sensitive(Box::new(Value::Unknown))
}

fn store_change(c: &ResourceChange) -> StoredChange {
    StoredChange {
        address: c.address.clone(),
        mode: c.mode,
        type_name: c.type_name.clone(),
        provider: c.provider.clone(),
        action: c.action,
        before: c.before.as_ref().map(store),
        after: c.after.as_ref().map(store),
        replace_paths: c.replace_paths.clone(),
        reason: c.reason.clone(),
        notes: c.notes.clone(),
        dependencies: c.dependencies.clone(),
    }
}

fn restore_change(c: StoredChange) -> ResourceChange {
    ResourceChange {
        address: c.address,
        mode: c.mode,
        type_name: c.type_name,
        provider: c.provider,
        action: c.action,
        before: c.before.map(restore),
        after: c.after.map(restore),
        replace_paths: c.replace_paths,
        reason: c.reason,
        notes: c.notes,
        dependencies: c.dependencies,
    }
}

fn store_output(c: &OutputChange) -> StoredOutput {
    let mark = |v: &Value| {
        if c.sensitive {
            store(&v.clone().into_sensitive())
        } else {
            store(v)
        }
    };
    StoredOutput {
        name: c.name.clone(),
        action: c.action,
        before: c.before.as_ref().map(mark),
        after: c.after.as_ref().map(mark),
        sensitive: c.sensitive,
    }
}

fn restore_output(c: StoredOutput) -> OutputChange {
    OutputChange {
        name: c.name,
        action: c.action,
        before: c.before.map(restore),
        after: c.after.map(restore),
        sensitive: c.sensitive,
    }
}

fn to_file(plan: &Plan) -> FileV1 {
    let mut variables = BTreeMap::new();
    let mut sensitive_variables = Vec::new();
    for (name, v) in &plan.variables {
        if v.is_sensitive() {
            sensitive_variables.push(name.clone());
        } else {
            variables.insert(name.clone(), store(v));
        }
    }
    FileV1 {
        mlstack_plan: PLAN_FORMAT,
        mlstack_version: env!("CARGO_PKG_VERSION").to_string(),
        stack_name: plan.stack_name.clone(),
        stack_path: plan.stack_path.clone(),
        mode: plan.mode,
        lineage: plan.lineage.clone(),
        serial: plan.serial,
        targets: plan.targets.clone(),
        sandbox: plan.sandbox,
        warnings: plan.warnings.clone(),
        variables,
        sensitive_variables,
        changes: plan.changes.iter().map(store_change).collect(),
        drift: plan.drift.iter().map(store_change).collect(),
        output_changes: plan.output_changes.iter().map(store_output).collect(),
    }
}

fn from_file(f: FileV1) -> Plan {
    let mut variables: BTreeMap<String, Value> = f
        .variables
        .into_iter()
        .map(|(k, v)| (k, restore(v)))
        .collect();
    for name in f.sensitive_variables {
        variables.insert(name, withheld());
    }
    Plan {
        stack_name: f.stack_name,
        stack_path: f.stack_path,
        mode: f.mode,
        lineage: f.lineage,
        serial: f.serial,
        changes: f.changes.into_iter().map(restore_change).collect(),
        drift: f.drift.into_iter().map(restore_change).collect(),
        output_changes: f.output_changes.into_iter().map(restore_output).collect(),
        variables,
        targets: f.targets,
        sandbox: f.sandbox,
        warnings: f.warnings,
    }
}

/// Temp file beside the target (mode 0600), fsync, rename over the target, fsync the folder.
fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlstack_provider_api::parse_path;

    #[test]
    fn marks_survive_and_secrets_do_not() {
        let mut v = Value::from(serde_json::json!({"a": 1, "s": {"k": "x"}, "l": [1, 2]}));
        v.set_path(
            &parse_path("s"),
            Value::from(serde_json::json!({"k": "hunter2"})).into_sensitive(),
        );
        v.set_path(&parse_path("l.1"), Value::Unknown);
        let stored = store(&v);
        assert!(!serde_json::to_string(&stored.value)
            .unwrap_or_default()
            .contains("hunter2"));
        let back = restore(stored);
        assert_eq!(back.get("a"), Some(&Value::from(1i64)));
        assert_eq!(back.get("s"), Some(&withheld()));
        assert_eq!(back.get_path(&parse_path("l.1")), Some(Value::Unknown));
    }

    #[test]
    fn tells_plan_files_from_stacks() {
        assert!(is_plan_file(b"{\n  \"mlstack_plan\": 1,\n  \"x\": 2}"));
        assert!(is_plan_file(b"{\"x\": 2, \"mlstack_plan\": 1}"));
        assert!(is_plan_file(b"{\"mlstack_plan\": 1, \"trunc"));
        assert!(!is_plan_file(b"stack:\n  name: x\n"));
        assert!(!is_plan_file(b"{\"stack\": {\"name\": \"x\"}}"));
        assert!(!is_plan_file(b""));
        assert!(!is_plan_file(b"{"));
    }
}
