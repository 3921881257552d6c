//! Helpers for the cloud emulator's tests: start it, get an IAM token, wait for operations.

use super::Client;
use mlstack_sandbox::{Cloud, CloudConfig, CloudHandle};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A quick cloud (operations done after 50 ms unless `config` says otherwise).
pub fn quick() -> CloudConfig {
    CloudConfig {
        operation_delay: Duration::from_millis(50),
        ..CloudConfig::default()
    }
}

/// Starts a cloud and a client holding an IAM token exchanged for its OAuth token.
pub async fn start(config: CloudConfig) -> (CloudHandle, Client) {
    let h = Cloud::start(config).await.unwrap();
    let c = client(&h).await;
    (h, c)
}

/// A client of `h` with a fresh IAM token.
pub async fn client(h: &CloudHandle) -> Client {
    let mut c = Client::to(&h.endpoint, &h.ca_pem, None);
    let (code, body) = c
        .post(
            "/iam/v1/tokens",
            &json!({"yandexPassportOauthToken": h.oauth_token}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    c.token = Some(body["iamToken"].as_str().unwrap().to_string());
    c
}

impl Client {
    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("PATCH", path, "application/json", &body.to_string())
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, "application/json", "").await
    }

    /// Polls the operation until done (a generous timeout guards against hangs).
    pub async fn wait(&self, op: &Value) -> Value {
        let id = op["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not an operation: {op}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (code, op) = self.get(&format!("/operations/{id}")).await;
            assert_eq!(code, 200, "{op}");
            if op["done"] == json!(true) {
                return op;
            }
            assert!(Instant::now() < deadline, "operation {id} never completed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// POSTs a create, waits for its operation; returns the done operation.
    pub async fn create(&self, path: &str, body: &Value) -> Value {
        let (code, op) = self.post(path, body).await;
        assert_eq!(code, 200, "{path}: {op}");
        let done = self.wait(&op).await;
        assert!(done.get("error").is_none(), "{done}");
        done
    }
}

/// A network and a subnet in folder `f`; returns (networkId, subnetId).
pub async fn network(c: &Client, folder: &str, name: &str) -> (String, String) {
    let op = c
        .create(
            "/vpc/v1/networks",
            &json!({"folderId": folder, "name": name}),
        )
        .await;
    let net = op["metadata"]["networkId"].as_str().unwrap().to_string();
    let op = c
        .create(
            "/vpc/v1/subnets",
            &json!({"folderId": folder, "name": format!("{name}-a"), "networkId": net,
                    "zoneId": "ru-central1-a", "v4CidrBlocks": ["10.1.0.0/24"]}),
        )
        .await;
    let subnet = op["metadata"]["subnetId"].as_str().unwrap().to_string();
    (net, subnet)
}

/// A zonal Managed Kubernetes cluster `name` (with its network and service account) in folder
/// `f`; returns the finished create operation (its `response` is the cluster) and the subnet.
pub async fn cluster(c: &Client, folder: &str, name: &str) -> (Value, String) {
    let (net, subnet) = network(c, folder, name).await;
    let sa = c
        .create(
            "/iam/v1/serviceAccounts",
            &json!({"folderId": folder, "name": format!("{name}-sa")}),
        )
        .await["metadata"]["serviceAccountId"]
        .as_str()
        .expect("service account id")
        .to_string();
    let (code, op) = c
        .post(
            "/managed-kubernetes/v1/clusters",
            &json!({"folderId": folder, "name": name, "networkId": net,
                    "serviceAccountId": sa, "nodeServiceAccountId": sa,
                    "masterSpec": {"zonalMasterSpec": {"zoneId": "ru-central1-a",
                                   "internalV4AddressSpec": {"subnetId": subnet},
                                   "externalV4AddressSpec": {}},
                                   "version": "1.30"},
                    "releaseChannel": "REGULAR"}),
        )
        .await;
    assert_eq!(code, 200, "{op}");
    (c.wait(&op).await, subnet)
}
