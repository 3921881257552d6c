//! The `s3` backend: state as one object in an S3-compatible bucket (defaults for Yandex
//! Object Storage), the previous version kept as `<key>.backup`, and a lock object
//! `<key>.lock` created with a conditional write (`If-None-Match: *`) that names its holder.
//!
//! S3 cannot tell that a holder died, so a killed run (a cancelled CI job) leaves its lock
//! behind; the lock error names the holder and the exact `mlstack force-unlock STACK ID`
//! command that removes it, and force-unlock removes it only when the id matches.

mod client;
pub mod sigv4;

pub use client::{Client, Endpoint, S3Error};
pub use sigv4::Credentials;

use super::backend::{Backend, LockGuard};
use super::crypt::{self, Encryption};
use super::lock::LockInfo;
use mlstack_provider_api::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings the `s3` backend accepts.
pub const S3_SETTINGS: &[&str] = &[
    "bucket",
    "key",
    "endpoint",
    "region",
    "access_key",
    "secret_key",
    "path_style",
    "encryption",
];

/// Settings that carry credentials: never recorded, never shown.
pub const CREDENTIAL_SETTINGS: &[&str] = &["access_key", "secret_key"];

/// Yandex Object Storage.
pub const DEFAULT_ENDPOINT: &str = "https://storage.yandexcloud.net";
pub const DEFAULT_REGION: &str = "ru-central1";

/// State in an S3 bucket.
#[derive(Debug)]
pub struct S3Backend {
    client: Arc<Client>,
    key: String,
    encryption: Option<Encryption>,
    /// The stack file as the user names it, for the commands messages suggest.
    stack_arg: String,
}

impl S3Backend {
    /// From the stack's `backend: {s3: {...}}` settings. Credentials: `access_key` and
    /// `secret_key` when set, else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and
    /// `AWS_SESSION_TOKEN`) from the environment.
    pub fn from_config(
        config: &BTreeMap<String, Value>,
        stack_name: &str,
        base_dir: &Path,
        stack_arg: &str,
    ) -> Result<S3Backend, String> {
        if let Some(key) = config.keys().find(|k| !S3_SETTINGS.contains(&k.as_str())) {
            let hint = crate::diag::did_you_mean(key, S3_SETTINGS.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "the s3 state backend has no setting `{key}`{hint}; allowed: {}",
                S3_SETTINGS.join(", ")
            ));
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match config.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match v.as_str() {
                    Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                    _ => Err(format!(
                        "the s3 state backend's `{k}` must be a non-empty string"
                    )),
                },
            }
        };
        let bucket = text("bucket")?
            .ok_or("the s3 state backend needs `bucket` (the bucket that holds the state)")?;
        let key = match text("key")? {
            Some(k) => k,
            None => format!("{stack_name}/state.json"),
        };
        check_key(&key)?;
        let endpoint = text("endpoint")?.unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let url = endpoint_url(&endpoint)?;
        let region = text("region")?.unwrap_or_else(|| DEFAULT_REGION.to_string());
        let path_style = match config.get("path_style") {
            None | Some(Value::Null) => true,
            Some(v) => v
                .as_bool()
                .ok_or("the s3 state backend's `path_style` must be true or false")?,
        };
        let credentials = credentials(text("access_key")?, text("secret_key")?)?;
        let encryption = crypt::from_backend_config(config, base_dir)?;
        let client = Client::new(Endpoint {
            url,
            region,
            bucket,
            path_style,
            credentials,
        })?;
        Ok(S3Backend {
            client: Arc::new(client),
            key,
            encryption,
            stack_arg: stack_arg.to_string(),
        })
    }

    /// The client (tests create their bucket with it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The state object's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `<key>.lock`.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// `<key>.backup`.
    pub fn backup_key(&self) -> String {
        format!("{}.backup", self.key)
    }

    fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.client.endpoint().bucket)
    }

    fn err(&self, what: &str, key: &str, e: &S3Error) -> String {
        e.describe(
            &format!(
                "{what} {} at {}",
                self.url_of(key),
                self.client.endpoint().url
            ),
            self.client.endpoint(),
        )
    }

    /// The current lock holder, if any. A lock object that does not name its holder (not
    /// written by mlstack, or truncated) still blocks, under an id derived from its content,
    /// so that `force-unlock` can clear it like any other.
    fn holder(&self) -> Result<Option<LockInfo>, String> {
        let lock_key = self.lock_key();
        match self.client.get(&lock_key) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => Ok(Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                let digest = sigv4::sha256_hex(&bytes);
                LockInfo {
                    id: format!("unreadable-{}", &digest[..16]),
                    host: "an unknown host".into(),
                    pid: 0,
                    command: "not recorded: the lock object does not name its holder".into(),
                    operation: "unknown".into(),
                    created: "an unknown time".into(),
                    machine: String::new(),
                }
            }))),
            Err(e) => Err(self.err("reading the lock", &lock_key, &e)),
        }
    }

    /// Removes a lock whose holder ran on this machine and no longer exists (killed, or
    /// interrupted before it could release), re-reading it first so that a lock taken since
    /// by someone else is left alone.
    fn take_over(&self, dead: &LockInfo) -> Result<(), String> {
        let lock_key = self.lock_key();
        if self.holder()?.is_some_and(|h| h.id == dead.id) {
            self.client
                .delete(&lock_key)
                .map_err(|e| self.err("removing a dead holder's lock", &lock_key, &e))?;
            eprintln!(
                "Note: removed the state lock {} left by pid {} on this machine, which is no \
                 longer running (`{}`, since {}).",
                dead.id, dead.pid, dead.command, dead.created
            );
        }
        Ok(())
    }

    fn held_message(&self, h: &LockInfo, waited: Duration) -> String {
        let waited = if waited.is_zero() {
            String::new()
        } else {
            let ms = Duration::from_millis(waited.as_millis().min(u128::from(u64::MAX)) as u64);
            format!(" (waited {})", humantime::format_duration(ms))
        };
        format!(
            "state is locked by {} (operation `{}`, lock id {}){waited}; retry with \
             --lock-timeout or wait.\nIf that run is gone (a cancelled CI job, a killed \
             process: S3 cannot tell), remove its lock with:\n  mlstack force-unlock {} {}",
            h.holder(),
            h.operation,
            h.id,
            self.stack_arg,
            h.id
        )
    }
}

