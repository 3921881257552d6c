//! `mlstack force-unlock STACK LOCK_ID`: removes a state lock whose holder died (S3 cannot
//! tell), only when LOCK_ID is the id of the lock held now, as Terraform does.

use super::{CliResult, ForceUnlockArgs, Ui};
use crate::state::open_backend_for;
use std::process::ExitCode;

pub fn run(args: &ForceUnlockArgs, _ui: Ui) -> CliResult {
    let stack = crate::stack::load(&args.stack.stack, &super::load_options(&args.stack)?)?;
    let cwd = std::env::current_dir()
        .map_err(|e| format!("cannot determine the working directory: {e}"))?;
    let backend = open_backend_for(
        &stack.backend,
        &stack.name,
        &cwd,
        &args.stack.stack.display().to_string(),
    )?;
    let holder = backend.force_unlock(&args.lock_id)?;
    println!(
        "Removed the state lock {} of {} (operation `{}`). {} is unlocked.",
        holder.id,
        holder.holder(),
        holder.operation,
        backend.describe()
    );
    Ok(ExitCode::SUCCESS)
}
