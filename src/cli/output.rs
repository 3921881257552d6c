//! `mlstack output STACK [NAME]`: the outputs recorded in state. Sensitive ones (by the state or
//! by the stack's declaration) are masked unless `--show-sensitive`.

use super::{CliError, CliResult, OutputArgs, Ui};
use crate::diag::did_you_mean;
use crate::state::OutputState;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

/// What a masked value reads as in human output.
const MASK: &str = "<sensitive>";

pub fn run(args: &OutputArgs, _ui: Ui) -> CliResult {
    let (stack, backend) = super::state::open(&args.stack)?;
    let recorded = backend.read()?.map(|s| s.outputs).unwrap_or_default();
    let declared_sensitive: BTreeSet<&str> = stack
        .outputs
        .iter()
        .filter(|o| o.sensitive)
        .map(|o| o.name.as_str())
        .collect();
    let outputs: BTreeMap<&str, Shown> = recorded
        .iter()
        .map(|(name, o)| {
            let sensitive = o.sensitive || declared_sensitive.contains(name.as_str());
            (name.as_str(), Shown::new(o, sensitive, args.show_sensitive))
        })
        .collect();

    let Some(name) = &args.name else {
        if args.json {
            let all: serde_json::Map<String, Json> = outputs
                .iter()
                .map(|(n, s)| (n.to_string(), s.json()))
                .collect();
            println!("{}", pretty(&Json::Object(all))?);
        } else if outputs.is_empty() {
            eprintln!(
                "No outputs recorded ({}); run `mlstack apply` first.",
                backend.describe()
            );
        } else {
            for (n, s) in &outputs {
                println!("{n} = {}", s.human(false)?);
            }
        }
        return Ok(ExitCode::SUCCESS);
    };

    let Some(shown) = outputs.get(name.as_str()) else {
        let declared = stack.outputs.iter().any(|o| &o.name == name);
        let message = if declared {
            format!(
                "output `{name}` has no recorded value yet ({}); run `mlstack apply`",
                backend.describe()
            )
        } else {
            let candidates = outputs
                .keys()
                .copied()
                .chain(stack.outputs.iter().map(|o| o.name.as_str()));
            let hint = did_you_mean(name, candidates)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            format!("no output `{name}`{hint}")
        };
        return Err(CliError::Message(message));
    };
    if shown.masked {
        eprintln!("output `{name}` is sensitive; add --show-sensitive to print it");
    }
    if args.json {
        println!("{}", pretty(shown.value.as_ref().unwrap_or(&Json::Null))?);
    } else {
        println!("{}", shown.human(true)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// One output as it may be shown: its value (`None` when masked), flags and type.
struct Shown {
    value: Option<Json>,
    sensitive: bool,
    masked: bool,
    type_: Json,
}

impl Shown {
    fn new(o: &OutputState, sensitive: bool, show_sensitive: bool) -> Shown {
        let masked = sensitive && !show_sensitive;
        Shown {
            value: (!masked).then(|| o.value.clone()),
            sensitive,
            masked,
            type_: type_of(&o.value),
        }
    }

    /// Terraform's `output -json` entry.
    fn json(&self) -> Json {
        json!({
            "sensitive": self.sensitive,
            "type": self.type_,
            "value": self.value.clone().unwrap_or(Json::Null),
        })
    }

    /// For terminals: strings raw when alone (`raw`), otherwise JSON.
    fn human(&self, raw: bool) -> Result<String, CliError> {
        match &self.value {
            None => Ok(MASK.to_string()),
            Some(Json::String(s)) if raw => Ok(s.clone()),
            Some(v) => pretty(v),
        }
    }
}

fn pretty(v: &Json) -> Result<String, CliError> {
    serde_json::to_string_pretty(v)
        .map_err(|e| CliError::Message(format!("cannot print an output: {e}")))
}

/// Terraform's JSON type notation: `"string"`, `["tuple", [...]]`, `["object", {...}]`.
fn type_of(v: &Json) -> Json {
    match v {
        Json::Null => json!("dynamic"),
        Json::Bool(_) => json!("bool"),
        Json::Number(_) => json!("number"),
        Json::String(_) => json!("string"),
        Json::Array(items) => json!(["tuple", items.iter().map(type_of).collect::<Vec<_>>()]),
        Json::Object(m) => {
            let fields: serde_json::Map<String, Json> =
                m.iter().map(|(k, v)| (k.clone(), type_of(v))).collect();
            json!(["object", fields])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_terraform() {
        assert_eq!(
            type_of(&json!({"a": [1, "x"], "b": true})),
            json!(["object", {"a": ["tuple", ["number", "string"]], "b": "bool"}])
        );
    }

    #[test]
    fn masked_values_never_show() {
        let o = OutputState {
            value: json!("hunter2"),
            sensitive: true,
        };
        let s = Shown::new(&o, true, false);
        assert_eq!(s.human(true).unwrap(), MASK);
        assert!(!s.json().to_string().contains("hunter2"));
        let s = Shown::new(&o, true, true);
        assert_eq!(s.human(true).unwrap(), "hunter2");
    }
}
