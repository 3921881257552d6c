//! `mlflow_model_version`: one registered model version, by alias or by number.

use crate::client::ClientError;
use mlstack_provider_api::{
    AttrSchema, AttrType, PathStep, ProviderError, ProviderResult, ResourceSchema, ValidationIssue,
    Value,
};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Attempts for a transient failure (unreachable, 429, 5xx) before the read fails.
const ATTEMPTS: u32 = 4;

pub fn schema() -> ResourceSchema {
    let computed = |d| AttrSchema::computed(AttrType::String).describe(d);
    ResourceSchema::new("A registered MLflow model version, by alias (champion) or number")
        .attr(
            "tracking_uri",
            AttrSchema::input(AttrType::String).describe("the MLflow server (else the provider's)"),
        )
        .attr(
            "name",
            AttrSchema::input(AttrType::String)
                .required()
                .describe("the registered model"),
        )
        .attr(
            "alias",
            AttrSchema::input(AttrType::String).describe("e.g. champion; or set `version`"),
        )
        .attr(
            "version",
            AttrSchema::input(AttrType::Any).describe("an explicit version number"),
        )
        .attr(
            "source",
            computed("the artifact URI the version was registered from"),
        )
        .attr("run_id", computed("the training run"))
        .attr("status", computed("READY once registration finished"))
        .attr(
            "model_uri",
            computed("models:/NAME/VERSION, for MLflow's loaders"),
        )
        .attr("description", computed("the version's description"))
        .attr("tags", AttrSchema::computed(AttrType::Map))
        .attr("aliases", AttrSchema::computed(AttrType::List))
        .attr("creation_timestamp", AttrSchema::computed(AttrType::Number))
}

/// Exactly one of `alias` and `version`; MLflow's alias rules.
pub fn validate(p: &Value) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    let issue = |key: &str, message: String, hint: Option<&str>| ValidationIssue {
        path: vec![PathStep::Key(key.into())],
        message,
        hint: hint.map(String::from),
    };
    let alias = p.get("alias");
    let version = p.get("version");
    match (alias, version) {
        (Some(_), Some(_)) => issues.push(issue(
            "version",
            "set either `alias` or `version`, not both".into(),
            None,
        )),
        (None, None) => issues.push(ValidationIssue {
            path: Vec::new(),
            message: "a model version needs `alias` (e.g. champion) or `version`".into(),
            hint: Some("alias: champion".into()),
        }),
        _ => {}
    }
    if let Some(a) = alias
        .filter(|a| !a.contains_unknown())
        .and_then(Value::as_str)
    {
        if let Err(m) = alias_ok(a) {
            issues.push(issue("alias", m, None));
        }
    }
    if let Some(v) = version.filter(|v| !v.contains_unknown()) {
        if version_text(v).is_none() {
            issues.push(issue(
                "version",
                "`version` must be a whole number of at least 1".into(),
                None,
            ));
        }
    }
    if let Some(n) = p.get("name").and_then(Value::as_str) {
        if n.trim().is_empty() {
            issues.push(issue("name", "`name` must not be empty".into(), None));
        }
    }
    issues
}

/// MLflow's rules: letters, digits, `_` and `-`; not `latest`; not `v<digits>` (reserved for
/// version references).
fn alias_ok(a: &str) -> Result<(), String> {
    if a.is_empty() || a.len() > 255 {
        return Err("an alias has 1 to 255 characters".into());
    }
    if !a
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "alias `{a}` may hold only letters, digits, `_` and `-`"
        ));
    }
    let lower = a.to_ascii_lowercase();
    if lower == "latest" {
        return Err("`latest` is reserved by MLflow and cannot be an alias".into());
    }
    if lower.len() > 1 && lower.starts_with('v') && lower[1..].chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "alias `{a}` looks like a version reference (v<number>), which MLflow reserves"
        ));
    }
    Ok(())
}

fn version_text(v: &Value) -> Option<String> {
    let text = match v.as_u64() {
        Some(n) => n.to_string(),
        None => v.as_str()?.trim().to_string(),
    };
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Some(n.to_string()),
        _ => None,
    }
}

/// How the version is chosen.
enum Selector {
    Alias(String),
    Version(String),
}

/// Reads the version from the registry.
pub async fn read(provider_config: &Value, p: &Value) -> ProviderResult<Value> {
    let client = crate::connect(provider_config, p).map_err(ProviderError::new)?;
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::new("`name` must be a string"))?
        .to_string();
    let alias = p.get("alias").and_then(Value::as_str).map(str::to_string);
    let selector = match (&alias, p.get("version").map(version_text)) {
        (Some(a), _) => Selector::Alias(a.clone()),
        (None, Some(Some(v))) => Selector::Version(v),
        (None, Some(None)) => {
            return Err(ProviderError::new(
                "`version` must be a whole number of at least 1",
            ))
        }
        (None, None) => {
            return Err(ProviderError::new(
                "a model version needs `alias` or `version`",
            ))
        }
    };
    let what = match &selector {
        Selector::Alias(a) => format!("model `{name}` alias `{a}`"),
        Selector::Version(v) => format!("model `{name}` version {v}"),
    };
    let mut attempt = 0;
    let found = loop {
        attempt += 1;
        let r = match &selector {
            Selector::Alias(a) => client.version_by_alias(&name, a).await,
            Selector::Version(v) => client.version(&name, v).await,
        };
        match r {
            Ok(v) => break v,
            Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
            }
            Err(e) => return Err(describe(e, &what)),
        }
    };
    let mut out = attributes(&found, &name, alias.as_deref())
        .map_err(|d| ProviderError::new(format!("MLflow at {}: {what}: {d}", client.server())))?;
    // The server it came from, so a consumer (a rollout tagging a failed version) finds it.
    out.set_path(
        &[mlstack_provider_api::PathStep::Key("tracking_uri".into())],
        Value::from(client.server()),
    );
    let status = out.get("status").and_then(Value::as_str).unwrap_or("");
    if status != "READY" {
        return Err(ProviderError::new(format!(
            "MLflow at {}: {what} is version {} in status {status}, not READY: it cannot be served yet",
            client.server(),
            out.get("version").and_then(Value::as_str).unwrap_or("?"),
        )));
    }
    Ok(out)
}

