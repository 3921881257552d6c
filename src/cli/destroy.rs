//! `mlstack destroy`.

use super::{ApplyArgs, CliError, CliResult, Ui};

pub fn run(_args: &ApplyArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message("`destroy` is not implemented yet".into()))
}
