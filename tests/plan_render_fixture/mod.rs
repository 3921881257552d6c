//! A plan with one of everything, shared by the render and plan-file tests. Every secret in it
//! contains `SECRET`, so a test can assert that no output holds any of them.
#![allow(dead_code)]

use mlstack::plan::{Action, OutputChange, Plan, PlanMode, ResourceChange};
use mlstack::provider_api::{parse_path, Value};
use mlstack::stack::Mode;
use serde_json::json;

/// Every secret value the fixture holds.
pub const SECRETS: &[&str] = &[
    "hunter2-SECRET-create",
    "old-SECRET-token",
    "new-SECRET-token",
    "var-SECRET-password",
    "out-SECRET-before",
    "out-SECRET-after",
    "nested-SECRET-in-list",
    "deleted-SECRET",
];

pub fn v(j: serde_json::Value) -> Value {
    Value::from(j)
}

pub fn secret(s: &str) -> Value {
    Value::from(s).into_sensitive()
}

pub fn change(address: &str, type_name: &str, action: Action) -> ResourceChange {
    ResourceChange {
        address: address.into(),
        mode: Mode::Managed,
        type_name: type_name.into(),
        provider: type_name.split('_').next().unwrap_or("local").into(),
        action,
        before: None,
        after: None,
        replace_paths: vec![],
        reason: None,
        notes: vec![],
        dependencies: vec![],
    }
}

fn with(mut base: Value, path: &str, value: Value) -> Value {
    assert!(base.set_path(&parse_path(path), value));
    base
}

pub fn create() -> ResourceChange {
    let mut c = change("db_password", "random_password", Action::Create);
    let after = v(json!({"length": 16, "special": true, "keepers": {"rotate": "2024"}}));
    let after = with(after, "result", secret("hunter2-SECRET-create"));
    c.after = Some(with(after, "id", Value::Unknown));
    c
}

pub fn update() -> ResourceChange {
    let mut c = change("app_config", "local_file", Action::Update);
    let before = v(json!({
        "filename": "out/app.conf",
        "content": "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\niota\n",
        "labels": {"app": "fraud", "tier": "api", "app.kubernetes.io/name": "model"},
        "ports": [80, 443],
        "containers": [{"name": "app", "image": "model:v1", "env": {"A": "1"}}],
        "mode": "0644",
        "creds": ["plain", "x"],
    }));
    let before = with(before, "token", secret("old-SECRET-token"));
    let before = with(before, "creds.1", secret("nested-SECRET-in-list"));
    let after = v(json!({
        "filename": "out/app.conf",
        "content": "alpha\nbeta\ngamma\nDELTA\nepsilon\nzeta\neta\ntheta\niota\n",
        "labels": {"app": "fraud", "tier": "web", "owner": "ml"},
        "ports": [80, 8443],
        "containers": [{"name": "app", "image": "model:v2", "env": {"A": "1"}}],
        "mode": "0644",
        "creds": ["plain", "x"],
    }));
    let after = with(after, "token", secret("new-SECRET-token"));
    let after = with(after, "creds.1", secret("nested-SECRET-in-list"));
    c.before = Some(before);
    c.after = Some(with(after, "checksum", Value::Unknown));
    c
}

pub fn replace() -> ResourceChange {
    let mut c = change(
        "k8s_cluster",
        "yandex_kubernetes_cluster",
        Action::DeleteThenCreate,
    );
    c.before = Some(v(
        json!({"id": "cat123", "zone": "ru-central1-a", "name": "ml", "version": "1.29"}),
    ));
    c.after = Some(with(
        v(json!({"zone": "ru-central1-b", "name": "ml", "version": "1.29"})),
        "id",
        Value::Unknown,
    ));
    c.replace_paths = vec![parse_path("zone")];
    c
}

