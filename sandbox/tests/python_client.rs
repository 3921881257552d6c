//! The official Python `kubernetes` client (PyPI `kubernetes`, installed by
//! scripts/check.sh) as a second real client: `tests/python/kube_client.py` drives the
//! standalone API and a Managed Kubernetes cluster's API of the cloud emulator (selectors,
//! pagination, watch, server-side apply with force, scale, dry run, stale replace, 404
//! `Status`, Strict field validation, a custom resource's status subresource).

mod common;

use common::cloud::{cluster, quick, start as start_cloud};
use mlstack_sandbox::{kubeconfig, kubeconfig_for, KubeApi, SandboxConfig};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// Runs the script against one kubeconfig; fails with its output unless it ends `ALL OK`.
async fn run_script(kubeconfig_text: &str, ns: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("kubeconfig");
    std::fs::write(&cfg, kubeconfig_text).expect("kubeconfig");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/kube_client.py");
    let child = Command::new("python3")
        .arg(&script)
        .arg(&cfg)
        .arg(ns)
        .env("HOME", dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 is required on PATH");
    let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .expect("the Python client hung")
        .expect("python3 output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ALL OK"),
        "kube_client.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_the_standalone_api() {
    let handle = KubeApi::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    run_script(&kubeconfig(&handle), "py-standalone").await;
    handle.shutdown().await;
}

const F: &str = "b1gfolder0000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_a_cluster_api() {
    let (h, c) = start_cloud(quick()).await;
    let (done, _) = cluster(&c, F, "py").await;
    let cluster = &done["response"];
    let endpoint = cluster["master"]["endpoints"]["externalV4Endpoint"]
        .as_str()
        .expect("endpoint");
    let ca = cluster["master"]["masterAuth"]["clusterCaCertificate"]
        .as_str()
        .expect("CA");
    let token = c.token.clone().expect("IAM token");
    run_script(&kubeconfig_for(endpoint, ca, &token), "py-cluster").await;
    h.shutdown().await;
}
