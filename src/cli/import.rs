//! `mlstack import STACK ADDR ID`: adopt an existing object into state. Nothing is changed on the
//! object; the next plan previews any difference between it and the stack.

use super::{load_stack, runtime, CliError, CliResult, ImportArgs, Ui};
use crate::plan::{mark_sensitive, provider_config, provider_type};
use crate::session::Session;
use crate::state::ResourceState;
use mlstack_provider_api::{ResourceRef, Value};
use std::process::ExitCode;

pub fn run(args: &ImportArgs, _ui: Ui) -> CliResult {
    let stack = load_stack(&args.stack)?;
    let Some(decl) = stack.resource(&args.address).cloned() else {
        let hint = crate::diag::did_you_mean(
            &args.address,
            stack.resources.iter().map(|r| r.address.as_str()),
        )
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
        return Err(CliError::Message(format!(
            "{} is not in the stack{hint}; declare the resource first, then import it",
            args.address
        )));
    };
    if decl.mode != crate::stack::Mode::Managed {
        return Err(CliError::Message(format!(
            "{} is a data source; only managed resources are imported",
            args.address
        )));
    }
    let mut session = Session::open(
        stack,
        crate::providers::Registry::builtin(),
        "import",
        true,
        args.lock_timeout,
    )?;
    if session.state.resource(&args.address).is_some() {
        return Err(CliError::Message(format!(
            "{} is already managed; `mlstack state rm` it first to import another object",
            args.address
        )));
    }
    let values = |a: &str| session.state.resource(a).map(ResourceState::value);
    let config = provider_config(&session.stack, &decl.provider, &values);
    if config.contains_unknown() {
        return Err(CliError::Message(format!(
            "the provider of {} depends on resources that are not created yet; apply them first",
            args.address
        )));
    }
    let ptype = provider_type(&session.stack, &decl.provider).to_string();
    let provider = session
        .registry
        .get(&ptype)
        .cloned()
        .ok_or_else(|| CliError::Message(format!("provider `{ptype}` is not available")))?;
    let rref = ResourceRef {
        address: &decl.address,
        type_name: &decl.type_name,
        provider_config: &config,
    };
    let rt = runtime()?;
    let imported: Value = rt
        .block_on(provider.import(rref, &args.id))
        .map_err(|e| CliError::Message(format!("importing {}: {e}", args.address)))?;
    let imported = mark_sensitive(
        imported,
        session.registry.resource_schema(&decl.type_name, false),
    );
    let mut record = ResourceState {
        address: decl.address.clone(),
        mode: decl.mode,
        type_name: decl.type_name.clone(),
        provider: decl.provider.clone(),
        id: imported
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string),
        attributes: serde_json::Value::Null,
        sensitive_attributes: Vec::new(),
        dependencies: session.graph.dependencies(&decl.address),
        prevent_destroy: decl.lifecycle.prevent_destroy,
    };
    record.set_value(&imported);
    let mut state = std::mem::take(&mut session.state);
    state.upsert(record);
    session
        .backend
        .write(&mut state)
        .map_err(CliError::Message)?;
    println!(
        "{}: Import successful!\n\nThe object is now managed by mlstack. Run `mlstack plan {}` to see how it differs from the stack.",
        args.address,
        args.stack.stack.display()
    );
    Ok(ExitCode::SUCCESS)
}
