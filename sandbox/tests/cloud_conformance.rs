//! The cloud emulator held to the published Yandex Cloud API (the fixture extracted from the
//! `yandexcloud` wheel's descriptors, tests/fixtures/yandex_api/rest.json): every exchange of
//! a walk through every served type conforms (paths, verbs, field names, enum values); the
//! routes the real API lacks are not served; PostgreSQL host changes, settings sets, host
//! health, `:cancel` and key fields are as published; each service answers on its own host.

mod common;

use common::cloud::{network, quick, start};
use mlstack_sandbox::conformance::{Exchange, PublishedApi};
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const F: &str = "b1gfolder0000000001";

fn api() -> PublishedApi {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/yandex_api/rest.json"
    );
    PublishedApi::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn exchange(method: &str, path: &str, request: Option<Value>, response: Value) -> Exchange {
    Exchange {
        host: None,
        method: method.into(),
        path: path.into(),
        query: BTreeMap::new(),
        request,
        status: 200,
        response,
    }
}

#[test]
fn the_checker_finds_what_the_published_api_lacks() {
    let api = api();
    assert!(api.source.contains("yandexcloud"), "{}", api.source);
    let ok = exchange(
        "GET",
        "/vpc/v1/networks/enp1",
        None,
        json!({"id": "enp1", "folderId": F, "labels": {"a": "b"}}),
    );
    assert_eq!(api.check(&ok), Vec::<String>::new());
    let cases = [
        // Routes the real API does not have.
        exchange("POST", "/operations/op1", None, json!({"id": "op1"})),
        exchange(
            "GET",
            "/iam/v1/serviceAccounts/aje1/keys",
            None,
            json!({"keys": []}),
        ),
        exchange(
            "GET",
            "/storage/v1/buckets/b1/operations",
            None,
            json!({"operations": []}),
        ),
        // A request field the message lacks.
        exchange(
            "POST",
            "/iam/v1/keys",
            Some(json!({"serviceAccountId": "aje1", "labels": {"a": "b"}})),
            json!({"key": {"id": "k"}, "privateKey": "x"}),
        ),
        // An answer field the message lacks, deep down.
        exchange(
            "GET",
            "/managed-postgresql/v1/clusters/c1",
            None,
            json!({"id": "c1", "config": {"postgresqlConfig_16": {"maxConnections": "100"}}}),
        ),
        // An enum value the enum lacks.
        exchange(
            "GET",
            "/managed-postgresql/v1/clusters/c1/hosts",
            None,
            json!({"hosts": [{"name": "h", "health": "UNKNOWN"}]}),
        ),
        // A query parameter the request lacks.
        Exchange {
            query: BTreeMap::from([("cloudId".to_string(), "x".to_string())]),
            ..exchange("GET", "/vpc/v1/networks", None, json!({"networks": []}))
        },
        // Operation metadata of another type.
        exchange(
            "DELETE",
            "/vpc/v1/networks/enp1",
            None,
            json!({"id": "op", "done": false,
                   "metadata": {"@type": "type.googleapis.com/yandex.cloud.vpc.v1.UpdateNetworkMetadata", "networkId": "enp1"}}),
        ),
    ];
    for ex in &cases {
        assert!(!api.check(ex).is_empty(), "{ex} passed");
        assert!(!api.check_answer(ex).is_empty(), "{ex} was accepted");
    }
    // A server that refuses what the real API lacks conforms; a client that sends it not.
    let refused = Exchange {
        status: 404,
        response: json!({"code": 5, "message": "no such method"}),
        ..exchange("POST", "/operations/op1", None, Value::Null)
    };
    assert!(api.check_answer(&refused).is_empty());
    assert!(!api.check(&refused).is_empty());
    let refused = Exchange {
        status: 400,
        response: json!({"code": 3, "message": "Unknown name \"labels\""}),
        ..exchange(
            "POST",
            "/iam/v1/keys",
            Some(json!({"serviceAccountId": "aje1", "labels": {}})),
            Value::Null,
        )
    };
    assert!(api.check_answer(&refused).is_empty());
    assert!(!api.check(&refused).is_empty());
}

