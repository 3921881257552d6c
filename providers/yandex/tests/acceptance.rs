//! Acceptance tests against the real Yandex Cloud. They run only with `YC_ACCEPTANCE=1` and
//! credentials in the environment (`YC_TOKEN` or `YC_SERVICE_ACCOUNT_KEY_FILE`, and
//! `YC_FOLDER_ID`; `YC_ZONE` defaults to ru-central1-a); the clusters (Kubernetes, Kafka,
//! PostgreSQL: slow and billed) also need `YC_ACCEPTANCE_CLUSTERS=1`. Otherwise each test says
//! plainly that it was skipped. Every resource is named `mlstack-acc-<random>` and deleted at
//! the end, also when an assertion fails.
//!
//!     YC_ACCEPTANCE=1 YC_TOKEN=... YC_FOLDER_ID=b1g... cargo test -p mlstack-provider-yandex --test acceptance

mod common;

use common::{secret_password, v, Rig};
use mlstack_provider_api::{Provider, Value};
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Why the acceptance tests cannot run here, if they cannot.
fn skip_reason(clusters: bool) -> Option<String> {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    if std::env::var("YC_ACCEPTANCE").as_deref() != Ok("1") {
        return Some("YC_ACCEPTANCE=1 is not set".into());
    }
    if !set("YC_TOKEN") && !set("YC_SERVICE_ACCOUNT_KEY_FILE") {
        return Some("neither YC_TOKEN nor YC_SERVICE_ACCOUNT_KEY_FILE is set".into());
    }
    if !set("YC_FOLDER_ID") {
        return Some("YC_FOLDER_ID is not set".into());
    }
    if clusters && std::env::var("YC_ACCEPTANCE_CLUSTERS").as_deref() != Ok("1") {
        return Some("YC_ACCEPTANCE_CLUSTERS=1 is not set (clusters are slow and billed)".into());
    }
    None
}

fn rig() -> Rig {
    let folder = std::env::var("YC_FOLDER_ID").unwrap_or_default();
    let zone = std::env::var("YC_ZONE").unwrap_or_else(|_| "ru-central1-a".into());
    Rig::real(&folder, &zone)
}

/// A name no earlier run used.
fn unique(prefix: &str) -> String {
    format!("mlstack-acc-{prefix}-{:08x}", fastrand::u32(..))
}

/// What a test created, deleted in reverse order whatever happens.
#[derive(Clone, Default)]
struct Created(Arc<Mutex<Vec<(String, String, Value)>>>);

impl Created {
    fn add(&self, addr: &str, t: &str, state: &Value) {
        if let Ok(mut l) = self.0.lock() {
            l.retain(|(a, _, _)| a != addr);
            l.push((addr.to_string(), t.to_string(), state.clone()));
        }
    }

    fn forget(&self, addr: &str) {
        if let Ok(mut l) = self.0.lock() {
            l.retain(|(a, _, _)| a != addr);
        }
    }
}