/// The error a user sees: the server, the model and what to do.
fn describe(e: ClientError, what: &str) -> ProviderError {
    let text = if e.is_not_found() {
        match &e {
            ClientError::Api {
                server, message, ..
            } => format!("MLflow at {server} has no {what}: {message}"),
            other => other.to_string(),
        }
    } else {
        format!("{e} (reading {what})")
    };
    if e.is_retryable() {
        ProviderError::retryable(text)
    } else {
        ProviderError::new(text)
    }
}

/// The data source's attributes from MLflow's `ModelVersion` JSON.
fn attributes(v: &Json, name: &str, alias: Option<&str>) -> Result<Value, String> {
    let s = |k: &str| {
        v.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let version = match v.get("version") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => return Err("the answer has no version number".into()),
    };
    let mut tags = BTreeMap::new();
    for t in v.get("tags").and_then(Json::as_array).into_iter().flatten() {
        if let (Some(k), Some(val)) = (
            t.get("key").and_then(Json::as_str),
            t.get("value").and_then(Json::as_str),
        ) {
            tags.insert(k.to_string(), Value::from(val));
        }
    }
    let mut aliases: Vec<String> = v
        .get("aliases")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    aliases.sort();
    let created = match v.get("creation_timestamp") {
        Some(Json::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Json::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
    let mut out = BTreeMap::new();
    out.insert("name".to_string(), Value::from(name));
    if let Some(a) = alias {
        out.insert("alias".into(), Value::from(a));
    }
    out.insert("version".into(), Value::from(version.as_str()));
    out.insert("source".into(), Value::from(s("source")));
    out.insert("run_id".into(), Value::from(s("run_id")));
    out.insert("status".into(), Value::from(s("status")));
    out.insert("description".into(), Value::from(s("description")));
    out.insert(
        "model_uri".into(),
        Value::from(format!("models:/{name}/{version}")),
    );
    out.insert("tags".into(), Value::Map(tags));
    out.insert(
        "aliases".into(),
        Value::List(aliases.into_iter().map(Value::from).collect()),
    );
    out.insert("creation_timestamp".into(), Value::from(created));
    Ok(Value::Map(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(j: Json) -> Value {
        Value::from(j)
    }

    #[test]
    fn needs_exactly_one_of_alias_and_version() {
        assert!(validate(&props(json!({"name": "m", "alias": "champion"}))).is_empty());
        assert!(validate(&props(json!({"name": "m", "version": 3}))).is_empty());
        assert!(validate(&props(json!({"name": "m", "version": "3"}))).is_empty());
        assert_eq!(validate(&props(json!({"name": "m"}))).len(), 1);
        let both = validate(&props(json!({"name": "m", "alias": "a", "version": 1})));
        assert!(both[0].message.contains("not both"), "{both:?}");
        assert_eq!(
            validate(&props(json!({"name": "m", "version": 0}))).len(),
            1
        );
        assert_eq!(
            validate(&props(json!({"name": "m", "version": "x"}))).len(),
            1
        );
    }

    #[test]
    fn alias_rules_follow_mlflow() {
        assert!(alias_ok("champion").is_ok());
        assert!(alias_ok("challenger-2_b").is_ok());
        assert!(alias_ok("latest").is_err());
        assert!(alias_ok("v3").is_err());
        assert!(alias_ok("v").is_ok());
        assert!(alias_ok("has space").is_err());
        assert!(alias_ok("").is_err());
    }

    #[test]
    fn attributes_from_a_model_version() {
        let v = json!({
            "name": "fraud", "version": "7", "source": "mlflow-artifacts:/1/abc/artifacts/model",
            "run_id": "abc", "status": "READY", "creation_timestamp": 1700000000000_i64,
            "tags": [{"key": "rollout", "value": "failed"}, {"key": "a", "value": "b"}],
            "aliases": ["champion", "b-side"]
        });
        let out = attributes(&v, "fraud", Some("champion")).unwrap();
        assert_eq!(out.get("version").and_then(Value::as_str), Some("7"));
        assert_eq!(
            out.get("model_uri").and_then(Value::as_str),
            Some("models:/fraud/7")
        );
        let tags = out.get("tags").and_then(Value::as_map).unwrap();
        assert_eq!(tags["rollout"].as_str(), Some("failed"));
        let aliases = out.get("aliases").and_then(Value::as_list).unwrap();
        assert_eq!(aliases[0].as_str(), Some("b-side"));
        assert!(attributes(&json!({}), "fraud", None).is_err());
    }
}
