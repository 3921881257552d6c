//! `mlstack graph`.

use super::{CliError, CliResult, GraphArgs, Ui};

pub fn run(_args: &GraphArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message("`graph` is not implemented yet".into()))
}
