//! The real kubectl against the sandbox's simulated controllers and deletion: Deployments
//! roll out through ReplicaSets and Pods, rollout history and undo, scaling, StatefulSet
//! and Job Pods, finalizers, Terminating namespaces, garbage collection, `kubectl create`.

mod common;

use common::kctl::Kubectl;
use mlstack_sandbox::{KubeApi, SandboxConfig};
use serde_json::Value;
use std::time::Duration;

/// The sandbox (quick readiness) and a kubectl for it; the API stops when the handle drops.
async fn start() -> (mlstack_sandbox::Handle, Kubectl) {
    let config = SandboxConfig {
        ready_delay: Duration::from_millis(100),
        ..SandboxConfig::default()
    };
    let handle = KubeApi::start(config).await.expect("start sandbox");
    let k = Kubectl::for_handle(&handle);
    (handle, k)
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_works() {
    let (_api, k) = start().await;
    let out = k
        .ok(&["create", "--validate=false", "-f", "-"], Some(DEPLOY))
        .await;
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let (code, _, err) = k
        .run(&["create", "--validate=false", "-f", "-"], Some(DEPLOY))
        .await;
    assert_ne!(code, 0);
    assert!(
        err.contains("AlreadyExists") || err.contains("already exists"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_deployment_rollout_history_undo_scale_delete() {
    let (_api, k) = start().await;
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(DEPLOY),
    )
    .await;
    let pods = k
        .until(&["get", "pods", "-l", "app=web"], "2 ready pods", |v| {
            let p = items(v);
            p.len() == 2 && p.iter().all(ready)
        })
        .await;
    let pod = &items(&pods)[0];
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(pod["status"]["podIP"].is_string(), "{pod:#}");
    assert!(pod["status"]["hostIP"].is_string(), "{pod:#}");
    assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
    let owner = &pod["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "ReplicaSet");
    assert_eq!(owner["controller"], true);
    let rs_name = owner["name"].as_str().expect("owner name").to_string();
    let hash = pod["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .expect("pod-template-hash")
        .to_string();
    assert_eq!(rs_name, format!("web-{hash}"));
    let rs = k.json(&["get", "rs", &rs_name]).await;
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(
        rs["metadata"]["ownerReferences"][0]["blockOwnerDeletion"],
        true
    );
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash.as_str()
    );
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );

    let d = k
        .until(&["get", "deploy", "web"], "web available", |d| {
            d["status"]["availableReplicas"] == 2
        })
        .await;
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(d["status"]["updatedReplicas"], 2);
    let conds = d["status"]["conditions"].as_array().expect("conditions");
    let avail = conds
        .iter()
        .find(|c| c["type"] == "Available")
        .expect("Available");
    assert_eq!(avail["status"], "True");
    assert!(avail["lastUpdateTime"].is_string() && avail["lastTransitionTime"].is_string());
    let prog = conds
        .iter()
        .find(|c| c["type"] == "Progressing")
        .expect("Progressing");
    assert_eq!(prog["reason"], "NewReplicaSetAvailable");

    // A template change: a second ReplicaSet takes over, the first scales to zero.
    k.ok(&["set", "image", "deploy/web", "web=nginx:1.28"], None)
        .await;
    let d = k
        .until(&["get", "deploy", "web"], "rollout of revision 2", |d| {
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
                && d["status"]["updatedReplicas"] == 2
                && d["status"]["availableReplicas"] == 2
                && d["status"]["replicas"] == 2
                && d["status"]["observedGeneration"] == d["metadata"]["generation"]
        })
        .await;
    assert_eq!(d["metadata"]["generation"], 2);
    let rss = k.json(&["get", "rs", "-l", "app=web"]).await;
    assert_eq!(items(&rss).len(), 2, "{rss:#}");
    let old = k.json(&["get", "rs", &rs_name]).await;
    assert_eq!(old["spec"]["replicas"], 0);
    let pods = k
        .until(&["get", "pods", "-l", "app=web"], "old pods gone", |v| {
            let p = items(v);
            p.len() == 2
                && p.iter()
                    .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.28" && ready(p))
        })
        .await;
    assert_eq!(items(&pods).len(), 2);

    let out = k.ok(&["rollout", "history", "deploy/web"], None).await;
    assert!(out.contains("REVISION"), "{out}");
    assert!(out.lines().any(|l| l.starts_with('1')), "{out}");
    assert!(out.lines().any(|l| l.starts_with('2')), "{out}");

    // Undo: back to the first template, as revision 3, reusing the first ReplicaSet.
    let out = k.ok(&["rollout", "undo", "deploy/web"], None).await;
    assert!(out.contains("rolled back"), "{out}");
    k.until(&["get", "deploy", "web"], "rollback", |d| {
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
            && d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
            && d["status"]["updatedReplicas"] == 2
            && d["status"]["availableReplicas"] == 2
            && d["status"]["replicas"] == 2
    })
    .await;
    let first = k.json(&["get", "rs", &rs_name]).await;
    assert_eq!(first["spec"]["replicas"], 2);
    assert_eq!(
        first["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );

    // Scaling changes the number of Pods.
    k.ok(&["scale", "deploy/web", "--replicas=3"], None).await;
    k.until(&["get", "pods", "-l", "app=web"], "3 ready pods", |v| {
        let p = items(v);
        p.len() == 3 && p.iter().all(ready)
    })
    .await;

    // Deleting the Deployment takes its ReplicaSets and Pods (garbage collection).
    k.ok(&["delete", "deploy", "web", "--wait=false"], None)
        .await;
    k.until(
        &["get", "rs,pods", "-l", "app=web"],
        "dependents collected",
        |v| items(v).is_empty(),
    )
    .await;
}

const HELD: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: held
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
  namespace: held
  finalizers: [example.com/hold]
data: {a: b}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_finalizers_and_terminating_namespace() {
    let (_api, k) = start().await;
    k.ok(
        &["apply", "--server-side", "--validate=false", "-f", "-"],
        Some(HELD),
    )
    .await;
    // The finalizer holds the ConfigMap: DELETE only marks it.
    k.ok(
        &["delete", "cm", "keep", "-n", "held", "--wait=false"],
        None,
    )
    .await;
    let cm = k.json(&["get", "cm", "keep", "-n", "held"]).await;
    assert!(cm["metadata"]["deletionTimestamp"].is_string(), "{cm:#}");
    assert_eq!(cm["metadata"]["deletionGracePeriodSeconds"], 0);
    // No new finalizers on an object being deleted.
    let (code, _, err) = k
        .run(
            &[
                "patch",
                "cm",
                "keep",
                "-n",
                "held",
                "--type=merge",
                "-p",
                r#"{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}"#,
            ],
            None,
        )
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("no new finalizers"), "{err}");

    // The namespace goes Terminating and refuses new content while the ConfigMap stays.
    k.ok(&["delete", "ns", "held", "--wait=false"], None).await;
    let ns = k.json(&["get", "ns", "held"]).await;
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert!(ns["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(ns["spec"]["finalizers"][0], "kubernetes");
    let late = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: held}\n";
    let (code, _, err) = k
        .run(
            &["apply", "--server-side", "--validate=false", "-f", "-"],
            Some(late),
        )
        .await;
    assert_ne!(code, 0);
    assert!(
        err.contains("Forbidden") || err.contains("forbidden"),
        "{err}"
    );
    assert!(err.contains("because it is being terminated"), "{err}");
    k.until(&["get", "ns", "held"], "content conditions", |ns| {
        ns["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "NamespaceFinalizersRemaining" && c["status"] == "True")
        })
    })
    .await;

    // Removing the finalizer lets the ConfigMap go, then the namespace.
    k.ok(
        &[
            "patch",
            "cm",
            "keep",
            "-n",
            "held",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        None,
    )
    .await;
    let (code, _, err) = k.run(&["get", "cm", "keep", "-n", "held"], None).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );
    k.until(&["get", "ns"], "namespace held gone", |v| {
        !items(v).iter().any(|n| n["metadata"]["name"] == "held")
    })
    .await;
}
