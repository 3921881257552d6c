use super::*;
use mlstack_provider_api::path_to_string;

fn props(json: &str) -> Value {
    Value::from(serde_json::from_str::<serde_json::Value>(json).expect("json"))
}

fn issues(t: &str, json: &str) -> Vec<(String, String)> {
    YandexProvider::new()
        .validate(t, &props(json))
        .into_iter()
        .map(|i| (path_to_string(&i.path), i.message))
        .collect()
}

#[test]
fn schema_has_every_type_and_the_cluster_outputs() {
    let s = YandexProvider::new().schema();
    assert_eq!(s.resources.len(), 13);
    for t in s.resources.keys() {
        assert!(t.starts_with("yandex_"), "{t}");
    }
    let c = &s.resources["yandex_kubernetes_cluster"];
    for a in ["id", "endpoint", "ca_certificate", "kubeconfig"] {
        assert!(c.attributes[a].computed, "{a}");
    }
    assert!(c.attributes["kubeconfig"].sensitive);
    assert!(c.attributes["network_id"].force_new);
    assert!(s.resources["yandex_vpc_subnet"].attributes["zone"].force_new);
    assert!(s.resources["yandex_mdb_kafka_user"].attributes["password"].sensitive);
    assert!(s.config.attributes["token"].sensitive);
    for k in [
        "service_account_key_file",
        "folder_id",
        "cloud_id",
        "zone",
        "endpoint",
    ] {
        assert!(s.config.attributes.contains_key(k), "{k}");
    }
}

#[test]
fn names_zones_and_cidrs_are_checked() {
    assert!(issues(
        "yandex_vpc_subnet",
        r#"{"name": "a-1", "network_id": "n", "zone": "ru-central1-a", "v4_cidr_blocks": ["10.0.0.0/24"]}"#
    )
    .is_empty());
    let i = issues(
        "yandex_vpc_subnet",
        r#"{"name": "A_1", "zone": "ru-central1-z", "v4_cidr_blocks": ["10.0.0.0/8", "nope"]}"#,
    );
    let paths: Vec<&str> = i.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["name", "zone", "v4_cidr_blocks", "v4_cidr_blocks"],
        "{i:?}"
    );
}

#[test]
fn scale_policy_is_exactly_one_kind() {
    let t = "yandex_kubernetes_node_group";
    assert!(issues(
        t,
        r#"{"scale_policy": {"auto_scale": {"min": 1, "max": 3, "initial": 2}}}"#
    )
    .is_empty());
    assert!(issues(t, r#"{"scale_policy": {"fixed_scale": {"size": 3}}}"#).is_empty());
    let i = issues(t, r#"{"scale_policy": {}}"#);
    assert!(i[0].1.contains("exactly one"), "{i:?}");
    let i = issues(
        t,
        r#"{"scale_policy": {"auto_scale": {"min": 4, "max": 3, "initial": 9}}}"#,
    );
    assert_eq!(i.len(), 2, "{i:?}");
}

#[test]
fn passwords_members_and_enums() {
    let i = issues(
        "yandex_mdb_kafka_user",
        r#"{"name": "producer", "password": "short"}"#,
    );
    assert!(
        i[0].1.contains("5 characters") && !i[0].1.contains("short"),
        "{i:?}"
    );
    let i = issues(
        "yandex_resourcemanager_folder_iam_member",
        r#"{"member": "sa-1", "role": "editor", "folder_id": "f"}"#,
    );
    assert_eq!(i[0].0, "member");
    let i = issues(
        "yandex_mdb_postgresql_cluster",
        r#"{"name": "pg", "environment": "TESTING"}"#,
    );
    assert_eq!(i[0].0, "environment");
    let i = issues("yandex", r#"{"zone": "ru-central1-q"}"#);
    assert_eq!(i[0].0, "zone");
}

#[test]
fn unknown_nested_attributes_are_named() {
    let i = issues(
        "yandex_kubernetes_cluster",
        r#"{"master": {"version": "1.30", "publicip": true, "zonal": {"zone": "ru-central1-a", "subnet": "s"},
            "maintenance_policy": {"auto_upgrade": true, "maintenance_window": [{"start_time": "03:00", "duratoin": "3h"}]}},
            "labels": {"anything": "goes"}}"#,
    );
    let paths: Vec<&str> = i.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "master.maintenance_policy.maintenance_window[0].duratoin",
            "master.publicip",
            "master.zonal.subnet"
        ],
        "{i:?}"
    );
    let all = YandexProvider::new().validate(
        "yandex_kubernetes_cluster",
        &props(r#"{"master": {"publicip": true}}"#),
    );
    assert!(
        all[0].hint.as_deref().unwrap_or("").contains("public_ip"),
        "{all:?}"
    );
    // Settings maps take any key.
    assert!(issues(
        "yandex_mdb_kafka_cluster",
        r#"{"config": {"kafka": {"kafka_config": {"log_retention_ms": 1}, "resources": {"disk_size": 32}}}}"#
    )
    .is_empty());
    assert!(issues(
        "yandex_kubernetes_node_group",
        r#"{"instance_template": {"metadata": {"ssh-keys": "x"}, "network_interface": [{"nat": true, "subnet_ids": ["a"]}]},
            "scale_policy": {"fixed_scale": {"size": 1}}}"#
    )
    .is_empty());
}

