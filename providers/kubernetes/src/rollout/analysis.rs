//! Canary analysis: each PromQL query against Prometheus's HTTP API (`GET /api/v1/query`) and
//! its threshold. A query without a value (no samples, `NaN` from a rate over no requests) fails,
//! as Flagger counts "no values found" a failed check: a candidate that serves nothing is not
//! proven healthy.

use super::spec::Analysis;
use serde_json::{json, Value as Json};
use std::time::Duration;

/// One query's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub query: String,
    /// The value, `None` when Prometheus returned nothing usable.
    pub value: Option<f64>,
    /// `max 0.05`, `min 10`.
    pub threshold: String,
    pub passed: bool,
    /// Why there is no value, or the server's error.
    pub error: Option<String>,
}

impl Outcome {
    /// `error_rate = 0.012 (max 0.05) ok`, for the progress line and the failure report.
    pub fn line(&self) -> String {
        let v = match (self.value, &self.error) {
            (Some(v), _) => format!("{v}"),
            (None, Some(e)) => format!("no value ({e})"),
            (None, None) => "no value".into(),
        };
        let verdict = if self.passed { "ok" } else { "FAILED" };
        format!("{} = {v} ({}) {verdict}", self.name, self.threshold)
    }

    /// For `--json` events.
    pub fn json(&self) -> Json {
        json!({"name": self.name, "query": self.query, "value": self.value,
               "threshold": self.threshold, "passed": self.passed, "error": self.error})
    }
}

/// The single number a query answered: the one sample of a vector, or a scalar.
fn value_of(body: &Json) -> Result<f64, String> {
    if body.get("status").and_then(Json::as_str) != Some("success") {
        let e = body
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or("status is not success");
        return Err(e.to_string());
    }
    let data = body.get("data").ok_or("no data in the answer")?;
    let sample = match data.get("resultType").and_then(Json::as_str) {
        Some("scalar") => data.get("result").cloned(),
        Some("vector") => match data.get("result").and_then(Json::as_array) {
            Some(r) if r.len() == 1 => r[0].get("value").cloned(),
            Some(r) if r.is_empty() => return Err("no samples".into()),
            Some(r) => {
                return Err(format!(
                    "{} series; the query must return one (aggregate it, e.g. sum(...))",
                    r.len()
                ))
            }
            None => None,
        },
        other => return Err(format!("result type {other:?}; want vector or scalar")),
    };
    let text = sample
        .as_ref()
        .and_then(|s| s.get(1))
        .and_then(Json::as_str)
        .ok_or("malformed sample")?;
    let v: f64 = text.parse().map_err(|_| format!("value `{text}`"))?;
    if v.is_nan() {
        return Err("NaN (no requests in the window?)".into());
    }
    Ok(v)
}

fn judge(a: &Analysis, v: f64) -> bool {
    a.max.is_none_or(|m| v <= m) && a.min.is_none_or(|m| v >= m)
}

fn threshold(a: &Analysis) -> String {
    match (a.max, a.min) {
        (Some(x), Some(n)) => format!("min {n}, max {x}"),
        (Some(x), None) => format!("max {x}"),
        (None, Some(n)) => format!("min {n}"),
        (None, None) => "no threshold".into(),
    }
}

/// Runs every analysis once against `prometheus_url`.
pub async fn run(prometheus_url: &str, analyses: &[Analysis]) -> Vec<Outcome> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build();
    let base = prometheus_url.trim_end_matches('/');
    let mut out = Vec::new();
    for a in analyses {
        let answer = match &http {
            Ok(h) => query(h, base, &a.query).await,
            Err(e) => Err(format!("cannot build an HTTP client: {e}")),
        };
        let (value, error) = match answer {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        out.push(Outcome {
            name: a.name.clone(),
            query: a.query.clone(),
            value,
            threshold: threshold(a),
            passed: value.is_some_and(|v| judge(a, v)),
            error,
        });
    }
    out
}

async fn query(http: &reqwest::Client, base: &str, q: &str) -> Result<f64, String> {
    let url = format!(
        "{base}/api/v1/query?query={}",
        mlstack_provider_mlflow::client::encode(q)
    );
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("Prometheus at {base} unreachable: {e}"))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("Prometheus at {base}: reading the answer failed: {e}"))?;
    let body: Json = serde_json::from_slice(&bytes)
        .map_err(|e| format!("Prometheus at {base} answered HTTP {status} without JSON: {e}"))?;
    value_of(&body).map_err(|e| format!("Prometheus at {base}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let v = json!({"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {}, "value": [1.0, "0.25"]}]}});
        assert_eq!(value_of(&v), Ok(0.25));
        let s =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}});
        assert_eq!(value_of(&s), Ok(3.0));
        let e = json!({"status": "success", "data": {"resultType": "vector", "result": []}});
        assert_eq!(value_of(&e), Err("no samples".into()));
        let n = json!({"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {}, "value": [1.0, "NaN"]}]}});
        assert!(value_of(&n).unwrap_err().contains("NaN"));
        let bad = json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        assert_eq!(value_of(&bad), Err("parse error".into()));
    }

    #[test]
    fn thresholds() {
        let a = Analysis {
            name: "e".into(),
            query: "q".into(),
            max: Some(0.05),
            min: None,
        };
        assert!(judge(&a, 0.05));
        assert!(!judge(&a, 0.051));
        let b = Analysis {
            min: Some(1.0),
            max: None,
            ..a
        };
        assert!(!judge(&b, 0.5));
        assert_eq!(threshold(&b), "min 1");
    }
}
