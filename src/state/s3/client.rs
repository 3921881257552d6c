//! A small blocking S3 client: GET, PUT (optionally `If-None-Match: *`), server-side COPY and
//! DELETE of single objects, signed with SigV4, retried on throttling and server errors.
//!
//! Requests run on a [`Worker`] thread with its own runtime: the
//! [`Backend`](crate::state::Backend) trait is synchronous and is also called from inside the
//! engine's async runtime.

use super::super::worker::Worker;
use super::sigv4::{self, Credentials};
use std::future::Future;
use std::time::{Duration, SystemTime};

/// Where and as whom to talk to S3.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `https://storage.yandexcloud.net`, `http://127.0.0.1:5000`.
    pub url: reqwest::Url,
    pub region: String,
    pub bucket: String,
    /// `https://host/bucket/key` (true) or `https://bucket.host/key`.
    pub path_style: bool,
    pub credentials: Credentials,
}

/// A failed request, by kind (the caller words the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Error {
    /// 412: a conditional write found the object there.
    PreconditionFailed,
    /// Any other HTTP error, with S3's error code (`AccessDenied`, `NoSuchBucket`).
    Status {
        status: u16,
        code: String,
        message: String,
    },
    /// No HTTP answer: connection refused, TLS, timeout.
    Transport(String),
}

impl S3Error {
    /// `<what> failed: ...` with advice for the common causes; never a credential.
    pub fn describe(&self, what: &str, ep: &Endpoint) -> String {
        match self {
            S3Error::PreconditionFailed => format!("{what} failed: precondition failed (412)"),
            S3Error::Transport(e) => {
                format!(
                    "{what} failed: cannot reach the S3 endpoint {}: {e}",
                    ep.url
                )
            }
            S3Error::Status {
                status,
                code,
                message,
            } => {
                let advice = match code.as_str() {
                    "NoSuchBucket" => format!(
                        "; create the bucket `{}` first (mlstack does not create its own state \
                         bucket)",
                        ep.bucket
                    ),
                    "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" => {
                        "; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                         or the backend's access_key and secret_key) and the bucket's access \
                         rights"
                            .to_string()
                    }
                    "AuthorizationHeaderMalformed" => {
                        "; check the backend's `region` (Yandex Object Storage: ru-central1)"
                            .to_string()
                    }
                    _ => String::new(),
                };
                let code = if code.is_empty() {
                    String::new()
                } else {
                    format!(" {code}")
                };
                let message = if message.is_empty() {
                    String::new()
                } else {
                    format!(" ({message})")
                };
                format!("{what} failed: HTTP {status}{code}{message}{advice}")
            }
        }
    }
}

/// The client. Cheap to share behind an `Arc`; the worker thread ends when it drops.
pub struct Client {
    ep: Endpoint,
    http: reqwest::Client,
    worker: Worker,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("ep", &self.ep).finish()
    }
}

/// Attempts per request (throttling, 5xx and dropped connections are retried).
const ATTEMPTS: u32 = 4;

