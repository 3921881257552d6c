//! The kubernetes backend's settings: checked, and turned into where the state lives (the
//! [`Layout`]), what is recorded about it, and the connection to its cluster (named by the
//! settings, the sandbox with `--sandbox`, or the default kubeconfig).

use super::super::crypt::{self, Encryption};
use super::store::{Layout, PART_BYTES};
use mlstack_provider_api::Value;
use mlstack_provider_kubernetes::{Conn, MANAGED_BY_LABEL, STACK_LABEL};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

/// Settings the `kubernetes` backend accepts.
pub const KUBERNETES_SETTINGS: &[&str] = &[
    "secret_suffix",
    "namespace",
    "labels",
    "config_path",
    "config_context",
    "host",
    "cluster_ca_certificate",
    "token",
    "insecure",
    "encryption",
];

/// Settings never recorded in `backend.json` (a credential, and what goes with it): opening
/// the recorded backend takes them from the stack file.
pub const CREDENTIAL_SETTINGS: &[&str] = &["token", "cluster_ca_certificate", "insecure"];

/// Settings that name the cluster; without any, the cluster is the sandbox (`--sandbox`) or
/// the default kubeconfig.
const CONNECTION_SETTINGS: &[&str] = &["host", "config_path", "config_context"];

const UNSET: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

/// Whether this run was given `--sandbox` (a property of the run, not of the stack file, so it
/// is set once by the CLI rather than passed through every caller of `open_backend`).
static SANDBOX: AtomicU8 = AtomicU8::new(UNSET);

/// Called by commands that take `--sandbox` (plan, apply, destroy): with it, a kubernetes
/// backend without connection settings keeps its state in the working directory's sandbox
/// (started when not running). Commands without the flag (`state pull`, `force-unlock`, ...)
/// follow what the working copy recorded when it last used the backend.
pub fn use_sandbox(on: bool) {
    SANDBOX.store(if on { ON } else { OFF }, Ordering::SeqCst);
}

/// What the settings resolve to.
pub struct Resolved {
    pub layout: Layout,
    /// The settings that say where the state is (for `Backend::identity`).
    pub settings: BTreeMap<String, serde_json::Value>,
    pub conn: Conn,
    pub sandbox: bool,
    pub encryption: Option<Encryption>,
}

/// An unknown setting, with the nearest one (or the Terraform name of a provider-block name).
fn setting_error(key: &str) -> String {
    let hint = match key {
        "kubeconfig" => Some("did you mean `config_path`?".to_string()),
        "context" => Some("did you mean `config_context`?".to_string()),
        _ => crate::diag::did_you_mean(key, KUBERNETES_SETTINGS.iter().copied()),
    }
    .map(|h| format!(" ({h})"))
    .unwrap_or_default();
    format!(
        "the kubernetes state backend has no setting `{key}`{hint}; allowed: {}",
        KUBERNETES_SETTINGS.join(", ")
    )
}

/// Checks the settings and finds the cluster; `sandbox` is what a record says (`None`: decide
/// from `--sandbox`, or from the working copy's record for commands without the flag).
pub fn resolve(
    config: &BTreeMap<String, Value>,
    stack_name: &str,
    base_dir: &Path,
    sandbox: Option<bool>,
) -> Result<Resolved, String> {
    if let Some(key) = config
        .keys()
        .find(|k| !KUBERNETES_SETTINGS.contains(&k.as_str()))
    {
        return Err(setting_error(key));
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match config.get(k).map(Value::unmarked) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                _ => Err(format!(
                    "the kubernetes state backend's `{k}` must be a non-empty string"
                )),
            },
        }
    };
    let namespace = text("namespace")?.unwrap_or_else(|| "default".into());
    if !mlstack_provider_kubernetes::is_dns_label(&namespace) {
        return Err(format!(
            "the kubernetes state backend's `namespace` `{namespace}` is not a namespace \
             name (lower-case letters, digits and `-`, at most 63)"
        ));
    }
    let suffix = text("secret_suffix")?.unwrap_or_else(|| stack_name.to_string());
    check_suffix(&suffix)?;
    let labels = labels(config.get("labels"), stack_name)?;
    let encryption = crypt::from_backend_config(config, base_dir)?;

    let mut settings = BTreeMap::new();
    settings.insert("namespace".to_string(), namespace.clone().into());
    settings.insert("secret_suffix".to_string(), suffix.clone().into());
    for k in CONNECTION_SETTINGS {
        if let Some(v) = text(k)? {
            settings.insert(k.to_string(), v.into());
        }
    }
    let named = CONNECTION_SETTINGS
        .iter()
        .any(|k| settings.contains_key(*k));
    let sandbox = !named
        && match sandbox {
            Some(s) => s,
            None => match SANDBOX.load(Ordering::SeqCst) {
                ON => true,
                OFF => false,
                _ => recorded_in_sandbox(stack_name, base_dir, &settings),
            },
        };
    let conn = if sandbox {
        settings.insert("sandbox".to_string(), true.into());
        sandbox_conn(base_dir)?
    } else {
        cluster_conn(config, &text, base_dir)?
    };
    Ok(Resolved {
        layout: Layout {
            namespace,
            suffix,
            labels,
            part_bytes: PART_BYTES,
        },
        settings,
        conn,
        sandbox,
        encryption,
    })
}

