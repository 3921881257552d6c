//! Client-side encryption at rest for state and saved plans: AES-256-GCM with a key the user
//! keeps outside the stack (an environment variable or a file), so that a bucket, a Secret or a
//! CI artifact never holds a secret in clear.
//!
//! An encrypted blob is a small JSON envelope (`mlstack_encrypted`, `algorithm`, `purpose`,
//! `key_id`, `key`, `nonce`, `ciphertext`), recognisable at a glance. The purpose (`state`,
//! `plan`) is authenticated, so one cannot be passed off as the other; `key_id` (a hash of the
//! key, never the key) turns a wrong key into a clear error rather than a bare "decryption
//! failed".

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mlstack_provider_api::Value;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings of an `encryption:` block (exactly one of them).
pub const ENCRYPTION_SETTINGS: &[&str] = &["key_env", "key_file"];

/// The envelope format this build writes and reads.
const ENVELOPE_VERSION: u64 = 1;
const ALGORITHM: &str = "AES-256-GCM";

/// Where the key comes from (kept in envelopes so that a saved plan can find it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeySource {
    /// An environment variable holding the key, base64.
    #[serde(rename = "key_env")]
    Env(String),
    /// A file holding the key, base64 (relative paths are taken from the working directory).
    #[serde(rename = "key_file")]
    File(PathBuf),
}

impl KeySource {
    /// From an `encryption:` block's settings.
    pub fn from_config(config: &Value) -> Result<KeySource, String> {
        let Some(map) = config.as_map() else {
            return Err("`encryption` must be a map: {key_env: NAME} or {key_file: PATH}".into());
        };
        if let Some(key) = map
            .keys()
            .find(|k| !ENCRYPTION_SETTINGS.contains(&k.as_str()))
        {
            let hint = crate::diag::did_you_mean(key, ENCRYPTION_SETTINGS.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "`encryption` has no setting `{key}`{hint}; allowed: key_env, key_file"
            ));
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match map.get(k) {
                None => Ok(None),
                Some(v) => match v.to_json_unmarked() {
                    serde_json::Value::String(s) if !s.trim().is_empty() => Ok(Some(s)),
                    _ => Err(format!("`encryption.{k}` must be a non-empty string")),
                },
            }
        };
        match (text("key_env")?, text("key_file")?) {
            (Some(name), None) => Ok(KeySource::Env(name)),
            (None, Some(path)) => Ok(KeySource::File(PathBuf::from(path))),
            _ => Err(
                "`encryption` takes exactly one of key_env (an environment variable \
                      holding the key) or key_file (a file holding it)"
                    .into(),
            ),
        }
    }

    /// `environment variable NAME` / `key file PATH`, for messages.
    pub fn describe(&self) -> String {
        match self {
            KeySource::Env(n) => format!("environment variable {n}"),
            KeySource::File(p) => format!("key file {}", p.display()),
        }
    }

    /// The settings as in the stack file, for records.
    pub fn to_config(&self) -> serde_json::Value {
        match self {
            KeySource::Env(n) => serde_json::json!({"key_env": n}),
            KeySource::File(p) => serde_json::json!({"key_file": p.display().to_string()}),
        }
    }

    /// Reads the key (relative key files from `base_dir`).
    pub fn load(&self, base_dir: &Path) -> Result<Encryption, String> {
        let text = match self {
            KeySource::Env(name) => match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v,
                _ => {
                    return Err(format!(
                        "the state encryption key is read from the environment variable {name}, \
                         which is not set; export it (32 random bytes, base64: \
                         `head -c 32 /dev/urandom | base64`)"
                    ))
                }
            },
            KeySource::File(path) => {
                let full = base_dir.join(path);
                std::fs::read_to_string(&full).map_err(|e| {
                    format!(
                        "cannot read the state encryption key file {}: {e}",
                        path.display()
                    )
                })?
            }
        };
        let key = B64.decode(text.trim()).ok().filter(|k| k.len() == 32);
        match key {
            Some(k) => {
                let mut bytes = [0u8; 32];
                bytes.copy_from_slice(&k);
                Ok(Encryption {
                    key: bytes,
                    source: self.clone(),
                })
            }
            None => Err(format!(
                "the state encryption key in the {} is not 32 bytes in base64; make one with \
                 `head -c 32 /dev/urandom | base64`",
                self.describe()
            )),
        }
    }
}

