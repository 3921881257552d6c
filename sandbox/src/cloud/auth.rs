//! IAM tokens: the exchange (`POST /iam/v1/tokens` with the emulator's OAuth token or a
//! service account's JWT) and the book of issued tokens every other call is checked against
//! (kept as SHA-256 digests, persisted, valid 12 hours; the clusters' Kubernetes APIs
//! consult it too).

use super::clock::{now_ms, rfc3339};
use super::disk::Disk;
use super::errors::CloudError;
use super::ids::iam_token;
use super::json;
use super::jwt::{self, KeyInfo};
use super::state::State;
use super::types::{KEY, SERVICE_ACCOUNT};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// IAM token lifetime (reference §1.3).
pub const LIFETIME_MS: u64 = 12 * 3600 * 1000;
/// The subject of tokens exchanged for the OAuth token (the emulator's one user account).
pub const USER_ID: &str = "ajesandboxuser000001";
const FILE: &str = "tokens.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issued {
    expires_at_ms: u64,
    subject: String,
}

/// Issued IAM tokens by digest.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<BTreeMap<String, Issued>>,
    disk: Disk,
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Tokens {
    /// Loads the book (expired tokens are dropped).
    pub fn open(disk: Disk) -> Result<Tokens, String> {
        let mut issued: BTreeMap<String, Issued> = disk.load_file(FILE)?.unwrap_or_default();
        let now = now_ms();
        issued.retain(|_, i| i.expires_at_ms > now);
        Ok(Tokens {
            issued: Mutex::new(issued),
            disk,
        })
    }

    /// A new token for `subject`; returns it and its expiry (ms).
    pub fn issue(&self, subject: &str, now: u64) -> Result<(String, u64), CloudError> {
        let token = iam_token();
        let expires = now + LIFETIME_MS;
        let mut book = self
            .issued
            .lock()
            .map_err(|_| CloudError::internal("the token book is poisoned"))?;
        book.retain(|_, i| i.expires_at_ms > now);
        book.insert(
            digest(&token),
            Issued {
                expires_at_ms: expires,
                subject: subject.to_string(),
            },
        );
        self.disk.put_file(FILE, &*book, true)?;
        Ok((token, expires))
    }

    /// The subject of an unexpired token.
    pub fn subject(&self, token: &str, now: u64) -> Option<String> {
        let book = self.issued.lock().ok()?;
        book.get(&digest(token))
            .filter(|i| i.expires_at_ms > now)
            .map(|i| i.subject.clone())
    }
}

/// `POST /iam/v1/tokens`: exactly one of `yandexPassportOauthToken` and `jwt`.
pub fn exchange(
    st: &State,
    tokens: &Tokens,
    oauth_token: &str,
    audiences: &[String],
    body: &Value,
    now: u64,
) -> Result<Value, CloudError> {
    let oauth = json::str_at(body, "yandexPassportOauthToken");
    let jwt = json::str_at(body, "jwt");
    let subject = match (oauth, jwt) {
        (Some(t), None) => {
            if !crate::server::constant_time_eq(t.as_bytes(), oauth_token.as_bytes()) {
                return Err(CloudError::unauthenticated(
                    "the OAuth token is invalid or has expired",
                ));
            }
            USER_ID.to_string()
        }
        (None, Some(j)) => {
            let key = |kid: &str| {
                let k = st.get(KEY.kind, kid)?;
                let sa = json::str_at(&k.resource, "serviceAccountId")?;
                st.get(SERVICE_ACCOUNT.kind, sa)?;
                Some(KeyInfo {
                    service_account_id: sa.to_string(),
                    public_key_pem: json::str_at(&k.resource, "publicKey")?.to_string(),
                })
            };
            jwt::verify(j, (now / 1000) as i64, audiences, key)
                .map_err(|e| CloudError::unauthenticated(format!("invalid JWT: {e}")))?
        }
        _ => {
            return Err(CloudError::invalid(
                "exactly one of yandexPassportOauthToken and jwt is required",
            ))
        }
    };
    let (token, expires) = tokens.issue(&subject, now)?;
    Ok(json!({"iamToken": token, "expiresAt": rfc3339(expires)}))
}
