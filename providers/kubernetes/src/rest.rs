//! A plain JSON REST client on one connection, for callers outside the provider that need the
//! raw answer (the `kubernetes` state backend keeps its state in Secrets and its lock in a
//! Lease): every status comes back to the caller, and only what can never be the caller's
//! answer (a dropped connection, 429, 5xx) is retried. Unlike the provider's own calls, a 409
//! is returned at once: for a create it means "exists", for an update "changed since read".

use crate::api::Client;
use crate::conn::Conn;
use serde_json::Value as Json;

/// An HTTP answer: status and body (JSON, or null when the body is not JSON).
#[derive(Debug, Clone)]
pub struct RestResponse {
    pub status: u16,
    pub body: Json,
}

impl RestResponse {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The server's `message` (a `Status` object's), or `HTTP <status>`.
    pub fn message(&self) -> String {
        self.body
            .get("message")
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", self.status))
    }
}

/// The transport of one API server, shared with the provider (TLS, token, kept-alive
/// connections). Requests must all run on one tokio runtime.
pub struct RestClient {
    client: Client,
    server: String,
}

impl RestClient {
    pub fn new(conn: &Conn) -> Result<RestClient, String> {
        Ok(RestClient {
            client: Client::new(conn)?,
            server: conn.server.clone(),
        })
    }

    /// `https://host:port`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// One request: `path` with its query, `body` sent as JSON (`application/merge-patch+json`
    /// for PATCH). `Err` only when no answer came, after retries.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Json>,
    ) -> Result<RestResponse, String> {
        let body = match body {
            Some(b) => {
                let ct = if method == "PATCH" {
                    "application/merge-patch+json"
                } else {
                    "application/json"
                };
                Some((
                    ct,
                    serde_json::to_vec(b).map_err(|e| format!("cannot encode the body: {e}"))?,
                ))
            }
            None => None,
        };
        self.client.raw(method, path, body).await
    }
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("server", &self.server)
            .finish()
    }
}
