//! One authenticated session with the cloud: every call gets a Bearer IAM token, is retried
//! with backoff on transport errors, 429 and 5xx (bounded), and is tried once more with a fresh
//! token after a 401. Error messages are scrubbed of every secret the session knows.

use crate::auth::{Token, TokenSource};
use crate::client::{Http, Request};
use crate::config::Settings;
use crate::retry;
use crate::status::ApiError;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A session for one endpoint and one set of credentials.
pub struct Session {
    http: Http,
    tokens: TokenSource,
    locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Session {
    pub fn new(settings: Settings) -> Result<Session, String> {
        let mut http = Http::new(settings.endpoint.as_deref(), settings.ca_pem.as_deref())?;
        if settings.service_hosts {
            http = http.with_service_hosts();
        }
        Ok(Session {
            http,
            tokens: TokenSource::new(settings.credentials.clone()),
            locks: Mutex::new(BTreeMap::new()),
        })
    }

    /// The current IAM token (what `yc k8s create-token` prints).
    pub async fn token(&self) -> Result<Token, ApiError> {
        self.tokens
            .token(&self.http)
            .await
            .map_err(|e| self.scrub(e))
    }

    /// Sends `req` (authenticated, retried); its JSON answer.
    pub async fn call(&self, req: &Request) -> Result<Json, ApiError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.token().await?;
            match self.http.send(req, Some(&token.value)).await {
                Ok(j) => return Ok(j),
                Err(e) if e.unauthenticated() && !refreshed && self.tokens.refreshable() => {
                    refreshed = true;
                    self.tokens.invalidate(&token.value).await;
                }
                Err(e) if e.retryable() && attempt < retry::TRIES => {
                    tokio::time::sleep(retry::backoff(attempt)).await;
                }
                Err(e) => return Err(self.scrub(e)),
            }
        }
    }

    /// The error with every known secret replaced by `(redacted)`.
    pub fn scrub(&self, mut e: ApiError) -> ApiError {
        e.message = scrub_text(&e.message, &self.tokens.secrets());
        e
    }

    /// A lock shared by every caller using the same key (e.g. one folder's access bindings,
    /// which Terraform also changes one at a time).
    pub fn lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.locks.lock() {
            Ok(mut m) => m.entry(key.to_string()).or_default().clone(),
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

/// `text` with each secret (of a plausible length) replaced.
pub fn scrub_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 6) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "(redacted)");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed() {
        let s = vec!["t1.secret-token".to_string(), "abc".to_string()];
        assert_eq!(
            scrub_text("bad token t1.secret-token here abc", &s),
            "bad token (redacted) here abc"
        );
    }
}
