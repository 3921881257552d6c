//! Where state lives: the [`Backend`] trait every storage (a local file, an S3 bucket, Kubernetes
//! Secrets) implements, the lock guard, and [`open_backend`] choosing one from the
//! stack's `backend` section.

use super::codec::{decode, encode};
use super::crypt::Encryption;
use super::kubernetes::KubernetesBackend;
use super::local::LocalBackend;
use super::lock::LockInfo;
use super::model::{State, STATE_VERSION};
use super::s3::S3Backend;
use crate::stack::BackendDecl;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// Backend kinds this build can open.
pub const BACKEND_KINDS: &[&str] = &["local", "s3", "kubernetes"];

/// A place that stores one stack's state and guards it with a lock.
///
/// Backends move bytes ([`Backend::read_bytes`], [`Backend::write_bytes`]: the state's JSON in
/// clear, encrypted on the way in and decrypted on the way out when the backend has
/// `encryption`); [`Backend::read`] and [`Backend::write`] add the state format and the serial
/// discipline on top, the same for every backend.
///
/// Serial discipline: [`Backend::write`] is the only place `serial` increases. Callers read,
/// change resources and outputs, and hand the state back; they never touch `serial` themselves.
/// Writers are expected to hold the lock ([`Backend::lock`]) for the whole read-change-write.
pub trait Backend: Send + Sync {
    /// For messages: `local state .mlstack/demo/state.json`, `s3 state s3://bucket/key (...)`.
    /// Two backends with the same description store the same state (and share its lock).
    fn describe(&self) -> String;

    /// Where the state is read from, for error messages: `state file ...`, `state object ...`.
    fn place(&self) -> String;

    /// Where an older copy is kept, said for a user who must repair by hand.
    fn backup_hint(&self) -> String;

    /// The backend's effective, non-secret settings (`kind` included), as recorded in
    /// `.mlstack/<stack>/backend.json` to notice when a stack moves to another backend.
    fn identity(&self) -> serde_json::Value;

    /// The encryption applied to state (and to plans saved for this stack), if any.
    fn encryption(&self) -> Option<&Encryption>;

    /// The stored state as clear JSON bytes (decrypted); `None` when nothing was ever
    /// written. An undecryptable blob (wrong or missing key) is an error naming the place, and
    /// nothing is changed.
    fn read_bytes(&self) -> Result<Option<Vec<u8>>, String>;

    /// Stores `plain` (clear JSON state bytes, already checked by the caller) as the state,
    /// encrypted when configured, keeping the previous version as a backup. On failure the
    /// previously stored state is intact.
    fn write_bytes(&self, plain: &[u8]) -> Result<(), String>;

    /// Takes the lock, waiting up to `timeout` (`Duration::ZERO`: fail at once). When another
    /// run holds it the error names that holder. The lock is released when the guard drops.
    fn lock(&self, holder: &LockInfo, timeout: Duration) -> Result<LockGuard, String>;

    /// Removes a lock left behind by a run that died (a killed CI job), only when `id` is the
    /// id of the lock held now; returns who held it.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, String>;

    /// The stored state; `None` when nothing was ever written. A corrupt or too-new state is an
    /// error naming the place (and its backup), and the stored data is left untouched.
    fn read(&self) -> Result<Option<State>, String> {
        match self.read_bytes()? {
            None => Ok(None),
            Some(bytes) => decode(&bytes, &self.place(), &self.backup_hint()).map(Some),
        }
    }

    /// Stores `state` after an apply step that changed the `changed` addresses (outputs are
    /// always included), with [`Backend::write`]'s serial discipline. The default writes the
    /// whole state; the local backend appends the change to a journal, so that saving after
    /// every resource does not make an apply quadratic.
    fn write_step(&self, state: &mut State, changed: &BTreeSet<String>) -> Result<u64, String> {
        let _ = changed;
        self.write(state)
    }

    /// Folds what [`Backend::write_step`] journaled into one stored snapshot (at the end of an
    /// apply, killed or not). Backends without a journal have nothing to do.
    fn compact(&self) -> Result<(), String> {
        Ok(())
    }

    /// Stores `state` as the next version: on success `state.serial` has been increased by one
    /// and `state.mlstack_version` stamped, and the new serial is returned. On failure the
    /// serial is not bumped and the previously stored state is intact. (Resources are sorted by
    /// address before writing, for deterministic files.)
    fn write(&self, state: &mut State) -> Result<u64, String> {
        let previous = (state.serial, state.version, state.mlstack_version.clone());
        let next = state
            .serial
            .checked_add(1)
            .ok_or_else(|| format!("state serial overflow in {}", self.place()))?;
        state.serial = next;
        state.version = STATE_VERSION;
        state.mlstack_version = env!("CARGO_PKG_VERSION").to_string();
        state.resources.sort_by(|a, b| a.address.cmp(&b.address));
        match encode(state).and_then(|bytes| self.write_bytes(&bytes)) {
            Ok(()) => Ok(next),
            Err(e) => {
                (state.serial, state.version, state.mlstack_version) = previous;
                Err(e)
            }
        }
    }
}

/// What one save during an apply changed: the addresses recorded or forgotten since the last
/// save, or `None` for a save of everything (outputs recomputed, data sources pruned).
pub type Changed<'a> = Option<&'a BTreeSet<String>>;

/// Proof that the state lock is held; dropping it releases the lock.
pub struct LockGuard {
    info: LockInfo,
    /// Whatever the backend needs to keep alive; its `Drop` releases the lock.
    _held: Box<dyn std::any::Any + Send + Sync>,
}

impl LockGuard {
    /// Wraps a backend's lock handle, whose `Drop` releases the lock.
    pub fn new(info: LockInfo, held: Box<dyn std::any::Any + Send + Sync>) -> LockGuard {
        LockGuard { info, _held: held }
    }

    /// Who holds it (this run).
    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("info", &self.info)
            .finish()
    }
}

/// Opens the backend a stack declares. `base_dir` is the working directory, under which the
/// local backend keeps `.mlstack/<stack name>/state.json` (relative `path` and `key_file`
/// settings are taken from there too).
pub fn open_backend(
    decl: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
) -> Result<Box<dyn Backend>, String> {
    open_backend_for(decl, stack_name, base_dir, "STACK")
}

/// [`open_backend`], with the stack file as the user names it (`stack_arg`), for the commands
/// that messages suggest (`mlstack force-unlock stack.yaml ID`).
pub fn open_backend_for(
    decl: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
    stack_arg: &str,
) -> Result<Box<dyn Backend>, String> {
    match decl.kind.as_str() {
        "local" => Ok(Box::new(LocalBackend::from_config(
            &decl.config,
            stack_name,
            base_dir,
        )?)),
        "s3" => Ok(Box::new(S3Backend::from_config(
            &decl.config,
            stack_name,
            base_dir,
            stack_arg,
        )?)),
        "kubernetes" => Ok(Box::new(KubernetesBackend::from_config(
            &decl.config,
            stack_name,
            base_dir,
            stack_arg,
        )?)),
        other => Err(format!(
            "unknown state backend kind `{other}`; allowed kinds: {}",
            BACKEND_KINDS.join(", ")
        )),
    }
}
