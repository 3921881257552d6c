//! `mlstack show`.

use super::{CliError, CliResult, ShowArgs, Ui};

pub fn run(_args: &ShowArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message("`show` is not implemented yet".into()))
}
