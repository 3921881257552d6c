//! Terraform's plan JSON (format 1.2), the subset that maps, so policy tools (OPA/conftest,
//! checkov, infracost-style readers) can read mlstack plans. Sensitive data never appears:
//! `before`/`after` hold `null` where a value is sensitive and `*_sensitive` says where.

use super::address;
use crate::plan::{Action, OutputChange, Plan, PlanMode, ResourceChange};
use crate::stack::Mode;
use mlstack_provider_api::Value;
use serde_json::{json, Map, Value as Json};

/// Terraform's plan JSON format version this output follows.
pub const FORMAT_VERSION: &str = "1.2";

/// The plan as Terraform-shaped JSON.
pub fn json(plan: &Plan) -> Json {
    let mut out = Map::new();
    out.insert("format_version".into(), json!(FORMAT_VERSION));
    out.insert("mlstack_version".into(), json!(env!("CARGO_PKG_VERSION")));
    out.insert("variables".into(), variables(plan));
    out.insert(
        "resource_changes".into(),
        Json::Array(plan.changes.iter().map(resource_change).collect()),
    );
    if !plan.drift.is_empty() {
        out.insert(
            "resource_drift".into(),
            Json::Array(plan.drift.iter().map(resource_change).collect()),
        );
    }
    out.insert(
        "output_changes".into(),
        output_changes(&plan.output_changes),
    );
    out.insert("applyable".into(), json!(plan.has_changes()));
    out.insert("complete".into(), json!(plan.targets.is_empty()));
    out.insert("errored".into(), json!(false));
    out.insert(
        "mlstack".into(),
        json!({
            "stack": plan.stack_name,
            "mode": match plan.mode {
                PlanMode::Normal => "normal",
                PlanMode::Destroy => "destroy",
                PlanMode::RefreshOnly => "refresh-only",
            },
            "targets": plan.targets,
            "warnings": plan.warnings,
        }),
    );
    Json::Object(out)
}

/// `{NAME: {"value": ...}}`; a sensitive variable's value is `null` with `"sensitive": true`.
fn variables(plan: &Plan) -> Json {
    let vars: Map<String, Json> = plan
        .variables
        .iter()
        .map(|(name, v)| {
            let entry = if v.is_sensitive() {
                json!({"value": null, "sensitive": true})
            } else {
                json!({"value": v.to_json_masked()})
            };
            (name.clone(), entry)
        })
        .collect();
    Json::Object(vars)
}

fn resource_change(c: &ResourceChange) -> Json {
    let parts = address::split(&c.address);
    let mut out = Map::new();
    out.insert("address".into(), json!(c.address));
    if let Some(m) = parts.module {
        out.insert("module_address".into(), json!(m));
    }
    out.insert(
        "mode".into(),
        json!(match c.mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }),
    );
    out.insert("type".into(), json!(c.type_name));
    out.insert("name".into(), json!(parts.name));
    if let Some(i) = parts.index {
        out.insert("index".into(), i);
    }
    out.insert("provider_name".into(), json!(c.provider));
    let mut change = change_object(c.action, c.before.as_ref(), c.after.as_ref());
    if !c.replace_paths.is_empty() {
        change.insert("replace_paths".into(), json!(c.replace_paths));
    }
    out.insert("change".into(), Json::Object(change));
    if let Some(reason) = action_reason(c) {
        out.insert("action_reason".into(), json!(reason));
    }
    if let Some(reason) = &c.reason {
        out.insert("mlstack_reason".into(), json!(reason));
    }
    Json::Object(out)
}

/// `{actions, before, after, after_unknown, before_sensitive, after_sensitive}`.
fn change_object(
    action: Action,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("actions".into(), json!(action.json_actions()));
    out.insert("before".into(), masked(before));
    out.insert("after".into(), masked(after));
    out.insert("after_unknown".into(), mirror(after, &Value::is_unknown));
    out.insert(
        "before_sensitive".into(),
        mirror(before, &Value::is_sensitive),
    );
    out.insert(
        "after_sensitive".into(),
        mirror(after, &Value::is_sensitive),
    );
    out
}

fn masked(v: Option<&Value>) -> Json {
    v.map(Value::to_json_masked).unwrap_or(Json::Null)
}

/// Terraform's mirror: `{}` rather than `false` for an object with nothing marked.
fn mirror(v: Option<&Value>, pred: &dyn Fn(&Value) -> bool) -> Json {
    match v {
        None => Json::Bool(false),
        Some(v) => match (v.mirror(pred), v) {
            (Json::Bool(false), Value::Map(_)) => Json::Object(Map::new()),
            (Json::Bool(false), Value::List(_)) => Json::Array(Vec::new()),
            (m, _) => m,
        },
    }
}

/// Terraform's `action_reason`, where one of its values says what mlstack's reason says.
fn action_reason(c: &ResourceChange) -> Option<&'static str> {
    let reason = c.reason.as_deref().unwrap_or("").to_ascii_lowercase();
    match c.action {
        _ if c.action.is_replace() => Some(
            if reason.contains("--replace") || reason.contains("request") {
                "replace_by_request"
            } else if reason.contains("taint") {
                "replace_because_tainted"
            } else {
                "replace_because_cannot_update"
            },
        ),
        Action::Delete if reason.contains("no longer") || reason.contains("not in") => {
            Some("delete_because_no_resource_config")
        }
        Action::Read if reason.contains("depend") => Some("read_because_dependency_pending"),
        Action::Read if reason.contains("known") => Some("read_because_config_unknown"),
        _ => None,
    }
}

fn output_changes(changes: &[OutputChange]) -> Json {
    let out: Map<String, Json> = changes
        .iter()
        .map(|c| {
            let mark = |v: &Option<Value>| {
                v.clone()
                    .map(|v| if c.sensitive { v.into_sensitive() } else { v })
            };
            let (before, after) = (mark(&c.before), mark(&c.after));
            let change = change_object(c.action, before.as_ref(), after.as_ref());
            (c.name.clone(), Json::Object(change))
        })
        .collect();
    Json::Object(out)
}