/// A loaded key. `Debug` never shows the key.
#[derive(Clone)]
pub struct Encryption {
    key: [u8; 32],
    source: KeySource,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryption")
            .field("source", &self.source)
            .field("key_id", &self.key_id())
            .finish()
    }
}

/// What an encrypted blob looks like on disk or in a bucket.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub mlstack_encrypted: u64,
    pub algorithm: String,
    /// `state` or `plan`; authenticated with the ciphertext.
    pub purpose: String,
    /// Which key sealed it (a hash, not the key).
    pub key_id: String,
    /// Where that key was read from, so a reader knows where to look.
    pub key: KeySource,
    pub nonce: String,
    pub ciphertext: String,
}

impl Encryption {
    /// A key from raw bytes (tests, and keys read elsewhere).
    pub fn from_key(key: [u8; 32], source: KeySource) -> Encryption {
        Encryption { key, source }
    }

    /// Where the key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The first 8 bytes of SHA-256 over a domain tag and the key, hex: tells keys apart
    /// without revealing them.
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"mlstack key id\0");
        h.update(self.key);
        hex(&h.finalize()[..8])
    }

    /// The envelope for `plain` (a fresh random nonce every time).
    pub fn seal(&self, plain: &[u8], purpose: &str) -> Result<Envelope, String> {
        let cipher = Aes256Gcm::new((&self.key).into());
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce)
            .map_err(|e| format!("cannot get random bytes for encryption: {e}"))?;
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| "encryption failed".to_string())?;
        Ok(Envelope {
            mlstack_encrypted: ENVELOPE_VERSION,
            algorithm: ALGORITHM.into(),
            purpose: purpose.into(),
            key_id: self.key_id(),
            key: self.source.clone(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        })
    }

    /// `plain` sealed, as pretty JSON bytes ending with a newline.
    pub fn seal_bytes(&self, plain: &[u8], purpose: &str) -> Result<Vec<u8>, String> {
        let mut out = serde_json::to_vec_pretty(&self.seal(plain, purpose)?)
            .map_err(|e| format!("cannot encode the encrypted envelope: {e}"))?;
        out.push(b'\n');
        Ok(out)
    }

    /// The plaintext of `env`; `place` names it in errors. A wrong key, a tampered blob or a
    /// blob for another purpose is an error, never garbage.
    pub fn open(&self, env: &Envelope, purpose: &str, place: &str) -> Result<Vec<u8>, String> {
        if env.mlstack_encrypted != ENVELOPE_VERSION || env.algorithm != ALGORITHM {
            return Err(format!(
                "{place} is encrypted with an unsupported format ({} version {}); it was left \
                 untouched",
                env.algorithm, env.mlstack_encrypted
            ));
        }
        if env.purpose != purpose {
            return Err(format!(
                "{place} holds an encrypted {}, not a {purpose}; it was left untouched",
                env.purpose
            ));
        }
        if env.key_id != self.key_id() {
            return Err(format!(
                "{place} is encrypted with another key (key id {}; the key from the {} has id \
                 {}): set the key it was written with. Nothing was changed.",
                env.key_id,
                self.source.describe(),
                self.key_id()
            ));
        }
        let nonce = B64
            .decode(&env.nonce)
            .ok()
            .filter(|n| n.len() == 12)
            .ok_or_else(|| format!("{place} is corrupt (bad nonce); it was left untouched"))?;
        let ciphertext = B64
            .decode(&env.ciphertext)
            .map_err(|_| format!("{place} is corrupt (bad ciphertext); it was left untouched"))?;
        let cipher = Aes256Gcm::new((&self.key).into());
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| {
                format!(
                    "{place} failed authentication with the right key id: it was altered or \
                     corrupted after it was written; it was left untouched"
                )
            })
    }
}

