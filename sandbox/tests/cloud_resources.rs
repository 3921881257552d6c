//! The cloud emulator's resource API over real HTTPS: operations, get/list with filter and
//! paging, idempotency, name uniqueness, updateMask, immutable fields, MDB conflicts,
//! dependent deletes, int64 strings, access bindings, hosts and buckets.

mod common;

use common::cloud::{network, quick, start};
use serde_json::{json, Value};

const F: &str = "b1gfolder0000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_operation_get_and_list() {
    let (h, c) = start(quick()).await;
    let (code, op) = c
        .post(
            "/vpc/v1/networks",
            &json!({"folderId": F, "name": "net-1", "labels": {"env": "dev"}}),
        )
        .await;
    assert_eq!(code, 200, "{op}");
    assert_eq!(op["done"], false);
    assert!(op.get("response").is_none());
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata"
    );
    let id = op["metadata"]["networkId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 20);
    // The resource is readable before the operation completes.
    let (code, net) = c.get(&format!("/vpc/v1/networks/{id}")).await;
    assert_eq!((code, net["name"].as_str()), (200, Some("net-1")));
    let done = c.wait(&op).await;
    assert_eq!(
        done["response"]["@type"],
        "type.googleapis.com/yandex.cloud.vpc.v1.Network"
    );
    assert_eq!(done["response"]["id"], id.as_str());
    assert_eq!(done["response"]["labels"]["env"], "dev");

    for i in 2..=5 {
        c.create(
            "/vpc/v1/networks",
            &json!({"folderId": F, "name": format!("net-{i}")}),
        )
        .await;
    }
    c.create(
        "/vpc/v1/networks",
        &json!({"folderId": "other", "name": "net-1"}),
    )
    .await;
    let (code, list) = c
        .get(&format!(
            "/vpc/v1/networks?folderId={F}&filter=name%3D%22net-3%22"
        ))
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["networks"].as_array().unwrap().len(), 1);
    assert_eq!(list["networks"][0]["name"], "net-3");

    // Paging: 5 networks in the folder, pages of 2.
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let (code, page) = c
            .get(&format!(
                "/vpc/v1/networks?folderId={F}&pageSize=2&pageToken={token}"
            ))
            .await;
        assert_eq!(code, 200, "{page}");
        for n in page["networks"].as_array().unwrap() {
            names.push(n["name"].as_str().unwrap().to_string());
        }
        match page["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    assert_eq!(names, ["net-1", "net-2", "net-3", "net-4", "net-5"]);

    let (code, body) = c.get("/vpc/v1/networks").await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(3)), "{body}");
    let (code, body) = c.get("/vpc/v1/networks/enpnothere000000000").await;
    assert_eq!((code, body["code"].as_u64()), (404, Some(5)), "{body}");
    assert!(body["details"][0]["requestId"].is_string());
    let (code, body) = c.get("/operations/nope").await;
    assert_eq!((code, body["code"].as_u64()), (404, Some(5)));
    assert_eq!(h.status().counts["vpc.network"], 6);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_operation() {
    let (h, c) = start(quick()).await;
    let body = json!({"folderId": F, "name": "sa-1"}).to_string();
    let headers = [("Idempotency-Key", "5d0f7c9e-0000-4000-8000-000000000001")];
    let send = || {
        c.try_send_with(
            "POST",
            "/iam/v1/serviceAccounts",
            "application/json",
            &body,
            &headers,
        )
    };
    let (code, first) = send().await.unwrap();
    assert_eq!(code, 200, "{first}");
    let done = c.wait(&first).await;
    let (code, again) = send().await.unwrap();
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["done"], true);
    assert_eq!(again["response"], done["response"]);
    let (_, list) = c
        .get(&format!("/iam/v1/serviceAccounts?folderId={F}"))
        .await;
    assert_eq!(list["serviceAccounts"].as_array().unwrap().len(), 1);
    assert_eq!(h.status().counts["iam.serviceAccount"], 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_in_their_scope() {
    let (h, c) = start(quick()).await;
    c.create("/vpc/v1/networks", &json!({"folderId": F, "name": "dup"}))
        .await;
    let (code, body) = c
        .post("/vpc/v1/networks", &json!({"folderId": F, "name": "dup"}))
        .await;
    assert_eq!((code, body["code"].as_u64()), (409, Some(6)), "{body}");
    // Another folder is fine for a network, not for a service account (unique in the cloud).
    c.create(
        "/vpc/v1/networks",
        &json!({"folderId": "f2", "name": "dup"}),
    )
    .await;
    c.create(
        "/iam/v1/serviceAccounts",
        &json!({"folderId": F, "name": "sa"}),
    )
    .await;
    let (code, _) = c
        .post(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": "f2", "name": "sa"}),
        )
        .await;
    assert_eq!(code, 409);
    // Bucket names are global.
    c.create(
        "/storage/v1/buckets",
        &json!({"folderId": F, "name": "mlflow-artifacts"}),
    )
    .await;
    let (code, _) = c
        .post(
            "/storage/v1/buckets",
            &json!({"folderId": "f2", "name": "mlflow-artifacts"}),
        )
        .await;
    assert_eq!(code, 409);
    let (code, body) = c
        .post(
            "/vpc/v1/networks",
            &json!({"folderId": F, "name": "Bad_Name"}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(3)), "{body}");
    // Renaming onto a taken name is refused too.
    let op = c
        .create("/vpc/v1/networks", &json!({"folderId": F, "name": "other"}))
        .await;
    let id = op["metadata"]["networkId"].as_str().unwrap();
    let (code, _) = c
        .patch(
            &format!("/vpc/v1/networks/{id}"),
            &json!({"updateMask": "name", "name": "dup"}),
        )
        .await;
    assert_eq!(code, 409);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_mask_semantics_and_immutable_fields() {
    let (h, c) = start(quick()).await;
    let op = c
        .create(
            "/vpc/v1/networks",
            &json!({"folderId": F, "name": "n", "description": "d", "labels": {"a": "1"}}),
        )
        .await;
    let path = format!(
        "/vpc/v1/networks/{}",
        op["metadata"]["networkId"].as_str().unwrap()
    );
    // Masked: name changes, description (masked, absent) resets, labels untouched.
    let (code, op) = c
        .patch(
            &path,
            &json!({"updateMask": "name,description", "name": "n2", "labels": {"b": "2"}}),
        )
        .await;
    assert_eq!(code, 200, "{op}");
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/yandex.cloud.vpc.v1.UpdateNetworkMetadata"
    );
    let done = c.wait(&op).await;
    assert_eq!(done["response"]["name"], "n2");
    let (_, net) = c.get(&path).await;
    assert_eq!(net["name"], "n2");
    assert!(net.get("description").is_none(), "{net}");
    assert_eq!(net["labels"], json!({"a": "1"}));
    // No mask: the body's fields set, the other updatable fields reset.
    let op = c.patch(&path, &json!({"description": "x"})).await.1;
    c.wait(&op).await;
    let (_, net) = c.get(&path).await;
    assert_eq!(net["description"], "x");
    assert!(
        net.get("name").is_none() && net.get("labels").is_none(),
        "{net}"
    );
    assert_eq!(net["folderId"], F);
    // An immutable field is named in the error (snake_case as sent, too).
    let (code, body) = c
        .patch(&path, &json!({"updateMask": "folder_id", "folderId": "x"}))
        .await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(3)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("folder_id"),
        "{body}"
    );

    // Nested paths: a node-group-like mask on a Kafka cluster config.
    let (net, subnet) = network(&c, F, "kn").await;
    let op = c
        .create(
            "/managed-kafka/v1/clusters",
            &json!({"folderId": F, "name": "kafka", "networkId": net, "subnetId": [subnet],
                    "configSpec": {"version": "3.6", "brokersCount": 1, "assignPublicIp": false,
                                   "kafka": {"resources": {"resourcePresetId": "s2.micro",
                                             "diskSize": 34359738368_u64, "diskTypeId": "network-ssd"}}}}),
        )
        .await;
    let cid = op["metadata"]["clusterId"].as_str().unwrap().to_string();
    // int64 travel as strings.
    assert_eq!(op["response"]["config"]["brokersCount"], "1");
    assert_eq!(
        op["response"]["config"]["kafka"]["resources"]["diskSize"],
        "34359738368"
    );
    assert_eq!(op["response"]["status"], "RUNNING");
    assert_eq!(op["response"]["health"], "ALIVE");
    let kpath = format!("/managed-kafka/v1/clusters/{cid}");
    let (code, body) = c
        .patch(
            &kpath,
            &json!({"updateMask": "config_spec.assign_public_ip", "configSpec": {"assignPublicIp": true}}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(3)), "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("assign_public_ip"));
    let (code, body) = c
        .patch(
            &kpath,
            &json!({"updateMask": "environment", "environment": "PRESTABLE"}),
        )
        .await;
    assert_eq!(code, 400);
    assert!(body["message"].as_str().unwrap().contains("environment"));
    let op = c
        .patch(
            &kpath,
            &json!({"updateMask": "configSpec.kafka.resources.resourcePresetId",
                    "configSpec": {"kafka": {"resources": {"resourcePresetId": "s2.small"}}}}),
        )
        .await
        .1;
    let (_, during) = c.get(&kpath).await;
    assert_eq!(during["status"], "UPDATING");
    let done = c.wait(&op).await;
    let r = &done["response"]["config"]["kafka"]["resources"];
    assert_eq!(r["resourcePresetId"], "s2.small");
    assert_eq!(r["diskTypeId"], "network-ssd");
    assert_eq!(done["response"]["status"], "RUNNING");
    // Storage requires a mask.
    c.create(
        "/storage/v1/buckets",
        &json!({"folderId": F, "name": "bkt-1"}),
    )
    .await;
    let (code, _) = c
        .patch("/storage/v1/buckets/bkt-1", &json!({"maxSize": "1024"}))
        .await;
    assert_eq!(code, 400);
    let op = c
        .patch(
            "/storage/v1/buckets/bkt-1",
            &json!({"updateMask": "max_size", "maxSize": 1024}),
        )
        .await
        .1;
    assert_eq!(c.wait(&op).await["response"]["maxSize"], "1024");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mdb_conflicting_operations_and_children() {
    let mut config = quick();
    config.operation_delay = std::time::Duration::from_millis(400);
    let (h, c) = start(config).await;
    let (net, subnet) = network(&c, F, "pn").await;
    let (code, op) = c
        .post(
            "/managed-postgresql/v1/clusters",
            &json!({"folderId": F, "name": "mlflow-pg", "environment": "PRODUCTION", "networkId": net,
                    "configSpec": {"version": "16", "resources": {"resourcePresetId": "s2.micro",
                                   "diskSize": "21474836480", "diskTypeId": "network-ssd"}},
                    "databaseSpecs": [], "userSpecs": [],
                    "hostSpecs": [{"zoneId": "ru-central1-a", "subnetId": subnet}]}),
        )
        .await;
    assert_eq!(code, 200, "{op}");
    let cid = op["metadata"]["clusterId"].as_str().unwrap().to_string();
    let users = format!("/managed-postgresql/v1/clusters/{cid}/users");
    // While the create runs, a child operation conflicts.
    let (code, body) = c
        .post(
            &users,
            &json!({"userSpec": {"name": "mlflow", "password": "s3cret-pass"}}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(9)), "{body}");
    let id = op["id"].as_str().unwrap();
    assert_eq!(
        body["message"],
        format!("conflicting operation \"{id}\" detected")
    );
    c.wait(&op).await;
    let (code, uop) = c
        .post(
            &users,
            &json!({"userSpec": {"name": "mlflow", "password": "s3cret-pass"}}),
        )
        .await;
    assert_eq!(code, 200, "{uop}");
    assert_eq!(uop["metadata"]["clusterId"], cid.as_str());
    assert_eq!(uop["metadata"]["userName"], "mlflow");
    // …and the cluster itself is held by the child's operation.
    let (code, _) = c
        .patch(
            &format!("/managed-postgresql/v1/clusters/{cid}"),
            &json!({"updateMask": "description", "description": "x"}),
        )
        .await;
    assert_eq!(code, 400);
    let done = c.wait(&uop).await;
    assert!(done["response"].get("password").is_none(), "{done}");
    let (_, user) = c.get(&format!("{users}/mlflow")).await;
    assert!(user.get("password").is_none());
    assert_eq!(user["connLimit"], "50");
    let dbs = format!("/managed-postgresql/v1/clusters/{cid}/databases");
    let (code, _) = c
        .post(
            &dbs,
            &json!({"databaseSpec": {"name": "mlflow", "owner": "nobody"}}),
        )
        .await;
    assert_eq!(code, 404);
    c.create(
        &dbs,
        &json!({"databaseSpec": {"name": "mlflow", "owner": "mlflow"}}),
    )
    .await;
    let (code, body) = c
        .post(
            &users,
            &json!({"userSpec": {"name": "mlflow", "password": "s3cret-pass"}}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (409, Some(6)), "{body}");
    let (_, list) = c.get(&dbs).await;
    assert_eq!(list["databases"][0]["owner"], "mlflow");
    let (_, hosts) = c
        .get(&format!("/managed-postgresql/v1/clusters/{cid}/hosts"))
        .await;
    assert_eq!(hosts["hosts"][0]["role"], "MASTER");
    // Deleting the cluster removes its children.
    let op = c
        .delete(&format!("/managed-postgresql/v1/clusters/{cid}"))
        .await
        .1;
    assert_eq!(
        c.wait(&op).await["response"]["@type"],
        "type.googleapis.com/google.protobuf.Empty"
    );
    assert_eq!(h.status().counts["mdb.postgresql.user"], 0);
    assert_eq!(h.status().counts["mdb.postgresql.database"], 0);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_topics_users_and_hosts() {
    let (h, c) = start(quick()).await;
    let (net, subnet) = network(&c, F, "kn").await;
    let op = c
        .create(
            "/managed-kafka/v1/clusters",
            &json!({"folderId": F, "name": "kafka", "networkId": net, "subnetId": [subnet],
                    "configSpec": {"zoneId": ["ru-central1-a", "ru-central1-b"], "brokersCount": "1",
                                   "kafka": {"resources": {"resourcePresetId": "s2.micro"}}},
                    "topicSpecs": [{"name": "transactions", "partitions": 3, "replicationFactor": "1"}],
                    "userSpecs": [{"name": "producer", "password": "p4ssword-long",
                                   "permissions": [{"topicName": "*", "role": "ACCESS_ROLE_PRODUCER"}]}]}),
        )
        .await;
    let cid = op["metadata"]["clusterId"].as_str().unwrap();
    let base = format!("/managed-kafka/v1/clusters/{cid}");
    let (_, hosts) = c.get(&format!("{base}/hosts")).await;
    let hosts = hosts["hosts"].as_array().unwrap().clone();
    assert_eq!(hosts.len(), 2);
    assert!(hosts.iter().all(|x| x["name"]
        .as_str()
        .unwrap()
        .ends_with(".mdb.yandexcloud.net")));
    let (_, t) = c.get(&format!("{base}/topics/transactions")).await;
    assert_eq!(
        (t["partitions"].as_str(), t["clusterId"].as_str()),
        (Some("3"), Some(cid))
    );
    let (_, u) = c.get(&format!("{base}/users/producer")).await;
    assert!(u.get("password").is_none());
    let op = c
        .create(
            &format!("{base}/topics"),
            &json!({"topicSpec": {"name": "events", "partitions": "1", "replicationFactor": "1",
                                  "topicConfig_3": {"retentionMs": 86400000}}}),
        )
        .await;
    assert_eq!(op["metadata"]["topicName"], "events");
    assert_eq!(op["response"]["topicConfig_3"]["retentionMs"], "86400000");
    let op = c
        .patch(
            &format!("{base}/topics/events"),
            &json!({"updateMask": "topic_spec.partitions", "topicSpec": {"partitions": "6"}}),
        )
        .await
        .1;
    assert_eq!(c.wait(&op).await["response"]["partitions"], "6");
    let (code, body) = c
        .patch(
            &format!("{base}/topics/events"),
            &json!({"updateMask": "topicSpec.name", "topicSpec": {"name": "x"}}),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    let (_, topics) = c.get(&format!("{base}/topics")).await;
    assert_eq!(topics["topics"].as_array().unwrap().len(), 2);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_with_subnets_cannot_be_deleted() {
    let (h, c) = start(quick()).await;
    let (net, subnet) = network(&c, F, "main").await;
    let (_, subs) = c.get(&format!("/vpc/v1/networks/{net}/subnets")).await;
    assert_eq!(subs["subnets"][0]["id"], subnet.as_str());
    let (code, body) = c.delete(&format!("/vpc/v1/networks/{net}")).await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(9)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("subnets"),
        "{body}"
    );
    let op = c.delete(&format!("/vpc/v1/subnets/{subnet}")).await.1;
    assert_eq!(
        op["metadata"]["@type"],
        "type.googleapis.com/yandex.cloud.vpc.v1.DeleteSubnetMetadata"
    );
    c.wait(&op).await;
    let op = c.delete(&format!("/vpc/v1/networks/{net}")).await.1;
    c.wait(&op).await;
    assert_eq!(c.get(&format!("/vpc/v1/networks/{net}")).await.0, 404);
    // A subnet needs an existing network.
    let (code, _) = c
        .post(
            "/vpc/v1/subnets",
            &json!({"folderId": F, "networkId": net, "zoneId": "ru-central1-a", "v4CidrBlocks": ["10.0.0.0/24"]}),
        )
        .await;
    assert_eq!(code, 404);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_access_bindings() {
    let (h, c) = start(quick()).await;
    let b = |role: &str| json!({"roleId": role, "subject": {"id": "ajeaccount", "type": "serviceAccount"}});
    let path = format!("/resource-manager/v1/folders/{F}");
    let (code, op) = c
        .post(
            &format!("{path}:updateAccessBindings"),
            &json!({"accessBindingDeltas": [{"action": "ADD", "accessBinding": b("k8s.clusters.agent")},
                                            {"action": "ADD", "accessBinding": b("vpc.publicAdmin")}]}),
        )
        .await;
    assert_eq!(code, 200, "{op}");
    assert_eq!(op["metadata"]["resourceId"], F);
    let done = c.wait(&op).await;
    assert_eq!(
        done["response"]["effectiveDeltas"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, list) = c.get(&format!("{path}:listAccessBindings")).await;
    assert_eq!(list["accessBindings"].as_array().unwrap().len(), 2);
    let op = c
        .post(
            &format!("{path}:updateAccessBindings"),
            &json!({"accessBindingDeltas": [{"action": "REMOVE", "accessBinding": b("vpc.publicAdmin")}]}),
        )
        .await
        .1;
    c.wait(&op).await;
    let (_, list) = c.get(&format!("{path}:listAccessBindings")).await;
    assert_eq!(list["accessBindings"], json!([b("k8s.clusters.agent")]));
    let op = c
        .post(
            &format!("{path}:setAccessBindings"),
            &json!({"accessBindings": [b("editor")]}),
        )
        .await
        .1;
    c.wait(&op).await;
    let (_, list) = c.get(&format!("{path}:listAccessBindings")).await;
    assert_eq!(list["accessBindings"], json!([b("editor")]));
    let (code, _) = c
        .post(
            &format!("{path}:updateAccessBindings"),
            &json!({"accessBindingDeltas": [{"action": "ADD", "accessBinding": {"roleId": "x", "subject": {"id": "a", "type": "robot"}}}]}),
        )
        .await;
    assert_eq!(code, 400);
    let (code, folder) = c.get(&path).await;
    assert_eq!((code, folder["id"].as_str()), (200, Some(F)));
    let _: Value = folder;
    h.shutdown().await;
}
