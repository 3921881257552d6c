//! `mlstack state migrate`: moving a stack's state from the backend this working copy last
//! used (see [`super::record`]) to the one the stack file now names, without loss: both are
//! locked, the clear bytes are copied as they are (re-encrypted when the new backend encrypts),
//! read back and compared byte for byte before the new backend is recorded.

use super::backend::Backend;
use super::codec::decode;
use super::lock::LockInfo;
use super::record::{open_recorded, record, recorded};
use crate::stack::BackendDecl;
use std::path::Path;
use std::time::Duration;

/// What a migration did.
#[derive(Debug)]
pub enum Migrated {
    /// The recorded backend is already the stack's.
    AlreadyThere { backend: String },
    /// The previous backend held no state: only the record changed.
    NothingToCopy { from: String, to: String },
    /// The state was copied and verified.
    Copied {
        from: String,
        to: String,
        serial: u64,
        lineage: String,
        bytes: usize,
    },
}

/// Migrates the stack's state to its declared backend. With `force`, a different state
/// already in the new backend is overwritten (it stays in the new backend's backup).
pub fn migrate(
    decl: &BackendDecl,
    stack_name: &str,
    base_dir: &Path,
    stack_arg: &str,
    lock_timeout: Duration,
    force: bool,
) -> Result<Migrated, String> {
    let to = super::open_backend_for(decl, stack_name, base_dir, stack_arg)?;
    let Some(old) = recorded(stack_name, base_dir)? else {
        record(stack_name, base_dir, to.as_ref())?;
        return Ok(Migrated::AlreadyThere {
            backend: to.describe(),
        });
    };
    if old == to.identity() {
        return Ok(Migrated::AlreadyThere {
            backend: to.describe(),
        });
    }
    let from = open_recorded(&old, decl, stack_name, base_dir, stack_arg)
        .map_err(|e| format!("cannot open the previous backend: {e}"))?;
    let holder = LockInfo::for_this_process("state migrate");
    let _from_lock = from.lock(&holder, lock_timeout)?;
    // The same place with other settings (encryption added): one lock covers both.
    let _to_lock = if from.describe() == to.describe() {
        None
    } else {
        Some(to.lock(&holder, lock_timeout)?)
    };
    let Some(plain) = from.read_bytes()? else {
        record(stack_name, base_dir, to.as_ref())?;
        return Ok(Migrated::NothingToCopy {
            from: from.describe(),
            to: to.describe(),
        });
    };
    let state = decode(&plain, &from.place(), &from.backup_hint())?;
    if from.describe() != to.describe() {
        refuse_overwrite(to.as_ref(), &plain, &state, force)?;
    }
    to.write_bytes(&plain)?;
    match to.read_bytes()? {
        Some(back) if back == plain => {}
        _ => {
            return Err(format!(
                "the copy in {} does not read back identical to the original; the previous \
                 backend {} is unchanged and still recorded",
                to.describe(),
                from.describe()
            ))
        }
    }
    if from.describe() == to.describe() && to.encryption().is_some() {
        // Encryption added in place: write once more so that the backup (the clear previous
        // version) is replaced by an encrypted copy too.
        to.write_bytes(&plain)?;
    }
    record(stack_name, base_dir, to.as_ref())?;
    Ok(Migrated::Copied {
        from: from.describe(),
        to: to.describe(),
        serial: state.serial,
        lineage: state.lineage,
        bytes: plain.len(),
    })
}

/// A state already in the destination is replaced only when it is the same bytes, or with
/// `force`.
fn refuse_overwrite(
    to: &dyn Backend,
    plain: &[u8],
    state: &super::State,
    force: bool,
) -> Result<(), String> {
    let existing = match to.read_bytes() {
        Ok(e) => e,
        Err(e) if force => {
            eprintln!("Warning: overwriting an unreadable state ({e})");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    match existing {
        None => Ok(()),
        Some(bytes) if bytes == plain || force => Ok(()),
        Some(bytes) => {
            let what = decode(&bytes, &to.place(), "")
                .map(|s| format!("serial {}, lineage {}", s.serial, s.lineage))
                .unwrap_or_else(|_| "unreadable".into());
            Err(format!(
                "{} already holds a different state ({what}); the state to migrate is serial \
                 {}, lineage {}. Nothing was changed. Pass --force to overwrite it (its \
                 current content is kept as the backup).",
                to.describe(),
                state.serial,
                state.lineage
            ))
        }
    }
}
