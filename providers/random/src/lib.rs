//! The `random` provider: passwords, strings and ids generated once, kept in state, and
//! regenerated only when one of their inputs (or `keepers`) changes. Passwords are sensitive.

use mlstack_provider_api::{
    ApplyRequest, AttrSchema, AttrType, Path, PathStep, PlanRequest, PlannedResource, Provider,
    ProviderError, ProviderResult, ProviderSchema, ReadResult, ResourceRef, ResourceSchema,
    ValidationIssue, Value,
};
use std::collections::BTreeMap;

/// The built-in `random` provider.
pub struct RandomProvider;

const INPUTS: &[&str] = &[
    "length",
    "special",
    "upper",
    "lower",
    "numeric",
    "override_special",
    "byte_length",
    "prefix",
    "keepers",
];

fn string_schema(description: &'static str, sensitive: bool) -> ResourceSchema {
    let result = AttrSchema::computed(AttrType::String);
    ResourceSchema::new(description)
        .attr(
            "length",
            AttrSchema::input(AttrType::Number).required().force_new(),
        )
        .attr("special", AttrSchema::input(AttrType::Bool).force_new())
        .attr("upper", AttrSchema::input(AttrType::Bool).force_new())
        .attr("lower", AttrSchema::input(AttrType::Bool).force_new())
        .attr("numeric", AttrSchema::input(AttrType::Bool).force_new())
        .attr(
            "override_special",
            AttrSchema::input(AttrType::String).force_new(),
        )
        .attr("keepers", AttrSchema::input(AttrType::Map).force_new())
        .attr(
            "result",
            if sensitive {
                result.sensitive()
            } else {
                result
            },
        )
        .attr("id", AttrSchema::computed(AttrType::String))
}

#[async_trait::async_trait]
impl Provider for RandomProvider {
    fn name(&self) -> &'static str {
        "random"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resources.insert(
            "random_password",
            string_schema(
                "A generated password, kept in state, always sensitive",
                true,
            ),
        );
        s.resources.insert(
            "random_string",
            string_schema("A generated string, kept in state", false),
        );
        s.resources.insert(
            "random_id",
            ResourceSchema::new("Random bytes as hex and base64url, for unique names")
                .attr(
                    "byte_length",
                    AttrSchema::input(AttrType::Number).required().force_new(),
                )
                .attr("prefix", AttrSchema::input(AttrType::String).force_new())
                .attr("keepers", AttrSchema::input(AttrType::Map).force_new())
                .attr("hex", AttrSchema::computed(AttrType::String))
                .attr("id", AttrSchema::computed(AttrType::String)),
        );
        s
    }

    fn validate(&self, type_name: &str, properties: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        let key = if type_name == "random_id" {
            "byte_length"
        } else {
            "length"
        };
        if let Some(v) = properties.get(key) {
            if !v.contains_unknown() {
                match v.as_u64() {
                    Some(n) if (1..=1024).contains(&n) => {}
                    _ => issues.push(ValidationIssue {
                        path: vec![PathStep::Key(key.into())],
                        message: format!("`{key}` must be a whole number from 1 to 1024"),
                        hint: None,
                    }),
                }
            }
        }
        if type_name != "random_id" {
            let enabled = ["upper", "lower", "numeric", "special"]
                .iter()
                .filter(|k| properties.get(k).and_then(Value::as_bool).unwrap_or(true))
                .count();
            if enabled == 0 {
                issues.push(ValidationIssue {
                    path: Vec::new(),
                    message: "every character class is disabled".into(),
                    hint: Some("enable at least one of upper, lower, numeric, special".into()),
                });
            }
        }
        issues
    }

    async fn read(&self, _r: ResourceRef<'_>, prior: &Value) -> ProviderResult<ReadResult> {
        // Random values exist only in state: what was recorded is what is live.
        Ok(ReadResult::Found(prior.clone()))
    }

    async fn plan(&self, req: PlanRequest<'_>) -> ProviderResult<PlannedResource> {
        let inputs = inputs_of(req.desired);
        let Some(prior) = req.live.or(req.prior) else {
            return Ok(PlannedResource::new(with_outputs(
                inputs,
                req.resource.type_name,
                None,
            )));
        };
        let prior_inputs = inputs_of(prior);
        let mut changed: Vec<Path> = Vec::new();
        for k in INPUTS {
            let a = inputs.get(*k);
            let b = prior_inputs.get(*k);
            let same = match (a, b) {
                (Some(a), Some(b)) => a.same_data(b) && !a.contains_unknown(),
                (None, None) => true,
                _ => false,
            };
            if !same {
                changed.push(vec![PathStep::Key((*k).to_string())]);
            }
        }
        let mut planned = PlannedResource::new(if changed.is_empty() {
            prior.clone()
        } else {
            with_outputs(inputs, req.resource.type_name, None)
        });
        planned.requires_replace = changed;
        Ok(planned)
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> ProviderResult<Value> {
        let inputs = inputs_of(req.desired);
        if let Some(prior) = req.prior {
            if inputs_of(prior) == inputs {
                return Ok(prior.clone());
            }
        }
        let generated = generate(req.resource.type_name, &inputs)?;
        Ok(with_outputs(
            inputs,
            req.resource.type_name,
            Some(generated),
        ))
    }

    async fn delete(&self, _r: ResourceRef<'_>, _prior: &Value) -> ProviderResult<()> {
        Ok(())
    }

    /// Adopts an existing value (a password already in use): the id is the value itself.
    async fn import(&self, r: ResourceRef<'_>, id: &str) -> ProviderResult<Value> {
        let mut inputs = BTreeMap::new();
        match r.type_name {
            "random_password" | "random_string" => {
                inputs.insert("length".to_string(), Value::from(id.chars().count() as u64));
            }
            "random_id" => {
                if id.is_empty()
                    || !id.len().is_multiple_of(2)
                    || !id.chars().all(|c| c.is_ascii_hexdigit())
                {
                    return Err(ProviderError::new(
                        "a random_id is imported by its hex value",
                    ));
                }
                inputs.insert(
                    "byte_length".to_string(),
                    Value::from((id.len() / 2) as u64),
                );
            }
            t => {
                return Err(ProviderError::new(format!(
                    "{t} resources cannot be imported"
                )))
            }
        }
        Ok(with_outputs(
            inputs,
            r.type_name,
            Some(Generated {
                prefixed: id.to_string(),
            }),
        ))
    }
}

