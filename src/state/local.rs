//! The local backend: one JSON file, by default `.mlstack/<stack name>/state.json` under the
//! working directory, with `state.json.backup` (the previous version) and `state.json.lock`
//! (the OS file lock) beside it.

use super::atomic::{create_private_dir, replace_file};
use super::backend::{Backend, LockGuard};
use super::crypt::{self, Encryption};
use super::lock::{FileLock, LockInfo};
use mlstack_provider_api::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Settings the `local` backend accepts.
pub const LOCAL_SETTINGS: &[&str] = &["path", "encryption"];

/// State in a file on this machine.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    path: PathBuf,
    /// The path as shown to users (relative to the working directory when inside it).
    shown: String,
    encryption: Option<Encryption>,
}

impl LocalBackend {
    /// A backend on the state file at `path`.
    pub fn new(path: PathBuf) -> LocalBackend {
        let shown = path.display().to_string();
        LocalBackend {
            path,
            shown,
            encryption: None,
        }
    }

    /// The same file, encrypted at rest with `encryption`.
    pub fn with_encryption(mut self, encryption: Option<Encryption>) -> LocalBackend {
        self.encryption = encryption;
        self
    }

    /// From the stack's `backend` settings: `path` (relative to `base_dir`) or the default
    /// `.mlstack/<stack name>/state.json`.
    pub fn from_config(
        config: &BTreeMap<String, Value>,
        stack_name: &str,
        base_dir: &Path,
    ) -> Result<LocalBackend, String> {
        if let Some(key) = config
            .keys()
            .find(|k| !LOCAL_SETTINGS.contains(&k.as_str()))
        {
            let hint = crate::diag::did_you_mean(key, LOCAL_SETTINGS.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "the local state backend has no setting `{key}`{hint}; allowed: {}",
                LOCAL_SETTINGS.join(", ")
            ));
        }
        let path = match config.get("path") {
            Some(v) => match v.as_str() {
                Some(p) if !p.trim().is_empty() => base_dir.join(p),
                _ => {
                    return Err(
                        "the local state backend's `path` must be a non-empty string".to_string(),
                    )
                }
            },
            None => Self::default_path(stack_name, base_dir)?,
        };
        let shown = path
            .strip_prefix(base_dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let encryption = crypt::from_backend_config(config, base_dir)?;
        Ok(LocalBackend {
            path,
            shown,
            encryption,
        })
    }

    /// `<base_dir>/.mlstack/<stack name>/state.json`; the name must be a label value so that it
    /// cannot leave `.mlstack/`.
    pub fn default_path(stack_name: &str, base_dir: &Path) -> Result<PathBuf, String> {
        if !is_label_value(stack_name) {
            return Err(format!(
                "stack name `{stack_name}` cannot name a state directory: use lowercase letters, \
                 digits and `-` (at most 63 characters)"
            ));
        }
        Ok(base_dir
            .join(".mlstack")
            .join(stack_name)
            .join("state.json"))
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The previous version, kept on every write.
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    /// The file the OS lock is taken on (and the holder recorded in).
    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    fn shown_backup(&self) -> String {
        format!("{}.backup", self.shown)
    }
}

impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("local state {}", self.shown)
    }

    fn place(&self) -> String {
        format!("state file {}", self.shown)
    }

    fn backup_hint(&self) -> String {
        if self.backup_path().exists() {
            format!(
                "The previous version is {}: check it, then copy it over {} to restore it.",
                self.shown_backup(),
                self.shown
            )
        } else {
            format!(
                "There is no previous version ({} does not exist).",
                self.shown_backup()
            )
        }
    }

    fn identity(&self) -> serde_json::Value {
        let mut id = serde_json::json!({"kind": "local", "path": self.shown});
        if let Some(e) = &self.encryption {
            id["encryption"] = e.source().to_config();
        }
        id
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn read_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read state file {}: {e}", self.shown)),
        };
        crypt::unseal_stored(self.encryption.as_ref(), bytes, "state", &self.place()).map(Some)
    }

    fn write_bytes(&self, plain: &[u8]) -> Result<(), String> {
        let bytes = crypt::seal_stored(self.encryption.as_ref(), plain, "state")?;
        replace_file(&self.path, Some(&self.backup_path()), &bytes)
            .map_err(|e| format!("cannot write state file {}: {e}", self.shown))
    }

    fn lock(&self, holder: &LockInfo, timeout: Duration) -> Result<LockGuard, String> {
        let lock_path = self.lock_path();
        if let Some(dir) = lock_path.parent() {
            create_private_dir(dir)
                .map_err(|e| format!("cannot create the state directory {}: {e}", dir.display()))?;
        }
        let lock = FileLock::acquire(&lock_path, holder, timeout)?;
        Ok(LockGuard::new(holder.clone(), Box::new(lock)))
    }

    fn force_unlock(&self, _id: &str) -> Result<LockInfo, String> {
        // An OS file lock dies with its holder: if it is held, its holder is alive.
        let probe = LockInfo::for_this_process("force-unlock");
        match self.lock(&probe, Duration::ZERO) {
            Ok(_released_on_drop) => Err(format!(
                "{} is not locked; nothing to unlock",
                self.describe()
            )),
            Err(held) => Err(format!(
                "{held}.\nThe local lock is an OS file lock: it is released when its holder exits \
                 (even when killed), so it cannot be stale and is never forced. Stop that \
                 process instead."
            )),
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A Kubernetes label value: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn is_label_value(name: &str) -> bool {
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && ok_char(b[0])
        && ok_char(b[b.len() - 1])
        && b.iter().all(|&c| ok_char(c) || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values() {
        assert!(is_label_value("demo"));
        assert!(is_label_value("fraud-detection-1"));
        assert!(!is_label_value("../etc"));
        assert!(!is_label_value("-a"));
        assert!(!is_label_value("Demo"));
        assert!(!is_label_value(""));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn default_and_configured_paths() {
        let b = LocalBackend::from_config(&BTreeMap::new(), "demo", Path::new(".")).unwrap();
        assert_eq!(b.describe(), "local state .mlstack/demo/state.json");
        let mut cfg = BTreeMap::new();
        cfg.insert("path".to_string(), Value::from("custom/s.json"));
        let b = LocalBackend::from_config(&cfg, "demo", Path::new("/work")).unwrap();
        assert_eq!(b.path(), Path::new("/work/custom/s.json"));
        assert_eq!(b.lock_path(), Path::new("/work/custom/s.json.lock"));
        assert_eq!(b.describe(), "local state custom/s.json");
        cfg.insert("paht".to_string(), Value::from("x"));
        let err = LocalBackend::from_config(&cfg, "demo", Path::new(".")).unwrap_err();
        assert!(err.contains("did you mean `path`"), "{err}");
    }
}