impl Client {
    pub fn new(ep: Endpoint) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot set up the S3 client: {e}"))?;
        let worker = Worker::start("mlstack-s3")?;
        Ok(Client { ep, http, worker })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    /// The object's bytes; `None` when it does not exist.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, S3Error> {
        match self.send("GET", key, Vec::new(), Vec::new()) {
            Ok((_, body)) => Ok(Some(body)),
            Err(S3Error::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the object; with `if_absent`, only when no object has that key (a 412 says one
    /// does).
    pub fn put(&self, key: &str, body: Vec<u8>, if_absent: bool) -> Result<(), S3Error> {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if if_absent {
            headers.push(("if-none-match".into(), "*".into()));
        }
        self.send("PUT", key, body, headers).map(|_| ())
    }

    /// Server-side copy of `from` to `to` (same bucket); `Ok(false)` when `from` is missing.
    pub fn copy(&self, from: &str, to: &str) -> Result<bool, S3Error> {
        let source = format!(
            "/{}/{}",
            sigv4::uri_encode(&self.ep.bucket, false),
            sigv4::uri_encode(from, true)
        );
        let headers = vec![("x-amz-copy-source".to_string(), source)];
        match self.send("PUT", to, Vec::new(), headers) {
            // A copy can fail after its 200 status line: the error is then in the body.
            Ok((_, body)) if body.windows(7).any(|w| w == b"<Error>") => {
                let (code, message) = error_fields(&body);
                Err(S3Error::Status {
                    status: 500,
                    code,
                    message,
                })
            }
            Ok(_) => Ok(true),
            Err(S3Error::Status { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the object (deleting a missing object succeeds, as in S3).
    pub fn delete(&self, key: &str) -> Result<(), S3Error> {
        match self.send("DELETE", key, Vec::new(), Vec::new()) {
            Ok(_) | Err(S3Error::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates the bucket (tests and first-time setup against an empty server).
    pub fn create_bucket(&self) -> Result<(), S3Error> {
        match self.send("PUT", "", Vec::new(), Vec::new()) {
            Ok(_) => Ok(()),
            Err(S3Error::Status { code, .. })
                if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// One request with retries; `Ok((status, body))` for 2xx.
    fn send(
        &self,
        method: &'static str,
        key: &str,
        body: Vec<u8>,
        extra: Vec<(String, String)>,
    ) -> Result<(u16, Vec<u8>), S3Error> {
        let (url, host, path) = self.object_url(key)?;
        let http = self.http.clone();
        let creds = self.ep.credentials.clone();
        let region = self.ep.region.clone();
        let fut = async move {
            let mut last = S3Error::Transport("no attempt made".into());
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                let req = signed(
                    &http, method, &url, &host, &path, &body, &extra, &creds, &region,
                );
                match once(req).await {
                    Ok(r) => return Ok(r),
                    Err(e) if retryable(&e) => last = e,
                    Err(e) => return Err(e),
                }
            }
            Err(last)
        };
        self.run(fut)
    }

    /// Runs `fut` on the worker thread and waits for it.
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, S3Error>> + Send + 'static,
    ) -> Result<T, S3Error> {
        self.worker
            .run(fut)
            .ok_or_else(|| S3Error::Transport("the S3 client's thread has stopped".into()))?
    }

    /// The URL, `Host` value and signed path of an object (`key` empty: the bucket).
    fn object_url(&self, key: &str) -> Result<(reqwest::Url, String, String), S3Error> {
        let base = &self.ep.url;
        let host = base
            .host_str()
            .ok_or_else(|| S3Error::Transport(format!("endpoint {base} has no host")))?;
        let host = match base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let prefix = base.path().trim_end_matches('/');
        let encoded_key = sigv4::uri_encode(key, true);
        let (host, path) = if self.ep.path_style {
            let bucket = sigv4::uri_encode(&self.ep.bucket, false);
            let path = if key.is_empty() {
                format!("{prefix}/{bucket}")
            } else {
                format!("{prefix}/{bucket}/{encoded_key}")
            };
            (host, path)
        } else {
            (
                format!("{}.{host}", self.ep.bucket),
                format!("{prefix}/{encoded_key}"),
            )
        };
        let url = format!("{}://{host}{path}", base.scheme());
        let url = reqwest::Url::parse(&url)
            .map_err(|e| S3Error::Transport(format!("invalid object URL: {e}")))?;
        Ok((url, host, path))
    }
}

/// Builds the signed request.
#[allow(clippy::too_many_arguments)]
fn signed(
    http: &reqwest::Client,
    method: &str,
    url: &reqwest::Url,
    host: &str,
    path: &str,
    body: &[u8],
    extra: &[(String, String)],
    creds: &Credentials,
    region: &str,
) -> reqwest::RequestBuilder {
    let date = sigv4::amz_date(SystemTime::now());
    let payload_hash = sigv4::sha256_hex(body);
    let mut headers = vec![
        ("host".to_string(), host.to_string()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
        ("x-amz-date".to_string(), date.clone()),
    ];
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), t.clone()));
    }
    headers.extend(extra.iter().cloned());
    let auth = sigv4::authorization(
        creds,
        region,
        "s3",
        &date,
        &sigv4::Request {
            method,
            path,
            query: &[],
            headers: &headers,
            payload_hash: &payload_hash,
        },
    );
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = http.request(method, url.clone());
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req.header("authorization", auth).body(body.to_vec())
}

async fn once(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), S3Error> {
    let resp = req
        .send()
        .await
        .map_err(|e| S3Error::Transport(without_url(&e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| S3Error::Transport(without_url(&e)))?
        .to_vec();
    if (200..300).contains(&status) {
        return Ok((status, body));
    }
    if status == 412 {
        return Err(S3Error::PreconditionFailed);
    }
    let (code, message) = error_fields(&body);
    Err(S3Error::Status {
        status,
        code,
        message,
    })
}

fn retryable(e: &S3Error) -> bool {
    match e {
        S3Error::Transport(_) => true,
        S3Error::Status { status, code, .. } => {
            matches!(status, 429 | 500 | 502 | 503 | 504) || code == "SlowDown"
        }
        S3Error::PreconditionFailed => false,
    }
}

/// reqwest's message without the URL (the endpoint is named by the caller).
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}

/// `<Code>` and `<Message>` from an S3 error document.
fn error_fields(body: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(body);
    let field = |tag: &str| -> String {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        text.find(&open)
            .and_then(|i| {
                let rest = &text[i + open.len()..];
                rest.find(&close).map(|j| rest[..j].trim().to_string())
            })
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    };
    (field("Code"), field("Message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str, path_style: bool) -> Client {
        Client::new(Endpoint {
            url: reqwest::Url::parse(url).unwrap(),
            region: "ru-central1".into(),
            bucket: "tf-state".into(),
            path_style,
            credentials: Credentials {
                access_key: "a".into(),
                secret_key: "s".into(),
                session_token: None,
            },
        })
        .unwrap()
    }

    #[test]
    fn object_urls() {
        let c = client("https://storage.yandexcloud.net", true);
        let (url, host, path) = c.object_url("demo/state json").unwrap();
        assert_eq!(host, "storage.yandexcloud.net");
        assert_eq!(path, "/tf-state/demo/state%20json");
        assert_eq!(
            url.as_str(),
            "https://storage.yandexcloud.net/tf-state/demo/state%20json"
        );
        let c = client("http://minio.local:9000", false);
        let (url, host, _) = c.object_url("k").unwrap();
        assert_eq!(host, "tf-state.minio.local:9000");
        assert_eq!(url.as_str(), "http://tf-state.minio.local:9000/k");
    }

    #[test]
    fn error_documents() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(
            error_fields(body),
            (
                "NoSuchBucket".to_string(),
                "The specified bucket does not exist".to_string()
            )
        );
        assert_eq!(error_fields(b"garbage"), (String::new(), String::new()));
    }

    #[test]
    fn usable_from_inside_an_async_runtime() {
        // State is saved from inside the engine's runtime: the client must not nest runtimes.
        let c = client("http://127.0.0.1:9", true);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt.block_on(async { c.get("x") }).unwrap_err();
        assert!(matches!(err, S3Error::Transport(_)), "{err:?}");
    }
}
