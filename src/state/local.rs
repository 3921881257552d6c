//! The local backend: one JSON file, by default `.mlstack/<stack name>/state.json` under the
//! working directory, with `state.json.backup` (the previous version) and `state.json.lock`
//! (the OS file lock) beside it, and during an apply `state.json.journal`: the changes saved
//! since the last full write (`journal.rs`), folded into `state.json` when it grows as large as
//! the state and at the end of the apply.

use super::atomic::{create_private_dir, replace_file};
use super::backend::{Backend, LockGuard};
use super::codec::{decode, encode};
use super::crypt::{self, Encryption};
use super::journal::{replay, Entry};
use super::lock::{FileLock, LockInfo};
use super::model::State;
use mlstack_provider_api::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom, Write};
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

    /// The changes saved since the last full write (see `journal.rs`).
    pub fn journal_path(&self) -> PathBuf {
        with_suffix(&self.path, ".journal")
    }

    /// Appends `line` to the journal durably. A torn tail left by a killed run is cut first;
    /// a failed append is cut back, so the journal only ever holds whole entries.
    fn append(&self, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(super::atomic::FILE_MODE)
            .open(self.journal_path())?;
        let mut len = f.seek(SeekFrom::End(0))?;
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                len = whole_entries_len(&mut f, len)?;
                f.set_len(len)?;
            }
        }
        f.seek(SeekFrom::Start(len))?;
        let written = f.write_all(line).and_then(|()| f.sync_data());
        if written.is_err() {
            let _ = f.set_len(len);
        }
        written
    }

    fn shown_journal(&self) -> String {
        format!("{}.journal", self.shown)
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
        let plain = crypt::unseal_stored(self.encryption.as_ref(), bytes, "state", &self.place())?;
        let journal = match std::fs::read(self.journal_path()) {
            Ok(j) => j,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(plain)),
            Err(e) => {
                return Err(format!(
                    "cannot read the state journal {}: {e}",
                    self.shown_journal()
                ))
            }
        };
        // An apply that did not finish (killed) left changes beside the snapshot.
        let mut state = decode(&plain, &self.place(), &self.backup_hint())?;
        let place = format!("state journal {}", self.shown_journal());
        if replay(&mut state, &journal, &place)? == 0 {
            return Ok(Some(plain));
        }
        encode(&state).map(Some)
    }

    fn write_bytes(&self, plain: &[u8]) -> Result<(), String> {
        let bytes = crypt::seal_stored(self.encryption.as_ref(), plain, "state")?;
        replace_file(&self.path, Some(&self.backup_path()), &bytes)
            .map_err(|e| format!("cannot write state file {}: {e}", self.shown))?;
        // The snapshot now holds everything the journal did (its serials are all older).
        match std::fs::remove_file(self.journal_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!(
                "cannot remove the state journal {}: {e}",
                self.shown_journal()
            )),
        }
    }

    fn write_step(&self, state: &mut State, changed: &BTreeSet<String>) -> Result<u64, String> {
        // Encrypted state is always written whole (the journal would be clear text).
        if self.encryption.is_some() {
            return self.write(state);
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        let Some(snapshot) = size(&self.path) else {
            return self.write(state);
        };
        let previous = (state.serial, state.version, state.mlstack_version.clone());
        state.serial = state
            .serial
            .checked_add(1)
            .ok_or_else(|| format!("state serial overflow in {}", self.place()))?;
        let line = Entry::of(state, changed).line()?;
        let journal = size(&self.journal_path()).unwrap_or(0);
        // Folding the journal in once it is as large as the snapshot keeps the bytes written
        // linear in the number of changes.
        if journal + line.len() as u64 > snapshot.max(MIN_JOURNAL) {
            state.serial = previous.0;
            return self.write(state);
        }
        match self.append(&line) {
            Ok(()) => Ok(state.serial),
            Err(e) => {
                (state.serial, state.version, state.mlstack_version) = previous;
                Err(format!(
                    "cannot write the state journal {}: {e}",
                    self.shown_journal()
                ))
            }
        }
    }

    fn compact(&self) -> Result<(), String> {
        if !self.journal_path().exists() {
            return Ok(());
        }
        match self.read_bytes()? {
            Some(bytes) => self.write_bytes(&bytes),
            None => Ok(()),
        }
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

/// The journal may grow to this size before it is folded into a smaller snapshot.
const MIN_JOURNAL: u64 = 256 * 1024;

/// The length of the whole lines at the start of a journal of `len` bytes (a killed append can
/// leave a torn last line).
fn whole_entries_len(f: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut bytes = Vec::with_capacity(len as usize);
    f.seek(SeekFrom::Start(0))?;
    f.read_to_end(&mut bytes)?;
    Ok(bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i as u64 + 1))
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

    fn resource(address: &str) -> crate::state::ResourceState {
        crate::state::ResourceState {
            address: address.into(),
            mode: crate::stack::Mode::Managed,
            type_name: "random_string".into(),
            provider: "random".into(),
            id: None,
            attributes: serde_json::json!({ "result": address }),
            sensitive_attributes: vec![],
            dependencies: vec![],
            prevent_destroy: false,
        }
    }

    fn one(address: &str) -> BTreeSet<String> {
        BTreeSet::from([address.to_string()])
    }

    #[test]
    fn steps_go_to_the_journal_and_read_back_after_a_kill() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        let mut state = State::new();
        b.write(&mut state).unwrap();
        let snapshot = std::fs::read(b.path()).unwrap();
        for a in ["c", "a", "b"] {
            state.upsert(resource(a));
            b.write_step(&mut state, &one(a)).unwrap();
        }
        state.remove("c");
        assert_eq!(b.write_step(&mut state, &one("c")).unwrap(), 5);
        // Steps append: the snapshot is untouched and the journal holds one line per step.
        assert_eq!(std::fs::read(b.path()).unwrap(), snapshot);
        let journal = std::fs::read(b.journal_path()).unwrap();
        assert_eq!(journal.iter().filter(|c| **c == b'\n').count(), 4);
        // A run killed now (no compaction): the next reader sees every acknowledged step.
        assert_eq!(b.read().unwrap().unwrap(), state);

        // A kill in the middle of an append leaves a torn line: ignored, then cut by the next.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(b.journal_path())
            .unwrap();
        f.write_all(br#"{"serial": 6, "lineage""#).unwrap();
        drop(f);
        assert_eq!(b.read().unwrap().unwrap(), state);
        state.upsert(resource("d"));
        b.write_step(&mut state, &one("d")).unwrap();
        assert_eq!(b.read().unwrap().unwrap(), state);

        b.compact().unwrap();
        assert!(!b.journal_path().exists());
        assert_eq!(b.read().unwrap().unwrap(), state);
        let text = String::from_utf8(std::fs::read(b.path()).unwrap()).unwrap();
        assert!(text.contains("\"serial\": 6"), "{text}");
    }

    #[test]
    fn a_journal_as_large_as_the_snapshot_is_folded_in() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        let mut state = State::new();
        b.write(&mut state).unwrap();
        let mut folded = 0;
        for i in 0..3000 {
            let a = format!("r{i:05}");
            state.upsert(resource(&a));
            b.write_step(&mut state, &one(&a)).unwrap();
            if !b.journal_path().exists() {
                folded += 1;
            }
            let journal = std::fs::metadata(b.journal_path()).map_or(0, |m| m.len());
            let snapshot = std::fs::metadata(b.path()).unwrap().len();
            assert!(
                journal <= snapshot.max(MIN_JOURNAL),
                "{i}: {journal} > {snapshot}"
            );
        }
        assert!(folded >= 1, "the journal was never folded in");
        assert_eq!(b.read().unwrap().unwrap(), state);
    }

    #[test]
    fn encrypted_state_is_never_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").unwrap();
        let mut cfg = BTreeMap::new();
        cfg.insert(
            "encryption".to_string(),
            Value::from(serde_json::json!({ "key_file": key.display().to_string() })),
        );
        let b = LocalBackend::from_config(&cfg, "demo", dir.path()).unwrap();
        let mut state = State::new();
        b.write(&mut state).unwrap();
        state.upsert(resource("secret-holder"));
        b.write_step(&mut state, &one("secret-holder")).unwrap();
        assert!(!b.journal_path().exists());
        let raw = std::fs::read(b.path()).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("secret-holder"));
        assert_eq!(b.read().unwrap().unwrap(), state);
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
