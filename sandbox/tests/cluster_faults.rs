//! The cloud's faults and latency reach its clusters' Kubernetes APIs (Kubernetes `Status`
//! bodies there), and the status page counts, per API, the requests served and the faults
//! injected — a deleted cluster's counts included.

mod common;

use common::cloud::{network, quick, start};
use common::Client;
use mlstack_sandbox::{CloudConfig, Faults};
use serde_json::json;
use std::time::Duration;

const F: &str = "b1gfolder0000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_apis_inject_the_clouds_faults_and_count_them() {
    let (h, c) = start(CloudConfig {
        latency: Duration::from_millis(1),
        ..quick()
    })
    .await;
    let (net, subnet) = network(&c, F, "k8s").await;
    let sa = c
        .create(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": F, "name": "k8s-sa"}),
        )
        .await["metadata"]["serviceAccountId"]
        .as_str()
        .unwrap()
        .to_string();
    let done = c
        .create(
            "/managed-kubernetes/v1/clusters",
            &json!({"folderId": F, "name": "main", "networkId": net,
                    "serviceAccountId": sa, "nodeServiceAccountId": sa,
                    "masterSpec": {"zonalMasterSpec": {"zoneId": "ru-central1-a",
                                   "internalV4AddressSpec": {"subnetId": subnet},
                                   "externalV4AddressSpec": {}}}}),
        )
        .await;
    let cluster = &done["response"];
    let id = cluster["id"].as_str().unwrap().to_string();
    let endpoint = cluster["master"]["endpoints"]["externalV4Endpoint"]
        .as_str()
        .unwrap();
    let ca = cluster["master"]["masterAuth"]["clusterCaCertificate"]
        .as_str()
        .unwrap();
    let kube = Client::to(endpoint, ca, c.token.clone());
    assert_eq!(kube.get("/api/v1/namespaces").await.0, 200);

    // Errors on the cloud's settings, in the Kubernetes API's own format.
    h.set_faults(Faults {
        error_rate: 1.0,
        error_codes: vec![503],
        drop_rate: 0.0,
    });
    for _ in 0..3 {
        let (code, body) = kube.get("/api/v1/namespaces").await;
        assert_eq!(code, 503, "{body}");
        assert_eq!(body["kind"], "Status", "{body}");
        assert_eq!(body["reason"], "ServiceUnavailable", "{body}");
    }
    assert_eq!(kube.get("/version").await.0, 200, "discovery is spared");
    let (code, body) = c.get(&format!("/vpc/v1/networks/{net}")).await;
    assert_eq!((code, body["code"].as_u64()), (503, Some(14)), "{body}");
    // Dropped connections.
    h.set_faults(Faults {
        error_rate: 0.0,
        error_codes: vec![],
        drop_rate: 1.0,
    });
    assert!(kube
        .try_send("GET", "/api/v1/namespaces", "application/json", "")
        .await
        .is_err());
    h.set_faults(Faults::default());

    let s = h.status();
    let api = &s.cluster_apis[&id];
    assert_eq!((api.name.as_str(), api.running), ("main", true));
    assert_eq!(api.stats.errors.get("503"), Some(&3), "{api:?}");
    assert_eq!(api.stats.dropped, 1, "{api:?}");
    assert!(api.stats.requests >= 6, "{api:?}");
    assert!(
        api.stats.latency_delayed >= 5,
        "latency reaches the cluster: {api:?}"
    );
    let cloud = &s.apis["cloud"];
    assert_eq!(cloud.errors.get("503"), Some(&1), "{cloud:?}");
    assert_eq!(cloud.dropped, 0, "{cloud:?}");
    assert!(cloud.requests > 5 && cloud.latency_delayed == cloud.requests);

    // The counts outlive the deleted cluster, and the status page over HTTP has them too.
    let (code, op) = c
        .delete(&format!("/managed-kubernetes/v1/clusters/{id}"))
        .await;
    assert_eq!(code, 200, "{op}");
    c.wait(&op).await;
    let (code, page) = c.get("/sandbox/v1/status").await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["clusters"], json!([]), "{page}");
    let gone = &page["cluster_apis"][&id];
    assert_eq!(gone["running"], false, "{page}");
    assert_eq!(gone["errors"]["503"], 3, "{page}");
    assert_eq!(gone["dropped"], 1, "{page}");
    h.shutdown().await;
}
