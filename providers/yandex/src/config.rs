//! Where the provider's settings come from: the provider block, then the environment Terraform's
//! provider reads (`YC_TOKEN`, `YC_IAM_TOKEN`, `YC_SERVICE_ACCOUNT_KEY_FILE`, `YC_FOLDER_ID`,
//! `YC_ZONE`, `YC_ENDPOINT`), or, in sandbox mode, the emulator's endpoint, CA
//! and OAuth token whatever the stack says.

use mlstack_provider_api::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// The folder a sandbox run uses when the stack names none (the emulator accepts any).
pub const SANDBOX_FOLDER: &str = "b1gsandboxfolder0000";

/// The environment variables the provider reads, captured once.
#[derive(Clone, Default)]
pub struct Env {
    pub token: Option<String>,
    pub iam_token: Option<String>,
    pub service_account_key_file: Option<String>,
    pub folder_id: Option<String>,
    pub zone: Option<String>,
    pub endpoint: Option<String>,
}

impl Env {
    /// The process environment (empty values count as unset).
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Env {
            token: var("YC_TOKEN"),
            iam_token: var("YC_IAM_TOKEN"),
            service_account_key_file: var("YC_SERVICE_ACCOUNT_KEY_FILE"),
            folder_id: var("YC_FOLDER_ID"),
            zone: var("YC_ZONE"),
            endpoint: var("YC_ENDPOINT"),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("token", &self.token.as_ref().map(|_| "(sensitive)"))
            .field("iam_token", &self.iam_token.as_ref().map(|_| "(sensitive)"))
            .field("service_account_key_file", &self.service_account_key_file)
            .field("folder_id", &self.folder_id)
            .field("zone", &self.zone)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// The sandbox cloud: used instead of the stack's credentials and endpoint.
#[derive(Clone)]
pub struct Sandbox {
    pub endpoint: String,
    pub ca_pem: String,
    pub oauth_token: String,
}

/// How the provider authenticates. Not `Debug`-printable with its secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A Yandex account's OAuth token, exchanged for IAM tokens.
    OAuth(String),
    /// An IAM token used as is (`t1.…`).
    Iam(String),
    /// A service account's authorized key file, signed into a JWT and exchanged.
    KeyFile(PathBuf),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::OAuth(_) => f.write_str("OAuth(sensitive)"),
            Credentials::Iam(_) => f.write_str("Iam(sensitive)"),
            Credentials::KeyFile(p) => write!(f, "KeyFile({})", p.display()),
        }
    }
}

impl Credentials {
    /// A token from the stack or `YC_TOKEN`: IAM tokens start with `t1.`, others are OAuth.
    pub fn from_token(token: &str) -> Credentials {
        if token.starts_with("t1.") {
            Credentials::Iam(token.to_string())
        } else {
            Credentials::OAuth(token.to_string())
        }
    }

    /// The secrets that must never appear in an error (the key file's path is not one).
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Credentials::OAuth(t) | Credentials::Iam(t) => vec![t.clone()],
            Credentials::KeyFile(_) => Vec::new(),
        }
    }
}

/// Everything a session with the cloud needs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub credentials: Credentials,
    /// One base URL for every service (the sandbox, a proxy); `None`: the real hosts.
    pub endpoint: Option<String>,
    /// An extra trust anchor (PEM) for the endpoint.
    pub ca_pem: Option<String>,
    /// Name each call's service host in `Host` although it goes to `endpoint` (the sandbox
    /// holds every call to the host its service lives on, as the real cloud does).
    pub service_hosts: bool,
}

