//! Behaviour the emulator cannot provoke, against a scripted HTTP server: an IAM token refused
//! with 401 is exchanged again once; servers that echo tokens in their errors never get them
//! into ours; retries are bounded; an operation error carries its code name and the address.

use mlstack_provider_api::{ApplyRequest, Provider, ReadResult, ResourceRef, Value};
use mlstack_provider_yandex::{Env, YandexProvider};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the fake server sees it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    bearer: String,
    idempotency_key: String,
    body: String,
}

type Handler = Arc<dyn Fn(&Req, usize) -> (u16, String) + Send + Sync>;

/// Serves `handler` over plain HTTP/1.1 (one request per connection); the base URL and the
/// count of requests served.
async fn serve(handler: Handler) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let n = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let n = n.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                        .unwrap_or_default()
                };
                let len: usize = header("content-length").parse().unwrap_or(0);
                while buf.len() < head_end + len {
                    let Ok(k) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if k == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                }
                let first = head.lines().next().unwrap_or("").to_string();
                let mut parts = first.split(' ');
                let req = Req {
                    method: parts.next().unwrap_or("").to_string(),
                    path: parts.next().unwrap_or("").to_string(),
                    bearer: header("authorization")
                        .trim_start_matches("Bearer ")
                        .to_string(),
                    idempotency_key: header("idempotency-key"),
                    body: String::from_utf8_lossy(&buf[head_end..]).to_string(),
                };
                let i = n.fetch_add(1, Ordering::SeqCst);
                let (status, body) = handler(&req, i);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

fn config(endpoint: &str, token: &str) -> Value {
    Value::from(serde_json::json!({"endpoint": endpoint, "token": token, "folder_id": "b1gf"}))
}

fn network(id: &str) -> String {
    serde_json::json!({"id": id, "folderId": "b1gf", "name": "net", "createdAt": "2024-01-01T00:00:00Z"})
        .to_string()
}

const OAUTH: &str = "y0_AgAAAAoauthsecretvalue";

#[tokio::test]
async fn a_refused_token_is_exchanged_again_once() {
    let exchanges = Arc::new(AtomicUsize::new(0));
    let ex = exchanges.clone();
    let (url, _) = serve(Arc::new(move |r: &Req, _| {
        if r.path == "/iam/v1/tokens" {
            assert!(r.body.contains(OAUTH));
            let n = ex.fetch_add(1, Ordering::SeqCst);
            let t = if n == 0 {
                "t1.first-token"
            } else {
                "t1.second-token"
            };
            return (
                200,
                serde_json::json!({"iamToken": t, "expiresAt": "2099-01-01T00:00:00Z"}).to_string(),
            );
        }
        if r.bearer == "t1.second-token" {
            (200, network("enp1"))
        } else {
            // A server that echoes the token it refuses.
            (
                401,
                serde_json::json!({"code": 16, "message": format!("token {} expired", r.bearer)})
                    .to_string(),
            )
        }
    }))
    .await;
    let p = YandexProvider::with_env(Env::default());
    let c = config(&url, OAUTH);
    let rr = ResourceRef {
        address: "net",
        type_name: "yandex_vpc_network",
        provider_config: &c,
    };
    let r = p
        .read(rr, &Value::from(serde_json::json!({"id": "enp1"})))
        .await
        .unwrap();
    assert!(matches!(r, ReadResult::Found(_)));
    assert_eq!(exchanges.load(Ordering::SeqCst), 2);
    // The token is cached: another read exchanges nothing.
    p.read(rr, &Value::from(serde_json::json!({"id": "enp1"})))
        .await
        .unwrap();
    assert_eq!(exchanges.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn tokens_echoed_by_a_server_never_reach_an_error() {
    let (url, _) = serve(Arc::new(|r: &Req, _| {
        if r.path == "/iam/v1/tokens" {
            return (
                200,
                serde_json::json!({"iamToken": "t1.issued-secret-token", "expiresAt": "2099-01-01T00:00:00Z"}).to_string(),
            );
        }
        let msg = format!("you sent {} and I refuse", r.bearer);
        match r.method.as_str() {
            "GET" if r.path.starts_with("/operations/") => (
                200,
                serde_json::json!({"id": "op1", "done": true, "error": {"code": 9, "message": msg}}).to_string(),
            ),
            "GET" => (403, serde_json::json!({"code": 7, "message": msg}).to_string()),
            "POST" => (200, serde_json::json!({"id": "op1", "done": false, "metadata": {"networkId": "enp1"}}).to_string()),
            _ => (400, serde_json::json!({"code": 3, "message": msg}).to_string()),
        }
    }))
    .await;
    for token in [OAUTH, "t1.given-iam-token"] {
        let p = YandexProvider::with_env(Env::default());
        let c = config(&url, token);
        let rr = ResourceRef {
            address: "net",
            type_name: "yandex_vpc_network",
            provider_config: &c,
        };
        let prior = Value::from(serde_json::json!({"id": "enp1", "name": "net"}));
        let mut errors = Vec::new();
        errors.push(p.read(rr, &prior).await.expect_err("read").message);
        errors.push(p.delete(rr, &prior).await.expect_err("delete").message);
        let d = Value::from(serde_json::json!({"name": "net"}));
        let e = p
            .apply(ApplyRequest {
                resource: rr,
                desired: &d,
                prior: None,
                ignore_paths: &[],
            })
            .await
            .expect_err("create");
        // An operation error: the code name, the operation and the resource address.
        assert!(e.message.contains("FAILED_PRECONDITION"), "{e}");
        assert!(
            e.message.contains("op1") && e.message.contains("\"net\""),
            "{e}"
        );
        errors.push(e.message);
        errors.push(p.import(rr, "enp1").await.expect_err("import").message);
        for e in &errors {
            assert!(e.contains("(redacted)"), "{e}");
            for secret in [OAUTH, "t1.issued-secret-token", "t1.given-iam-token"] {
                assert!(!e.contains(secret), "{secret} in: {e}");
            }
        }
    }
}

#[tokio::test]
async fn retries_are_bounded_and_reuse_the_idempotency_key() {
    let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
    let k = keys.clone();
    let (url, count) = serve(Arc::new(move |r: &Req, _| {
        if r.path == "/iam/v1/tokens" {
            return (
                200,
                serde_json::json!({"iamToken": "t1.x-token"}).to_string(),
            );
        }
        if r.method == "POST" {
            k.lock().unwrap().push(r.idempotency_key.clone());
        }
        (
            503,
            serde_json::json!({"code": 14, "message": "Try again in a few seconds"}).to_string(),
        )
    }))
    .await;
    let p = YandexProvider::with_env(Env::default());
    let c = config(&url, OAUTH);
    let rr = ResourceRef {
        address: "net",
        type_name: "yandex_vpc_network",
        provider_config: &c,
    };
    let d = Value::from(serde_json::json!({"name": "net"}));
    let e = p
        .apply(ApplyRequest {
            resource: rr,
            desired: &d,
            prior: None,
            ignore_paths: &[],
        })
        .await
        .expect_err("unavailable");
    assert!(e.message.contains("UNAVAILABLE (HTTP 503)"), "{e}");
    assert!(e.retryable);
    let keys = keys.lock().unwrap();
    assert_eq!(keys.len(), 6, "six tries in all");
    assert!(uuid_v4(&keys[0]));
    assert!(
        keys.iter().all(|x| x == &keys[0]),
        "one key for every retry: {keys:?}"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        7,
        "one token exchange and six tries"
    );
}

fn uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36 && b[14] == b'4' && s.split('-').count() == 5
}