/// Runs `body` (in its own task, so a failed assertion does not skip the clean-up), then
/// deletes what it recorded, then reports the failure if there was one.
async fn run<F, Fut>(clusters: bool, name: &str, body: F)
where
    F: FnOnce(Arc<Rig>, Created) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Some(why) = skip_reason(clusters) {
        // Straight to stderr, in one write: the test harness captures print!/eprint!.
        let line = format!("acceptance test {name} SKIPPED: {why}\n");
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        return;
    }
    let rig = Arc::new(rig());
    let created = Created::default();
    let outcome = tokio::spawn(body(rig.clone(), created.clone())).await;
    let left: Vec<_> = created.0.lock().map(|l| l.clone()).unwrap_or_default();
    for (addr, t, state) in left.into_iter().rev() {
        if let Err(e) = rig.p.delete(rig.rr(&addr, &t), &state).await {
            eprintln!("clean-up of {addr} ({t}) failed, delete it by hand: {e}");
        }
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn id(s: &Value) -> String {
    Rig::s(s, "id").to_string()
}

async fn network(rig: &Rig, created: &Created, name: &str) -> (Value, Value) {
    let net = rig
        .create(
            "network",
            "yandex_vpc_network",
            &v(serde_json::json!({"name": name})),
        )
        .await;
    created.add("network", "yandex_vpc_network", &net);
    let sub = rig
        .create(
            "subnet",
            "yandex_vpc_subnet",
            &v(
                serde_json::json!({"name": format!("{name}-a"), "network_id": id(&net),
                "v4_cidr_blocks": ["10.128.0.0/24"]}),
            ),
        )
        .await;
    created.add("subnet", "yandex_vpc_subnet", &sub);
    (net, sub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_vpc() {
    run(false, "acceptance_vpc", |rig, created| async move {
        let name = unique("net");
        let (net, sub) = network(&rig, &created, &name).await;
        let net = rig
            .update(
                "network",
                "yandex_vpc_network",
                &v(serde_json::json!({"name": name, "description": "acceptance"})),
                &net,
            )
            .await;
        created.add("network", "yandex_vpc_network", &net);
        let sd = |cidr: &str, zone: &str| {
            v(
                serde_json::json!({"name": format!("{name}-a"), "network_id": id(&net),
                "zone": zone, "v4_cidr_blocks": [cidr]}),
            )
        };
        let sub = rig
            .update(
                "subnet",
                "yandex_vpc_subnet",
                &sd("10.128.0.0/23", "ru-central1-a"),
                &sub,
            )
            .await;
        let sub = rig
            .replace(
                "subnet",
                "yandex_vpc_subnet",
                &sd("10.128.0.0/23", "ru-central1-b"),
                &sub,
                "zone",
            )
            .await;
        created.add("subnet", "yandex_vpc_subnet", &sub);
        rig.destroy("subnet", "yandex_vpc_subnet", &sub).await;
        created.forget("subnet");
        rig.destroy("network", "yandex_vpc_network", &net).await;
        created.forget("network");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_iam_and_adoption() {
    run(
        false,
        "acceptance_iam_and_adoption",
        |rig, created| async move {
            let t = "yandex_iam_service_account";
            let name = unique("sa");
            let sa = rig
                .create("sa", t, &v(serde_json::json!({"name": name})))
                .await;
            created.add("sa", t, &sa);
            let sa = rig
                .update(
                    "sa",
                    t,
                    &v(serde_json::json!({"name": name, "description": "acceptance"})),
                    &sa,
                )
                .await;
            let mt = "yandex_resourcemanager_folder_iam_member";
            let md = v(serde_json::json!({
            "folder_id": std::env::var("YC_FOLDER_ID").unwrap_or_default(),
            "role": "viewer", "member": format!("serviceAccount:{}", id(&sa))}));
            let m = rig.create("member", mt, &md).await;
            created.add("member", mt, &m);
            // Adoption: a second plan with no state finds both by name.
            let (_, plan) = rig
                .plan(
                    "sa",
                    t,
                    &v(serde_json::json!({"name": name, "description": "acceptance"})),
                    None,
                )
                .await;
            assert_eq!(plan.adopted.as_ref().map(id), Some(id(&sa)));
            let (_, plan) = rig.plan("member", mt, &md, None).await;
            assert!(plan.adopted.is_some());
            rig.destroy("member", mt, &m).await;
            created.forget("member");
            rig.destroy("sa", t, &sa).await;
            created.forget("sa");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_bucket() {
    run(false, "acceptance_bucket", |rig, created| async move {
        let t = "yandex_storage_bucket";
        let name = unique("bucket");
        let bd = |size: i64| v(serde_json::json!({"bucket": name, "max_size": size}));
        let b = rig.create("bucket", t, &bd(1 << 30)).await;
        created.add("bucket", t, &b);
        let b = rig.update("bucket", t, &bd(2 << 30), &b).await;
        rig.destroy("bucket", t, &b).await;
        created.forget("bucket");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_kubernetes() {
    run(true, "acceptance_kubernetes", |rig, created| async move {
        let name = unique("k8s");
        let (net, sub) = network(&rig, &created, &name).await;
        let sa = rig
            .create("sa", "yandex_iam_service_account", &v(serde_json::json!({"name": name})))
            .await;
        created.add("sa", "yandex_iam_service_account", &sa);
        let folder = std::env::var("YC_FOLDER_ID").unwrap_or_default();
        for (i, role) in ["k8s.clusters.agent", "vpc.publicAdmin", "container-registry.images.puller"]
            .iter()
            .enumerate()
        {
            let addr = format!("role{i}");
            let m = rig
                .create(
                    &addr,
                    "yandex_resourcemanager_folder_iam_member",
                    &v(serde_json::json!({"folder_id": folder, "role": role,
                        "member": format!("serviceAccount:{}", id(&sa))})),
                )
                .await;
            created.add(&addr, "yandex_resourcemanager_folder_iam_member", &m);
        }
        let t = "yandex_kubernetes_cluster";
        let cd = |labels: serde_json::Value| {
            v(serde_json::json!({"name": name, "network_id": id(&net),
                "service_account_id": id(&sa), "node_service_account_id": id(&sa),
                "labels": labels,
                "master": {"public_ip": true, "zonal": {"zone": "ru-central1-a", "subnet_id": id(&sub)}}}))
        };
        let c = rig.create("cluster", t, &cd(serde_json::json!({}))).await;
        created.add("cluster", t, &c);
        assert!(Rig::s(&c, "endpoint").starts_with("https://"));
        assert!(Rig::s(&c, "ca_certificate").contains("BEGIN CERTIFICATE"));
        let c = rig.update("cluster", t, &cd(serde_json::json!({"acceptance": "yes"})), &c).await;
        let nt = "yandex_kubernetes_node_group";
        let nd = |size: i64| {
            v(serde_json::json!({"cluster_id": id(&c), "name": "workers",
                "instance_template": {"platform_id": "standard-v3",
                    "resources": {"cores": 2, "memory": 4, "core_fraction": 50},
                    "boot_disk": {"type": "network-hdd", "size": 64},
                    "network_interface": [{"subnet_ids": [id(&sub)], "nat": true}]},
                "scale_policy": {"fixed_scale": {"size": size}},
                "allocation_policy": {"location": [{"zone": "ru-central1-a"}]}}))
        };
        let ng = rig.create("nodes", nt, &nd(1)).await;
        created.add("nodes", nt, &ng);
        let ng = rig.update("nodes", nt, &nd(2), &ng).await;
        rig.destroy("nodes", nt, &ng).await;
        created.forget("nodes");
        rig.destroy("cluster", t, &c).await;
        created.forget("cluster");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_kafka() {
    run(true, "acceptance_kafka", |rig, created| async move {
        let name = unique("kafka");
        let (net, sub) = network(&rig, &created, &name).await;
        let t = "yandex_mdb_kafka_cluster";
        let kd = |disk: i64| {
            v(serde_json::json!({"name": name, "network_id": id(&net), "subnet_ids": [id(&sub)],
                "config": {"version": "3.6", "zones": ["ru-central1-a"], "brokers_count": 1,
                    "assign_public_ip": false,
                    "kafka": {"resources": {"resource_preset_id": "s2.micro", "disk_size": disk, "disk_type_id": "network-hdd"}}}}))
        };
        let k = rig.create("kafka", t, &kd(32)).await;
        created.add("kafka", t, &k);
        assert!(Rig::s(&k, "bootstrap_servers").contains(":9091"));
        let topic = rig
            .create(
                "topic",
                "yandex_mdb_kafka_topic",
                &v(serde_json::json!({"cluster_id": id(&k), "name": "events", "partitions": 1, "replication_factor": 1})),
            )
            .await;
        created.add("topic", "yandex_mdb_kafka_topic", &topic);
        let user = rig
            .create(
                "user",
                "yandex_mdb_kafka_user",
                &secret_password(serde_json::json!({"cluster_id": id(&k), "name": "app",
                    "password": format!("pw-{:016x}", fastrand::u64(..)),
                    "permission": [{"topic_name": "events", "role": "ACCESS_ROLE_PRODUCER"}]})),
            )
            .await;
        created.add("user", "yandex_mdb_kafka_user", &user);
        let k = rig.update("kafka", t, &kd(48), &k).await;
        created.add("kafka", t, &k);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_postgresql() {
    run(true, "acceptance_postgresql", |rig, created| async move {
        let name = unique("pg");
        let (net, sub) = network(&rig, &created, &name).await;
        let t = "yandex_mdb_postgresql_cluster";
        let pd = |disk: i64| {
            v(serde_json::json!({"name": name, "network_id": id(&net),
                "config": {"version": "16", "resources": {"resource_preset_id": "s2.micro", "disk_size": disk, "disk_type_id": "network-hdd"}},
                "host": [{"zone": "ru-central1-a", "subnet_id": id(&sub)}]}))
        };
        let pg = rig.create("pg", t, &pd(10)).await;
        created.add("pg", t, &pg);
        assert_eq!(Rig::s(&pg, "fqdn"), format!("c-{}.rw.mdb.yandexcloud.net", id(&pg)));
        let user = rig
            .create(
                "user",
                "yandex_mdb_postgresql_user",
                &secret_password(serde_json::json!({"cluster_id": id(&pg), "name": "mlflow",
                    "password": format!("pw-{:016x}", fastrand::u64(..))})),
            )
            .await;
        created.add("user", "yandex_mdb_postgresql_user", &user);
        let db = rig
            .create(
                "db",
                "yandex_mdb_postgresql_database",
                &v(serde_json::json!({"cluster_id": id(&pg), "name": "mlflow", "owner": "mlflow"})),
            )
            .await;
        created.add("db", "yandex_mdb_postgresql_database", &db);
        let pg = rig.update("pg", t, &pd(20), &pg).await;
        created.add("pg", t, &pg);
    })
    .await;
}
