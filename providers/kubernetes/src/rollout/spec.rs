//! The settings of one `kubernetes_rollout`, read from its properties, and their checks.

use mlstack_provider_api::{parse_path, ValidationIssue, Value};
use serde_json::Value as Json;
use std::time::Duration;

/// How the new version takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Stepped weights, each step gated on the analysis (Argo Rollouts / Flagger canary).
    Canary,
    /// All traffic to the new side once it is Ready, then the old side is retired.
    BlueGreen,
}

/// Which objects carry the versions and the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A Deployment per role; the candidate Ingress's ingress-nginx `canary-weight`.
    Plain,
    /// One SeldonDeployment whose predictors carry `traffic`.
    Seldon,
}

/// One PromQL check: the query's value must stay at or under `max` / at or over `min`.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub name: String,
    pub query: String,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

/// Where the failed version is marked (`rollout=failed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    pub tracking_uri: String,
    pub model: String,
}

/// Everything one rollout needs, from its properties.
#[derive(Debug, Clone)]
pub struct Spec {
    pub strategy: Strategy,
    pub engine: Engine,
    /// The stable role's object as the stack wants it now (Deployment or SeldonDeployment).
    pub workload: Json,
    pub steps: Vec<u32>,
    pub interval: Duration,
    pub failure_limit: u32,
    pub analysis: Vec<Analysis>,
    pub prometheus_url: Option<String>,
    pub ready_timeout: Duration,
    /// The version the workload serves (messages, the MLflow tag).
    pub version: String,
    pub registry: Option<Registry>,
}

/// The canary steps when none are given (percent of traffic to the new version).
pub const DEFAULT_STEPS: &[u32] = &[10, 25, 50, 100];

/// `90s`, `2m`, `500ms`, `1h`: a whole number and a unit.
pub fn duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n * 60)),
        "h" => Some(Duration::from_secs(n * 3600)),
        _ => None,
    }
}

fn issue(path: &str, message: impl Into<String>) -> ValidationIssue {
    ValidationIssue {
        path: parse_path(path),
        message: message.into(),
        hint: None,
    }
}

fn known(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.contains_unknown())
}

/// Static checks; values still unknown are left for apply.
pub fn validate(p: &Value) -> Vec<ValidationIssue> {
    let mut out = Vec::new();
    match known(p.get("strategy")).map(|v| v.as_str()) {
        Some(Some("canary" | "blue_green")) | None => {}
        _ => out.push(issue("strategy", "strategy must be canary or blue_green")),
    }
    match known(p.get("engine")).map(|v| v.as_str()) {
        Some(Some("plain" | "seldon")) | None => {}
        _ => out.push(issue("engine", "engine must be plain or seldon")),
    }
    if let Some(steps) = known(p.get("steps")) {
        match steps.as_list() {
            Some(list) if !list.is_empty() => {
                let mut last = 0;
                for (i, s) in list.iter().enumerate() {
                    match s.as_u64() {
                        Some(n) if n > last && n <= 100 => last = n,
                        _ => out.push(issue(
                            &format!("steps[{i}]"),
                            "steps are whole percents from 1 to 100, each above the one before",
                        )),
                    }
                }
            }
            _ => out.push(issue("steps", "steps must be a non-empty list of percents")),
        }
    }
    for key in ["interval", "ready_timeout"] {
        if let Some(v) = known(p.get(key)) {
            if v.as_str().and_then(duration).is_none() {
                out.push(issue(
                    key,
                    format!("{key} must be a duration such as 30s or 2m"),
                ));
            }
        }
    }
    if let Some(v) = known(p.get("failure_limit")) {
        if v.as_u64().is_none() {
            out.push(issue(
                "failure_limit",
                "failure_limit must be a whole number",
            ));
        }
    }
    let mut has_analysis = false;
    if let Some(list) = known(p.get("analysis")) {
        match list.as_list() {
            Some(items) => {
                for (i, a) in items.iter().enumerate() {
                    has_analysis = true;
                    let at = |k: &str| format!("analysis[{i}].{k}");
                    for k in ["name", "query"] {
                        if a.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                            out.push(issue(&at(k), format!("each analysis needs a `{k}`")));
                        }
                    }
                    let max = a.get("max").map(|v| v.as_f64());
                    let min = a.get("min").map(|v| v.as_f64());
                    match (max, min) {
                        (Some(Some(_)), None)
                        | (None, Some(Some(_)))
                        | (Some(Some(_)), Some(Some(_))) => {}
                        (None, None) => out.push(issue(
                            &at("max"),
                            "each analysis needs a threshold: `max` or `min`",
                        )),
                        _ => out.push(issue(&at("max"), "`max` and `min` are numbers")),
                    }
                }
            }
            None => out.push(issue(
                "analysis",
                "analysis must be a list of {name, query, max|min}",
            )),
        }
    }
    if has_analysis
        && p.get("prometheus_url")
            .is_none_or(|v| matches!(v, Value::Null))
    {
        out.push(issue(
            "prometheus_url",
            "analysis queries need `prometheus_url` (the Prometheus HTTP API)",
        ));
    }
    out
}