/// The lock held in S3; dropping it deletes the lock object (if it is still ours).
struct S3Lock {
    client: Arc<Client>,
    key: String,
    id: String,
    stack_arg: String,
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        super::interrupt::unregister(&self.id);
        if let Err(e) = release_if_ours(&self.client, &self.key, &self.id) {
            // A guard cannot return an error; say what is left behind and how to clear it.
            eprintln!(
                "Warning: {}\nThe state lock was not released; clear it with:\n  mlstack \
                 force-unlock {} {}",
                e.describe("releasing the state lock", self.client.endpoint()),
                self.stack_arg,
                self.id
            );
        }
    }
}

/// Deletes the lock object if it still names `id` (never someone else's lock).
fn release_if_ours(client: &Client, key: &str, id: &str) -> Result<(), S3Error> {
    let ours = match client.get(key)? {
        Some(bytes) => serde_json::from_slice::<LockInfo>(&bytes).is_ok_and(|h| h.id == id),
        None => false,
    };
    if ours {
        client.delete(key)?;
    }
    Ok(())
}

/// First wait between lock attempts; grows by half each time up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(5);

impl Backend for S3Backend {
    fn describe(&self) -> String {
        format!(
            "s3 state {} at {}",
            self.url_of(&self.key),
            self.client.endpoint().url
        )
    }

    fn place(&self) -> String {
        format!("state object {}", self.url_of(&self.key))
    }

    fn backup_hint(&self) -> String {
        format!(
            "The previous version, if any, is {}.",
            self.url_of(&self.backup_key())
        )
    }

    fn identity(&self) -> serde_json::Value {
        let ep = self.client.endpoint();
        let mut id = serde_json::json!({
            "kind": "s3",
            "bucket": ep.bucket,
            "key": self.key,
            "endpoint": ep.url.as_str().trim_end_matches('/'),
            "region": ep.region,
            "path_style": ep.path_style,
        });
        if let Some(e) = &self.encryption {
            id["encryption"] = e.source().to_config();
        }
        id
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn read_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        match self.client.get(&self.key) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => {
                crypt::unseal_stored(self.encryption.as_ref(), bytes, "state", &self.place())
                    .map(Some)
            }
            Err(e) => Err(self.err("reading the state", &self.key, &e)),
        }
    }

    fn write_bytes(&self, plain: &[u8]) -> Result<(), String> {
        let bytes = crypt::seal_stored(self.encryption.as_ref(), plain, "state")?;
        let backup = self.backup_key();
        self.client
            .copy(&self.key, &backup)
            .map_err(|e| self.err("keeping the previous state as", &backup, &e))?;
        self.client
            .put(&self.key, bytes, false)
            .map_err(|e| self.err("writing the state", &self.key, &e))
    }

    fn lock(&self, holder: &LockInfo, timeout: Duration) -> Result<LockGuard, String> {
        let lock_key = self.lock_key();
        let body = serde_json::to_vec_pretty(holder)
            .map_err(|e| format!("cannot describe the lock holder: {e}"))?;
        let start = Instant::now();
        let mut poll = FIRST_POLL;
        loop {
            let current = match self.client.put(&lock_key, body.clone(), true) {
                // Read back: a store that does not make the check atomic shows the winner.
                Ok(()) | Err(S3Error::PreconditionFailed) => self.holder()?,
                Err(e) => return Err(self.err("taking the state lock", &lock_key, &e)),
            };
            match current {
                Some(h) if h.id == holder.id => {
                    let (client, key, id) = (self.client.clone(), lock_key.clone(), h.id.clone());
                    super::interrupt::register(
                        &h.id,
                        Box::new(move || {
                            let _ = release_if_ours(&client, &key, &id);
                        }),
                    );
                    let held = S3Lock {
                        client: self.client.clone(),
                        key: lock_key,
                        id: holder.id.clone(),
                        stack_arg: self.stack_arg.clone(),
                    };
                    return Ok(LockGuard::new(holder.clone(), Box::new(held)));
                }
                // Released between our attempt and the read: try again at once.
                None => continue,
                Some(dead) if dead.holder_is_gone() => {
                    self.take_over(&dead)?;
                    continue;
                }
                Some(other) => {
                    let waited = start.elapsed();
                    let left = timeout.saturating_sub(waited);
                    if left.is_zero() {
                        let shown = if timeout.is_zero() {
                            Duration::ZERO
                        } else {
                            waited
                        };
                        return Err(self.held_message(&other, shown));
                    }
                    std::thread::sleep(poll.min(left));
                    poll = (poll + poll / 2).min(MAX_POLL);
                }
            }
        }
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, String> {
        let lock_key = self.lock_key();
        let Some(holder) = self.holder()? else {
            return Err(format!(
                "{} is not locked (no lock object {}); nothing to unlock",
                self.describe(),
                self.url_of(&lock_key)
            ));
        };
        if holder.id != id {
            return Err(format!(
                "the state lock is held by {} with lock id {}, not {id}; nothing was removed. \
                 Check that run is gone, then pass its id.",
                holder.holder(),
                holder.id
            ));
        }
        self.client
            .delete(&lock_key)
            .map_err(|e| self.err("removing the lock", &lock_key, &e))?;
        Ok(holder)
    }
}

