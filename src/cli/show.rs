//! `mlstack show PLANFILE --format human|markdown|json`: prints a saved plan.

use super::{CliError, CliResult, Format, ShowArgs, Ui};
use crate::plan::{planfile, render};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &ShowArgs, ui: Ui) -> CliResult {
    let plan = planfile::load(&args.plan).map_err(CliError::Message)?;
    let mut text = match args.format {
        Format::Human => render::human(&plan, ui.color),
        Format::Markdown => render::markdown(&plan),
        Format::Json => serde_json::to_string_pretty(&render::json(&plan))
            .map_err(|e| CliError::Message(format!("cannot encode the plan as JSON: {e}")))?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(CliError::Message(format!("cannot write to stdout: {e}"))),
    }
}
