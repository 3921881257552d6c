//! `mlstack state list|show|rm|mv`.

use super::{CliError, CliResult, StateCommand, Ui};

pub fn run(_cmd: &StateCommand, _ui: Ui) -> CliResult {
    Err(CliError::Message("`state` is not implemented yet".into()))
}