/// Secret names are `mlstack-state-<suffix>-<generation>-part-<i>` at most: DNS subdomains of
/// at most 253 characters.
fn check_suffix(suffix: &str) -> Result<(), String> {
    if suffix.len() > 200 || !mlstack_provider_kubernetes::is_dns_subdomain(suffix) {
        return Err(format!(
            "the kubernetes state backend's `secret_suffix` `{suffix}` must be lower-case \
             letters, digits, `-` and `.`, starting and ending with a letter or digit, at most \
             200 characters (the Secret is `mlstack-state-<suffix>`)"
        ));
    }
    Ok(())
}

/// The user's `labels` with ours (managed-by, stack) added; ours cannot be overridden.
fn labels(v: Option<&Value>, stack_name: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if let Some(v) = v.map(Value::unmarked).filter(|v| !matches!(v, Value::Null)) {
        let map = v
            .as_map()
            .ok_or("the kubernetes state backend's `labels` must be a map of strings")?;
        for (k, v) in map {
            let text = v.unmarked().as_str().ok_or_else(|| {
                format!("the kubernetes state backend's label `{k}` must be a string")
            })?;
            if !mlstack_provider_kubernetes::is_label_key(k)
                || !mlstack_provider_kubernetes::is_label_value(text)
            {
                return Err(format!(
                    "the kubernetes state backend's label `{k}: {text}` is not a valid \
                     Kubernetes label"
                ));
            }
            if k == MANAGED_BY_LABEL || k == STACK_LABEL {
                return Err(format!(
                    "the kubernetes state backend's label `{k}` is set by mlstack; choose \
                     another key"
                ));
            }
            out.insert(k.clone(), text.to_string());
        }
    }
    out.insert(MANAGED_BY_LABEL.to_string(), "mlstack".to_string());
    out.insert(STACK_LABEL.to_string(), stack_name.to_string());
    Ok(out)
}

/// Whether the working copy last kept this state in the sandbox (same namespace and suffix).
fn recorded_in_sandbox(
    stack_name: &str,
    base_dir: &Path,
    settings: &BTreeMap<String, serde_json::Value>,
) -> bool {
    let Ok(Some(rec)) = super::super::record::recorded(stack_name, base_dir) else {
        return false;
    };
    rec["kind"] == "kubernetes"
        && rec["sandbox"] == true
        && rec["namespace"] == settings["namespace"]
        && rec["secret_suffix"] == settings["secret_suffix"]
}

/// The standalone sandbox API of the working directory; started when `--sandbox` was given.
fn sandbox_conn(base_dir: &Path) -> Result<Conn, String> {
    let dir = crate::sandbox::dir(base_dir);
    let running = match crate::sandbox::running(&dir) {
        Some(r) => r,
        None if SANDBOX.load(Ordering::SeqCst) == ON => {
            crate::sandbox::start_detached(&dir, &[])
                .map_err(|e| format!("cannot start the sandbox: {e}"))?
                .0
        }
        None => {
            return Err(
                "this working copy keeps the state in its sandbox, which is not running: \
                 start it with `mlstack sandbox up` (or run the command with --sandbox)"
                    .into(),
            )
        }
    };
    let k = &running.kubernetes;
    Ok(Conn::new(&k.endpoint, &k.ca_pem, &k.token))
}

/// The cluster the settings name, or the default kubeconfig (`KUBECONFIG`, `~/.kube/config`)
/// or the pod's service account, as the kubernetes provider finds it.
fn cluster_conn(
    config: &BTreeMap<String, Value>,
    text: &dyn Fn(&str) -> Result<Option<String>, String>,
    base_dir: &Path,
) -> Result<Conn, String> {
    let host = text("host")?;
    if host.is_none()
        && (config.contains_key("token") || config.contains_key("cluster_ca_certificate"))
    {
        return Err(
            "the kubernetes state backend's `token` and `cluster_ca_certificate` go with `host`"
                .into(),
        );
    }
    let mut provider = Value::map();
    let mut set = |k: &str, v: Value| {
        provider.set_path(&mlstack_provider_api::parse_path(k), v);
    };
    if let Some(h) = host {
        set("host", h.into());
        for k in ["cluster_ca_certificate", "token"] {
            if let Some(v) = config.get(k) {
                set(k, v.clone());
            }
        }
    }
    if let Some(p) = text("config_path")? {
        let path = if p.starts_with('~') || Path::new(&p).is_absolute() {
            p
        } else {
            base_dir.join(p).display().to_string()
        };
        set("kubeconfig", path.into());
    }
    if let Some(c) = text("config_context")? {
        set("context", c.into());
    }
    match config.get("insecure").map(Value::unmarked) {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => set("insecure", Value::Bool(*b)),
        Some(_) => {
            return Err("the kubernetes state backend's `insecure` must be true or false".into())
        }
    }
    mlstack_provider_kubernetes::from_config(&provider).map_err(|e| {
        let e = e.replace(
            "set `host` or `kubeconfig` in the kubernetes provider block",
            "set `host` or `config_path` in the kubernetes backend",
        );
        format!("the kubernetes state backend cannot find its cluster: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_with_hints() {
        assert!(setting_error("kubeconfig").contains("did you mean `config_path`"));
        assert!(setting_error("namespcae").contains("did you mean `namespace`"));
        assert!(check_suffix("demo").is_ok());
        assert!(check_suffix("Demo").is_err());
        assert!(check_suffix(&"a".repeat(201)).is_err());
        let l = labels(None, "demo").unwrap();
        assert_eq!(l[MANAGED_BY_LABEL], "mlstack");
        assert_eq!(l[STACK_LABEL], "demo");
        let mut m = BTreeMap::new();
        m.insert(MANAGED_BY_LABEL.to_string(), Value::from("me"));
        assert!(labels(Some(&Value::Map(m)), "demo").is_err());
    }
}