pub fn replace_requested() -> ResourceChange {
    let mut c = change(
        "admin_password",
        "random_password",
        Action::CreateThenDelete,
    );
    c.before = Some(with(
        v(json!({"length": 20})),
        "result",
        secret("old-SECRET-token"),
    ));
    c.after = Some(with(
        v(json!({"length": 20})),
        "result",
        Value::Unknown.into_sensitive(),
    ));
    c.reason = Some("requested with --replace".into());
    c
}

pub fn delete() -> ResourceChange {
    let mut c = change(
        r#"module.monitoring.object["v1/ConfigMap/monitoring/<old>"]"#,
        "kubernetes_object",
        Action::Delete,
    );
    c.provider = "kubernetes".into();
    c.before = Some(with(
        v(json!({"kind": "ConfigMap", "data": {"a": "b"}})),
        "data.password",
        secret("deleted-SECRET"),
    ));
    c.reason = Some("no longer in the stack".into());
    c
}

pub fn read() -> ResourceChange {
    let mut c = change("data.zone", "yandex_zone", Action::Read);
    c.mode = Mode::Data;
    c.provider = "yandex".into();
    c.after = Some(with(
        v(json!({"name": "ru-central1-a"})),
        "id",
        Value::Unknown,
    ));
    c.reason = Some("config refers to values not yet known".into());
    c
}

pub fn noop() -> ResourceChange {
    let mut c = change("network", "yandex_vpc_network", Action::NoOp);
    let val = v(json!({"name": "net", "id": "enp1"}));
    c.before = Some(val.clone());
    c.after = Some(val);
    c
}

pub fn drift() -> ResourceChange {
    let mut c = change("app_config", "local_file", Action::Update);
    c.before = Some(v(json!({"mode": "0644", "filename": "out/app.conf"})));
    c.after = Some(v(json!({"mode": "0600", "filename": "out/app.conf"})));
    c.notes = vec!["mode was changed by manager \"chmod\"".into()];
    c
}

pub fn outputs() -> Vec<OutputChange> {
    vec![
        OutputChange {
            name: "api_url".into(),
            action: Action::Create,
            before: None,
            after: Some(Value::Unknown),
            sensitive: false,
        },
        OutputChange {
            name: "db_password".into(),
            action: Action::Update,
            before: Some(Value::from("out-SECRET-before")),
            after: Some(Value::from("out-SECRET-after")),
            sensitive: true,
        },
        OutputChange {
            name: "region".into(),
            action: Action::NoOp,
            before: Some(Value::from("ru")),
            after: Some(Value::from("ru")),
            sensitive: false,
        },
    ]
}

/// One of everything.
pub fn full_plan() -> Plan {
    let mut changes = vec![
        create(),
        update(),
        replace(),
        replace_requested(),
        delete(),
        read(),
        noop(),
    ];
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    let mut variables = std::collections::BTreeMap::new();
    variables.insert("region".to_string(), Value::from("ru-central1-a"));
    variables.insert("db_password".to_string(), secret("var-SECRET-password"));
    variables.insert(
        "settings".to_string(),
        with(
            v(json!({"replicas": 4})),
            "api_key",
            secret("var-SECRET-password"),
        ),
    );
    Plan {
        stack_name: "fraud-detection".into(),
        stack_path: "stacks/fraud-detection.yaml".into(),
        mode: PlanMode::Normal,
        lineage: "3f2a-lineage".into(),
        serial: 7,
        changes,
        drift: vec![drift()],
        output_changes: outputs(),
        variables,
        targets: vec![],
        sandbox: true,
        warnings: vec!["provider kubernetes: cluster not reachable, planned from state".into()],
    }
}

/// A plan holding only `changes`.
pub fn plan_of(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        stack_name: "t".into(),
        changes,
        ..Plan::default()
    }
}

pub fn assert_no_secrets(what: &str, text: &str) {
    for s in SECRETS {
        assert!(
            !text.contains(s),
            "{what} contains the secret {s:?}:\n{text}"
        );
    }
}
