//! Managed Kubernetes in the cloud emulator: a cluster that reaches RUNNING has its own
//! Kubernetes API (TLS with the reported CA) accepting IAM tokens and its static token;
//! node groups; version updates; deleting the cluster stops its API.

mod common;

use common::cloud::{cluster, quick, start};
use common::Client;
use serde_json::json;

const F: &str = "b1gfolder0000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_runs_its_own_kubernetes_api() {
    let (h, c) = start(quick()).await;
    let (done, subnet) = cluster(&c, F, "main").await;
    let id = done["response"]["id"].as_str().unwrap().to_string();
    let cluster = &done["response"];
    assert_eq!(
        cluster["@type"],
        "type.googleapis.com/yandex.cloud.k8s.v1.Cluster"
    );
    assert_eq!(
        (cluster["status"].as_str(), cluster["health"].as_str()),
        (Some("RUNNING"), Some("HEALTHY"))
    );
    let endpoint = cluster["master"]["endpoints"]["externalV4Endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    assert_eq!(
        cluster["master"]["endpoints"]["internalV4Endpoint"],
        endpoint.as_str()
    );
    let ca = cluster["master"]["masterAuth"]["clusterCaCertificate"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(cluster["master"]["version"], "1.30");

    // The cloud's IAM token works as a bearer token, over TLS with the reported CA.
    let kube = Client::to(&endpoint, &ca, c.token.clone());
    let (code, ns) = kube.get("/api/v1/namespaces").await;
    assert_eq!(code, 200, "{ns}");
    assert!(ns["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["metadata"]["name"] == "default"));
    let bogus = Client::to(&endpoint, &ca, Some("t1.bogus".into()));
    assert_eq!(bogus.get("/api/v1/namespaces").await.0, 401);
    // The static token the status reports works too.
    let status = h.status();
    let st = &status.clusters[0];
    assert_eq!(
        (st.id.as_str(), st.name.as_str(), st.status.as_str()),
        (id.as_str(), "main", "RUNNING")
    );
    assert_eq!(st.endpoint.as_deref(), Some(endpoint.as_str()));
    assert!(
        !format!("{st:?}").contains(&st.token),
        "Debug redacts the token"
    );
    let own = Client::to(
        &endpoint,
        st.ca_pem.as_deref().unwrap(),
        Some(st.token.clone()),
    );
    assert_eq!(own.get("/api/v1/namespaces/default").await.0, 200);
    let (_, over_http) = c.get("/sandbox/v1/status").await;
    assert_eq!(over_http["clusters"][0]["endpoint"], endpoint.as_str());
    assert_eq!(over_http["counts"]["k8s.cluster"], 1);

    // A node group of the cluster.
    let op = c
        .create(
            "/managed-kubernetes/v1/nodeGroups",
            &json!({"clusterId": id, "name": "workers",
                    "nodeTemplate": {"platformId": "standard-v3",
                                     "resourcesSpec": {"memory": 8589934592_u64, "cores": 4}},
                    "scalePolicy": {"fixedScale": {"size": 3}},
                    "allocationPolicy": {"locations": [{"zoneId": "ru-central1-a", "subnetId": subnet}]}}),
        )
        .await;
    let ng = op["response"].clone();
    assert_eq!(ng["status"], "RUNNING");
    assert_eq!(ng["scalePolicy"]["fixedScale"]["size"], "3");
    assert_eq!(ng["versionInfo"]["currentVersion"], "1.30");
    let (_, list) = c
        .get(&format!("/managed-kubernetes/v1/clusters/{id}/nodeGroups"))
        .await;
    assert_eq!(list["nodeGroups"][0]["name"], "workers");
    let (_, list) = c
        .get(&format!(
            "/managed-kubernetes/v1/nodeGroups?folderId={F}&filter=name%3D%22workers%22"
        ))
        .await;
    assert_eq!(list["nodeGroups"].as_array().unwrap().len(), 1);
    let ng_path = format!(
        "/managed-kubernetes/v1/nodeGroups/{}",
        ng["id"].as_str().unwrap()
    );
    let op = c
        .patch(
            &ng_path,
            &json!({"updateMask": "scale_policy.fixed_scale.size", "scalePolicy": {"fixedScale": {"size": "4"}}}),
        )
        .await
        .1;
    assert_eq!(
        c.wait(&op).await["response"]["scalePolicy"]["fixedScale"]["size"],
        "4"
    );
    let (code, body) = c
        .patch(
            &ng_path,
            &json!({"updateMask": "node_taints", "nodeTaints": []}),
        )
        .await;
    assert_eq!(code, 400, "{body}");

    // A version upgrade by mask path.
    let path = format!("/managed-kubernetes/v1/clusters/{id}");
    let op = c
        .patch(
            &path,
            &json!({"updateMask": "master_spec.version.version", "masterSpec": {"version": {"version": "1.31"}}}),
        )
        .await
        .1;
    let done = c.wait(&op).await;
    assert_eq!(done["response"]["master"]["version"], "1.31");
    assert_eq!(
        done["response"]["master"]["versionInfo"]["currentVersion"],
        "1.31"
    );
    let (code, body) = c
        .patch(
            &path,
            &json!({"updateMask": "release_channel", "releaseChannel": "RAPID"}),
        )
        .await;
    assert_eq!((code, body["code"].as_u64()), (400, Some(3)));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("release_channel"));

    // Deleting the cluster stops its API and removes its node groups.
    let (code, op) = c.delete(&path).await;
    assert_eq!(code, 200, "{op}");
    assert_eq!(c.get(&path).await.1["status"], "DELETING");
    c.wait(&op).await;
    assert_eq!(c.get(&path).await.0, 404);
    assert_eq!(c.get(&ng_path).await.0, 404);
    assert!(kube
        .try_send("GET", "/api/v1/namespaces", "application/json", "")
        .await
        .is_err());
    assert!(h.status().clusters.is_empty());
    h.shutdown().await;
}
