//! A JSON Schema (draft 2020-12) of the stack file, for editor completion and inline checks
//! (`mlstack schema > mlstack.schema.json`, then point the YAML language server at it). Resource
//! `properties` are described per type from the providers' own schemas.

use crate::providers::Registry;
use mlstack_provider_api::{AttrType, ResourceSchema};
use serde_json::{json, Map, Value};

fn attr_type(t: &AttrType) -> Value {
    // Any attribute may also be a `${...}` expression, which is a string in YAML.
    match t {
        AttrType::String => json!({"type": "string"}),
        AttrType::Number => json!({"type": ["number", "string"]}),
        AttrType::Bool => json!({"type": ["boolean", "string"]}),
        AttrType::List => json!({"type": ["array", "string"]}),
        AttrType::Map => json!({"type": ["object", "string"]}),
        AttrType::Any => json!({}),
    }
}

fn properties_schema(s: &ResourceSchema) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, a) in &s.attributes {
        if a.computed && !a.optional {
            continue;
        }
        let mut v = attr_type(&a.ty);
        if !a.description.is_empty() {
            v["description"] = json!(a.description);
        }
        props.insert((*name).to_string(), v);
        if a.required {
            required.push(json!(name));
        }
    }
    json!({
        "type": "object",
        "description": s.description,
        "properties": props,
        "required": required,
        "additionalProperties": s.open,
    })
}

fn typed_block(registry: &Registry, data: bool, meta: Value) -> Value {
    let mut types: Vec<&str> = registry.all_types(data);
    types.sort_unstable();
    let branches: Vec<Value> = types
        .iter()
        .filter_map(|t| registry.resource_schema(t, data).map(|s| (t, s)))
        .map(|(t, s)| {
            json!({
                "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                "then": {"properties": {"properties": properties_schema(s)}}
            })
        })
        .collect();
    let mut props = meta;
    props["type"] =
        json!({"enum": types, "description": "the resource type; its prefix names the provider"});
    json!({
        "type": "object",
        "required": ["type"],
        "additionalProperties": false,
        "properties": props,
        "allOf": branches,
    })
}

