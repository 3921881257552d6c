//! The plan of one resource, without any network: a create (the stack's value, the provider
//! block's defaults, computed attributes unknown) or an update against live (unset attributes
//! from live, so server defaults are no difference; the changed paths classified into an update
//! mask or a replacement naming the immutable field).

use crate::config::Defaults;
use crate::diff::{changed_paths, keys, merge, prune_nulls};
use crate::mask::classify;
use crate::resources::Kind;
use crate::schema::nested_force_new;
use mlstack_provider_api::{path_to_string, Path, PathStep, ResourceSchema, Value};

/// The outcome of planning against live.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub planned: Value,
    /// Changed immutable paths (non-empty: replace).
    pub replace: Vec<Path>,
    /// The update mask (empty: nothing to send; state-only changes may remain).
    pub mask: Vec<String>,
    pub notes: Vec<String>,
}

fn unset(v: &Value, key: &str) -> bool {
    v.get(key).is_none_or(|x| matches!(x, Value::Null))
}

fn known_or_unknown(v: &Option<String>) -> Value {
    match v {
        Some(s) => Value::from(s.as_str()),
        None => Value::Unknown,
    }
}

/// The stack's value completed with defaults: nulls dropped, `folder_id` and `zone` from the
/// provider block (unknown when it does not say), and the kind's zero values.
pub fn complete(
    kind: &dyn Kind,
    schema: &ResourceSchema,
    desired: &Value,
    defaults: &Defaults,
    live: Option<&Value>,
) -> Value {
    let mut d = prune_nulls(desired);
    if !matches!(d, Value::Map(_)) {
        d = Value::map();
    }
    let has = |k: &str| schema.attributes.contains_key(k);
    if has("folder_id") && unset(&d, "folder_id") && (kind.folder_default() || live.is_none()) {
        d.set_path(&keys("folder_id"), known_or_unknown(&defaults.folder_id));
    }
    if has("zone") && unset(&d, "zone") {
        d.set_path(&keys("zone"), known_or_unknown(&defaults.zone));
    }
    for (k, v) in kind.zero_defaults() {
        if has(k) && unset(&d, k) {
            d.set_path(&keys(k), Value::from(v));
        }
    }
    d
}

/// The planned value of a resource that does not exist yet.
pub fn create(
    kind: &dyn Kind,
    schema: &ResourceSchema,
    desired: &Value,
    defaults: &Defaults,
) -> Value {
    let mut p = complete(kind, schema, desired, defaults, None);
    for (name, a) in &schema.attributes {
        if a.computed && !a.optional && unset(&p, name) {
            p.set_path(&keys(name), Value::Unknown);
        }
    }
    kind.normalize(&mut p);
    kind.derive(&mut p, &[]);
    p
}

/// Computed-only attributes (never set by the stack) are not changes of their own.
fn is_input(schema: &ResourceSchema, path: &Path) -> bool {
    match path.first() {
        Some(PathStep::Key(k)) => schema
            .attributes
            .get(k.as_str())
            .is_none_or(|a| !a.computed || a.optional),
        _ => true,
    }
}

