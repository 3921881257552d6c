//! From changed attributes to an update: each resource type maps its Terraform attribute paths
//! to the API's `updateMask` paths (lowerCamelCase, dotted, as Terraform's provider does);
//! a changed path that is immutable (schema `force_new`, [`crate::nested_force_new`], or with
//! no mask path at all) forces a replacement instead. The update body is cut down to exactly
//! the masked fields.

use crate::convert::camel;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;

/// One updatable attribute: the Terraform path (dotted keys) and its mask path. An empty mask
/// path means "kept in state only" (no API field, e.g. a bucket's `force_destroy`); a Terraform
/// path ending in `.*` stands for every key of a settings map, mapped to `<api>.<camelKey>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub tf: String,
    pub api: String,
}

/// Builds rules from `(tf, api)` pairs.
pub fn rules(pairs: &[(&str, &str)]) -> Vec<Rule> {
    pairs
        .iter()
        .map(|(tf, api)| Rule {
            tf: tf.to_string(),
            api: api.to_string(),
        })
        .collect()
}

/// The verdict on a set of changed paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Mask paths of an in-place update (sorted, deduplicated; "" entries left out).
    pub mask: BTreeSet<String>,
    /// Changed paths that force a replacement.
    pub replace: Vec<String>,
    /// Changed paths only the state holds.
    pub state_only: Vec<String>,
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}."))
}

/// Classifies changed paths (dotted keys). `force_new` are the immutable top-level attributes,
/// `nested_force_new` the immutable blocks inside them (changing one, or swapping it for
/// another, replaces; a path inside one is updatable only when a rule names it).
pub fn classify(
    changed: &[String],
    force_new: &[&str],
    nested_force_new: &[&str],
    rules: &[Rule],
) -> Verdict {
    let mut v = Verdict::default();
    for p in changed {
        let top = p.split('.').next().unwrap_or("");
        if force_new.contains(&top) || nested_force_new.iter().any(|n| under(n, p)) {
            v.replace.push(p.clone());
            continue;
        }
        let mut matched = false;
        for r in rules {
            if let Some(base) = r.tf.strip_suffix(".*") {
                let api = r.api.trim_end_matches(".*");
                if let Some(rest) = p.strip_prefix(&format!("{base}.")) {
                    let key = rest.split('.').next().unwrap_or(rest);
                    add(&mut v, &format!("{api}.{}", camel(key)), p);
                    matched = true;
                } else if under(base, p) {
                    add(&mut v, api, p);
                    matched = true;
                }
            } else if under(p, &r.tf) || under(&r.tf, p) {
                add(&mut v, &r.api, p);
                matched = true;
            }
        }
        if !matched {
            v.replace.push(p.clone());
        }
    }
    v.replace.sort();
    v.replace.dedup();
    v
}

fn add(v: &mut Verdict, api: &str, tf: &str) {
    if api.is_empty() {
        v.state_only.push(tf.to_string());
    } else {
        v.mask.insert(api.to_string());
    }
}