/// The whole schema.
pub fn stack_schema(registry: &Registry) -> Value {
    let expr_bool = json!({"type": ["boolean", "string"]});
    let names = json!({"type": "array", "items": {"type": "string"}});
    let variable = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "type": {"type": "string", "description": "string | number | bool | list(T) | map(T) | object | any"},
            "default": {},
            "description": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "validation": {}
        }
    });
    let resource_meta = json!({
        "provider": {"type": "string", "description": "provider block key (default: the type's prefix)"},
        "enabled": expr_bool,
        "depends_on": names,
        "lifecycle": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "prevent_destroy": {"type": "boolean"},
                "ignore_changes": names,
                "create_before_destroy": {"type": "boolean"}
            }
        },
        "properties": {"type": "object"}
    });
    let encryption = json!({
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "maxProperties": 1,
        "description": "client-side AES-256-GCM encryption of state and saved plans; the key is 32 random bytes, base64",
        "properties": {
            "key_env": {"type": "string", "description": "environment variable holding the key"},
            "key_file": {"type": "string", "description": "file holding the key (relative to the working directory)"}
        }
    });
    let s3 = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["bucket"],
        "properties": {
            "bucket": {"type": "string"},
            "key": {"type": "string", "description": "object key (default <stack name>/state.json)"},
            "endpoint": {"type": "string", "description": "default https://storage.yandexcloud.net"},
            "region": {"type": "string", "description": "default ru-central1"},
            "access_key": {"type": "string", "description": "default: AWS_ACCESS_KEY_ID"},
            "secret_key": {"type": "string", "pattern": "^\\$\\{(env|var)\\.", "description": "an ${env.NAME} or a sensitive ${var.NAME}; default: AWS_SECRET_ACCESS_KEY"},
            "path_style": {"type": "boolean", "description": "https://host/bucket/key (default true) or https://bucket.host/key"},
            "encryption": encryption
        }
    });
    let kubernetes = json!({
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "secret_suffix": {"type": "string", "description": "the state Secret is mlstack-state-<secret_suffix>, the lock Lease mlstack-lock-<secret_suffix> (default: the stack name)"},
            "namespace": {"type": "string", "description": "default: default"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}, "description": "extra labels on the Secrets and the Lease"},
            "config_path": {"type": "string", "description": "a kubeconfig file (default: KUBECONFIG, ~/.kube/config, the pod's service account; with --sandbox and no connection settings: the sandbox)"},
            "config_context": {"type": "string", "description": "a context of the kubeconfig (default: its current context)"},
            "host": {"type": "string", "description": "the API server, https://host:port"},
            "cluster_ca_certificate": {"type": "string", "description": "PEM of the cluster CA (with host)"},
            "token": {"type": "string", "pattern": "^\\$\\{(env|var)\\.", "description": "a bearer token (with host): an ${env.NAME} or a sensitive ${var.NAME}"},
            "insecure": {"type": "boolean", "description": "skip TLS verification"},
            "encryption": encryption
        }
    });
    let data_meta = json!({
        "provider": {"type": "string"},
        "enabled": expr_bool,
        "depends_on": names,
        "properties": {"type": "object"}
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mlstack.dev/schema/stack.json",
        "title": "mlstack stack file",
        "type": "object",
        "additionalProperties": false,
        "required": ["stack"],
        "properties": {
            "stack": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                    "description": {"type": "string"}
                }
            },
            "backend": {
                "type": "object",
                "maxProperties": 1,
                "properties": {
                    "local": {"type": ["object", "null"], "additionalProperties": false, "properties": {"path": {"type": "string"}, "encryption": encryption}},
                    "s3": s3,
                    "kubernetes": kubernetes
                }
            },
            "variables": {"type": "object", "additionalProperties": variable},
            "providers": {
                "type": "object",
                "additionalProperties": {"type": "object", "properties": {"type": {"enum": registry.names().collect::<Vec<_>>()}}}
            },
            "resources": {"type": "object", "additionalProperties": typed_block(registry, false, resource_meta)},
            "data": {"type": "object", "additionalProperties": typed_block(registry, true, data_meta)},
            "modules": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["source"],
                    "properties": {
                        "source": {"type": "string"},
                        "enabled": expr_bool,
                        "depends_on": names,
                        "inputs": {"type": "object"}
                    }
                }
            },
            "outputs": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["value"],
                    "properties": {"value": {}, "sensitive": {"type": "boolean"}, "description": {"type": "string"}}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::keys;
    use std::collections::BTreeSet;

    fn keys_of(v: &Value) -> BTreeSet<String> {
        v["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set(k: &[&str]) -> BTreeSet<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    /// The schema must accept exactly what the parser accepts, section by section.
    #[test]
    fn schema_keys_match_the_parser() {
        let s = stack_schema(&Registry::builtin());
        let p = &s["properties"];
        assert_eq!(keys_of(&s), set(keys::STACK_KEYS));
        assert_eq!(
            keys_of(&p["variables"]["additionalProperties"]),
            set(keys::VARIABLE_KEYS)
        );
        let res = &p["resources"]["additionalProperties"];
        assert_eq!(keys_of(res), set(keys::RESOURCE_KEYS));
        assert_eq!(
            keys_of(&res["properties"]["lifecycle"]),
            set(keys::LIFECYCLE_KEYS)
        );
        assert_eq!(
            keys_of(&p["data"]["additionalProperties"]),
            set(keys::DATA_KEYS)
        );
        assert_eq!(
            keys_of(&p["modules"]["additionalProperties"]),
            set(keys::MODULE_CALL_KEYS)
        );
        assert_eq!(
            keys_of(&p["outputs"]["additionalProperties"]),
            set(keys::OUTPUT_KEYS)
        );
        let kinds = &p["backend"];
        assert_eq!(
            keys_of(kinds),
            keys::BACKEND_SETTINGS
                .iter()
                .map(|(k, _)| k.to_string())
                .collect()
        );
        for (kind, settings) in keys::BACKEND_SETTINGS {
            assert_eq!(keys_of(&kinds["properties"][kind]), set(settings), "{kind}");
        }
        for kind in ["s3", "kubernetes"] {
            assert_eq!(
                keys_of(&kinds["properties"][kind]["properties"]["encryption"]),
                set(crate::state::ENCRYPTION_SETTINGS)
            );
        }
    }
}
