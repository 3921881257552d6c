//! `local_file`: a file on disk (rendered manifests for GitOps, kubeconfigs, reports). Refresh
//! reads the file back, so an edit made by hand shows as drift and apply repairs it.

use mlstack_provider_api::{
    ApplyRequest, AttrSchema, AttrType, PathStep, PlanRequest, PlannedResource, ProviderError,
    ProviderResult, ReadResult, ResourceSchema, ValidationIssue, Value,
};
use std::collections::BTreeMap;
use std::path::Path;

pub fn schema() -> ResourceSchema {
    ResourceSchema::new("A file on disk, written atomically")
        .attr(
            "filename",
            AttrSchema::input(AttrType::String).required().force_new(),
        )
        .attr("content", AttrSchema::input(AttrType::String))
        .attr(
            "sensitive_content",
            AttrSchema::input(AttrType::String).sensitive(),
        )
        .attr("file_permission", AttrSchema::input(AttrType::String))
        .attr("id", AttrSchema::computed(AttrType::String))
}

/// Like the `local_file` data source, but the content is a secret (a token, a key).
pub fn sensitive_data_schema() -> ResourceSchema {
    ResourceSchema::new("Reads an existing file whose content is secret")
        .attr("filename", AttrSchema::input(AttrType::String).required())
        .attr(
            "content",
            AttrSchema::computed(AttrType::String).sensitive(),
        )
}

pub fn data_schema() -> ResourceSchema {
    ResourceSchema::new("Reads an existing file")
        .attr("filename", AttrSchema::input(AttrType::String).required())
        .attr("content", AttrSchema::computed(AttrType::String))
}

pub fn validate(properties: &Value) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    let has = |k: &str| properties.get(k).is_some_and(|v| !matches!(v, Value::Null));
    if has("content") && has("sensitive_content") {
        issues.push(ValidationIssue {
            path: vec![PathStep::Key("sensitive_content".into())],
            message: "`content` and `sensitive_content` are mutually exclusive".into(),
            hint: None,
        });
    }
    if let Some(p) = properties.get("file_permission").and_then(Value::as_str) {
        if u32::from_str_radix(p, 8).map_or(true, |m| m > 0o7777) {
            issues.push(ValidationIssue {
                path: vec![PathStep::Key("file_permission".into())],
                message: format!("`{p}` is not an octal file mode"),
                hint: Some("for example \"0644\" or \"0600\"".into()),
            });
        }
    }
    issues
}

pub async fn read(prior: &Value) -> ProviderResult<ReadResult> {
    let Some(filename) = prior.get("filename").and_then(Value::as_str) else {
        return Ok(ReadResult::Gone);
    };
    match tokio::fs::read(filename).await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut live = prior.clone();
            let key = if prior
                .get("sensitive_content")
                .is_some_and(|v| !matches!(v, Value::Null))
            {
                live.set_path(
                    &[PathStep::Key("sensitive_content".into())],
                    Value::String(text).into_sensitive(),
                );
                "sensitive_content"
            } else {
                live.set_path(&[PathStep::Key("content".into())], Value::String(text));
                "content"
            };
            let _ = key;
            if let Some(mode) = file_mode(filename).await {
                live.set_path(
                    &[PathStep::Key("file_permission".into())],
                    Value::String(mode),
                );
            }
            Ok(ReadResult::Found(live))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ReadResult::Gone),
        Err(e) => Err(ProviderError::new(format!("cannot read {filename}: {e}"))),
    }
}

pub async fn plan(req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
    let mut planned = normalize(req.desired);
    if let Some(Value::Map(m)) = Some(&mut planned) {
        m.insert(
            "id".into(),
            req.desired
                .get("filename")
                .cloned()
                .unwrap_or(Value::Unknown),
        );
    }
    let mut result = PlannedResource::new(planned);
    if let Some(live) = req.live.or(req.prior) {
        let a = req.desired.get("filename");
        let b = live.get("filename");
        if !matches!((a, b), (Some(a), Some(b)) if a.same_data(b)) {
            result
                .requires_replace
                .push(vec![PathStep::Key("filename".into())]);
        }
    }
    Ok(result)
}

pub async fn apply(req: ApplyRequest<'_>) -> ProviderResult<Value> {
    let v = normalize(req.desired);
    let filename = v
        .get("filename")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::new("`filename` is not set"))?
        .to_string();
    let content = v
        .get("content")
        .or_else(|| v.get("sensitive_content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mode = v
        .get("file_permission")
        .and_then(Value::as_str)
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(0o644);
    write_atomic(Path::new(&filename), content.as_bytes(), mode)
        .await
        .map_err(|e| ProviderError::new(format!("cannot write {filename}: {e}")))?;
    let mut out = v;
    out.set_path(&[PathStep::Key("id".into())], Value::String(filename));
    Ok(out)
}

pub async fn delete(prior: &Value) -> ProviderResult<()> {
    let Some(filename) = prior.get("filename").and_then(Value::as_str) else {
        return Ok(());
    };
    match tokio::fs::remove_file(filename).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ProviderError::new(format!("cannot delete {filename}: {e}"))),
    }
}

pub async fn read_data(properties: &Value) -> ProviderResult<Value> {
    let filename = properties
        .get("filename")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::new("`filename` is not set"))?;
    let text = tokio::fs::read_to_string(filename)
        .await
        .map_err(|e| ProviderError::new(format!("cannot read {filename}: {e}")))?;
    let mut out = BTreeMap::new();
    out.insert("filename".to_string(), Value::from(filename));
    out.insert("content".to_string(), Value::String(text));
    Ok(Value::Map(out))
}

/// Adopts an existing file: the id is its path.
pub async fn import(filename: &str) -> ProviderResult<Value> {
    let mut prior = BTreeMap::new();
    prior.insert("filename".to_string(), Value::from(filename));
    prior.insert("content".to_string(), Value::from(""));
    match read(&Value::Map(prior)).await? {
        ReadResult::Found(mut v) => {
            v.set_path(&[PathStep::Key("id".into())], Value::from(filename));
            Ok(v)
        }
        ReadResult::Gone => Err(ProviderError::new(format!("{filename} does not exist"))),
    }
}

/// Desired attributes with the default permission filled in and the sensitive mark enforced.
fn normalize(desired: &Value) -> Value {
    let mut v = desired.clone();
    if let Value::Map(m) = &mut v {
        m.retain(|_, x| !matches!(x, Value::Null));
        m.entry("file_permission".into())
            .or_insert_with(|| Value::from("0644"));
        if let Some(sc) = m.get_mut("sensitive_content") {
            *sc = std::mem::take(sc).into_sensitive();
        }
    }
    v
}

async fn file_mode(path: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some(format!("{:04o}", meta.permissions().mode() & 0o7777))
}

async fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension(format!("mlstack-tmp-{}", std::process::id()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).await?;
    tokio::fs::rename(&tmp, path).await
}