/// `https://host` from `host`, `host:port` or a full URL.
fn endpoint_url(endpoint: &str) -> Result<reqwest::Url, String> {
    let full = if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("https://{endpoint}")
    };
    let url = reqwest::Url::parse(&full)
        .map_err(|e| format!("the s3 state backend's `endpoint` `{endpoint}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "the s3 state backend's `endpoint` `{endpoint}` must be an http(s) URL or a host name"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "the s3 state backend's `endpoint` `{endpoint}` must not have a query or fragment"
        ));
    }
    Ok(url)
}

/// Object keys stay inside the bucket and survive URL normalisation.
fn check_key(key: &str) -> Result<(), String> {
    let bad = key.starts_with('/')
        || key.ends_with('/')
        || key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad || key.len() > 900 {
        return Err(format!(
            "the s3 state backend's `key` `{key}` must be a relative object key like \
             `demo/state.json` (no leading or trailing `/`, no empty, `.` or `..` parts)"
        ));
    }
    Ok(())
}

/// Static keys from the stack, else the environment.
fn credentials(access: Option<String>, secret: Option<String>) -> Result<Credentials, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    match (access, secret) {
        (Some(access_key), Some(secret_key)) => Ok(Credentials {
            access_key,
            secret_key,
            session_token: None,
        }),
        (None, None) => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key), Some(secret_key)) => Ok(Credentials {
                access_key,
                secret_key,
                session_token: env("AWS_SESSION_TOKEN"),
            }),
            _ => Err(
                "the s3 state backend has no credentials: set AWS_ACCESS_KEY_ID and \
                      AWS_SECRET_ACCESS_KEY (for Yandex Object Storage, a service account's \
                      static access key), or the backend's access_key and secret_key"
                    .into(),
            ),
        },
        _ => Err(
            "the s3 state backend's access_key and secret_key go together: set both or neither"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_keys() {
        assert_eq!(
            endpoint_url("storage.yandexcloud.net").unwrap().as_str(),
            "https://storage.yandexcloud.net/"
        );
        assert_eq!(
            endpoint_url("http://127.0.0.1:5000").unwrap().as_str(),
            "http://127.0.0.1:5000/"
        );
        assert!(endpoint_url("ftp://x").is_err());
        assert!(check_key("demo/state.json").is_ok());
        for bad in ["/a", "a/", "a//b", "a/../b", "."] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_defaults_and_errors() {
        let mut cfg = BTreeMap::new();
        cfg.insert("bucket".to_string(), Value::from("tf"));
        cfg.insert("access_key".to_string(), Value::from("id"));
        cfg.insert(
            "secret_key".to_string(),
            Value::from("shh").into_sensitive(),
        );
        let b = S3Backend::from_config(&cfg, "demo", Path::new("."), "s.yaml").unwrap();
        assert_eq!(b.key(), "demo/state.json");
        assert_eq!(
            b.identity(),
            serde_json::json!({"kind": "s3", "bucket": "tf", "key": "demo/state.json",
                "endpoint": "https://storage.yandexcloud.net", "region": "ru-central1",
                "path_style": true})
        );
        assert!(!format!("{b:?}").contains("shh"));
        cfg.insert("bukcet".to_string(), Value::from("x"));
        let err = S3Backend::from_config(&cfg, "demo", Path::new("."), "s").unwrap_err();
        assert!(err.contains("did you mean `bucket`"), "{err}");
        cfg.remove("bukcet");
        cfg.remove("secret_key");
        let err = S3Backend::from_config(&cfg, "demo", Path::new("."), "s").unwrap_err();
        assert!(err.contains("together"), "{err}");
    }
}
