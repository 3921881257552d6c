//! The network side: TLS on loopback, bearer-token check, fault injection, and handing
//! each request to the synchronous [`Api`] under a lock.

use crate::api::{Api, Request};
use crate::config::{Fault, Faults, SandboxConfig, TokenCheck};
use crate::controllers;
use crate::error::ApiError;
use crate::router::{route, Route};
use crate::stats::{ApiStats, Counters};
use crate::store::Store;
use crate::watch::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

const MAX_BODY: usize = 16 << 20;

/// Entry point: `KubeApi::start(config).await`.
pub struct KubeApi;

/// A running API. Dropping it (or [`Handle::shutdown`]) stops the server.
pub struct Handle {
    /// `https://127.0.0.1:PORT`
    pub endpoint: String,
    /// The CA certificate (PEM) that signed the server certificate.
    pub ca_pem: String,
    /// The bearer token; a secret — keep it out of logs.
    pub token: String,
    /// A client certificate (PEM) signed by the CA: an alternative to the token.
    pub client_cert_pem: String,
    /// Its private key (PEM); a secret.
    pub client_key_pem: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .finish()
    }
}

struct Shared {
    api: Arc<Mutex<Api>>,
    token: String,
    also_accept: Option<TokenCheck>,
    ready_delay: Duration,
    latency: Duration,
    faults: Arc<Mutex<Faults>>,
    counters: Counters,
}

/// Why an emulator (the Kubernetes API or the cloud) could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// The namespaces every real cluster starts with (kubectl's default namespace among them).
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

fn seed_namespaces(api: &mut Api) {
    for ns in SYSTEM_NAMESPACES {
        let body =
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        // An answer of 409 (already there, from the data dir) is what we want too.
        let _ = api.handle(&crate::api::Request {
            method: "POST".into(),
            path: "/api/v1/namespaces".into(),
            query: Default::default(),
            content_type: "application/json".into(),
            user_agent: "mlstack-sandbox".into(),
            body: body.to_string().into_bytes(),
        });
    }
}

impl KubeApi {
    /// Loads the store, generates TLS material and listens on 127.0.0.1.
    pub async fn start(config: SandboxConfig) -> Result<Handle, StartError> {
        let faults = Arc::new(Mutex::new(config.faults.clone()));
        KubeApi::start_shared(config, faults, Counters::default()).await
    }

    /// [`KubeApi::start`] reading its faults from `faults` (shared with the cloud, so that
    /// the cloud's fault settings reach its clusters' APIs) and counting into `counters`;
    /// `config.faults` is ignored.
    pub(crate) async fn start_shared(
        config: SandboxConfig,
        faults: Arc<Mutex<Faults>>,
        counters: Counters,
    ) -> Result<Handle, StartError> {
        let mut store = Store::open(config.data_dir.clone()).map_err(StartError)?;
        store.events = crate::events::EventLog::new(store.resource_version(), config.event_window);
        let tls = crate::tls::load_or_generate(config.data_dir.as_deref()).map_err(StartError)?;
        let listener = crate::listen::listen(config.port, config.data_dir.as_deref())
            .await
            .map_err(StartError)?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let token = config.token.clone().unwrap_or_else(|| {
            (0..32)
                .map(|_| fastrand::alphanumeric())
                .collect::<String>()
        });
        let mut api = Api::new(store);
        api.server_address = addr.to_string();
        seed_namespaces(&mut api);
        let shared = Arc::new(Shared {
            api: Arc::new(Mutex::new(api)),
            token: token.clone(),
            also_accept: config.also_accept.clone(),
            ready_delay: config.ready_delay,
            latency: config.latency,
            faults,
            counters,
        });
        let (stop, stopped) = watch::channel(false);
        let acceptor = TlsAcceptor::from(tls.config);
        let handler = {
            let shared = shared.clone();
            move |req| serve(shared.clone(), req)
        };
        tokio::spawn(run_controllers(shared.clone(), stop.subscribe()));
        let task = tokio::spawn(accept_loop(listener, acceptor, handler, stopped));
        Ok(Handle {
            endpoint: format!("https://{addr}"),
            ca_pem: tls.ca_pem,
            client_cert_pem: tls.client_cert_pem,
            client_key_pem: tls.client_key_pem,
            token,
            shared,
            stop,
            task: Some(task),
        })
    }
}