/// Asserts `ex` answered `code` and returns the body.
fn expect(code: u16, got: (u16, Value), what: &str) -> Value {
    assert_eq!(got.0, code, "{what}: {}", got.1);
    got.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_of_every_served_type_conforms() {
    let mut config = quick();
    config.operation_delay = std::time::Duration::from_millis(300);
    let (h, c) = start(config).await;
    h.record();
    let (net, subnet) = network(&c, F, "conf").await;
    c.get(&format!("/vpc/v1/networks/{net}/subnets")).await;
    c.get(&format!("/vpc/v1/networks/{net}/operations")).await;
    c.get(&format!("/vpc/v1/subnets?folderId={F}&pageSize=10"))
        .await;

    // IAM: a service account and its key; keys are listed by account, never under it.
    let sa = c
        .create(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": F, "name": "robot"}),
        )
        .await["response"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = expect(
        400,
        c.post(
            "/iam/v1/keys",
            &json!({"serviceAccountId": sa, "labels": {"env": "dev"}}),
        )
        .await,
        "a key with labels",
    );
    assert!(
        refused["message"].as_str().unwrap().contains("labels"),
        "{refused}"
    );
    let key = expect(
        200,
        c.post(
            "/iam/v1/keys",
            &json!({"serviceAccountId": sa, "description": "ci"}),
        )
        .await,
        "key",
    );
    let key_id = key["key"]["id"].as_str().unwrap().to_string();
    let keys = expect(
        200,
        c.get(&format!("/iam/v1/keys?serviceAccountId={sa}")).await,
        "keys",
    );
    assert_eq!(keys["keys"][0]["id"], key_id.as_str());
    expect(
        404,
        c.get(&format!("/iam/v1/serviceAccounts/{sa}/keys")).await,
        "keys under the account",
    );
    let op = c
        .patch(
            &format!("/iam/v1/keys/{key_id}"),
            &json!({"updateMask": "description", "description": "ci2"}),
        )
        .await
        .1;
    c.wait(&op).await;
    let roles = format!("/resource-manager/v1/folders/{F}");
    let b = json!({"roleId": "editor", "subject": {"id": sa, "type": "serviceAccount"}});
    let op = c
        .post(
            &format!("{roles}:updateAccessBindings"),
            &json!({"accessBindingDeltas": [{"action": "ADD", "accessBinding": b}]}),
        )
        .await
        .1;
    c.wait(&op).await;
    let op = c
        .post(
            &format!("{roles}:setAccessBindings"),
            &json!({"accessBindings": []}),
        )
        .await
        .1;
    let done = c.wait(&op).await;
    assert_eq!(done["response"]["effectiveDeltas"][0]["action"], "REMOVE");
    c.get(&format!("{roles}:listAccessBindings")).await;

    // PostgreSQL: hostSpecs are required; settings are answered as a set; hosts change.
    let pg = "/managed-postgresql/v1/clusters";
    let spec = |hosts: Value| {
        json!({"folderId": F, "name": "pg", "environment": "PRODUCTION", "networkId": net,
               "configSpec": {"version": "16", "resources": {"resourcePresetId": "s2.micro",
                              "diskSize": "21474836480", "diskTypeId": "network-ssd"},
                              "postgresqlConfig_16": {"maxConnections": "150"}},
               "hostSpecs": hosts})
    };
    let refused = expect(
        400,
        c.post(pg, &spec(json!([]))).await,
        "a cluster without hosts",
    );
    assert_eq!(refused["code"], 3, "{refused}");
    let op = expect(
        200,
        c.post(
            pg,
            &spec(json!([{"zoneId": "ru-central1-a", "subnetId": subnet}])),
        )
        .await,
        "pg",
    );
    let cid = op["metadata"]["clusterId"].as_str().unwrap().to_string();
    let hosts = expect(200, c.get(&format!("{pg}/{cid}/hosts")).await, "hosts");
    assert_eq!(hosts["hosts"][0]["health"], "HEALTH_UNKNOWN", "{hosts}");
    // An operation that runs cannot be cancelled; one that is done has nothing to cancel.
    let id = op["id"].as_str().unwrap();
    let refused = expect(
        400,
        c.get(&format!("/operations/{id}:cancel")).await,
        "cancel",
    );
    assert_eq!(refused["code"], 9, "{refused}");
    expect(
        404,
        c.post(&format!("/operations/{id}"), &json!({})).await,
        "POST an operation",
    );
    c.wait(&op).await;
    let done = expect(
        200,
        c.get(&format!("/operations/{id}:cancel")).await,
        "cancel a done operation",
    );
    assert_eq!(done["done"], true);
    let cluster = expect(200, c.get(&format!("{pg}/{cid}")).await, "cluster");
    let set = &cluster["config"]["postgresqlConfig_16"];
    assert_eq!(set["userConfig"]["maxConnections"], "150", "{cluster}");
    assert_eq!(set["effectiveConfig"]["maxConnections"], "150", "{cluster}");
    let op = c
        .patch(
            &format!("{pg}/{cid}"),
            &json!({"updateMask": "configSpec.postgresqlConfig_16.maxConnections",
                    "configSpec": {"postgresqlConfig_16": {"maxConnections": "300"}}}),
        )
        .await
        .1;
    c.wait(&op).await;
    let cluster = c.get(&format!("{pg}/{cid}")).await.1;
    assert_eq!(
        cluster["config"]["postgresqlConfig_16"]["userConfig"]["maxConnections"], "300",
        "{cluster}"
    );
    let op = expect(
        200,
        c.post(
            &format!("{pg}/{cid}/hosts:batchCreate"),
            &json!({"hostSpecs": [{"zoneId": "ru-central1-b"}]}),
        )
        .await,
        "batchCreate",
    );
    assert_eq!(
        expect(
            200,
            c.get(&format!("{pg}/{cid}")).await,
            "cluster while adding"
        )["status"],
        "UPDATING"
    );
    let added = op["metadata"]["hostNames"][0].as_str().unwrap().to_string();
    assert_eq!(
        c.wait(&op).await["response"]["@type"],
        "type.googleapis.com/google.protobuf.Empty"
    );
    let hosts = c.get(&format!("{pg}/{cid}/hosts")).await.1;
    let names: Vec<&str> = hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&added.as_str()), "{hosts}");
    let first = names.iter().find(|n| **n != added).unwrap().to_string();
    let op = c
        .post(
            &format!("{pg}/{cid}/hosts:batchDelete"),
            &json!({"hostNames": [first]}),
        )
        .await
        .1;
    c.wait(&op).await;
    let hosts = c.get(&format!("{pg}/{cid}/hosts")).await.1;
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(hosts["hosts"][0]["name"], added.as_str(), "names stay put");
    expect(
        400,
        c.post(
            &format!("{pg}/{cid}/hosts:batchDelete"),
            &json!({"hostNames": [added]}),
        )
        .await,
        "deleting the last host",
    );
    expect(
        404,
        c.post(&format!("{pg}/{cid}:nonsense"), &json!({})).await,
        "an unknown custom method",
    );
    expect(
        501,
        c.post(&format!("{pg}/{cid}:stop"), &json!({})).await,
        "a real custom method",
    );
    let users = format!("{pg}/{cid}/users");
    c.create(
        &users,
        &json!({"userSpec": {"name": "app", "password": "s3cret-pass"}}),
    )
    .await;
    c.create(
        &format!("{pg}/{cid}/databases"),
        &json!({"databaseSpec": {"name": "app", "owner": "app"}}),
    )
    .await;
    c.get(&users).await;
    c.get(&format!("{pg}/{cid}/operations")).await;

    // Kafka with a topic and a user; its hosts.
    let kafka = c
        .create(
            "/managed-kafka/v1/clusters",
            &json!({"folderId": F, "name": "kafka", "networkId": net, "subnetId": [subnet],
                    "configSpec": {"version": "3.6", "zoneId": ["ru-central1-a"], "brokersCount": "1",
                                   "kafka": {"resources": {"resourcePresetId": "s2.micro"}}},
                    "topicSpecs": [{"name": "events", "partitions": "3", "replicationFactor": "1"}]}),
        )
        .await;
    let kid = kafka["response"]["id"].as_str().unwrap().to_string();
    let kpath = format!("/managed-kafka/v1/clusters/{kid}");
    c.get(&format!("{kpath}/hosts")).await;
    c.get(&format!("{kpath}/topics/events")).await;
    c.create(
        &format!("{kpath}/users"),
        &json!({"userSpec": {"name": "producer", "password": "p4ssword-long",
                "permissions": [{"topicName": "events", "role": "ACCESS_ROLE_PRODUCER"}]}}),
    )
    .await;

    // A bucket: no operations list.
    c.create(
        "/storage/v1/buckets",
        &json!({"folderId": F, "name": "conf-bucket"}),
    )
    .await;
    c.get("/storage/v1/buckets/conf-bucket").await;
    expect(
        404,
        c.get("/storage/v1/buckets/conf-bucket/operations").await,
        "bucket operations",
    );
    c.get(&format!("/storage/v1/buckets?folderId={F}")).await;
    c.get("/managed-kubernetes/v1/versions").await;

    // A sweep: every method on every path shape around the resources made (their sub-paths,
    // the custom methods the published API has on them, and made-up ones). Whatever the
    // emulator answers other than 404 must be a published method, and every answer conforms.
    let api = api();
    let bases = [
        format!("/vpc/v1/networks/{net}"),
        format!("/vpc/v1/subnets/{subnet}"),
        format!("/iam/v1/serviceAccounts/{sa}"),
        format!("/iam/v1/keys/{key_id}"),
        format!("{pg}/{cid}"),
        format!("{pg}/{cid}/users/app"),
        format!("{pg}/{cid}/databases/app"),
        kpath.clone(),
        format!("{kpath}/topics/events"),
        format!("{kpath}/users/producer"),
        "/storage/v1/buckets/conf-bucket".to_string(),
        format!("/resource-manager/v1/folders/{F}"),
        format!("/operations/{id}"),
    ];
    let subs = [
        "operations",
        "hosts",
        "subnets",
        "nodeGroups",
        "keys",
        "users",
        "topics",
        "databases",
        "hosts:batchUpdate",
        "hosts:nonsense",
    ];
    let mut swept = 0;
    for base in &bases {
        let mut verbs: Vec<String> = api
            .methods
            .iter()
            .filter_map(|m| m.path.split_once(':'))
            .filter(|(t, _)| mlstack_sandbox::conformance::template_matches(t, base))
            .map(|(_, v)| v.to_string())
            .collect();
        verbs.push("nonsense".into());
        let mut paths: Vec<String> = subs.iter().map(|s| format!("{base}/{s}")).collect();
        paths.extend(verbs.iter().map(|v| format!("{base}:{v}")));
        for path in paths {
            for method in ["GET", "POST", "PATCH", "DELETE"] {
                let body = if matches!(method, "POST" | "PATCH") {
                    "{}"
                } else {
                    ""
                };
                c.send(method, &path, "application/json", body).await;
                swept += 1;
            }
        }
    }
    assert!(swept > 400, "{swept}");

    let exchanges = h.exchanges();
    let problems = api.check_answers(&exchanges);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The walk reached what it claims to check.
    for (method, path) in [
        ("POST", format!("{pg}/{cid}/hosts:batchCreate")),
        ("POST", format!("{pg}/{cid}/hosts:batchDelete")),
        ("GET", format!("/operations/{id}:cancel")),
        ("POST", "/iam/v1/keys".to_string()),
    ] {
        assert!(
            exchanges
                .iter()
                .any(|e| e.method == method && e.path == path && e.status == 200),
            "{method} {path} was not answered"
        );
    }
    h.shutdown().await;
}