impl Settings {
    /// A key identifying the session (endpoint, CA, credentials), hashed so the secret never
    /// sits in a map key.
    pub fn session_key(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.endpoint.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(self.ca_pem.as_deref().unwrap_or("").as_bytes());
        h.update([0, u8::from(self.service_hosts), 0]);
        match &self.credentials {
            Credentials::OAuth(t) => h.update(format!("oauth:{t}").as_bytes()),
            Credentials::Iam(t) => h.update(format!("iam:{t}").as_bytes()),
            Credentials::KeyFile(p) => h.update(format!("key:{}", p.display()).as_bytes()),
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A known, non-empty string attribute of the provider block.
fn attr(config: &Value, key: &str) -> Option<String> {
    config
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The defaults resources take from the provider block (or the environment).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Defaults {
    pub folder_id: Option<String>,
    pub zone: Option<String>,
}

/// `folder_id` and `zone` for resources that leave them unset. Unknown while the provider
/// block is unknown.
pub fn defaults(config: &Value, env: &Env, sandbox: bool) -> Defaults {
    let folder = attr(config, "folder_id").or_else(|| env.folder_id.clone());
    Defaults {
        folder_id: folder.or_else(|| sandbox.then(|| SANDBOX_FOLDER.to_string())),
        zone: attr(config, "zone").or_else(|| env.zone.clone()),
    }
}

/// What went wrong resolving the settings.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// No token, key file or environment credentials at all.
    NoCredentials,
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoCredentials => f.write_str(
                "no credentials for Yandex Cloud: set `token` or `service_account_key_file` in \
                 the provider block, or YC_TOKEN, YC_IAM_TOKEN or YC_SERVICE_ACCOUNT_KEY_FILE",
            ),
            ConfigError::Invalid(m) => f.write_str(m),
        }
    }
}

/// The settings for a provider block, its environment and the sandbox override.
pub fn resolve(
    config: &Value,
    env: &Env,
    sandbox: Option<&Sandbox>,
) -> Result<Settings, ConfigError> {
    if let Some(s) = sandbox {
        return Ok(Settings {
            credentials: Credentials::OAuth(s.oauth_token.clone()),
            endpoint: Some(s.endpoint.clone()),
            ca_pem: Some(s.ca_pem.clone()),
            service_hosts: true,
        });
    }
    let token = attr(config, "token");
    let key_file = attr(config, "service_account_key_file");
    if token.is_some() && key_file.is_some() {
        return Err(ConfigError::Invalid(
            "set either `token` or `service_account_key_file` in the yandex provider block, not both"
                .into(),
        ));
    }
    let credentials = if let Some(t) = token {
        Credentials::from_token(&t)
    } else if let Some(k) = key_file {
        Credentials::KeyFile(PathBuf::from(k))
    } else if let Some(t) = &env.iam_token {
        Credentials::Iam(t.clone())
    } else if let Some(t) = &env.token {
        Credentials::from_token(t)
    } else if let Some(k) = &env.service_account_key_file {
        Credentials::KeyFile(PathBuf::from(k))
    } else {
        return Err(ConfigError::NoCredentials);
    };
    let endpoint = attr(config, "endpoint")
        .or_else(|| env.endpoint.clone())
        .map(|e| base_url(&e))
        .filter(|e| !is_default_endpoint(e));
    Ok(Settings {
        credentials,
        endpoint,
        ca_pem: attr(config, "ca_certificate"),
        service_hosts: false,
    })
}

/// Terraform's default endpoint (`api.cloud.yandex.net:443`, its gRPC gateway): the real
/// per-service REST hosts.
fn is_default_endpoint(base: &str) -> bool {
    let host = base.split("://").nth(1).unwrap_or(base);
    matches!(host, "api.cloud.yandex.net" | "api.cloud.yandex.net:443")
}

/// An endpoint as a base URL: `https://` added when no scheme is given, no trailing slash.
pub fn base_url(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.contains("://") {
        e.to_string()
    } else {
        format!("https://{e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: serde_json::Value) -> Value {
        Value::from(json)
    }

    #[test]
    fn credentials_follow_the_block_then_the_environment() {
        let env = Env {
            token: Some("y0_oauth".into()),
            iam_token: Some("t1.fromenv".into()),
            folder_id: Some("b1genvfolder".into()),
            ..Env::default()
        };
        let s = resolve(&cfg(serde_json::json!({"token": "t1.abc"})), &env, None).unwrap();
        assert_eq!(s.credentials, Credentials::Iam("t1.abc".into()));
        let d = defaults(&cfg(serde_json::json!({})), &env, false);
        assert_eq!(d.folder_id.as_deref(), Some("b1genvfolder"));
        let s = resolve(&cfg(serde_json::json!({"token": "AQAAsecret"})), &env, None).unwrap();
        assert_eq!(s.credentials, Credentials::OAuth("AQAAsecret".into()));
        // An empty token (the reference stack's default) counts as unset.
        let s = resolve(&cfg(serde_json::json!({"token": ""})), &env, None).unwrap();
        assert_eq!(s.credentials, Credentials::Iam("t1.fromenv".into()));
        let env2 = Env {
            token: Some("y0_oauth".into()),
            ..Env::default()
        };
        let s = resolve(&cfg(serde_json::json!({})), &env2, None).unwrap();
        assert_eq!(s.credentials, Credentials::OAuth("y0_oauth".into()));
        let s = resolve(
            &cfg(serde_json::json!({"service_account_key_file": "/k.json", "endpoint": "localhost:8443/"})),
            &Env::default(),
            None,
        )
        .unwrap();
        assert_eq!(s.credentials, Credentials::KeyFile("/k.json".into()));
        assert_eq!(s.endpoint.as_deref(), Some("https://localhost:8443"));
        // Terraform's default endpoint means the real hosts.
        let s = resolve(
            &cfg(serde_json::json!({"token": "t1.x", "endpoint": "api.cloud.yandex.net:443"})),
            &Env::default(),
            None,
        )
        .unwrap();
        assert_eq!(s.endpoint, None);
        assert_eq!(
            resolve(&cfg(serde_json::json!({})), &Env::default(), None).unwrap_err(),
            ConfigError::NoCredentials
        );
        assert!(resolve(
            &cfg(serde_json::json!({"token": "a", "service_account_key_file": "b"})),
            &Env::default(),
            None
        )
        .is_err());
    }

    #[test]
    fn sandbox_ignores_the_stack_credentials_but_keeps_folder_and_zone() {
        let sb = Sandbox {
            endpoint: "https://127.0.0.1:1234".into(),
            ca_pem: "PEM".into(),
            oauth_token: "sandbox-oauth".into(),
        };
        let s = resolve(
            &cfg(serde_json::json!({"token": "t1.real", "endpoint": "https://x", "folder_id": "f1", "zone": "ru-central1-b"})),
            &Env::default(),
            Some(&sb),
        )
        .unwrap();
        assert_eq!(s.credentials, Credentials::OAuth("sandbox-oauth".into()));
        assert_eq!(s.endpoint.as_deref(), Some("https://127.0.0.1:1234"));
        let c = cfg(serde_json::json!({"folder_id": "f1", "zone": "ru-central1-b"}));
        let d = defaults(&c, &Env::default(), true);
        assert_eq!(d.folder_id.as_deref(), Some("f1"));
        assert_eq!(d.zone.as_deref(), Some("ru-central1-b"));
        let d = defaults(&cfg(serde_json::json!({})), &Env::default(), true);
        assert_eq!(d.folder_id.as_deref(), Some(SANDBOX_FOLDER));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Credentials::OAuth("AQAAsecret".into());
        assert!(!format!("{c:?}").contains("AQAAsecret"));
        let e = Env {
            token: Some("AQAAsecret".into()),
            ..Env::default()
        };
        assert!(!format!("{e:?}").contains("AQAAsecret"));
        let s = Settings {
            credentials: c,
            endpoint: None,
            ca_pem: None,
            service_hosts: false,
        };
        assert!(!format!("{s:?}").contains("AQAAsecret"));
        assert!(!s.session_key().contains("AQAAsecret"));
    }
}
