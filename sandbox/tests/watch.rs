//! The watch and pagination wire contract over HTTPS: chunked JSON event lines, replay
//! from a resourceVersion, `410 Expired` for one older than the history, bookmarks and
//! `sendInitialEvents`, field selectors, concurrent watchers, consistent `limit`/`continue`
//! pages, and the `watch` verb in discovery.

mod common;

use common::Client;
use mlstack_sandbox::{KubeApi, SandboxConfig};
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/w/configmaps";

async fn start(window: usize) -> (mlstack_sandbox::Handle, Client) {
    let h = KubeApi::start(SandboxConfig {
        event_window: window,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = Client::new(&h);
    let (code, body) = c
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "w"}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    (h, c)
}

async fn cm(c: &Client, name: &str, app: &str) -> Value {
    let (code, body) = c
        .post(
            CMS,
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name, "labels": {"app": app}}, "data": {"k": "v"}}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    body
}

fn rv_of(v: &Value) -> u64 {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {v}"))
}

/// A watch request that ends at its timeout; (status, headers, events).
async fn watch(c: &Client, path: &str) -> (u16, hyper::HeaderMap, Vec<Value>) {
    let (code, headers, bytes) = c
        .try_raw("GET", path, "application/json", "", &[])
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let events = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    (code, headers, events)
}

fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let name = e["object"]["metadata"]["name"].as_str().unwrap_or("");
            (
                e["type"].as_str().unwrap_or("").to_string(),
                name.to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_replays_changes_after_a_resource_version_as_chunked_json_lines() {
    let (_h, c) = start(100).await;
    cm(&c, "a", "web").await;
    let (_, list) = c.get(CMS).await;
    let from = rv_of(&list);
    cm(&c, "b", "web").await;
    let (code, patched) = c
        .send(
            "PATCH",
            &format!("{CMS}/a"),
            "application/merge-patch+json",
            r#"{"data":{"k":"w"}}"#,
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    let (code, _) = c
        .send("DELETE", &format!("{CMS}/a"), "application/json", "")
        .await;
    assert_eq!(code, 200);

    let (code, headers, events) = watch(
        &c,
        &format!("{CMS}?watch=true&resourceVersion={from}&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["transfer-encoding"], "chunked");
    assert_eq!(
        summary(&events),
        [
            ("ADDED".to_string(), "b".to_string()),
            ("MODIFIED".into(), "a".into()),
            ("DELETED".into(), "a".into())
        ]
    );
    assert_eq!(events[1]["object"]["kind"], "ConfigMap");
    assert_eq!(events[1]["object"]["apiVersion"], "v1");
    assert_eq!(rv_of(&events[1]["object"]), rv_of(&patched));
    // The DELETED event carries the final object with the deletion's own resourceVersion.
    assert!(rv_of(&events[2]["object"]) > rv_of(&patched), "{events:?}");
    assert_eq!(events[2]["object"]["data"]["k"], "w");

    // From "0" (and unset): synthetic ADDED events for what exists now.
    let (_, _, events) = watch(
        &c,
        &format!("{CMS}?watch=true&resourceVersion=0&timeoutSeconds=1"),
    )
    .await;
    assert_eq!(summary(&events), [("ADDED".to_string(), "b".to_string())]);
    let (_, _, events) = watch(&c, &format!("{CMS}?watch=1&timeoutSeconds=1")).await;
    assert_eq!(summary(&events), [("ADDED".to_string(), "b".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_filter_watches_and_objects_leaving_a_selection_are_deleted() {
    let (_h, c) = start(100).await;
    cm(&c, "a", "web").await;
    cm(&c, "b", "db").await;
    let (_, list) = c.get(CMS).await;
    let from = rv_of(&list);
    for (name, app) in [("a", "db"), ("b", "web")] {
        let (code, body) = c
            .send(
                "PATCH",
                &format!("{CMS}/{name}"),
                "application/merge-patch+json",
                &json!({"metadata": {"labels": {"app": app}}}).to_string(),
            )
            .await;
        assert_eq!(code, 200, "{body}");
    }
    let q = format!("watch=true&resourceVersion={from}&timeoutSeconds=1");
    let (_, _, events) = watch(&c, &format!("{CMS}?{q}&labelSelector=app%3Dweb")).await;
    assert_eq!(
        summary(&events),
        [
            ("DELETED".to_string(), "a".to_string()),
            ("ADDED".into(), "b".into())
        ]
    );
    let (_, _, events) = watch(&c, &format!("{CMS}?{q}&fieldSelector=metadata.name%3Db")).await;
    assert_eq!(
        summary(&events),
        [("MODIFIED".to_string(), "b".to_string())]
    );
    let (_, _, events) = watch(&c, &format!("{CMS}?{q}&fieldSelector=metadata.name!%3Db")).await;
    assert_eq!(
        summary(&events),
        [("MODIFIED".to_string(), "a".to_string())]
    );
    // All namespaces, by namespace field.
    let (_, _, events) = watch(
        &c,
        &format!("/api/v1/configmaps?{q}&fieldSelector=metadata.namespace%3D%3Dw"),
    )
    .await;
    assert_eq!(events.len(), 2, "{events:?}");
    // Unsupported field labels: the real 400, for watch and list alike.
    for path in [
        format!("{CMS}?watch=true&fieldSelector=spec.foo%3Dx"),
        format!("{CMS}?fieldSelector=spec.foo%3Dx"),
    ] {
        let (code, body) = c.get(&path).await;
        assert_eq!(code, 400, "{body}");
        assert_eq!(body["reason"], "BadRequest");
        assert_eq!(body["message"], "field label not supported: spec.foo");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_version_older_than_the_window_is_expired() {
    let (_h, c) = start(5).await;
    let first = cm(&c, "a", "web").await;
    for i in 0..8 {
        cm(&c, &format!("x{i}"), "web").await;
    }
    let (code, _, events) = watch(
        &c,
        &format!(
            "{CMS}?watch=true&resourceVersion={}&timeoutSeconds=5",
            rv_of(&first)
        ),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "ERROR");
    let status = &events[0]["object"];
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version"),
        "{status}"
    );
    // A resourceVersion from the future is a timeout, as on the real server.
    let (_, _, events) = watch(&c, &format!("{CMS}?watch=true&resourceVersion=999999")).await;
    assert_eq!(events[0]["object"]["code"], 504, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_and_send_initial_events() {
    let (_h, c) = start(100).await;
    cm(&c, "a", "web").await;
    let (code, _, events) = watch(
        &c,
        &format!("{CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=5"),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        summary(&events[..1]),
        [("ADDED".to_string(), "a".to_string())]
    );
    assert_eq!(events[1]["type"], "BOOKMARK");
    assert_eq!(
        events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // Periodic bookmarks (every 2 s) carry only the resourceVersion reached.
    let periodic = &events[2..];
    assert!(!periodic.is_empty(), "{events:?}");
    for b in periodic {
        assert_eq!(b["type"], "BOOKMARK");
        assert_eq!(b["object"]["kind"], "ConfigMap");
        assert!(b["object"]["metadata"].get("annotations").is_none(), "{b}");
        assert!(rv_of(&b["object"]) >= rv_of(&events[1]["object"]));
    }
    // sendInitialEvents without resourceVersionMatch=NotOlderThan is invalid.
    let (code, body) = c
        .get(&format!(
            "{CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["reason"], "Invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_watchers_see_the_same_live_events() {
    let (_h, c) = start(100).await;
    let (_, list) = c.get(CMS).await;
    let from = rv_of(&list);
    let path = format!("{CMS}?watch=true&resourceVersion={from}&timeoutSeconds=4");
    let watchers: Vec<_> = (0..3)
        .map(|_| {
            let c = Client::to(&format!("https://{}", c.addr), &_h.ca_pem, c.token.clone());
            let path = path.clone();
            tokio::spawn(async move { watch(&c, &path).await })
        })
        .collect();
    // Writes while the watchers wait (their stream takes the API's lock only to read).
    for i in 0..5 {
        cm(&c, &format!("live{i}"), "web").await;
    }
    let mut seen = Vec::new();
    for w in watchers {
        let (code, _, events) = w.await.unwrap();
        assert_eq!(code, 200);
        seen.push(summary(&events));
    }
    let want: Vec<(String, String)> = (0..5)
        .map(|i| ("ADDED".into(), format!("live{i}")))
        .collect();
    for s in seen {
        assert_eq!(s, want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continued_lists_are_consistent_and_tokens_expire() {
    let (_h, c) = start(12).await;
    for i in 0..5 {
        cm(&c, &format!("p{i}"), "web").await;
    }
    let (code, page1) = c.get(&format!("{CMS}?limit=2")).await;
    assert_eq!(code, 200, "{page1}");
    let names = |p: &Value| -> Vec<String> {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&page1), ["p0", "p1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    // A change after the first page does not show in the later ones (snapshot of page 1).
    let (code, _) = c
        .send("DELETE", &format!("{CMS}/p3"), "application/json", "")
        .await;
    assert_eq!(code, 200);
    cm(&c, "p21", "web").await;
    let (code, page2) = c.get(&format!("{CMS}?limit=2&continue={token}")).await;
    assert_eq!(code, 200, "{page2}");
    assert_eq!(names(&page2), ["p2", "p3"]);
    assert_eq!(
        page2["metadata"]["resourceVersion"],
        page1["metadata"]["resourceVersion"]
    );
    let token2 = page2["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page3) = c.get(&format!("{CMS}?limit=2&continue={token2}")).await;
    assert_eq!(names(&page3), ["p4"]);
    assert!(page3["metadata"].get("continue").is_none(), "{page3}");
    // With a selector there is no remainingItemCount (as on the real server).
    let (_, sel) = c
        .get(&format!("{CMS}?limit=1&labelSelector=app%3Dweb"))
        .await;
    assert!(sel["metadata"].get("remainingItemCount").is_none(), "{sel}");
    assert!(sel["metadata"]["continue"].is_string());
    // A malformed token is a 400; one older than the history a 410.
    let (code, body) = c.get(&format!("{CMS}?limit=2&continue=garbage!")).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (400, Some("BadRequest")),
        "{body}"
    );
    for i in 0..12 {
        cm(&c, &format!("z{i}"), "db").await;
    }
    let (code, body) = c.get(&format!("{CMS}?limit=2&continue={token}")).await;
    assert_eq!(code, 410, "{body}");
    assert_eq!(body["reason"], "Expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_lists_list_and_watch_verbs() {
    let (_h, c) = start(100).await;
    for path in ["/api/v1", "/apis/apps/v1"] {
        let (_, body) = c.get(path).await;
        for r in body["resources"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            let verbs: Vec<&str> = r["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let sub = name.contains('/');
            assert_eq!(verbs.contains(&"watch"), !sub, "{name}: {verbs:?}");
            assert_eq!(verbs.contains(&"list"), !sub, "{name}: {verbs:?}");
        }
    }
}
