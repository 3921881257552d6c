//! `mlstack state pull|push|migrate`: moving state out of, into and between backends.

use super::{CliError, CliResult, StateListArgs, StateMigrateArgs, StatePushArgs};
use crate::state::{crypt, decode, encode, migrate as run_migration, LockInfo, Migrated};
use std::io::Write;
use std::process::ExitCode;

/// Prints the stored state's JSON, decrypted (it holds secrets: redirect it to a private file).
pub fn pull(args: &StateListArgs) -> CliResult {
    let (_, backend) = super::state::open(&args.stack)?;
    let Some(bytes) = backend.read_bytes()? else {
        return Err(CliError::Message(format!(
            "no state recorded yet ({})",
            backend.describe()
        )));
    };
    // Checked before printing: a corrupt blob is an error, not output.
    decode(&bytes, &backend.place(), &backend.backup_hint())?;
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write the state to standard output: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Replaces the stored state with a file, under the lock. Another lineage, or a serial that
/// is not newer than the stored one, is refused unless `--force`; a forced push of an older
/// serial is stored with the next serial, so that plans made against the replaced state are
/// stale.
pub fn push(args: &StatePushArgs) -> CliResult {
    let (_, backend) = super::state::open(&args.stack)?;
    let shown = args.file.display().to_string();
    let raw = std::fs::read(&args.file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let place = format!("state file {shown}");
    let mut plain = match crypt::envelope(&raw) {
        Some(env) => match backend.encryption() {
            Some(enc) => enc.open(&env, "state", &place)?,
            None => {
                return Err(CliError::Message(format!(
                    "{shown} is encrypted and this stack's backend has no encryption key; push \
                     the clear JSON that `mlstack state pull` prints"
                )))
            }
        },
        None => raw,
    };
    let mut pushed = decode(&plain, &place, "")?;
    let _lock = backend.lock(&LockInfo::for_this_process("state push"), args.lock_timeout)?;
    if let Some(current) = backend.read()? {
        let mut problems = Vec::new();
        if current.lineage != pushed.lineage {
            problems.push(format!(
                "its lineage {} is not the stored state's {} (it is another stack's state, or \
                 a state created anew)",
                pushed.lineage, current.lineage
            ));
        }
        if pushed.serial <= current.serial {
            problems.push(format!(
                "its serial {} is not newer than the stored state's {}",
                pushed.serial, current.serial
            ));
        }
        if !problems.is_empty() && !args.force {
            return Err(CliError::Message(format!(
                "refusing to push {shown} over {}: {}. Nothing was changed; pass --force to \
                 replace it anyway (the replaced state is kept as the backup).",
                backend.describe(),
                problems.join("; and ")
            )));
        }
        if pushed.serial <= current.serial {
            pushed.serial = current.serial + 1;
            plain = encode(&pushed)?;
        }
    }
    backend.write_bytes(&plain)?;
    println!(
        "Pushed {shown} to {} (serial {}, lineage {}).",
        backend.describe(),
        pushed.serial,
        pushed.lineage
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies the state from the recorded backend to the stack's.
pub fn migrate(args: &StateMigrateArgs) -> CliResult {
    let stack = crate::stack::load(&args.stack.stack, &super::load_options(&args.stack)?)?;
    let cwd = std::env::current_dir()
        .map_err(|e| format!("cannot determine the working directory: {e}"))?;
    let done = run_migration(
        &stack.backend,
        &stack.name,
        &cwd,
        &args.stack.stack.display().to_string(),
        args.lock_timeout,
        args.force,
    )?;
    match done {
        Migrated::AlreadyThere { backend } => {
            println!("Nothing to migrate: this working copy already uses {backend}.")
        }
        Migrated::NothingToCopy { from, to } => {
            println!("{from} holds no state; now using {to}.")
        }
        Migrated::Copied {
            from,
            to,
            serial,
            lineage,
            bytes,
        } => {
            println!(
                "Copied the state (serial {serial}, lineage {lineage}, {bytes} bytes) from \
                 {from} to {to} and read it back identical. This working copy now uses {to}."
            );
            if from != to {
                println!(
                    "The old copy in {from} was left in place; delete it once you are satisfied."
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
