//! The command line: argument parsing and dispatch, one file per command. Commands call the
//! library; they only parse arguments, print and choose the exit code.

mod apply;
mod args;
mod destroy;
mod force_unlock;
mod graph;
mod import;
mod output;
mod plan;
mod render;
mod run;
mod sandbox;
mod schema;
mod show;
mod state;
mod state_transfer;
mod validate;

pub use args::*;

use crate::diag::Diagnostics;
use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// Exit code for errors (invalid stack, API failure, refused plan).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when changes are pending.
pub const EXIT_CHANGES: u8 = 2;

/// How output looks on this run.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Colour on stdout/stderr: on a terminal or with `CLICOLOR_FORCE`, off with `--no-color`
    /// or `NO_COLOR`.
    pub color: bool,
    /// stdout is a terminal (progress may redraw; otherwise plain lines for CI logs).
    pub interactive: bool,
}

impl Ui {
    pub fn from_env(no_color: bool) -> Ui {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
        let tty = std::io::stdout().is_terminal();
        Ui {
            // CLICOLOR_FORCE asks for colour without a terminal (CI logs that render ANSI).
            color: (tty || set("CLICOLOR_FORCE")) && !no_color && !set("NO_COLOR"),
            interactive: tty && std::io::stdin().is_terminal(),
        }
    }
}

/// Why a command failed. Printed once, to stderr, then exit 1.
#[derive(Debug)]
pub enum CliError {
    /// Problems in stack files, with their places.
    Diagnostics(Diagnostics),
    /// Any other failure, already worded for the user (never holding a secret).
    Message(String),
}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        CliError::Diagnostics(d)
    }
}

impl From<String> for CliError {
    fn from(s: String) -> Self {
        CliError::Message(s)
    }
}

/// What each command returns.
pub type CliResult = Result<ExitCode, CliError>;

/// A tokio runtime for the commands that talk to providers.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start the async runtime: {e}")))
}

/// `LoadOptions` from the shared stack arguments: `--var` split at the first `=`, the process
/// environment for `${env.NAME}`.
pub fn load_options(args: &StackArgs) -> Result<crate::stack::LoadOptions, CliError> {
    let mut vars = Vec::with_capacity(args.vars.len());
    let mut bad = Vec::new();
    for (i, v) in args.vars.iter().enumerate() {
        match v.split_once('=') {
            Some((name, value)) => vars.push((name.trim().to_string(), value.to_string())),
            // The text is not echoed: it may be a secret typed in the wrong place.
            None => bad.push(crate::diag::Diagnostic::new(
                "invalid-var",
                format!(
                    "--var argument {} has no `=`; write --var NAME=VALUE",
                    i + 1
                ),
            )),
        }
    }
    if !bad.is_empty() {
        return Err(crate::diag::Diagnostics::new(Default::default(), bad).into());
    }
    Ok(crate::stack::LoadOptions {
        vars,
        var_files: args.var_files.clone(),
        env: std::env::vars().collect(),
        modules_dir: None,
        registry: None,
    })
}

/// Loads a stack and runs the static checks against the built-in providers.
pub fn load_stack(args: &StackArgs) -> Result<crate::stack::Stack, CliError> {
    let opts = load_options(args)?;
    let stack = crate::stack::load(&args.stack, &opts)?;
    let problems = crate::stack::check(&stack, &crate::providers::Registry::builtin());
    if !problems.is_empty() {
        return Err(Diagnostics::new(stack.sources.clone(), problems).into());
    }
    Ok(stack)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let ui = Ui::from_env(cli.no_color);
    let result = match cli.command {
        Command::Validate(a) => validate::run(&a, ui),
        Command::Plan(a) => plan::run(&a, ui),
        Command::Apply(a) => apply::run(&a, ui),
        Command::Destroy(a) => destroy::run(&a, ui),
        Command::Render(a) => render::run(&a, ui),
        Command::Graph(a) => graph::run(&a, ui),
        Command::Output(a) => output::run(&a, ui),
        Command::Show(a) => show::run(&a, ui),
        Command::State(c) => state::run(&c, ui),
        Command::Import(a) => import::run(&a, ui),
        Command::ForceUnlock(a) => force_unlock::run(&a, ui),
        Command::Schema => schema::run(ui),
        Command::Sandbox(c) => sandbox::run(&c, ui),
    };
    match result {
        Ok(code) => code,
        Err(CliError::Diagnostics(d)) => {
            eprint!("{}", d.render(ui.color));
            ExitCode::from(EXIT_ERROR)
        }
        Err(CliError::Message(m)) => {
            eprintln!("Error: {m}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
