//! IAM tokens: exchanged from an OAuth token or a service account's signed JWT at
//! `POST /iam/v1/tokens`, or given as is. Exchanged tokens are cached and refreshed well before
//! they expire (IAM tokens live 12 h; the docs advise refreshing hourly) and once more when the
//! API answers 401. Tokens live only in memory.

use crate::client::{Http, Method, Request, Service};
use crate::config::Credentials;
use crate::jwt;
use crate::retry;
use crate::status::ApiError;
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// An IAM token and when it expires (RFC 3339; `None` when given as is).
#[derive(Clone)]
pub struct Token {
    pub value: String,
    pub expires_at: Option<String>,
}

struct Cached {
    token: Token,
    refresh_at: Instant,
}

/// Hands out IAM tokens for one set of credentials.
pub struct TokenSource {
    credentials: Credentials,
    cache: Mutex<Option<Cached>>,
    /// Every token handed out, for scrubbing error messages.
    issued: std::sync::Mutex<Vec<String>>,
}

/// Refresh at most this long after the exchange.
const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// ... and at least this long before the expiry.
const MARGIN: Duration = Duration::from_secs(300);

impl TokenSource {
    pub fn new(credentials: Credentials) -> TokenSource {
        TokenSource {
            credentials,
            cache: Mutex::new(None),
            issued: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Whether a 401 can be cured by exchanging again (not for a fixed IAM token).
    pub fn refreshable(&self) -> bool {
        !matches!(self.credentials, Credentials::Iam(_))
    }

    /// The secrets to keep out of messages: the credentials and every token issued so far.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = self.credentials.secrets();
        if let Ok(i) = self.issued.lock() {
            s.extend(i.iter().cloned());
        }
        s
    }

    /// A valid IAM token, exchanging when none is cached or the cached one is due.
    pub async fn token(&self, http: &Http) -> Result<Token, ApiError> {
        if let Credentials::Iam(t) = &self.credentials {
            return Ok(Token {
                value: t.clone(),
                expires_at: None,
            });
        }
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let token = self.exchange(http).await?;
        let refresh_at = Instant::now() + refresh_after(token.expires_at.as_deref());
        if let Ok(mut i) = self.issued.lock() {
            if !i.contains(&token.value) {
                i.push(token.value.clone());
            }
        }
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Forgets `stale` (refused with 401) so the next call exchanges again.
    pub async fn invalidate(&self, stale: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| c.token.value == stale) {
            *cache = None;
        }
    }

    async fn exchange(&self, http: &Http) -> Result<Token, ApiError> {
        let body = match &self.credentials {
            Credentials::OAuth(t) => json!({"yandexPassportOauthToken": t}),
            Credentials::KeyFile(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::local(format!(
                        "cannot read the service account key file {}: {}",
                        path.display(),
                        e.kind()
                    ))
                })?;
                let key = jwt::KeyFile::parse(&text).map_err(ApiError::local)?;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                json!({"jwt": jwt::build(&key, now).map_err(ApiError::local)?})
            }
            Credentials::Iam(_) => return Err(ApiError::local("an IAM token is not exchanged")),
        };
        // A POST without side effects: safe to retry as it is.
        let mut req = Request::mutation(Method::Post, Service::Iam, "/iam/v1/tokens", Some(body));
        req.idempotency_key = None;
        let mut attempt = 0;
        let answer = loop {
            attempt += 1;
            match http.send(&req, None).await {
                Ok(j) => break j,
                Err(e) if e.retryable() && attempt < retry::TRIES => {
                    tokio::time::sleep(retry::backoff(attempt)).await
                }
                Err(e) => {
                    return Err(ApiError {
                        message: format!("getting an IAM token failed: {}", e.message),
                        ..e
                    })
                }
            }
        };
        let value = answer
            .get("iamToken")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::local("the IAM token answer holds no iamToken"))?;
        Ok(Token {
            value: value.to_string(),
            expires_at: answer
                .get("expiresAt")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
        })
    }
}

/// How long a fresh token is used: an hour, or until five minutes before it expires.
pub fn refresh_after(expires_at: Option<&str>) -> Duration {
    let left = expires_at
        .and_then(|e| humantime::parse_rfc3339_weak(e).ok())
        .and_then(|t| t.duration_since(SystemTime::now()).ok());
    match left {
        Some(l) => l.saturating_sub(MARGIN).min(REFRESH_EVERY),
        None => REFRESH_EVERY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        let in_12h = humantime::format_rfc3339(SystemTime::now() + Duration::from_secs(12 * 3600))
            .to_string();
        assert_eq!(refresh_after(Some(&in_12h)), REFRESH_EVERY);
        let in_10m =
            humantime::format_rfc3339(SystemTime::now() + Duration::from_secs(600)).to_string();
        let r = refresh_after(Some(&in_10m));
        assert!(
            r <= Duration::from_secs(300) && r > Duration::from_secs(200),
            "{r:?}"
        );
        // A clock behind the server's: the hourly refresh and the 401 retry cover it.
        assert_eq!(refresh_after(Some("2001-01-01T00:00:00Z")), REFRESH_EVERY);
        assert_eq!(refresh_after(None), REFRESH_EVERY);
        assert_eq!(refresh_after(Some("garbage")), REFRESH_EVERY);
    }
}
