//! Where state lives: the [`Backend`] trait every storage (local file now; S3 and Kubernetes
//! later) implements, the lock guard, and [`open_backend`] choosing one from the stack's
//! `backend` section.

use super::local::LocalBackend;
use super::lock::LockInfo;
use super::model::State;
use crate::stack::BackendDecl;
use std::path::Path;
use std::time::Duration;

/// Backend kinds this build can open.
pub const BACKEND_KINDS: &[&str] = &["local"];

/// A place that stores one stack's state and guards it with a lock.
///
/// Serial discipline: [`Backend::write`] is the only place `serial` increases. Callers read,
/// change resources and outputs, and hand the state back; they never touch `serial` themselves.
/// Writers are expected to hold the lock ([`Backend::lock`]) for the whole read-change-write.
pub trait Backend: Send + Sync {
    /// For messages: `local state .mlstack/demo/state.json`.
    fn describe(&self) -> String;

    /// The stored state; `None` when nothing was ever written. A corrupt or too-new state is an
    /// error naming the place (and its backup), and the stored data is left untouched.
    fn read(&self) -> Result<Option<State>, String>;

    /// Stores `state` as the next version: on success `state.serial` has been increased by one
    /// and `state.mlstack_version` stamped, and the new serial is returned. On failure `state` is
    /// unchanged and the previously stored state is intact.
    fn write(&self, state: &mut State) -> Result<u64, String>;

    /// Takes the lock, waiting up to `timeout` (`Duration::ZERO`: fail at once). When another
    /// run holds it the error names that holder. The lock is released when the guard drops,
    /// and never outlives the holding process.
    fn lock(&self, holder: &LockInfo, timeout: Duration) -> Result<LockGuard, String>;
}

/// Proof that the state lock is held; dropping it releases the lock.
pub struct LockGuard {
    info: LockInfo,
    /// Whatever the backend needs to keep alive; its `Drop` releases the lock.
    _held: Box<dyn std::any::Any + Send>,
}

impl LockGuard {
    /// Wraps a backend's lock handle, whose `Drop` releases the lock.
    pub fn new(info: LockInfo, held: Box<dyn std::any::Any + Send>) -> LockGuard {
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
/// local backend keeps `.mlstack/<stack name>/state.json` (relative `path` settings are taken
/// from there too).
pub fn open_backend(
    decl: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
) -> Result<Box<dyn Backend>, String> {
    match decl.kind.as_str() {
        "local" => Ok(Box::new(LocalBackend::from_config(
            &decl.config,
            stack_name,
            base_dir,
        )?)),
        "s3" | "kubernetes" => Err(format!(
            "the `{}` state backend is not available in this build yet; allowed kinds: {}",
            decl.kind,
            BACKEND_KINDS.join(", ")
        )),
        other => Err(format!(
            "unknown state backend kind `{other}`; allowed kinds: {}",
            BACKEND_KINDS.join(", ")
        )),
    }
}
