//! The command line: argument parsing and dispatch, one file per command. Commands call the
//! library; they only parse arguments, print and choose the exit code.

mod args;

pub use args::*;

use clap::Parser;
use std::process::ExitCode;

/// Exit code for errors (invalid stack, API failure, refused plan).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when changes are pending.
pub const EXIT_CHANGES: u8 = 2;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli;
    ExitCode::from(EXIT_ERROR)
}
