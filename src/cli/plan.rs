//! `mlstack plan`.

use super::{CliError, CliResult, PlanArgs, Ui};

pub fn run(_args: &PlanArgs, _ui: Ui) -> CliResult {
    Err(CliError::Message("`plan` is not implemented yet".into()))
}
