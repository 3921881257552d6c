//! The provider's traffic held to the published Yandex Cloud API (every sandbox rig checks
//! its exchanges when it goes, see `common::Rig`'s Drop): here the paths only some changes
//! take — PostgreSQL settings and host changes through `hosts:batchCreate`/`:batchDelete` —
//! and that every call names the host its service lives on.

mod common;

use common::{published_api, v, Rig};
use mlstack_sandbox::conformance::Exchange;

fn id(state: &mlstack_provider_api::Value) -> String {
    Rig::s(state, "id").to_string()
}

fn hosts(state: &mlstack_provider_api::Value) -> Vec<String> {
    let j = state.to_json_unmarked();
    j["host"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["zone"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_settings_and_host_changes_use_the_published_methods() {
    let rig = Rig::start().await;
    let net = rig
        .create(
            "net",
            "yandex_vpc_network",
            &v(serde_json::json!({"name": "pgc"})),
        )
        .await;
    let sub = |zone: &str, cidr: &str| {
        v(
            serde_json::json!({"name": format!("pgc-{zone}"), "network_id": id(&net),
            "zone": zone, "v4_cidr_blocks": [cidr]}),
        )
    };
    let a = rig
        .create(
            "a",
            "yandex_vpc_subnet",
            &sub("ru-central1-a", "10.5.0.0/24"),
        )
        .await;
    let b = rig
        .create(
            "b",
            "yandex_vpc_subnet",
            &sub("ru-central1-b", "10.6.0.0/24"),
        )
        .await;
    let t = "yandex_mdb_postgresql_cluster";
    let pd = |conns: i64, hosts: Vec<(&str, &mlstack_provider_api::Value)>| {
        let hosts: Vec<_> = hosts
            .iter()
            .map(|(z, s)| serde_json::json!({"zone": z, "subnet_id": id(s)}))
            .collect();
        v(
            serde_json::json!({"name": "pgc", "environment": "PRODUCTION", "network_id": id(&net),
            "config": {"version": "16", "resources": {"resource_preset_id": "s3-c2-m8", "disk_size": 20, "disk_type_id": "network-ssd"},
                       "postgresql_config": {"max_connections": conns}},
            "host": hosts}),
        )
    };
    let pg = rig
        .create("pg", t, &pd(200, vec![("ru-central1-a", &a)]))
        .await;
    let pg = rig
        .update("pg", t, &pd(300, vec![("ru-central1-a", &a)]), &pg)
        .await;
    let pg = rig
        .update(
            "pg",
            t,
            &pd(300, vec![("ru-central1-a", &a), ("ru-central1-b", &b)]),
            &pg,
        )
        .await;
    assert_eq!(hosts(&pg), ["ru-central1-a", "ru-central1-b"]);
    let pg = rig
        .update("pg", t, &pd(300, vec![("ru-central1-b", &b)]), &pg)
        .await;
    assert_eq!(hosts(&pg), ["ru-central1-b"]);
    rig.destroy("pg", t, &pg).await;

    let exchanges = rig.cloud().exchanges();
    let answered = |suffix: &str| {
        exchanges
            .iter()
            .any(|e: &Exchange| e.method == "POST" && e.path.ends_with(suffix) && e.status == 200)
    };
    assert!(answered("/hosts:batchCreate"), "no host was added");
    assert!(answered("/hosts:batchDelete"), "no host was deleted");
    // Every call named its service's real host; the sandbox would have refused another.
    for e in &exchanges {
        let host = e.host.as_deref().unwrap_or("");
        assert!(
            host.ends_with(".api.cloud.yandex.net"),
            "{e}: sent to {host:?}"
        );
    }
    assert!(
        published_api().check_all(&exchanges).is_empty(),
        "{:?}",
        rig.nonconforming()
    );
}
