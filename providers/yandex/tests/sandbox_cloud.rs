//! The yandex provider against the sandbox cloud (mlstack_sandbox::Cloud): for each service
//! family create → read → no-op plan → update with a mask → replace on an immutable field →
//! delete; adoption by name of a create that was never recorded; retries under injected faults;
//! MDB conflicting operations; no token in any error.

mod common;

use common::{secret_password, v, Rig, FOLDER};
use mlstack_provider_api::{Provider, ReadResult, Value};
use mlstack_sandbox::Faults;

fn id(state: &Value) -> String {
    Rig::s(state, "id").to_string()
}

/// A network and a subnet for the resources that need them.
async fn network(rig: &Rig, name: &str) -> (Value, Value) {
    let net = rig
        .create(
            "network",
            "yandex_vpc_network",
            &v(serde_json::json!({"name": name})),
        )
        .await;
    let sub = rig
        .create(
            "subnet",
            "yandex_vpc_subnet",
            &v(
                serde_json::json!({"name": format!("{name}-a"), "network_id": id(&net),
                "v4_cidr_blocks": ["10.10.0.0/24"]}),
            ),
        )
        .await;
    (net, sub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpc_network_and_subnet_lifecycle() {
    let rig = Rig::start().await;
    let t = "yandex_vpc_network";
    let d = v(serde_json::json!({"name": "net-1", "description": "first"}));
    let net = rig.create("network", t, &d).await;
    assert_eq!(Rig::s(&net, "folder_id"), FOLDER);
    assert_eq!(Rig::s(&net, "description"), "first");
    let d2 = v(serde_json::json!({"name": "net-1b", "labels": {"env": "test"}}));
    let net = rig.update("network", t, &d2, &net).await;
    assert_eq!(Rig::s(&net, "name"), "net-1b");
    assert_eq!(
        Rig::s(&net, "description"),
        "",
        "an unset description is cleared"
    );

    let st = "yandex_vpc_subnet";
    let sd = |cidr: &str, zone: &str| {
        v(
            serde_json::json!({"name": "sub-1", "network_id": id(&net), "zone": zone,
            "v4_cidr_blocks": [cidr]}),
        )
    };
    let sub = rig
        .create("subnet", st, &sd("10.1.0.0/24", "ru-central1-a"))
        .await;
    let sub = rig
        .update("subnet", st, &sd("10.1.0.0/23", "ru-central1-a"), &sub)
        .await;
    assert_eq!(
        sub.get("v4_cidr_blocks").unwrap().to_json_unmarked(),
        serde_json::json!(["10.1.0.0/23"])
    );
    let sub = rig
        .replace(
            "subnet",
            st,
            &sd("10.1.0.0/23", "ru-central1-b"),
            &sub,
            "zone",
        )
        .await;
    assert_eq!(Rig::s(&sub, "zone"), "ru-central1-b");
    rig.destroy("subnet", st, &sub).await;
    // A folder move replaces the network.
    let d3 = v(
        serde_json::json!({"name": "net-1b", "labels": {"env": "test"}, "folder_id": "b1gotherfolder000001"}),
    );
    let net = rig.replace("network", t, &d3, &net, "folder_id").await;
    rig.destroy("network", t, &net).await;
    assert_eq!(rig.count("vpc.network"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrecorded_create_is_adopted_by_name_not_duplicated() {
    let rig = Rig::start().await;
    let t = "yandex_vpc_network";
    let d = v(serde_json::json!({"name": "orphan", "description": "v1"}));
    // An apply that created the network but crashed before recording it.
    let lost = rig.apply("network", t, &d, None).await;
    let d2 = v(serde_json::json!({"name": "orphan", "description": "v2"}));
    let (_, plan) = rig.plan("network", t, &d2, None).await;
    let adopted = plan.adopted.clone().expect("adopted");
    assert_eq!(Rig::s(&adopted, "id"), id(&lost));
    assert!(
        plan.notes[0].contains("adopts the existing"),
        "{:?}",
        plan.notes
    );
    assert_eq!(
        plan.planned.get("id").and_then(Value::as_str),
        Some(id(&lost).as_str())
    );
    // The engine then applies it as an update of the adopted object.
    let state = rig.apply("network", t, &d2, Some(&adopted)).await;
    assert_eq!(id(&state), id(&lost));
    assert_eq!(Rig::s(&state, "description"), "v2");
    assert_eq!(rig.count("vpc.network"), 1);

    // The same for a child found by name (a PostgreSQL user) and a bucket.
    let (net, _) = network(&rig, "adopt").await;
    let pg = rig
        .create(
            "pg",
            "yandex_mdb_postgresql_cluster",
            &v(serde_json::json!({"name": "pg-adopt", "network_id": id(&net),
                "config": {"version": "16", "resources": {"resource_preset_id": "s2.micro", "disk_size": 10, "disk_type_id": "network-ssd"}},
                "host": [{"zone": "ru-central1-a"}]})),
        )
        .await;
    let ud = secret_password(
        serde_json::json!({"cluster_id": id(&pg), "name": "app", "password": "first-password"}),
    );
    rig.apply("user", "yandex_mdb_postgresql_user", &ud, None)
        .await;
    let ud2 = secret_password(
        serde_json::json!({"cluster_id": id(&pg), "name": "app", "password": "second-password"}),
    );
    let (_, plan) = rig
        .plan("user", "yandex_mdb_postgresql_user", &ud2, None)
        .await;
    let adopted = plan.adopted.expect("user adopted");
    assert!(plan.requires_replace.is_empty());
    assert!(
        adopted.get("password").is_none(),
        "the found user's password is unknowable"
    );
    assert!(
        !plan.planned.same_data(&adopted),
        "the password is set again"
    );
    let st = rig
        .apply("user", "yandex_mdb_postgresql_user", &ud2, Some(&adopted))
        .await;
    assert!(st.get("password").is_some_and(Value::is_sensitive));
    assert_eq!(rig.count("mdb.postgresql.user"), 1);

    let bd = v(serde_json::json!({"bucket": "adopted-bucket", "max_size": 1024}));
    rig.apply("bucket", "yandex_storage_bucket", &bd, None)
        .await;
    let (_, plan) = rig.plan("bucket", "yandex_storage_bucket", &bd, None).await;
    let adopted = plan.adopted.expect("bucket adopted");
    assert!(plan.planned.same_data(&adopted), "{}", plan.planned);

    let md = v(
        serde_json::json!({"folder_id": FOLDER, "role": "editor", "member": "serviceAccount:ajeadopted"}),
    );
    rig.apply(
        "member",
        "yandex_resourcemanager_folder_iam_member",
        &md,
        None,
    )
    .await;
    let (_, plan) = rig
        .plan(
            "member",
            "yandex_resourcemanager_folder_iam_member",
            &md,
            None,
        )
        .await;
    assert!(plan.adopted.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_accounts_and_folder_roles() {
    let rig = Rig::start().await;
    let t = "yandex_iam_service_account";
    let sa = rig
        .create(
            "sa",
            t,
            &v(serde_json::json!({"name": "sa-k8s", "description": "k8s"})),
        )
        .await;
    let sa = rig
        .update(
            "sa",
            t,
            &v(serde_json::json!({"name": "sa-k8s", "description": "cluster"})),
            &sa,
        )
        .await;
    let mt = "yandex_resourcemanager_folder_iam_member";
    let md = |role: &str| {
        v(serde_json::json!({"folder_id": FOLDER, "role": role,
            "member": format!("serviceAccount:{}", id(&sa))}))
    };
    let m = rig.create("agent", mt, &md("k8s.clusters.agent")).await;
    assert_eq!(
        Rig::s(&m, "id"),
        format!("{FOLDER}/k8s.clusters.agent/serviceAccount:{}", id(&sa))
    );
    let m = rig
        .replace("agent", mt, &md("vpc.publicAdmin"), &m, "role")
        .await;
    let imported = rig
        .p
        .import(rig.rr("agent", mt), &id(&m))
        .await
        .expect("import");
    assert!(imported.same_data(&m));
    rig.destroy("agent", mt, &m).await;
    rig.destroy("sa", t, &sa).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_cluster_node_group_and_auth() {
    let rig = Rig::start().await;
    let (net, sub) = network(&rig, "k8s").await;
    let sa = rig
        .create(
            "sa",
            "yandex_iam_service_account",
            &v(serde_json::json!({"name": "k8s-sa"})),
        )
        .await;
    let t = "yandex_kubernetes_cluster";
    let cd = |version: &str, channel: &str| {
        v(serde_json::json!({
            "name": "k8s", "network_id": id(&net), "service_account_id": id(&sa),
            "node_service_account_id": id(&sa), "release_channel": channel,
            "network_policy_provider": "CALICO",
            "master": {"version": version, "public_ip": true,
                "zonal": {"zone": "ru-central1-a", "subnet_id": id(&sub)},
                "maintenance_policy": {"auto_upgrade": true}}
        }))
    };
    let c = rig.create("cluster", t, &cd("1.30", "REGULAR")).await;
    let endpoint = Rig::s(&c, "endpoint").to_string();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    assert!(Rig::s(&c, "ca_certificate").contains("BEGIN CERTIFICATE"));
    assert!(c.get("kubeconfig").is_some_and(Value::is_sensitive));
    let kc = c.get("kubeconfig").unwrap().as_str().unwrap().to_string();
    assert!(kc.contains(&endpoint) && kc.contains("create-token") && !kc.contains("token:"));

    // The data source's token opens the cluster's own Kubernetes API.
    let auth = rig
        .p
        .read_data(
            rig.rr("auth", "yandex_kubernetes_cluster_auth"),
            &v(serde_json::json!({"cluster_id": id(&c)})),
        )
        .await
        .expect("cluster auth");
    let token = auth.get("token").expect("token");
    assert!(token.is_sensitive());
    assert!(auth.get("expires_at").and_then(Value::as_str).is_some());
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(Rig::s(&c, "ca_certificate").as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let resp = client
        .get(format!("{endpoint}/api/v1/namespaces"))
        .bearer_auth(token.as_str().unwrap())
        .send()
        .await
        .expect("kube api");
    assert_eq!(resp.status().as_u16(), 200);

    let c = rig.update("cluster", t, &cd("1.31", "REGULAR"), &c).await;
    assert_eq!(
        c.get_path(&mlstack_provider_api::parse_path("master.version"))
            .unwrap()
            .as_str(),
        Some("1.31")
    );

    let nt = "yandex_kubernetes_node_group";
    let nd = |max: i64, mem: i64, scale: serde_json::Value| {
        let mut d = serde_json::json!({
            "cluster_id": id(&c), "name": "workers",
            "instance_template": {"platform_id": "standard-v3",
                "resources": {"cores": 4, "memory": mem, "core_fraction": 100},
                "boot_disk": {"type": "network-ssd", "size": 64},
                "network_interface": [{"subnet_ids": [id(&sub)], "nat": true}]},
            "scale_policy": {"auto_scale": {"min": 3, "max": max, "initial": 3}},
            "allocation_policy": {"location": [{"zone": "ru-central1-a"}]}
        });
        if !scale.is_null() {
            d["scale_policy"] = scale;
        }
        v(d)
    };
    let ng = rig
        .create("nodes", nt, &nd(6, 16, serde_json::Value::Null))
        .await;
    assert_eq!(
        Rig::s(&ng, "version"),
        "1.31",
        "the node group takes the cluster's version"
    );
    let ng = rig
        .update("nodes", nt, &nd(8, 32, serde_json::Value::Null), &ng)
        .await;
    assert_eq!(
        ng.get_path(&mlstack_provider_api::parse_path(
            "instance_template.resources.memory"
        ))
        .and_then(|m| m.as_f64()),
        Some(32.0)
    );
    let fixed = serde_json::json!({"fixed_scale": {"size": 2}});
    let ng = rig
        .replace(
            "nodes",
            nt,
            &nd(8, 32, fixed),
            &ng,
            "scale_policy.auto_scale",
        )
        .await;
    rig.destroy("nodes", nt, &ng).await;

    // Changing the release channel replaces the cluster.
    let c = rig
        .replace("cluster", t, &cd("1.31", "STABLE"), &c, "release_channel")
        .await;
    rig.destroy("cluster", t, &c).await;
    assert!(rig.cloud().status().clusters.is_empty());
}

fn kafka_desired(net: &Value, sub: &Value, brokers: i64, public: bool) -> Value {
    v(serde_json::json!({
        "name": "kafka", "network_id": id(net), "subnet_ids": [id(sub)],
        "config": {"version": "3.6", "zones": ["ru-central1-a"], "brokers_count": brokers,
            "assign_public_ip": public,
            "kafka": {"resources": {"resource_preset_id": "s2.micro", "disk_size": 32, "disk_type_id": "network-ssd"},
                      "kafka_config": {"log_retention_ms": 3600000}}}
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_cluster_topics_and_users() {
    let rig = Rig::start().await;
    let (net, sub) = network(&rig, "kafka").await;
    let t = "yandex_mdb_kafka_cluster";
    let k = rig
        .create("kafka", t, &kafka_desired(&net, &sub, 1, false))
        .await;
    let servers = Rig::s(&k, "bootstrap_servers").to_string();
    assert!(servers.ends_with(".mdb.yandexcloud.net:9091"), "{servers}");
    let (_, plan) = rig
        .plan("kafka", t, &kafka_desired(&net, &sub, 2, false), Some(&k))
        .await;
    assert!(plan
        .planned
        .get("bootstrap_servers")
        .is_some_and(Value::is_unknown));
    let k = rig
        .update("kafka", t, &kafka_desired(&net, &sub, 2, false), &k)
        .await;
    assert_eq!(Rig::s(&k, "bootstrap_servers").split(',').count(), 2);

    let tt = "yandex_mdb_kafka_topic";
    let td = |name: &str, partitions: i64| {
        v(
            serde_json::json!({"cluster_id": id(&k), "name": name, "partitions": partitions,
            "replication_factor": 1, "topic_config": {"retention_ms": 86400000}}),
        )
    };
    let topic = rig.create("topic", tt, &td("events", 3)).await;
    assert_eq!(Rig::s(&topic, "id"), format!("{}:events", id(&k)));
    let topic = rig.update("topic", tt, &td("events", 6), &topic).await;
    let topic = rig
        .replace("topic", tt, &td("events2", 6), &topic, "name")
        .await;

    let ut = "yandex_mdb_kafka_user";
    let ud = |pw: &str, role: &str| {
        secret_password(
            serde_json::json!({"cluster_id": id(&k), "name": "app", "password": pw,
            "permission": [{"topic_name": "events2", "role": role}]}),
        )
    };
    let user = rig
        .create("user", ut, &ud("password-one", "ACCESS_ROLE_PRODUCER"))
        .await;
    assert!(user.get("password").is_some_and(Value::is_sensitive));
    // A new password alone is a change (the API never returns it; the prior holds it).
    let user = rig
        .update(
            "user",
            ut,
            &ud("password-two", "ACCESS_ROLE_PRODUCER"),
            &user,
        )
        .await;
    let user = rig
        .update(
            "user",
            ut,
            &ud("password-two", "ACCESS_ROLE_CONSUMER"),
            &user,
        )
        .await;
    rig.destroy("user", ut, &user).await;
    rig.destroy("topic", tt, &topic).await;

    let k = rig
        .replace(
            "kafka",
            t,
            &kafka_desired(&net, &sub, 2, true),
            &k,
            "config.assign_public_ip",
        )
        .await;
    rig.destroy("kafka", t, &k).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_cluster_users_and_databases() {
    let rig = Rig::start().await;
    let (net, sub) = network(&rig, "pg").await;
    let t = "yandex_mdb_postgresql_cluster";
    let pd = |disk: i64, env: &str| {
        v(
            serde_json::json!({"name": "pg", "environment": env, "network_id": id(&net),
            "config": {"version": "16", "resources": {"resource_preset_id": "s3-c2-m8", "disk_size": disk, "disk_type_id": "network-ssd"}},
            "host": [{"zone": "ru-central1-a", "subnet_id": id(&sub)}]}),
        )
    };
    let pg = rig.create("pg", t, &pd(20, "PRODUCTION")).await;
    assert_eq!(
        Rig::s(&pg, "fqdn"),
        format!("c-{}.rw.mdb.yandexcloud.net", id(&pg))
    );
    let pg = rig.update("pg", t, &pd(40, "PRODUCTION"), &pg).await;

    let ut = "yandex_mdb_postgresql_user";
    let ud = |conn: i64| {
        secret_password(serde_json::json!({"cluster_id": id(&pg), "name": "mlflow",
            "password": "a-long-password", "conn_limit": conn}))
    };
    let user = rig.create("user", ut, &ud(50)).await;
    let user = rig.update("user", ut, &ud(20), &user).await;

    let dt = "yandex_mdb_postgresql_database";
    let dd = |owner: &str, ext: serde_json::Value| {
        v(
            serde_json::json!({"cluster_id": id(&pg), "name": "mlflow", "owner": owner, "extension": ext}),
        )
    };
    let db = rig
        .create("db", dt, &dd("mlflow", serde_json::json!([])))
        .await;
    assert_eq!(Rig::s(&db, "id"), format!("{}:mlflow", id(&pg)));
    let db = rig
        .update(
            "db",
            dt,
            &dd("mlflow", serde_json::json!([{"name": "uuid-ossp"}])),
            &db,
        )
        .await;
    let user2 = rig
        .create(
            "user2",
            ut,
            &secret_password(serde_json::json!({"cluster_id": id(&pg), "name": "other", "password": "a-long-password"})),
        )
        .await;
    let db = rig
        .replace(
            "db",
            dt,
            &dd("other", serde_json::json!([{"name": "uuid-ossp"}])),
            &db,
            "owner",
        )
        .await;
    rig.destroy("db", dt, &db).await;
    rig.destroy("user2", ut, &user2).await;
    rig.destroy("user", ut, &user).await;
    let pg = rig
        .replace("pg", t, &pd(40, "PRESTABLE"), &pg, "environment")
        .await;
    rig.destroy("pg", t, &pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_bucket_lifecycle() {
    let rig = Rig::start().await;
    let t = "yandex_storage_bucket";
    let bd = |name: &str, size: i64, versioning: bool| {
        v(
            serde_json::json!({"bucket": name, "max_size": size, "versioning": {"enabled": versioning}}),
        )
    };
    let b = rig
        .create("bucket", t, &bd("mlflow-artifacts", 1 << 30, true))
        .await;
    assert_eq!(
        Rig::s(&b, "bucket_domain_name"),
        "mlflow-artifacts.storage.yandexcloud.net"
    );
    let b = rig
        .update("bucket", t, &bd("mlflow-artifacts", 2 << 30, true), &b)
        .await;
    // force_destroy is the state's only: an update with no API call.
    let mut fd = bd("mlflow-artifacts", 2 << 30, true);
    fd.set_path(
        &mlstack_provider_api::parse_path("force_destroy"),
        Value::Bool(true),
    );
    let b = rig.update("bucket", t, &fd, &b).await;
    assert_eq!(b.get("force_destroy").and_then(Value::as_bool), Some(true));
    let b = rig
        .replace(
            "bucket",
            t,
            &bd("mlflow-artifacts-2", 2 << 30, true),
            &b,
            "bucket",
        )
        .await;
    rig.destroy("bucket", t, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_ride_out_injected_faults() {
    let rig = Rig::start().await;
    rig.cloud().set_faults(Faults {
        error_rate: 0.25,
        error_codes: vec![500, 503, 429, 409],
        drop_rate: 0.05,
    });
    let (net, sub) = network(&rig, "faulty").await;
    let net = rig
        .update(
            "network",
            "yandex_vpc_network",
            &v(serde_json::json!({"name": "faulty", "description": "x"})),
            &net,
        )
        .await;
    let k = rig
        .create(
            "kafka",
            "yandex_mdb_kafka_cluster",
            &kafka_desired(&net, &sub, 1, false),
        )
        .await;
    for name in ["a", "b", "c"] {
        rig.create(
            name,
            "yandex_mdb_kafka_topic",
            &v(serde_json::json!({"cluster_id": id(&k), "name": name, "partitions": 1, "replication_factor": 1})),
        )
        .await;
    }
    rig.cloud().set_faults(Faults::default());
    // The faults were injected (the sandbox never falls behind its rates: ~60 requests see at
    // least ⌊n·rate⌋ of each, some 14 errors and 3 drops): retries rode them out.
    let injected = &rig.cloud().status().apis["cloud"];
    assert!(injected.error_total() > 0, "{injected:?}");
    assert!(injected.dropped > 0, "{injected:?}");
    // Idempotency keys: every create happened exactly once despite the retries.
    assert_eq!(rig.count("vpc.network"), 1);
    assert_eq!(rig.count("vpc.subnet"), 1);
    assert_eq!(rig.count("mdb.kafka.cluster"), 1);
    assert_eq!(rig.count("mdb.kafka.topic"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_mdb_operations_wait_and_retry() {
    let rig = Rig::with(mlstack_sandbox::CloudConfig {
        operation_delay: std::time::Duration::from_millis(300),
        ..common::quick()
    })
    .await;
    let (net, sub) = network(&rig, "busy").await;
    let k = rig
        .create(
            "kafka",
            "yandex_mdb_kafka_cluster",
            &kafka_desired(&net, &sub, 1, false),
        )
        .await;
    let topic = |name: &str| {
        v(
            serde_json::json!({"cluster_id": id(&k), "name": name, "partitions": 1, "replication_factor": 1}),
        )
    };
    let (a, b, c) = (topic("t1"), topic("t2"), topic("t3"));
    let (x, y, z) = tokio::join!(
        rig.p.apply(mlstack_provider_api::ApplyRequest {
            resource: rig.rr("t1", "yandex_mdb_kafka_topic"),
            desired: &a,
            prior: None,
            ignore_paths: &[]
        }),
        rig.p.apply(mlstack_provider_api::ApplyRequest {
            resource: rig.rr("t2", "yandex_mdb_kafka_topic"),
            desired: &b,
            prior: None,
            ignore_paths: &[]
        }),
        rig.p.apply(mlstack_provider_api::ApplyRequest {
            resource: rig.rr("t3", "yandex_mdb_kafka_topic"),
            desired: &c,
            prior: None,
            ignore_paths: &[]
        }),
    );
    for r in [x, y, z] {
        r.expect("each topic is created after the others' operations");
    }
    assert_eq!(rig.count("mdb.kafka.topic"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_any_error_or_value() {
    let rig = Rig::start().await;
    let (net, _) = network(&rig, "secret").await;
    let auth = Value::from(serde_json::json!({"cluster_id": "nosuchcluster"}));
    let mut errors = Vec::new();
    // A missing cluster (404), a bad name (400), a duplicate (409), a refused delete, an
    // import of nothing, an immutable mask path.
    errors.push(
        rig.p
            .read_data(rig.rr("auth", "yandex_kubernetes_cluster_auth"), &auth)
            .await
            .expect_err("no cluster")
            .message,
    );
    let bad = v(serde_json::json!({"name": "Bad_Name"}));
    errors.push(
        rig.p
            .apply(mlstack_provider_api::ApplyRequest {
                resource: rig.rr("n", "yandex_vpc_network"),
                desired: &bad,
                prior: None,
                ignore_paths: &[],
            })
            .await
            .expect_err("bad name")
            .message,
    );
    let dup = v(serde_json::json!({"name": "dup-sa"}));
    rig.apply("sa", "yandex_iam_service_account", &dup, None)
        .await;
    errors.push(
        rig.p
            .apply(mlstack_provider_api::ApplyRequest {
                resource: rig.rr("sa2", "yandex_iam_service_account"),
                desired: &dup,
                prior: None,
                ignore_paths: &[],
            })
            .await
            .expect_err("duplicate")
            .message,
    );
    errors.push(
        rig.p
            .delete(rig.rr("network", "yandex_vpc_network"), &net)
            .await
            .expect_err("network with a subnet")
            .message,
    );
    errors.push(
        rig.p
            .import(
                rig.rr("network", "yandex_vpc_network"),
                "enpnosuchnetwork0000",
            )
            .await
            .expect_err("no network")
            .message,
    );
    for e in &errors {
        assert!(!e.is_empty());
        assert!(!e.contains(&rig.cloud().oauth_token), "OAuth token in: {e}");
        assert!(!e.contains("t1."), "an IAM token in: {e}");
    }
    assert!(errors[1].contains("INVALID_ARGUMENT"), "{}", errors[1]);
    assert!(errors[2].contains("ALREADY_EXISTS"), "{}", errors[2]);
    // State values never hold a token either.
    let r = rig
        .p
        .read(rig.rr("network", "yandex_vpc_network"), &net)
        .await
        .unwrap();
    let ReadResult::Found(live) = r else {
        panic!("gone")
    };
    assert!(!live.to_json_unmarked().to_string().contains("t1."));
}

/// An IAM token straight from the emulator (what `yc iam create-token` would print).
async fn iam_token(rig: &Rig) -> String {
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(rig.cloud().ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let r: serde_json::Value = client
        .post(format!("{}/iam/v1/tokens", rig.cloud().endpoint))
        .body(serde_json::json!({"yandexPassportOauthToken": rig.cloud().oauth_token}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    r["iamToken"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_mode_credentials_key_file_oauth_and_iam_token() {
    use mlstack_provider_api::ApplyRequest;
    use mlstack_provider_yandex::{Env, YandexProvider};
    let rig = Rig::start().await;
    let sa = rig
        .create(
            "sa",
            "yandex_iam_service_account",
            &v(serde_json::json!({"name": "deployer"})),
        )
        .await;
    // An authorized key, as `yc iam key create -o key.json` writes it.
    let token = iam_token(&rig).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(rig.cloud().ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let key: serde_json::Value = client
        .post(format!("{}/iam/v1/keys", rig.cloud().endpoint))
        .bearer_auth(&token)
        .body(serde_json::json!({"serviceAccountId": id(&sa)}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.json");
    std::fs::write(
        &key_path,
        serde_json::json!({
            "id": key["key"]["id"], "service_account_id": id(&sa),
            "private_key": format!("PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <{}>\n{}",
                key["key"]["id"].as_str().unwrap(), key["privateKey"].as_str().unwrap()),
        })
        .to_string(),
    )
    .unwrap();

    let with = |extra: serde_json::Value| {
        let mut c = serde_json::json!({"endpoint": rig.cloud().endpoint, "ca_certificate": rig.cloud().ca_pem, "folder_id": FOLDER});
        for (k, x) in extra.as_object().unwrap() {
            c[k] = x.clone();
        }
        v(c)
    };
    let cases = [
        (
            with(serde_json::json!({"service_account_key_file": key_path.to_str().unwrap()})),
            Env::default(),
            "by-key",
        ),
        (
            with(serde_json::json!({"token": rig.cloud().oauth_token})),
            Env::default(),
            "by-oauth",
        ),
        (
            with(serde_json::json!({})),
            Env {
                iam_token: Some(token.clone()),
                ..Env::default()
            },
            "by-iam",
        ),
        (
            with(serde_json::json!({"token": token})),
            Env::default(),
            "by-iam-in-block",
        ),
    ];
    for (config, env, name) in cases {
        let p = YandexProvider::with_env(env);
        let rr = mlstack_provider_api::ResourceRef {
            address: name,
            type_name: "yandex_vpc_network",
            provider_config: &config,
        };
        let d = v(serde_json::json!({"name": name}));
        let st = p
            .apply(ApplyRequest {
                resource: rr,
                desired: &d,
                prior: None,
                ignore_paths: &[],
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(matches!(
            p.read(rr, &st).await.unwrap(),
            ReadResult::Found(_)
        ));
    }
    assert_eq!(rig.count("vpc.network"), 4);

    // Without the CA the emulator's certificate is refused; a refused token says so, without it.
    let p = YandexProvider::with_env(Env::default());
    let no_ca =
        v(serde_json::json!({"endpoint": rig.cloud().endpoint, "token": "t1.not-a-real-token"}));
    let rr = mlstack_provider_api::ResourceRef {
        address: "x",
        type_name: "yandex_vpc_network",
        provider_config: &no_ca,
    };
    let e = p
        .read(rr, &v(serde_json::json!({"id": "enp1"})))
        .await
        .expect_err("untrusted");
    assert!(!e.message.contains("t1.not-a-real-token"), "{e}");
    let bad = with(serde_json::json!({"token": "t1.not-a-real-token"}));
    let rr = mlstack_provider_api::ResourceRef {
        address: "x",
        type_name: "yandex_vpc_network",
        provider_config: &bad,
    };
    let e = p
        .read(rr, &v(serde_json::json!({"id": "enp1"})))
        .await
        .expect_err("refused");
    assert!(e.message.contains("UNAUTHENTICATED"), "{e}");
    assert!(!e.message.contains("t1.not-a-real-token"), "{e}");
    let bad_key = with(
        serde_json::json!({"service_account_key_file": dir.path().join("missing.json").to_str().unwrap()}),
    );
    let rr = mlstack_provider_api::ResourceRef {
        address: "x",
        type_name: "yandex_vpc_network",
        provider_config: &bad_key,
    };
    let e = p
        .read(rr, &v(serde_json::json!({"id": "enp1"})))
        .await
        .expect_err("no key file");
    assert!(e.message.contains("missing.json"), "{e}");
}
