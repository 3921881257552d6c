//! `mlstack validate`.

use super::{CliError, CliResult, StackArgs, Ui};

pub fn run(_args: &StackArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message(
        "`validate` is not implemented yet".into(),
    ))
}
