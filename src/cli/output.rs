//! `mlstack output`.

use super::{CliError, CliResult, OutputArgs, Ui};

pub fn run(_args: &OutputArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message("`output` is not implemented yet".into()))
}
