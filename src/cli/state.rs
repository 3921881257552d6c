//! `mlstack state list|show|rm|mv`: inspect and repair recorded state. The stack file is read
//! only for the stack's name and backend; `rm` and `mv` take the state lock.

use super::{
    CliError, CliResult, StackArgs, StateAddrArgs, StateCommand, StateListArgs, StateMvArgs, Ui,
};
use crate::stack::Stack;
use crate::state::{
    move_address, not_in_state, open_checked, remove_address, Backend, LockInfo, State,
};
use std::process::ExitCode;

pub fn run(cmd: &StateCommand, _ui: Ui) -> CliResult {
    match cmd {
        StateCommand::List(a) => list(a),
        StateCommand::Show(a) => show(a),
        StateCommand::Rm(a) => rm(a),
        StateCommand::Mv(a) => mv(a),
        StateCommand::Pull(a) => super::state_transfer::pull(a),
        StateCommand::Push(a) => super::state_transfer::push(a),
        StateCommand::Migrate(a) => super::state_transfer::migrate(a),
    }
}

/// Loads the stack and opens the backend it declares (state under the working directory).
pub(super) fn open(args: &StackArgs) -> Result<(Stack, Box<dyn Backend>), CliError> {
    let stack = crate::stack::load(&args.stack, &super::load_options(args)?)?;
    let cwd = std::env::current_dir()
        .map_err(|e| format!("cannot determine the working directory: {e}"))?;
    let backend = open_checked(
        &stack.backend,
        &stack.name,
        &cwd,
        &args.stack.display().to_string(),
    )?;
    Ok((stack, backend))
}

/// The recorded state, or an error saying there is none yet.
fn existing(backend: &dyn Backend) -> Result<State, CliError> {
    backend.read()?.ok_or_else(|| {
        CliError::Message(format!(
            "no state recorded yet ({}); run `mlstack apply` first",
            backend.describe()
        ))
    })
}

fn list(args: &StateListArgs) -> CliResult {
    let (_, backend) = open(&args.stack)?;
    let Some(state) = backend.read()? else {
        eprintln!("No state recorded yet ({}).", backend.describe());
        return Ok(ExitCode::SUCCESS);
    };
    let mut addresses: Vec<&str> = state.resources.iter().map(|r| r.address.as_str()).collect();
    addresses.sort_unstable();
    for a in addresses {
        println!("{a}");
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: &StateAddrArgs) -> CliResult {
    let (_, backend) = open(&args.stack)?;
    let state = existing(backend.as_ref())?;
    let Some(r) = state.resource(&args.address) else {
        return Err(CliError::Message(format!(
            "{} ({})",
            not_in_state(&state, &args.address),
            backend.describe()
        )));
    };
    let attributes = serde_json::to_string_pretty(&r.value().to_json_redacted())
        .map_err(|e| format!("cannot print the attributes: {e}"))?;
    println!("# {}", r.address);
    println!("type:       {}", r.type_name);
    println!(
        "mode:       {}",
        match r.mode {
            crate::stack::Mode::Managed => "managed",
            crate::stack::Mode::Data => "data",
        }
    );
    println!("provider:   {}", r.provider);
    if let Some(id) = &r.id {
        println!("id:         {id}");
    }
    if !r.dependencies.is_empty() {
        println!("depends on: {}", r.dependencies.join(", "));
    }
    if r.prevent_destroy {
        println!("prevent_destroy: true");
    }
    println!("attributes:");
    for line in attributes.lines() {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `change` on the state under the lock and saves the result.
fn edit<T>(
    stack: &StackArgs,
    operation: &str,
    lock_timeout: std::time::Duration,
    change: impl FnOnce(&mut State) -> Result<T, String>,
) -> Result<(T, u64), CliError> {
    let (_, backend) = open(stack)?;
    let _lock = backend.lock(&LockInfo::for_this_process(operation), lock_timeout)?;
    let mut state = existing(backend.as_ref())?;
    let done = change(&mut state).map_err(|e| format!("{e} ({})", backend.describe()))?;
    let serial = backend.write(&mut state)?;
    Ok((done, serial))
}

fn rm(args: &StateAddrArgs) -> CliResult {
    let (removed, serial) = edit(&args.stack, "state rm", args.lock_timeout, |s| {
        remove_address(s, &args.address)
    })?;
    for a in &removed {
        println!("Removed {a}");
    }
    println!(
        "Forgot {} resource(s) (state serial {serial}); the real objects were not deleted.",
        removed.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn mv(args: &StateMvArgs) -> CliResult {
    let (moved, serial) = edit(&args.stack, "state mv", args.lock_timeout, |s| {
        move_address(s, &args.from, &args.to)
    })?;
    for (old, new) in &moved {
        println!("Moved {old} to {new}");
    }
    println!("Moved {} resource(s) (state serial {serial}).", moved.len());
    Ok(ExitCode::SUCCESS)
}
