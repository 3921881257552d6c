//! Evaluating every resource of a stack without state or network.

use crate::graph::Graph;
use crate::plan::{lookup, mark_sensitive, provider_config, provider_type};
use crate::providers::Registry;
use crate::stack::{Mode, Stack};
use mlstack_provider_api::{ResourceRef, Value};
use std::collections::BTreeMap;

/// Every resource's value by address, in the graph's order. Fails (naming the resource) when an
/// offline data source cannot be read.
pub async fn evaluate(
    stack: &Stack,
    graph: &Graph,
    registry: &Registry,
) -> Result<BTreeMap<String, Value>, String> {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for i in graph.apply_order() {
        let decl = &stack.resources[i];
        let get = |a: &str| values.get(a).cloned();
        let desired = decl.properties.eval(&|r| lookup(&get, r));
        let ptype = provider_type(stack, &decl.provider);
        let schema = registry.resource_schema(&decl.type_name, decl.mode == Mode::Data);
        let value = match decl.mode {
            Mode::Data => {
                let config = provider_config(stack, &decl.provider, &get);
                match registry.get(ptype) {
                    Some(p)
                        if p.offline()
                            && !desired.contains_unknown()
                            && !config.contains_unknown() =>
                    {
                        let rr = ResourceRef {
                            address: &decl.address,
                            type_name: &decl.type_name,
                            provider_config: &config,
                        };
                        let v = p
                            .read_data(rr, &desired)
                            .await
                            .map_err(|e| format!("{}: read failed: {e}", decl.address))?;
                        mark_sensitive(v, schema)
                    }
                    _ => Value::Unknown,
                }
            }
            Mode::Managed => {
                let mut v = mark_sensitive(desired, schema);
                if let (Some(schema), Value::Map(m)) = (schema, &mut v) {
                    for (name, attr) in &schema.attributes {
                        let unset = m.get(*name).is_none_or(|x| matches!(x, Value::Null));
                        if attr.computed && unset {
                            m.insert(name.to_string(), Value::Unknown);
                        }
                    }
                }
                v
            }
        };
        values.insert(decl.address.clone(), value);
    }
    Ok(values)
}