fn inputs_of(v: &Value) -> BTreeMap<String, Value> {
    v.pick(INPUTS)
}

/// Inputs plus the generated attributes (`Unknown` until generated).
fn with_outputs(
    mut inputs: BTreeMap<String, Value>,
    type_name: &str,
    generated: Option<Generated>,
) -> Value {
    let unknown = || Value::Unknown;
    match (type_name, generated) {
        ("random_id", Some(g)) => {
            inputs.insert("hex".into(), Value::String(g.prefixed.clone()));
            inputs.insert("id".into(), Value::String(g.prefixed));
        }
        ("random_id", None) => {
            inputs.insert("hex".into(), unknown());
            inputs.insert("id".into(), unknown());
        }
        (t, g) => {
            let result = g
                .map(|g| Value::String(g.prefixed))
                .unwrap_or(Value::Unknown);
            let result = if t == "random_password" {
                result.into_sensitive()
            } else {
                result
            };
            inputs.insert("result".into(), result);
            inputs.insert(
                "id".into(),
                if t == "random_password" {
                    Value::from("none")
                } else {
                    unknown()
                },
            );
        }
    }
    if type_name == "random_string" {
        if let Some(r) = inputs.get("result").cloned() {
            inputs.insert("id".into(), r);
        }
    }
    Value::Map(inputs)
}

struct Generated {
    prefixed: String,
}

fn flag(inputs: &BTreeMap<String, Value>, k: &str) -> bool {
    inputs.get(k).and_then(Value::as_bool).unwrap_or(true)
}

fn generate(type_name: &str, inputs: &BTreeMap<String, Value>) -> ProviderResult<Generated> {
    if type_name == "random_id" {
        let n = inputs
            .get("byte_length")
            .and_then(Value::as_u64)
            .unwrap_or(8)
            .clamp(1, 1024) as usize;
        let mut bytes = vec![0u8; n];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| ProviderError::new(format!("no randomness available: {e}")))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let prefix = inputs.get("prefix").and_then(Value::as_str).unwrap_or("");
        return Ok(Generated {
            prefixed: format!("{prefix}{hex}"),
        });
    }
    let length = inputs
        .get("length")
        .and_then(Value::as_u64)
        .unwrap_or(16)
        .clamp(1, 1024) as usize;
    let special = inputs
        .get("override_special")
        .and_then(Value::as_str)
        .unwrap_or("!#$%&*()-_=+[]{}<>:?");
    let mut classes: Vec<Vec<char>> = Vec::new();
    if flag(inputs, "upper") {
        classes.push(('A'..='Z').collect());
    }
    if flag(inputs, "lower") {
        classes.push(('a'..='z').collect());
    }
    if flag(inputs, "numeric") {
        classes.push(('0'..='9').collect());
    }
    if flag(inputs, "special") && !special.is_empty() {
        classes.push(special.chars().collect());
    }
    if classes.is_empty() {
        return Err(ProviderError::new("every character class is disabled"));
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    let mut out: Vec<char> = Vec::with_capacity(length);
    // One of each class first (when long enough), then any, then shuffle.
    for class in classes.iter().take(length) {
        out.push(class[uniform(class.len())?]);
    }
    while out.len() < length {
        out.push(all[uniform(all.len())?]);
    }
    for i in (1..out.len()).rev() {
        let j = uniform(i + 1)?;
        out.swap(i, j);
    }
    Ok(Generated {
        prefixed: out.into_iter().collect(),
    })
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
fn uniform(n: usize) -> ProviderResult<usize> {
    let n = n as u32;
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let mut b = [0u8; 4];
        getrandom::getrandom(&mut b)
            .map_err(|e| ProviderError::new(format!("no randomness available: {e}")))?;
        let x = u32::from_le_bytes(b);
        if x < zone {
            return Ok((x % n) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_has_every_class_and_length() {
        let mut inputs = BTreeMap::new();
        inputs.insert("length".to_string(), Value::from(24u64));
        let g = generate("random_password", &inputs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.prefixed.chars().count(), 24);
        assert!(g.prefixed.chars().any(|c| c.is_ascii_uppercase()));
        assert!(g.prefixed.chars().any(|c| c.is_ascii_lowercase()));
        assert!(g.prefixed.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn password_result_is_sensitive() {
        let v = with_outputs(
            BTreeMap::new(),
            "random_password",
            Some(Generated {
                prefixed: "x".into(),
            }),
        );
        assert!(v.get("result").is_some_and(Value::is_sensitive));
    }
}