/// The envelope in `bytes`, when they are one.
pub fn envelope(bytes: &[u8]) -> Option<Envelope> {
    #[derive(Deserialize)]
    struct Probe {
        mlstack_encrypted: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    probe.mlstack_encrypted?;
    serde_json::from_slice(bytes).ok()
}

/// Stored bytes to plaintext: decrypted with `enc` when they are an envelope. An encrypted blob
/// without a key, or a clear one where encryption is required, is an error naming `place`.
pub fn unseal_stored(
    enc: Option<&Encryption>,
    bytes: Vec<u8>,
    purpose: &str,
    place: &str,
) -> Result<Vec<u8>, String> {
    match (envelope(&bytes), enc) {
        (Some(env), Some(enc)) => enc.open(&env, purpose, place),
        (Some(env), None) => Err(format!(
            "{place} is encrypted (key from the {} when it was written, key id {}), but this \
             backend has no `encryption` setting: add `encryption: {{{}}}` to the backend",
            env.key.describe(),
            env.key_id,
            match &env.key {
                KeySource::Env(n) => format!("key_env: {n}"),
                KeySource::File(p) => format!("key_file: {}", p.display()),
            }
        )),
        (None, Some(_)) if !bytes.is_empty() => Err(format!(
            "{place} is not encrypted, but the backend requires encryption; nothing was \
             changed. To encrypt an existing state, run `mlstack state migrate STACK` after \
             adding `encryption` (it reads the old clear state and writes it encrypted)"
        )),
        _ => Ok(bytes),
    }
}

/// Plaintext to stored bytes: sealed when `enc` is set.
pub fn seal_stored(
    enc: Option<&Encryption>,
    plain: &[u8],
    purpose: &str,
) -> Result<Vec<u8>, String> {
    match enc {
        Some(e) => e.seal_bytes(plain, purpose),
        None => Ok(plain.to_vec()),
    }
}

/// The `encryption` setting of a backend's config, loaded.
pub fn from_backend_config(
    config: &BTreeMap<String, Value>,
    base_dir: &Path,
) -> Result<Option<Encryption>, String> {
    match config.get("encryption") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => KeySource::from_config(v)?.load(base_dir).map(Some),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Encryption {
        Encryption::from_key([b; 32], KeySource::Env("K".into()))
    }

    #[test]
    fn round_trip_and_no_clear_text() {
        let plain = br#"{"password": "hunter2-hunter2"}"#;
        let sealed = key(1).seal_bytes(plain, "state").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("hunter2"));
        let back = unseal_stored(Some(&key(1)), sealed, "state", "x").unwrap();
        assert_eq!(back, plain);
    }

    #[test]
    fn wrong_key_missing_key_and_wrong_purpose_are_clear_errors() {
        let sealed = key(1).seal_bytes(b"{}", "state").unwrap();
        let err = unseal_stored(Some(&key(2)), sealed.clone(), "state", "obj").unwrap_err();
        assert!(err.contains("another key"), "{err}");
        let err = unseal_stored(None, sealed.clone(), "state", "obj").unwrap_err();
        assert!(err.contains("key_env: K"), "{err}");
        let err = unseal_stored(Some(&key(1)), sealed, "plan", "obj").unwrap_err();
        assert!(err.contains("not a plan"), "{err}");
        let err = unseal_stored(Some(&key(1)), b"{}".to_vec(), "state", "obj").unwrap_err();
        assert!(err.contains("not encrypted"), "{err}");
    }

    #[test]
    fn tampering_is_detected() {
        let mut env = key(1).seal(b"{\"a\": 1}", "state").unwrap();
        let mut ct = B64.decode(&env.ciphertext).unwrap();
        ct[0] ^= 1;
        env.ciphertext = B64.encode(ct);
        let err = key(1).open(&env, "state", "obj").unwrap_err();
        assert!(err.contains("altered"), "{err}");
    }

    #[test]
    fn key_sources() {
        let cfg = Value::from(serde_json::json!({"key_env": "MLSTACK_TEST_NO_SUCH_KEY"}));
        let src = KeySource::from_config(&cfg).unwrap();
        let err = src.load(Path::new(".")).unwrap_err();
        assert!(err.contains("MLSTACK_TEST_NO_SUCH_KEY"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), "dG9vIHNob3J0\n").unwrap();
        let src = KeySource::File("k".into());
        let err = src.load(dir.path()).unwrap_err();
        assert!(err.contains("not 32 bytes"), "{err}");
        std::fs::write(dir.path().join("k"), B64.encode([7u8; 32])).unwrap();
        assert!(src.load(dir.path()).is_ok());
        let bad = Value::from(serde_json::json!({"key_evn": "X"}));
        let err = KeySource::from_config(&bad).unwrap_err();
        assert!(err.contains("did you mean `key_env`"), "{err}");
        let both = Value::from(serde_json::json!({"key_env": "X", "key_file": "y"}));
        assert!(KeySource::from_config(&both).is_err());
    }
}
