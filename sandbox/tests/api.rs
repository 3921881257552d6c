//! Direct HTTPS tests of the sandbox API: auth, SSA conflicts and force, dry-run, label
//! selectors, CRDs, generation, status subresource, persistence, controllers, faults.

mod common;

use common::Client;
use mlstack_sandbox::{Faults, KubeApi, SandboxConfig};
use serde_json::{json, Value};
use std::time::Duration;

async fn start() -> (mlstack_sandbox::Handle, Client) {
    let h = KubeApi::start(SandboxConfig::default()).await.unwrap();
    let c = Client::new(&h);
    (h, c)
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn namespace(c: &Client, name: &str) {
    let (code, body) = c
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .await;
    // Like a real cluster, the sandbox starts with `default` and the kube-* namespaces.
    let preexisting = name == "default" || name.starts_with("kube-");
    assert!(code == 201 || (preexisting && code == 409), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_required() {
    let (h, mut c) = start().await;
    c.token = None;
    let (code, body) = c.get("/version").await;
    assert_eq!(code, 401);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Unauthorized");
    c.token = Some("wrong".into());
    assert_eq!(c.get("/api/v1/namespaces").await.0, 401);
    c.token = Some(h.token.clone());
    assert_eq!(c.get("/version").await.0, 200);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_selectors_conflicts_and_not_found() {
    let (h, c) = start().await;
    // The namespace must exist.
    let cm = |name: &str, app: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "labels": {"app": app}}, "data": {"k": "v"}})
    };
    let (code, body) = c
        .post("/api/v1/namespaces/nope/configmaps", &cm("a", "x"))
        .await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
    namespace(&c, "default").await;
    for (n, app) in [("a", "web"), ("b", "api"), ("c", "db")] {
        assert_eq!(c.post(CMS, &cm(n, app)).await.0, 201);
    }
    let (code, body) = c.post(CMS, &cm("a", "web")).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |sel: &str| {
        let c = &c;
        let sel = sel
            .replace(' ', "+")
            .replace('=', "%3D")
            .replace(',', "%2C");
        async move { c.get(&format!("{CMS}?labelSelector={sel}")).await.1 }
    };
    assert_eq!(names(&list("app=web").await), ["a"]);
    assert_eq!(names(&list("app!=web").await), ["b", "c"]);
    assert_eq!(names(&list("app in (api,db)").await), ["b", "c"]);
    assert_eq!(names(&list("app notin (api)").await), ["a", "c"]);
    assert_eq!(names(&list("app").await), ["a", "b", "c"]);
    assert_eq!(list("app").await["kind"], "ConfigMapList");

    // PUT with a stale resourceVersion conflicts.
    let (_, a) = c.get(&format!("{CMS}/a")).await;
    let mut stale = a.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["data"]["k"] = json!("w");
    let (code, body) = c
        .send(
            "PUT",
            &format!("{CMS}/a"),
            "application/json",
            &stale.to_string(),
        )
        .await;
    assert_eq!((code, body["reason"].as_str()), (409, Some("Conflict")));
    let mut fresh = a.clone();
    fresh["data"]["k"] = json!("w");
    let (code, body) = c
        .send(
            "PUT",
            &format!("{CMS}/a"),
            "application/json",
            &fresh.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_ne!(
        body["metadata"]["resourceVersion"],
        a["metadata"]["resourceVersion"]
    );

    // Merge patch and JSON patch.
    let (code, body) = c
        .send(
            "PATCH",
            &format!("{CMS}/b"),
            "application/merge-patch+json",
            r#"{"data":{"k":null,"n":"1"}}"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["data"], json!({"n": "1"}));
    let (code, body) = c
        .send(
            "PATCH",
            &format!("{CMS}/b"),
            "application/json-patch+json",
            r#"[{"op":"add","path":"/data/m","value":"2"}]"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["data"], json!({"n": "1", "m": "2"}));

    let (code, body) = c
        .send("DELETE", &format!("{CMS}/c"), "application/json", "{}")
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = c.get(&format!("{CMS}/c")).await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "configmaps \"c\" not found");
    h.shutdown().await;
}

const DEP: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(replicas: i64, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_ownership_dry_run_and_generation() {
    let (h, c) = start().await;
    namespace(&c, "default").await;
    let web = format!("{DEP}/web");
    let (code, d) = c
        .apply(&web, "fieldManager=mlstack", &deployment(2, "nginx:1"))
        .await;
    assert_eq!(code, 201, "{d}");
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600, "defaulted");
    assert_eq!(d["metadata"]["managedFields"][0]["operation"], "Apply");

    // Re-applying the same thing changes nothing.
    let (code, same) = c
        .apply(&web, "fieldManager=mlstack", &deployment(2, "nginx:1"))
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        same["metadata"]["resourceVersion"],
        d["metadata"]["resourceVersion"]
    );

    // dryRun computes without storing.
    let (code, dry) = c
        .apply(
            &web,
            "fieldManager=mlstack&dryRun=All",
            &deployment(2, "nginx:2"),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        dry["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert_eq!(dry["metadata"]["generation"], 2);
    let (_, live) = c.get(&web).await;
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    assert_eq!(live["metadata"]["generation"], 1);

    // Another manager changing a field mlstack owns: conflict naming mlstack, unless forced.
    let (code, err) = c
        .apply(&web, "fieldManager=other", &deployment(3, "nginx:1"))
        .await;
    assert_eq!(code, 409, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"mlstack\": .spec.replicas"),
        "{err}"
    );
    assert_eq!(err["details"]["causes"][0]["field"], ".spec.replicas");
    let (code, forced) = c
        .apply(
            &web,
            "fieldManager=other&force=true",
            &deployment(3, "nginx:1"),
        )
        .await;
    assert_eq!(code, 200, "{forced}");
    assert_eq!(forced["spec"]["replicas"], 3);
    assert_eq!(forced["metadata"]["generation"], 2);

    // mlstack stops sending replicas: "other" still owns it, so it stays.
    let without = deployment(0, "nginx:1").replace("  replicas: 0\n", "");
    let (code, after) = c.apply(&web, "fieldManager=mlstack", &without).await;
    assert_eq!(code, 200, "{after}");
    assert_eq!(after["spec"]["replicas"], 3);

    // A dry-run create stores nothing.
    let (code, _) = c
        .apply(
            &format!("{DEP}/ghost"),
            "fieldManager=m&dryRun=All",
            &deployment(1, "x").replace("name: web\nspec", "name: ghost\nspec"),
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(c.get(&format!("{DEP}/ghost")).await.0, 404);

    // Status subresource: spec ignored there, status ignored on the main endpoint.
    let (code, st) = c
        .send(
            "PATCH",
            &format!("{web}/status"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":9},"status":{"replicas":7}}"#,
        )
        .await;
    assert_eq!(code, 200, "{st}");
    assert_eq!(
        (
            st["spec"]["replicas"].as_i64(),
            st["status"]["replicas"].as_i64()
        ),
        (Some(3), Some(7))
    );
    let (_, main) = c
        .send(
            "PATCH",
            &web,
            "application/merge-patch+json",
            r#"{"status":{"replicas":1}}"#,
        )
        .await;
    assert_eq!(main["status"]["replicas"], 7, "{main}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_register_new_types() {
    let (h, c) = start().await;
    namespace(&c, "default").await;
    let path = "/apis/example.com/v1/namespaces/default/widgets";
    assert_eq!(c.get(path).await.0, 404);
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                                   "type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}});
    let (code, body) = c
        .post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let conds = body["status"]["conditions"].as_array().unwrap();
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True"));
    let (code, disc) = c.get("/apis/example.com/v1").await;
    assert_eq!(code, 200);
    assert_eq!(disc["resources"][0]["kind"], "Widget");
    let (_, groups) = c.get("/apis").await;
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
    let (code, w) = c
        .apply(
            &format!("{path}/w1"),
            "fieldManager=mlstack",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n",
        )
        .await;
    assert_eq!(code, 201, "{w}");
    assert_eq!(c.get(path).await.1["items"][0]["spec"]["size"], 3);
    // Deleting the CRD removes the type and its objects.
    let (code, _) = c
        .send(
            "DELETE",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
            "application/json",
            "",
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(c.get(path).await.0, 404);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistence_controllers_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ready_delay: Duration::from_millis(50),
        ..SandboxConfig::default()
    };
    let h = KubeApi::start(config.clone()).await.unwrap();
    let c = Client::new(&h);
    namespace(&c, "default").await;
    let web = format!("{DEP}/web");
    assert_eq!(
        c.apply(&web, "fieldManager=mlstack", &deployment(2, "nginx:1"))
            .await
            .0,
        201
    );
    // The simulated controller reports ready (polled; the timeout only guards a hang).
    let mut ready = Value::Null;
    for _ in 0..200 {
        let (_, d) = c.get(&web).await;
        if d["status"]["availableReplicas"] == 2 {
            ready = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        ready["status"]["observedGeneration"], 1,
        "never became ready"
    );
    let (ca, endpoint) = (h.ca_pem.clone(), h.endpoint.clone());
    h.shutdown().await;

    // A restart keeps the objects, the CA and (when free) the port, so saved kubeconfigs
    // stay valid.
    let h = KubeApi::start(config).await.unwrap();
    assert_eq!(h.ca_pem, ca);
    assert_eq!(h.endpoint, endpoint);
    let c = Client::new(&h);
    let (code, d) = c.get(&web).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["metadata"]["uid"], ready["metadata"]["uid"]);

    // Every request fails with the injected code while the error rate is 1.
    h.set_faults(Faults {
        error_rate: 1.0,
        error_codes: vec![429],
        drop_rate: 0.0,
    });
    let (code, body) = c.get(&web).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (429, Some("TooManyRequests"))
    );
    assert_eq!(c.get("/version").await.0, 200, "discovery is spared");
    h.set_faults(Faults::default());
    assert_eq!(c.get(&web).await.0, 200);
    let stats = h.stats();
    assert_eq!(stats.errors.get("429"), Some(&1), "{stats:?}");
    assert_eq!((stats.error_total(), stats.dropped), (1, 0), "{stats:?}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_token_check() {
    let config = SandboxConfig {
        also_accept: Some(mlstack_sandbox::TokenCheck::new(|t| t == "t1.issued")),
        ..SandboxConfig::default()
    };
    let h = KubeApi::start(config).await.unwrap();
    assert!(!format!("{h:?}").contains(&h.token));
    let mut c = Client::new(&h);
    assert_eq!(c.get("/api/v1/namespaces").await.0, 200);
    c.token = Some("t1.issued".into());
    assert_eq!(c.get("/api/v1/namespaces").await.0, 200);
    c.token = Some("t1.other".into());
    assert_eq!(c.get("/api/v1/namespaces").await.0, 401);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_scales_its_target_and_dropped_connections() {
    let config = SandboxConfig {
        ready_delay: Duration::from_millis(10),
        ..SandboxConfig::default()
    };
    let h = KubeApi::start(config).await.unwrap();
    let c = Client::new(&h);
    namespace(&c, "default").await;
    let web = format!("{DEP}/web");
    assert_eq!(
        c.apply(&web, "fieldManager=mlstack", &deployment(1, "nginx:1"))
            .await
            .0,
        201
    );
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 4\n  maxReplicas: 6\n";
    let (code, body) = c
        .apply(
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web",
            "fieldManager=mlstack",
            hpa,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let mut scaled = Value::Null;
    for _ in 0..200 {
        let (_, d) = c.get(&web).await;
        if d["spec"]["replicas"] == 4 && d["status"]["availableReplicas"] == 4 {
            scaled = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let managers: Vec<&str> = scaled["metadata"]["managedFields"]
        .as_array()
        .expect("never scaled")
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert!(
        managers.contains(&"kube-controller-manager"),
        "{managers:?}"
    );
    // The stack setting replicas again now conflicts with the HPA's controller.
    let (code, err) = c
        .apply(&web, "fieldManager=mlstack", &deployment(1, "nginx:1"))
        .await;
    assert_eq!(code, 409, "{err}");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("kube-controller-manager"));

    h.set_faults(Faults {
        error_rate: 0.0,
        error_codes: vec![],
        drop_rate: 1.0,
    });
    let res = c.try_send("GET", &web, "application/json", "").await;
    assert!(res.is_err(), "a dropped connection gives no answer");
    assert_eq!(h.stats().dropped, 1, "the drop was counted");
    h.shutdown().await;
}