impl Handle {
    /// Stops accepting and closes open connections; waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Changes the injected faults of the running server.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = faults;
        }
    }

    /// The live counters of requests served and faults injected (shared, keep to report).
    pub fn counters(&self) -> Counters {
        self.shared.counters.clone()
    }

    /// What the server counted so far.
    pub fn stats(&self) -> ApiStats {
        self.shared.counters.snapshot()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Accepts TLS connections until `stopped` and serves each with `handler` (HTTP/1.1).
pub(crate) async fn accept_loop<H, F, B>(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handler: H,
    mut stopped: watch::Receiver<bool>,
) where
    H: Fn(hyper::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<hyper::Response<B>, Dropped>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = stopped.changed() => return,
        };
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            // rustls verified the chain of any certificate the client presented.
            let certified = tls
                .get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| !c.is_empty());
            let svc = service_fn(|mut req: hyper::Request<Incoming>| {
                if certified {
                    req.extensions_mut().insert(ClientCertificate);
                }
                handler(req)
            });
            let conn =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc);
            tokio::select! {
                _ = conn => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

/// Marks a request whose connection presented a client certificate signed by our CA.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientCertificate;

/// Returned by the service to make hyper drop the connection (an injected fault).
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn serve(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, Dropped> {
    let path = req.uri().path().to_string();
    let routed = route(&path);
    shared.counters.request();
    // Latency is the network's: every request has it, as on the cloud API.
    shared.counters.delay(shared.latency).await;
    if routed == Route::Health {
        return Ok(respond(200, &serde_json::json!("ok"), None).map(Body::from));
    }
    let authorized = req.extensions().get::<ClientCertificate>().is_some()
        || req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| {
                let t = t.trim();
                constant_time_eq(t.as_bytes(), shared.token.as_bytes())
                    || shared.also_accept.as_ref().is_some_and(|c| c.accepts(t))
            });
    if !authorized {
        let e = ApiError::new(401, "Unauthorized", "Unauthorized");
        return Ok(respond(401, &e.to_status(), None).map(Body::from));
    }
    if matches!(routed, Route::Resource(_)) {
        match shared.counters.roll(&shared.faults) {
            None => {}
            Some(Fault::Drop) => return Err(Dropped),
            Some(Fault::Error(code)) => {
                let reason = match code {
                    429 => "TooManyRequests",
                    409 => "Conflict",
                    503 => "ServiceUnavailable",
                    _ => "InternalError",
                };
                let e = ApiError::new(code, reason, format!("injected fault ({code})"));
                let retry = (code == 429).then_some("1");
                return Ok(respond(code, &e.to_status(), retry).map(Body::from));
            }
        }
    }
    if routed == Route::OpenApiV2 {
        if let Some(e) = crate::openapi::refuse_accept(
            req.headers()
                .get(hyper::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ) {
            return Ok(respond(e.code, &e.to_status(), None).map(Body::from));
        }
    }
    let query = parse_query(req.uri().query().unwrap_or(""));
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let content_type = header(hyper::header::CONTENT_TYPE);
    let user_agent = header(hyper::header::USER_AGENT);
    let method = req.method().as_str().to_string();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            let e = ApiError::new(
                413,
                "RequestEntityTooLarge",
                "the request body is too large",
            );
            return Ok(respond(413, &e.to_status(), None).map(Body::from));
        }
    };
    let api_req = Request {
        method,
        path,
        query,
        content_type,
        user_agent,
        body,
    };
    if crate::watch::is_watch(&api_req) {
        return Ok(match crate::watch::start(shared.api.clone(), &api_req) {
            Ok(stream) => hyper::Response::builder()
                .status(200)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(hyper::header::CACHE_CONTROL, "no-cache, private")
                .body(Body::Stream(stream))
                .unwrap_or_else(|_| hyper::Response::new(Body::from(Full::new(Bytes::new())))),
            Err(e) => respond(e.code, &e.to_status(), None).map(Body::from),
        });
    }
    let (resp, pending, warnings) = match shared.api.lock() {
        Ok(mut api) => {
            api.warnings.clear();
            let r = api.handle(&api_req);
            let w = std::mem::take(&mut api.warnings);
            (r, std::mem::take(&mut api.pending), w)
        }
        Err(_) => {
            let e = ApiError::new(500, "InternalError", "the sandbox state is poisoned");
            return Ok(respond(500, &e.to_status(), None).map(Body::from));
        }
    };
    spawn_reconciles(&shared, pending);
    let mut out = respond(resp.code, &resp.body, None);
    for w in warnings {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&crate::openapi::warning_header(&w)) {
            out.headers_mut().append(hyper::header::WARNING, v);
        }
    }
    Ok(out.map(Body::from))
}

/// Reconciles each pending object once, after the ready delay.
fn spawn_reconciles(shared: &Arc<Shared>, pending: Vec<(crate::store::Key, String)>) {
    for (key, uid) in pending {
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(shared.ready_delay).await;
            if let Ok(mut api) = shared.api.lock() {
                controllers::reconcile(&mut api, &key, &uid);
            }
        });
    }
}

/// The controller manager's loop: a tick every fraction of the ready delay until stopped.
async fn run_controllers(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let period =
        (shared.ready_delay / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stopped.changed() => return,
        }
        let clock = controllers::Clock {
            now: std::time::Instant::now(),
            ready_delay: shared.ready_delay,
        };
        let pending = match shared.api.lock() {
            Ok(mut api) => {
                controllers::tick(&mut api, &clock);
                std::mem::take(&mut api.pending)
            }
            Err(_) => return,
        };
        spawn_reconciles(&shared, pending);
    }
}

pub(crate) fn respond(
    code: u16,
    body: &serde_json::Value,
    retry_after: Option<&str>,
) -> hyper::Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut b = hyper::Response::builder()
        .status(code)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(r) = retry_after {
        b = b.header(hyper::header::RETRY_AFTER, r);
    }
    b.body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `a=b&c=d%2Fe` with percent-decoding and `+` as space.
pub fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    #[test]
    fn decodes_selectors() {
        let q = parse_query("labelSelector=app%3Dweb%2Ctier+in+%28a%29&dryRun=All&x=%");
        assert_eq!(q["labelSelector"], "app=web,tier in (a)");
        assert_eq!(q["dryRun"], "All");
        assert_eq!(q["x"], "%");
    }
}
