//! The cloud emulator resumes from its data directory: resources, operations (one due while
//! it was down is done at once, one still running completes later), issued IAM tokens,
//! idempotency keys, the OAuth token and CA, and running clusters' Kubernetes APIs.

mod common;

use common::cloud::{client, network, quick};
use common::Client;
use mlstack_sandbox::{Cloud, CloudConfig};
use serde_json::json;
use std::time::Duration;

const F: &str = "b1gfolder0000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let config = CloudConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..quick()
    };
    let h = Cloud::start(config.clone()).await.unwrap();
    let c = client(&h).await;
    let (net, subnet) = network(&c, F, "main").await;
    let sa = c
        .create(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": F, "name": "sa"}),
        )
        .await["metadata"]["serviceAccountId"]
        .as_str()
        .unwrap()
        .to_string();
    let op = c
        .create(
            "/managed-kubernetes/v1/clusters",
            &json!({"folderId": F, "name": "main", "networkId": net,
                    "serviceAccountId": sa, "nodeServiceAccountId": sa,
                    "masterSpec": {"zonalMasterSpec": {"zoneId": "ru-central1-a",
                                   "internalV4AddressSpec": {"subnetId": subnet}}}}),
        )
        .await;
    let cluster = op["metadata"]["clusterId"].as_str().unwrap().to_string();
    let ca = op["response"]["master"]["masterAuth"]["clusterCaCertificate"]
        .as_str()
        .unwrap()
        .to_string();
    let endpoint = op["response"]["master"]["endpoints"]["externalV4Endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let kube = Client::to(&endpoint, &ca, c.token.clone());
    let (code, _) = kube
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}}),
        )
        .await;
    assert_eq!(code, 201);
    let (oauth, cloud_ca) = (h.oauth_token.clone(), h.ca_pem.clone());

    // Two operations in flight at shutdown: one due while the cloud is down, one later.
    h.set_operation_delay(Duration::from_millis(300));
    let key = [("Idempotency-Key", "8e1b7d7e-0000-4000-8000-00000000000a")];
    let (code, due) = c
        .try_send_with(
            "POST",
            "/vpc/v1/networks",
            "application/json",
            &json!({"folderId": F, "name": "due"}).to_string(),
            &key,
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{due}");
    h.set_operation_delay(Duration::from_secs(3));
    let (_, later) = c
        .post("/vpc/v1/networks", &json!({"folderId": F, "name": "later"}))
        .await;
    assert_eq!(later["done"], false);
    h.shutdown().await;
    tokio::time::sleep(Duration::from_millis(600)).await;

    let h = Cloud::start(config).await.unwrap();
    assert_eq!(
        (h.oauth_token.as_str(), h.ca_pem.as_str()),
        (oauth.as_str(), cloud_ca.as_str())
    );
    // The IAM token issued before the restart is still valid.
    let c = Client::to(&h.endpoint, &h.ca_pem, c.token.clone());
    let (code, op) = c
        .get(&format!("/operations/{}", due["id"].as_str().unwrap()))
        .await;
    assert_eq!(code, 200, "{op}");
    assert_eq!(
        op["done"], true,
        "an operation due while the cloud was down is done"
    );
    assert_eq!(op["response"]["name"], "due");
    let (_, replay) = c
        .try_send_with(
            "POST",
            "/vpc/v1/networks",
            "application/json",
            &json!({"folderId": F, "name": "due"}).to_string(),
            &key,
        )
        .await
        .unwrap();
    assert_eq!(replay["id"], due["id"]);
    let done = c.wait(&later).await;
    assert_eq!(done["response"]["name"], "later");
    let (_, list) = c.get(&format!("/vpc/v1/networks?folderId={F}")).await;
    assert_eq!(list["networks"].as_array().unwrap().len(), 3);
    assert_eq!(c.get(&format!("/vpc/v1/subnets/{subnet}")).await.0, 200);

    // The cluster's API is back, with the same CA and its objects.
    let (_, cl) = c
        .get(&format!("/managed-kubernetes/v1/clusters/{cluster}"))
        .await;
    assert_eq!(cl["status"], "RUNNING");
    assert_eq!(
        cl["master"]["masterAuth"]["clusterCaCertificate"],
        ca.as_str()
    );
    let endpoint = cl["master"]["endpoints"]["externalV4Endpoint"]
        .as_str()
        .unwrap();
    let kube = Client::to(endpoint, &ca, c.token.clone());
    let (code, cm) = kube.get("/api/v1/namespaces/default/configmaps/kept").await;
    assert_eq!(code, 200, "{cm}");
    assert_eq!(h.status().clusters.len(), 1);

    // Deleting the cluster removes its data.
    let op = c
        .delete(&format!("/managed-kubernetes/v1/clusters/{cluster}"))
        .await
        .1;
    c.wait(&op).await;
    assert!(!dir.path().join("clusters").join(&cluster).exists());
    h.shutdown().await;
}