/// One request to the cloud naming `host` in the `Host` header; the status.
async fn status_on_host(endpoint: &str, ca_pem: &str, host: &str, path: &str) -> u16 {
    use http_body_util::{BodyExt, Full};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let fut = async {
        let addr = endpoint.trim_start_matches("https://");
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
            .await
            .unwrap();
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method("GET")
            .uri(path)
            .header("host", host)
            .body(Full::new(bytes::Bytes::new()))
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let code = resp.status().as_u16();
        let _ = resp.into_body().collect().await;
        code
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), fut)
        .await
        .expect("request hung")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_answers_on_its_own_host() {
    let (h, _c) = start(quick()).await;
    let (e, ca) = (h.endpoint.clone(), h.ca_pem.clone());
    let keys = "/iam/v1/keys?serviceAccountId=aje1";
    // Unauthenticated on the right host (it is served there), not found on another.
    assert_eq!(
        status_on_host(&e, &ca, "iam.api.cloud.yandex.net", keys).await,
        401
    );
    assert_eq!(
        status_on_host(&e, &ca, "mks.api.cloud.yandex.net", keys).await,
        404
    );
    assert_eq!(
        status_on_host(&e, &ca, "operation.api.cloud.yandex.net", "/operations/x").await,
        401
    );
    assert_eq!(
        status_on_host(&e, &ca, "mdb.api.cloud.yandex.net:443", "/operations/x").await,
        404
    );
    assert_eq!(
        status_on_host(&e, &ca, "vpc.api.cloud.yandex.net", "/storage/v1/buckets").await,
        404
    );
    // The sandbox's own endpoint serves every service.
    assert_eq!(status_on_host(&e, &ca, "127.0.0.1", keys).await, 401);
    h.shutdown().await;
}

/// The checked-in fixture is exactly what the installed `yandexcloud` (scripts/check.sh
/// installs 0.413.0) publishes: the extraction script regenerates it byte for byte.
#[test]
fn the_fixture_is_what_yandexcloud_publishes() {
    let python = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("python3"))
                .find(|f| f.is_file())
        })
        .expect("python3 is required on PATH (scripts/check.sh)");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let child = std::process::Command::new(python)
        .arg(root.join("scripts/yandex_api_fixture.py"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Read the output while it runs (it is larger than a pipe holds).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(std::time::Duration::from_secs(300)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("the fixture script hung");
        }
    };
    assert!(
        out.status.success(),
        "the fixture script failed (is yandexcloud installed? scripts/check.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fixture = std::fs::read(root.join("tests/fixtures/yandex_api/rest.json")).unwrap();
    assert!(
        out.stdout == fixture,
        "tests/fixtures/yandex_api/rest.json differs from what the installed yandexcloud \
         publishes; regenerate it with `python3 scripts/yandex_api_fixture.py > \
         tests/fixtures/yandex_api/rest.json` (the fixture was made from yandexcloud 0.413.0)"
    );
}
