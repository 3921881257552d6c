//! PostgreSQL settings as the real API answers them: a cluster's
//! `config.postgresqlConfig_<version>` is a `PostgresqlConfigSet<version>`
//! (`{effectiveConfig, userConfig, defaultConfig}`), while create and update bodies send the
//! user's settings (`configSpec.postgresqlConfig_16: {maxConnections: …}`). The sandbox
//! has no per-preset defaults: `defaultConfig` is empty and `effectiveConfig` is the
//! user's settings.

use super::json;
use serde_json::{json, Map, Value};

const PREFIX: &str = "postgresqlConfig_";
const USER: &str = "userConfig";
const PARTS: [&str; 3] = ["effectiveConfig", USER, "defaultConfig"];

/// Before an update: the settings a body or mask path names under
/// `configSpec.postgresqlConfig_N` are the user's (`…postgresqlConfig_N.userConfig`).
pub fn before_update(body: &mut Value, mask: &mut Option<Vec<String>>) {
    if let Some(spec) = body.get_mut("configSpec").and_then(Value::as_object_mut) {
        for (k, v) in spec.iter_mut() {
            if k.starts_with(PREFIX) && v.is_object() {
                *v = json!({ USER: v.take() });
            }
        }
    }
    for p in mask.iter_mut().flatten() {
        *p = user_path(p);
    }
}

/// `configSpec.postgresqlConfig_16.maxConnections` → `…postgresqlConfig_16.userConfig.maxConnections`
/// (snake_case masks too); other paths unchanged.
fn user_path(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    match segs.as_slice() {
        [spec, set, rest @ ..]
            if json::camel(spec) == "configSpec"
                && json::camel(set).starts_with(PREFIX)
                && rest.first().is_none_or(|r| json::camel(r) != USER) =>
        {
            let mut out = vec![*spec, *set, USER];
            out.extend_from_slice(rest);
            out.join(".")
        }
        _ => path.to_string(),
    }
}

/// After a create or update: every `config.postgresqlConfig_N` in the set form, the one of
/// the cluster's version present even when no setting was given.
pub fn shape(resource: &mut Value) {
    let version = json::str_at(resource, "config.version").map(|v| v.replace('-', "_"));
    let Some(config) = resource.get_mut("config").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(v) = version {
        let key = format!("{PREFIX}{v}");
        if !config.keys().any(|k| k.starts_with(PREFIX)) {
            config.insert(key, json!({}));
        }
    }
    for (k, v) in config.iter_mut() {
        if k.starts_with(PREFIX) {
            *v = config_set(v);
        }
    }
}

/// A settings set from what is stored: keys other than the three parts are user settings
/// (a create body's), merged over the stored `userConfig`.
fn config_set(v: &Value) -> Value {
    let mut user = v
        .get(USER)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, x) in v.as_object().into_iter().flatten() {
        if !PARTS.contains(&k.as_str()) {
            user.insert(k.clone(), x.clone());
        }
    }
    let defaults = Map::new();
    let mut effective = defaults.clone();
    effective.extend(user.clone());
    json!({"effectiveConfig": effective, USER: user, "defaultConfig": defaults})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_answered_as_a_set() {
        let mut r =
            json!({"config": {"version": "16", "postgresqlConfig_16": {"maxConnections": "200"}}});
        shape(&mut r);
        let set = &r["config"]["postgresqlConfig_16"];
        assert_eq!(set["userConfig"]["maxConnections"], "200");
        assert_eq!(set["effectiveConfig"]["maxConnections"], "200");
        assert_eq!(set["defaultConfig"], json!({}));
        let again = r.clone();
        shape(&mut r);
        assert_eq!(r, again, "shaping is idempotent");
        let mut bare = json!({"config": {"version": "15-1c"}});
        shape(&mut bare);
        assert_eq!(
            bare["config"]["postgresqlConfig_15_1c"]["userConfig"],
            json!({})
        );
    }

    #[test]
    fn updates_address_the_user_settings() {
        let mut body = json!({"configSpec": {"postgresqlConfig_16": {"maxConnections": "300"}}});
        let mut mask = Some(vec![
            "configSpec.postgresqlConfig_16.maxConnections".to_string(),
            "config_spec.postgresql_config_16".to_string(),
            "description".to_string(),
        ]);
        before_update(&mut body, &mut mask);
        assert_eq!(
            body["configSpec"]["postgresqlConfig_16"]["userConfig"]["maxConnections"],
            "300"
        );
        assert_eq!(
            mask.unwrap(),
            [
                "configSpec.postgresqlConfig_16.userConfig.maxConnections",
                "config_spec.postgresql_config_16.userConfig",
                "description"
            ]
        );
    }
}