#[test]
fn unknown_values_are_not_checked() {
    let mut p = props(r#"{"name": "x"}"#);
    p.set_path(
        &[mlstack_provider_api::PathStep::Key("v4_cidr_blocks".into())],
        Value::Unknown,
    );
    assert!(issues("yandex_vpc_subnet", r#"{"scale_policy": null}"#).is_empty());
    assert!(YandexProvider::new()
        .validate("yandex_vpc_subnet", &p)
        .is_empty());
}

#[tokio::test]
async fn plan_of_a_create_marks_computed_unknown_and_takes_defaults() {
    let desired = props(r#"{"name": "k8s", "network_id": "n1", "master": {"version": "1.30"}}"#);
    let config = props(r#"{"folder_id": "b1gfolder", "zone": "ru-central1-a"}"#);
    let rr = ResourceRef {
        address: "cluster",
        type_name: "yandex_kubernetes_cluster",
        provider_config: &config,
    };
    // No credentials anywhere: the plan is a create, saying it could not look for the name.
    let provider = YandexProvider::with_env(Env::default());
    let p = provider
        .plan(PlanRequest {
            resource: rr,
            desired: &desired,
            prior: None,
            live: None,
        })
        .await
        .unwrap();
    assert_eq!(
        p.planned.get("folder_id").unwrap().as_str(),
        Some("b1gfolder")
    );
    assert_eq!(p.planned.get("name").unwrap().as_str(), Some("k8s"));
    for a in ["id", "endpoint", "ca_certificate", "kubeconfig"] {
        assert!(p.planned.get(a).unwrap().is_unknown(), "{a}");
    }
    assert!(p.adopted.is_none());
    assert!(
        p.notes[0].contains("no Yandex Cloud credentials"),
        "{:?}",
        p.notes
    );
    // A cluster has no zone attribute: none is invented.
    assert!(p.planned.get("zone").is_none());
    let err = provider.read(rr, &desired).await.unwrap_err();
    assert!(err.message.contains("no credentials"), "{err}");
    // While the provider block is unknown, a create is planned without any lookup or note.
    let unknown = Value::Unknown;
    let rr2 = ResourceRef {
        provider_config: &unknown,
        ..rr
    };
    let p = provider
        .plan(PlanRequest {
            resource: rr2,
            desired: &desired,
            prior: None,
            live: None,
        })
        .await
        .unwrap();
    assert!(p.notes.is_empty() && p.adopted.is_none());
    assert!(p.planned.get("folder_id").unwrap().is_unknown());
}
