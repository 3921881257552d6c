//! A small client for the MLflow REST API (`/api/2.0/mlflow/...`): the registry calls mlstack
//! needs, with MLflow's own auth settings, and errors that name the server and never a secret.

use serde_json::{json, Value as Json};
use std::time::Duration;

/// How requests authenticate, as MLflow's own clients do (`MLFLOW_TRACKING_TOKEN` is a bearer
/// token; `MLFLOW_TRACKING_USERNAME`/`_PASSWORD` are HTTP basic auth).
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(String),
    Basic {
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "none",
            Auth::Bearer(_) => "bearer (redacted)",
            Auth::Basic { .. } => "basic (redacted)",
        })
    }
}

/// Why a call failed. `Display` names the server and what was asked, never a credential.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// No answer (refused, timed out, TLS failure): worth retrying.
    Unreachable { server: String, detail: String },
    /// MLflow answered with an error body (`error_code`, `message`).
    Api {
        server: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The answer was not what the API promises.
    Malformed { server: String, detail: String },
}

impl ClientError {
    /// The registry has no such model, version or alias.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClientError::Api { status, code, .. }
            if *status == 404 || code == "RESOURCE_DOES_NOT_EXIST")
    }

    /// Transient: the server was unreachable, throttled us or failed inside.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            ClientError::Malformed { .. } => false,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unreachable { server, detail } => {
                write!(f, "MLflow at {server} is unreachable: {detail}")
            }
            ClientError::Api {
                server,
                status,
                code,
                message,
            } => {
                let code = if code.is_empty() { "" } else { code.as_str() };
                write!(f, "MLflow at {server} answered {status} {code}: {message}")
            }
            ClientError::Malformed { server, detail } => {
                write!(f, "MLflow at {server} sent an unexpected answer: {detail}")
            }
        }
    }
}

/// One MLflow tracking server.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The tracking URI without a trailing slash, e.g. `http://127.0.0.1:5000`.
    base: String,
    auth: Auth,
}

impl Client {
    /// A client for `tracking_uri` (http or https; a path prefix is kept, as for an MLflow
    /// served under `/mlflow`).
    pub fn new(tracking_uri: &str, auth: Auth) -> Result<Client, String> {
        let base = tracking_uri.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "tracking_uri `{base}` must be an http:// or https:// URL of an MLflow server"
            ));
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("mlstack/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Client { http, base, auth })
    }

    /// The server as errors name it.
    pub fn server(&self) -> &str {
        &self.base
    }

    /// `GET /api/2.0/mlflow/registered-models/alias`: the version an alias points at.
    pub async fn version_by_alias(&self, name: &str, alias: &str) -> Result<Json, ClientError> {
        let q = format!("name={}&alias={}", encode(name), encode(alias));
        let body = self.get(&format!("registered-models/alias?{q}")).await?;
        self.model_version(body)
    }

    /// `GET /api/2.0/mlflow/model-versions/get`: one version by number.
    pub async fn version(&self, name: &str, version: &str) -> Result<Json, ClientError> {
        let q = format!("name={}&version={}", encode(name), encode(version));
        let body = self.get(&format!("model-versions/get?{q}")).await?;
        self.model_version(body)
    }

    /// `POST /api/2.0/mlflow/model-versions/set-tag`: marks a version (e.g. `rollout=failed`).
    pub async fn set_version_tag(
        &self,
        name: &str,
        version: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ClientError> {
        let body = json!({"name": name, "version": version, "key": key, "value": value});
        self.post("model-versions/set-tag", &body).await.map(|_| ())
    }

    fn model_version(&self, body: Json) -> Result<Json, ClientError> {
        match body.get("model_version") {
            Some(v) if v.is_object() => Ok(v.clone()),
            _ => Err(ClientError::Malformed {
                server: self.base.clone(),
                detail: "no `model_version` object in the answer".into(),
            }),
        }
    }

    async fn get(&self, path: &str) -> Result<Json, ClientError> {
        let url = format!("{}/api/2.0/mlflow/{path}", self.base);
        self.send(self.http.get(url)).await
    }

    async fn post(&self, path: &str, body: &Json) -> Result<Json, ClientError> {
        let url = format!("{}/api/2.0/mlflow/{path}", self.base);
        let req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(req).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Json, ClientError> {
        let req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic { username, password } => req.basic_auth(username, Some(password)),
        };
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            server: self.base.clone(),
            // reqwest's message carries the URL (no credentials: they travel in headers).
            detail: without_url(&e),
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| ClientError::Unreachable {
            server: self.base.clone(),
            detail: without_url(&e),
        })?;
        let body: Option<Json> = serde_json::from_str(&text).ok();
        if (200..300).contains(&status) {
            return body.ok_or_else(|| ClientError::Malformed {
                server: self.base.clone(),
                detail: format!("status {status} with a body that is not JSON"),
            });
        }
        let field = |k: &str| {
            body.as_ref()
                .and_then(|b| b.get(k))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut message = field("message");
        if message.is_empty() {
            message = match status {
                401 => "unauthorized: set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (or the provider's token/username/password)".into(),
                403 => "forbidden: the credentials lack permission on this model".into(),
                _ => "no error message".into(),
            };
        }
        Err(ClientError::Api {
            server: self.base.clone(),
            status,
            code: field("error_code"),
            message,
        })
    }
}

/// reqwest's error text and its causes, without the URL it repeats (the caller names the
/// server; credentials travel in headers, never in the URL).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(i) = text.find(" for url (") {
        text.truncate(i);
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("fraud-detection"), "fraud-detection");
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn rejects_non_http_uris() {
        assert!(Client::new("file:///tmp/mlruns", Auth::None).is_err());
        assert!(Client::new("databricks", Auth::None).is_err());
        let c = Client::new("http://127.0.0.1:5000/", Auth::None).unwrap();
        assert_eq!(c.server(), "http://127.0.0.1:5000");
    }

    #[test]
    fn auth_debug_redacts() {
        let a = Auth::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok-123".into())).contains("tok-123"));
    }

    #[test]
    fn not_found_and_retryable() {
        let e = ClientError::Api {
            server: "s".into(),
            status: 404,
            code: "RESOURCE_DOES_NOT_EXIST".into(),
            message: "m".into(),
        };
        assert!(e.is_not_found() && !e.is_retryable());
        let e = ClientError::Unreachable {
            server: "s".into(),
            detail: "refused".into(),
        };
        assert!(e.is_retryable() && !e.is_not_found());
    }
}