/// The plan of an update of the resource `live` (or its replacement).
pub fn update(
    kind: &dyn Kind,
    schema: &ResourceSchema,
    desired: &Value,
    live: &Value,
    defaults: &Defaults,
) -> Proposal {
    let d = complete(kind, schema, desired, defaults, Some(live));
    let mut planned = merge(&d, live, kind.atomic());
    kind.normalize(&mut planned);
    let changed: Vec<String> = changed_paths(&planned, live)
        .into_iter()
        .filter(|p| is_input(schema, p))
        .map(|p| path_to_string(&p))
        .collect();
    let force_new: Vec<&str> = schema
        .attributes
        .iter()
        .filter(|(_, a)| a.force_new)
        .map(|(k, _)| *k)
        .collect();
    let nested = nested_force_new(kind.type_name());
    let verdict = classify(
        &changed,
        &force_new,
        nested,
        &kind.mask_rules(&planned.to_json_unmarked()),
    );
    if !verdict.replace.is_empty() {
        let mut notes = Vec::new();
        for p in &verdict.replace {
            let top = p.split('.').next().unwrap_or("");
            let declared = force_new.contains(&top)
                || nested
                    .iter()
                    .any(|n| *n == p || n.starts_with(&format!("{p}.")));
            if !declared {
                notes.push(format!("{p} cannot be changed in place"));
            }
        }
        return Proposal {
            planned: create(kind, schema, desired, defaults),
            replace: verdict.replace.iter().map(|p| keys(p)).collect(),
            mask: Vec::new(),
            notes,
        };
    }
    kind.derive(&mut planned, &changed);
    Proposal {
        planned,
        replace: Vec::new(),
        mask: verdict.mask.into_iter().collect(),
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::kind;
    use mlstack_provider_api::Provider;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    fn schema(t: &str) -> ResourceSchema {
        crate::YandexProvider::new()
            .schema()
            .resources
            .remove(t)
            .expect("type")
    }

    fn defaults() -> Defaults {
        Defaults {
            folder_id: Some("b1gf".into()),
            zone: Some("ru-central1-a".into()),
        }
    }

    fn network_live() -> Value {
        v(
            serde_json::json!({"id": "enp1", "name": "net", "description": "", "labels": {},
            "folder_id": "b1gf", "created_at": "2024-01-01T00:00:00Z", "default_security_group_id": "sg"}),
        )
    }

    #[test]
    fn an_unchanged_resource_plans_exactly_its_live_value() {
        let k = kind("yandex_vpc_network").unwrap();
        let p = update(
            k,
            &schema("yandex_vpc_network"),
            &v(serde_json::json!({"name": "net"})),
            &network_live(),
            &defaults(),
        );
        assert_eq!(p.planned, network_live());
        assert!(p.mask.is_empty() && p.replace.is_empty());
    }

    #[test]
    fn a_rename_is_an_update_with_a_mask_and_a_folder_move_a_replace() {
        let k = kind("yandex_vpc_network").unwrap();
        let s = schema("yandex_vpc_network");
        let p = update(
            k,
            &s,
            &v(serde_json::json!({"name": "net2", "labels": {"a": "b"}})),
            &network_live(),
            &defaults(),
        );
        assert_eq!(p.mask, ["labels", "name"]);
        assert_eq!(p.planned.get("id").unwrap().as_str(), Some("enp1"));
        let p = update(
            k,
            &s,
            &v(serde_json::json!({"name": "net", "folder_id": "b1gother"})),
            &network_live(),
            &defaults(),
        );
        assert_eq!(p.replace, vec![keys("folder_id")]);
        assert!(p.planned.get("id").unwrap().is_unknown());
        // Removing the description clears it (a known default, not a server choice).
        let mut live = network_live();
        live.set_path(&keys("description"), Value::from("old"));
        let p = update(
            k,
            &s,
            &v(serde_json::json!({"name": "net"})),
            &live,
            &defaults(),
        );
        assert_eq!(p.mask, ["description"]);
    }

    #[test]
    fn creates_take_defaults_and_leave_computed_unknown() {
        let k = kind("yandex_vpc_subnet").unwrap();
        let p = create(
            k,
            &schema("yandex_vpc_subnet"),
            &v(
                serde_json::json!({"name": "s", "network_id": "n", "v4_cidr_blocks": ["10.0.0.0/24"]}),
            ),
            &defaults(),
        );
        assert_eq!(p.get("zone").unwrap().as_str(), Some("ru-central1-a"));
        assert_eq!(p.get("folder_id").unwrap().as_str(), Some("b1gf"));
        assert_eq!(p.get("description").unwrap().as_str(), Some(""));
        assert!(p.get("id").unwrap().is_unknown());
        let none = Defaults::default();
        let p = create(
            k,
            &schema("yandex_vpc_subnet"),
            &v(serde_json::json!({"name": "s"})),
            &none,
        );
        assert!(p.get("folder_id").unwrap().is_unknown());
        let b = kind("yandex_storage_bucket").unwrap();
        let p = create(
            b,
            &schema("yandex_storage_bucket"),
            &v(serde_json::json!({"bucket": "arts"})),
            &defaults(),
        );
        assert_eq!(
            p.get("bucket_domain_name").unwrap().as_str(),
            Some("arts.storage.yandexcloud.net")
        );
        assert_eq!(p.get("id").unwrap().as_str(), Some("arts"));
    }

    #[test]
    fn node_group_scaling_is_masked_and_switching_kinds_replaces() {
        let k = kind("yandex_kubernetes_node_group").unwrap();
        let s = schema("yandex_kubernetes_node_group");
        let live = v(serde_json::json!({
            "id": "ng1", "name": "workers", "description": "", "labels": {}, "folder_id": "b1gf",
            "cluster_id": "c1", "version": "1.30", "status": "RUNNING", "instance_group_id": "ig",
            "instance_template": {"platform_id": "standard-v3",
                "resources": {"cores": 4, "memory": 16, "core_fraction": 100, "gpus": 0},
                "boot_disk": {"type": "network-ssd", "size": 64},
                "network_interface": [{"subnet_ids": ["s"], "nat": true, "security_group_ids": []}],
                "scheduling_policy": {"preemptible": false}},
            "scale_policy": {"auto_scale": {"min": 3, "max": 6, "initial": 3}},
            "allocation_policy": {"location": [{"zone": "ru-central1-a"}]},
            "node_labels": {}, "node_taints": [],
            "maintenance_policy": {"auto_upgrade": true, "auto_repair": true}
        }));
        let desired = v(serde_json::json!({
            "cluster_id": "c1", "name": "workers", "version": "1.30",
            "instance_template": {"platform_id": "standard-v3",
                "resources": {"cores": 4, "memory": 16, "core_fraction": 100},
                "boot_disk": {"type": "network-ssd", "size": 64},
                "network_interface": [{"subnet_ids": ["s"], "nat": true}]},
            "scale_policy": {"auto_scale": {"min": 3, "max": 6, "initial": 3}},
            "allocation_policy": {"location": [{"zone": "ru-central1-a"}]}
        }));
        let p = update(k, &s, &desired, &live, &defaults());
        assert_eq!(p.planned, live, "server defaults are no difference");
        let mut more = desired.clone();
        more.set_path(&keys("scale_policy.auto_scale.max"), Value::from(8i64));
        more.set_path(
            &keys("instance_template.resources.memory"),
            Value::from(32i64),
        );
        let p = update(k, &s, &more, &live, &defaults());
        assert_eq!(
            p.mask,
            [
                "nodeTemplate.resourcesSpec.memory",
                "scalePolicy.autoScale.maxSize"
            ]
        );
        let mut fixed = desired.clone();
        fixed.set_path(
            &keys("scale_policy"),
            v(serde_json::json!({"fixed_scale": {"size": 3}})),
        );
        let p = update(k, &s, &fixed, &live, &defaults());
        assert_eq!(p.replace, vec![keys("scale_policy.auto_scale")]);
    }
}