/// The mask as the API takes it: one comma-separated string. A path whose parent is also in
/// the mask is left out (the parent covers it).
pub fn join(mask: &BTreeSet<String>) -> String {
    mask.iter()
        .filter(|p| {
            !mask
                .iter()
                .any(|q| q != *p && p.starts_with(&format!("{q}.")))
        })
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

/// `body` reduced to the fields at the mask's paths (a path absent from `body` is left out,
/// which the API reads as "reset to the default").
pub fn prune(body: &Json, mask: &BTreeSet<String>) -> Json {
    let mut out = Json::Object(Map::new());
    for path in mask {
        let parts: Vec<&str> = path.split('.').collect();
        let mut cur = body;
        let mut found = true;
        for p in &parts {
            match cur.get(p) {
                Some(x) => cur = x,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            put(&mut out, &parts, cur.clone());
        }
    }
    out
}

fn put(out: &mut Json, parts: &[&str], value: Json) {
    let Some((first, rest)) = parts.split_first() else {
        *out = value;
        return;
    };
    if !out.is_object() {
        *out = Json::Object(Map::new());
    }
    if let Json::Object(m) = out {
        let slot = m
            .entry(first.to_string())
            .or_insert(Json::Object(Map::new()));
        if rest.is_empty() {
            *slot = value;
        } else {
            put(slot, rest, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node_group_rules() -> Vec<Rule> {
        rules(&[
            ("name", "name"),
            (
                "instance_template.resources.memory",
                "nodeTemplate.resourcesSpec.memory",
            ),
            (
                "instance_template.resources.cores",
                "nodeTemplate.resourcesSpec.cores",
            ),
            (
                "scale_policy.auto_scale.min",
                "scalePolicy.autoScale.minSize",
            ),
            (
                "scale_policy.auto_scale.max",
                "scalePolicy.autoScale.maxSize",
            ),
            (
                "config.kafka.kafka_config.*",
                "configSpec.kafka.kafkaConfig_3.*",
            ),
            ("force_destroy", ""),
        ])
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn masks_name_only_the_changed_fields() {
        let v = classify(
            &s(&[
                "instance_template.resources.memory",
                "scale_policy.auto_scale.max",
            ]),
            &["cluster_id"],
            &["scale_policy.auto_scale"],
            &node_group_rules(),
        );
        assert!(v.replace.is_empty(), "{v:?}");
        assert_eq!(
            join(&v.mask),
            "nodeTemplate.resourcesSpec.memory,scalePolicy.autoScale.maxSize"
        );
        // A whole block that appeared: every rule under it.
        let v = classify(
            &s(&["instance_template.resources"]),
            &[],
            &[],
            &node_group_rules(),
        );
        assert_eq!(
            join(&v.mask),
            "nodeTemplate.resourcesSpec.cores,nodeTemplate.resourcesSpec.memory"
        );
        let v = classify(
            &s(&["config.kafka.kafka_config.log_retention_ms"]),
            &[],
            &[],
            &node_group_rules(),
        );
        assert_eq!(
            join(&v.mask),
            "configSpec.kafka.kafkaConfig_3.logRetentionMs"
        );
        let v = classify(&s(&["force_destroy"]), &[], &[], &node_group_rules());
        assert!(v.mask.is_empty() && v.state_only == ["force_destroy"]);
    }

    #[test]
    fn immutable_fields_replace_and_are_named() {
        let v = classify(
            &s(&["cluster_id", "name"]),
            &["cluster_id"],
            &[],
            &node_group_rules(),
        );
        assert_eq!(v.replace, ["cluster_id"]);
        // Switching fixed → auto scale: the block itself changed.
        let v = classify(
            &s(&["scale_policy.auto_scale", "scale_policy.fixed_scale"]),
            &[],
            &["scale_policy.auto_scale"],
            &node_group_rules(),
        );
        assert_eq!(
            v.replace,
            ["scale_policy.auto_scale", "scale_policy.fixed_scale"]
        );
        // No rule: not updatable in place.
        let v = classify(&s(&["master.zonal.zone"]), &[], &["master.zonal"], &[]);
        assert_eq!(v.replace, ["master.zonal.zone"]);
    }

    #[test]
    fn bodies_are_cut_to_the_mask() {
        let body = json!({"name": "x", "description": "d",
            "nodeTemplate": {"resourcesSpec": {"memory": "1", "cores": "2"}, "platformId": "p"}});
        let mask: BTreeSet<String> = ["name", "nodeTemplate.resourcesSpec.memory", "labels"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            prune(&body, &mask),
            json!({"name": "x", "nodeTemplate": {"resourcesSpec": {"memory": "1"}}})
        );
        let mask: BTreeSet<String> = ["a", "a.b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(join(&mask), "a");
    }
}