fn str_of(p: &Json, key: &str) -> Option<String> {
    p.get(key).and_then(Json::as_str).map(str::to_string)
}

impl Spec {
    /// The settings from fully known properties.
    pub fn from_properties(p: &Json) -> Result<Spec, String> {
        let strategy = match p.get("strategy").and_then(Json::as_str) {
            Some("canary") => Strategy::Canary,
            Some("blue_green") => Strategy::BlueGreen,
            other => {
                return Err(format!(
                    "strategy must be canary or blue_green, not {other:?}"
                ))
            }
        };
        let engine = match p.get("engine").and_then(Json::as_str).unwrap_or("plain") {
            "plain" => Engine::Plain,
            "seldon" => Engine::Seldon,
            other => return Err(format!("engine must be plain or seldon, not {other}")),
        };
        let workload = p.get("workload").cloned().unwrap_or(Json::Null);
        let want_kind = match engine {
            Engine::Plain => "Deployment",
            Engine::Seldon => "SeldonDeployment",
        };
        if workload.get("kind").and_then(Json::as_str) != Some(want_kind)
            || workload
                .pointer("/metadata/name")
                .and_then(Json::as_str)
                .is_none()
        {
            return Err(format!(
                "`workload` must be a {want_kind} with metadata.name"
            ));
        }
        let steps = match p.get("steps").and_then(Json::as_array) {
            Some(list) => list
                .iter()
                .map(|s| {
                    s.as_u64()
                        .filter(|n| (1..=100).contains(n))
                        .map(|n| n as u32)
                })
                .collect::<Option<Vec<u32>>>()
                .ok_or("steps are whole percents from 1 to 100")?,
            None => DEFAULT_STEPS.to_vec(),
        };
        let dur = |k: &str, d: Duration| match p.get(k).and_then(Json::as_str) {
            Some(t) => duration(t).ok_or(format!("{k} `{t}` is not a duration such as 30s or 2m")),
            None => Ok(d),
        };
        let analysis = match p.get("analysis").and_then(Json::as_array) {
            Some(list) => list
                .iter()
                .map(|a| {
                    Some(Analysis {
                        name: str_of(a, "name")?,
                        query: str_of(a, "query")?,
                        max: a.get("max").and_then(Json::as_f64),
                        min: a.get("min").and_then(Json::as_f64),
                    })
                })
                .collect::<Option<Vec<_>>>()
                .ok_or("each analysis needs a name and a query")?,
            None => Vec::new(),
        };
        let registry = p.get("mlflow").and_then(|m| {
            Some(Registry {
                tracking_uri: str_of(m, "tracking_uri")?,
                model: str_of(m, "name")?,
            })
        });
        let prometheus_url = str_of(p, "prometheus_url").filter(|s| !s.is_empty());
        if !analysis.is_empty() && prometheus_url.is_none() {
            return Err("analysis queries need `prometheus_url`".into());
        }
        Ok(Spec {
            strategy,
            engine,
            workload,
            steps,
            interval: dur("interval", Duration::from_secs(60))?,
            failure_limit: p
                .get("failure_limit")
                .and_then(Json::as_u64)
                .unwrap_or(0)
                .min(u32::MAX as u64) as u32,
            analysis,
            prometheus_url,
            ready_timeout: dur("ready_timeout", Duration::from_secs(300))?,
            version: p
                .get("version")
                .map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
            registry,
        })
    }

    /// The app's name (the stable role's object name).
    pub fn name(&self) -> &str {
        self.workload
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }

    /// The app's namespace.
    pub fn namespace(&self) -> &str {
        self.workload
            .pointer("/metadata/namespace")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(duration("2 minutes"), None);
        assert_eq!(duration("m"), None);
    }

    #[test]
    fn bad_settings_are_named() {
        let p = Value::from(json!({
            "strategy": "linear", "steps": [10, 5, 200], "interval": "soon",
            "analysis": [{"name": "e", "query": "q"}]
        }));
        let text: Vec<String> = validate(&p)
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    mlstack_provider_api::path_to_string(&i.path),
                    i.message
                )
            })
            .collect();
        let all = text.join("\n");
        assert!(
            all.contains("strategy: strategy must be canary or blue_green"),
            "{all}"
        );
        assert!(all.contains("steps[1]"), "{all}");
        assert!(all.contains("steps[2]"), "{all}");
        assert!(
            all.contains("interval: interval must be a duration"),
            "{all}"
        );
        assert!(all.contains("needs a threshold"), "{all}");
        assert!(all.contains("prometheus_url"), "{all}");
    }

    #[test]
    fn defaults() {
        let s = Spec::from_properties(&json!({
            "strategy": "canary",
            "workload": {"kind": "Deployment", "metadata": {"name": "a", "namespace": "ml"}}
        }))
        .unwrap();
        assert_eq!(s.steps, DEFAULT_STEPS);
        assert_eq!(s.failure_limit, 0);
        assert_eq!((s.name(), s.namespace()), ("a", "ml"));
    }
}
