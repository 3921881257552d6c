//! `local_command`: runs a command at create (and `destroy_command` at delete). Any change to its
//! properties replaces it, i.e. runs it again. Output is not kept; a failure reports the exit
//! status and the end of stderr with every sensitive value of its properties redacted.

use mlstack_provider_api::{
    ApplyRequest, AttrSchema, AttrType, PathStep, PlanRequest, PlannedResource, ProviderError,
    ProviderResult, ResourceSchema, ValidationIssue, Value,
};
use std::collections::BTreeMap;

const INPUTS: &[&str] = &[
    "command",
    "destroy_command",
    "working_dir",
    "environment",
    "triggers",
];

pub fn schema() -> ResourceSchema {
    ResourceSchema::new("A command run once at create, and again when its properties change")
        .attr(
            "command",
            AttrSchema::input(AttrType::List).required().force_new(),
        )
        .attr(
            "destroy_command",
            AttrSchema::input(AttrType::List).force_new(),
        )
        .attr(
            "working_dir",
            AttrSchema::input(AttrType::String).force_new(),
        )
        .attr("environment", AttrSchema::input(AttrType::Map).force_new())
        .attr("triggers", AttrSchema::input(AttrType::Map).force_new())
        .attr("id", AttrSchema::computed(AttrType::String))
}

pub fn validate(properties: &Value) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    for key in ["command", "destroy_command"] {
        if let Some(v) = properties.get(key) {
            let ok = v.contains_unknown()
                || v.as_list().is_some_and(|l| {
                    !l.is_empty()
                        && l.iter()
                            .all(|x| x.as_str().is_some() || x.contains_unknown())
                });
            if !ok {
                issues.push(ValidationIssue {
                    path: vec![PathStep::Key(key.into())],
                    message: format!(
                        "`{key}` must be a non-empty list of strings (program and arguments)"
                    ),
                    hint: Some("for example [\"sh\", \"-c\", \"echo hello\"]".into()),
                });
            }
        }
    }
    issues
}

fn inputs(v: &Value) -> BTreeMap<String, Value> {
    v.pick(INPUTS)
}

pub fn plan(req: PlanRequest<'_>) -> PlannedResource {
    let desired = inputs(req.desired);
    let Some(existing) = req.live.or(req.prior) else {
        let mut m = desired;
        m.insert("id".into(), Value::Unknown);
        return PlannedResource::new(Value::Map(m));
    };
    let before = inputs(existing);
    let mut changed = Vec::new();
    for k in INPUTS {
        let same = match (desired.get(*k), before.get(*k)) {
            (Some(a), Some(b)) => a.same_data(b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            changed.push(vec![PathStep::Key((*k).to_string())]);
        }
    }
    if changed.is_empty() {
        return PlannedResource::new(existing.clone());
    }
    let mut m = desired;
    m.insert("id".into(), Value::Unknown);
    let mut p = PlannedResource::new(Value::Map(m));
    p.requires_replace = changed;
    p
}

pub async fn apply(req: ApplyRequest<'_>) -> ProviderResult<Value> {
    let props = inputs(req.desired);
    let command = props.get("command").cloned().unwrap_or_default();
    run(&command, &props).await?;
    let mut m = props;
    m.insert("id".into(), Value::String(unique_id()));
    Ok(Value::Map(m))
}

pub async fn delete(prior: &Value) -> ProviderResult<()> {
    let props = inputs(prior);
    match props.get("destroy_command") {
        Some(cmd) => run(cmd, &props).await,
        None => Ok(()),
    }
}

fn unique_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// Runs argv with the given environment; an error carries the exit status and stderr's tail.
async fn run(argv: &Value, props: &BTreeMap<String, Value>) -> ProviderResult<()> {
    let args: Vec<&str> = argv
        .as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let Some((program, rest)) = args.split_first() else {
        return Err(ProviderError::new("`command` is empty"));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = props.get("working_dir").and_then(Value::as_str) {
        cmd.current_dir(dir);
    }
    if let Some(env) = props.get("environment").and_then(Value::as_map) {
        for (k, v) in env {
            let mut text = String::new();
            match v.unmarked() {
                Value::String(s) => text.push_str(s),
                other => text.push_str(&other.to_json_unmarked().to_string()),
            }
            cmd.env(k, text);
        }
    }
    let out = cmd
        .output()
        .await
        .map_err(|e| ProviderError::new(format!("cannot run `{program}`: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in secrets(&Value::Map(props.clone())) {
        if !secret.is_empty() {
            stderr = stderr.replace(&secret, "(sensitive value)");
        }
    }
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let status = out
        .status
        .code()
        .map(|c| format!("exit status {c}"))
        .unwrap_or_else(|| "killed by a signal".into());
    Err(ProviderError::new(if tail.is_empty() {
        format!("`{program}` failed with {status}")
    } else {
        format!("`{program}` failed with {status}: {}", tail.join(" | "))
    }))
}

/// Every string under a sensitive mark.
fn secrets(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, inside: bool, out: &mut Vec<String>) {
        match v {
            Value::Sensitive(x) => walk(x, true, out),
            Value::String(s) if inside => out.push(s.clone()),
            Value::List(l) => l.iter().for_each(|x| walk(x, inside, out)),
            Value::Map(m) => m.values().for_each(|x| walk(x, inside, out)),
            _ => {}
        }
    }
    walk(v, false, &mut out);
    out
}
