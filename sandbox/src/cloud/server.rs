//! The cloud's network side: one HTTPS listener on loopback for every service's paths,
//! IAM-token check, latency and fault injection (Yandex-format error bodies), the state
//! under a lock, timers that complete operations, and the clusters' Kubernetes APIs.

use super::api::{self, Request};
use super::auth::{self, Tokens, USER_ID};
use super::clock::now_ms;
use super::clusters::{Fleet, FleetConfig};
use super::config::CloudConfig;
use super::crud::object;
use super::disk::Disk;
use super::errors::{code_of_http, CloudError};
use super::hosts;
use super::jwt;
use super::keys;
use super::mk8s::{self, KUBE_TOKEN};
use super::operations::Effect;
use super::router::{route, Route};
use super::state::{Ctx, State};
use super::status::{status, CloudStatus};
use super::types::{K8S_CLUSTER, KEY};
use crate::config::{Fault, Faults};
use crate::conformance::Exchange;
use crate::server::{accept_loop, constant_time_eq, parse_query, respond, Dropped, StartError};
use crate::stats::Counters;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

const MAX_BODY: usize = 16 << 20;
const OAUTH_FILE: &str = "oauth-token";

/// Entry point: `Cloud::start(config).await`.
pub struct Cloud;

/// A running cloud. Dropping it (or [`CloudHandle::shutdown`]) stops the server.
pub struct CloudHandle {
    /// `https://127.0.0.1:PORT`: the base URL of every service.
    pub endpoint: String,
    /// The CA certificate (PEM) that signed the server certificate.
    pub ca_pem: String,
    /// The OAuth token the IAM token exchange accepts; a secret — keep it out of logs.
    pub oauth_token: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for CloudHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudHandle")
            .field("endpoint", &self.endpoint)
            .field("oauth_token", &"<redacted>")
            .finish()
    }
}

struct Shared {
    state: Mutex<State>,
    tokens: Arc<Tokens>,
    fleet: Fleet,
    oauth_token: String,
    audiences: Vec<String>,
    latency: Duration,
    /// Shared with the fleet: the clusters' APIs inject the same faults.
    faults: Arc<Mutex<Faults>>,
    counters: Counters,
    also_report: BTreeMap<String, Counters>,
    stopped: watch::Receiver<bool>,
    /// What [`CloudHandle::record`] keeps: `None` until recording starts.
    exchanges: Mutex<Option<Vec<Exchange>>>,
}

impl Shared {
    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, CloudError> {
        self.state
            .lock()
            .map_err(|_| CloudError::internal("the sandbox cloud state is poisoned"))
    }

    /// The status page: what `st` holds and what every API counted.
    fn report(&self, st: &State) -> CloudStatus {
        let mut s = status(st);
        s.apis = self
            .also_report
            .iter()
            .map(|(name, c)| (name.clone(), c.snapshot()))
            .collect();
        s.apis.insert("cloud".into(), self.counters.snapshot());
        s.cluster_apis = self.fleet.stats();
        s
    }
}

/// The configured OAuth token, else the one of the data directory, else a new one (saved).
fn oauth_token(config: &CloudConfig) -> Result<String, String> {
    if let Some(t) = &config.oauth_token {
        return Ok(t.clone());
    }
    let file = config.data_dir.as_ref().map(|d| d.join(OAUTH_FILE));
    if let Some(t) = file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        return Ok(t);
    }
    let t = super::ids::oauth_token();
    if let Some(f) = file {
        crate::files::write_private(&f, t.as_bytes())?;
    }
    Ok(t)
}

impl Cloud {
    /// Loads the data directory, resumes (cluster APIs back up, due operations done) and
    /// listens on 127.0.0.1.
    pub async fn start(config: CloudConfig) -> Result<CloudHandle, StartError> {
        if let Some(d) = &config.data_dir {
            std::fs::create_dir_all(d)
                .map_err(|e| StartError(format!("cannot create {}: {e}", d.display())))?;
        }
        let oauth = oauth_token(&config).map_err(StartError)?;
        let disk = Disk::new(config.data_dir.clone());
        let tokens = Arc::new(Tokens::open(disk.clone()).map_err(StartError)?);
        let delay = config.operation_delay.as_millis() as u64;
        let state = State::open(disk, delay).map_err(StartError)?;
        let tls = crate::tls::load_or_generate(config.data_dir.as_deref()).map_err(StartError)?;
        let listener = crate::listen::listen(config.port, config.data_dir.as_deref())
            .await
            .map_err(StartError)?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let endpoint = format!("https://{addr}");
        let (stop, stopped) = watch::channel(false);
        let faults = Arc::new(Mutex::new(config.faults.clone()));
        let fleet = FleetConfig {
            data_dir: config.data_dir.clone(),
            ready_delay: config.ready_delay,
            latency: config.latency,
            faults: faults.clone(),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            tokens: tokens.clone(),
            fleet: Fleet::new(fleet, tokens),
            oauth_token: oauth.clone(),
            audiences: vec![
                jwt::AUDIENCE.to_string(),
                format!("{endpoint}/iam/v1/tokens"),
            ],
            latency: config.latency,
            faults,
            counters: Counters::default(),
            also_report: config.also_report.clone(),
            stopped: stopped.clone(),
            exchanges: Mutex::new(None),
        });
        resume(&shared).await;
        let handler = {
            let shared = shared.clone();
            move |req| serve(shared.clone(), req)
        };
        let acceptor = TlsAcceptor::from(tls.config);
        let task = tokio::spawn(accept_loop(listener, acceptor, handler, stopped));
        Ok(CloudHandle {
            endpoint,
            ca_pem: tls.ca_pem,
            oauth_token: oauth,
            shared,
            stop,
            task: Some(task),
        })
    }
}

impl CloudHandle {
    /// Stops accepting, stops the clusters' Kubernetes APIs, and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.shared.fleet.stop_all().await;
    }

    /// What the cloud holds (as `GET /sandbox/v1/status` answers).
    pub fn status(&self) -> CloudStatus {
        match self.shared.state() {
            Ok(st) => self.shared.report(&st),
            Err(_) => CloudStatus::default(),
        }
    }

    /// Changes the injected faults of the running cloud and of its clusters' APIs.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = faults;
        }
    }

    /// Starts keeping every answered request (method, path, query, JSON bodies, status) in
    /// memory, for tests that hold the traffic against the published API
    /// ([`crate::conformance`]).
    pub fn record(&self) {
        if let Ok(mut x) = self.shared.exchanges.lock() {
            x.get_or_insert_with(Vec::new);
        }
    }

    /// The requests answered since [`CloudHandle::record`] (empty when not recording).
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared
            .exchanges
            .lock()
            .ok()
            .and_then(|x| x.clone())
            .unwrap_or_default()
    }

    /// Changes how long operations started from now on run.
    pub fn set_operation_delay(&self, delay: Duration) {
        if let Ok(mut st) = self.shared.state() {
            st.operation_delay_ms = delay.as_millis() as u64;
        }
    }
}

impl Drop for CloudHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Brings the APIs of existing clusters back, completes operations whose time has passed
/// and sets timers for the others.
async fn resume(shared: &Arc<Shared>) {
    let clusters: Vec<(String, String, String)> = match shared.state() {
        Ok(st) => st
            .of_kind(K8S_CLUSTER.kind)
            .into_iter()
            .filter(|r| r.resource.get("status").and_then(Value::as_str) != Some("PROVISIONING"))
            .map(cluster_api)
            .collect(),
        Err(_) => Vec::new(),
    };
    for (id, name, token) in clusters {
        attach_api(shared, &id, &name, &token).await;
    }
    drain_schedule(shared, true).await;
}

/// Timers for newly started operations (`now`: complete the due ones at once, in order).
async fn drain_schedule(shared: &Arc<Shared>, now: bool) {
    let mut due = match shared.state() {
        Ok(mut st) => std::mem::take(&mut st.scheduled),
        Err(_) => return,
    };
    due.sort_by_key(|(_, at)| *at);
    for (id, at) in due {
        if now && at <= now_ms() {
            finish(shared.clone(), id).await;
        } else {
            schedule(shared, id, at);
        }
    }
}

fn schedule(shared: &Arc<Shared>, id: String, at: u64) {
    let shared = shared.clone();
    let mut stopped = shared.stopped.clone();
    tokio::spawn(async move {
        let wait = Duration::from_millis(at.saturating_sub(now_ms()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => finish(shared, id).await,
            _ = stopped.changed() => {}
        }
    });
}

/// A cluster's (id, name, static token of its Kubernetes API).
fn cluster_api(r: &super::state::Record) -> (String, String, String) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    (
        r.key.clone(),
        text(r.resource.get("name")),
        text(r.extra.get(KUBE_TOKEN)),
    )
}

/// Starts (or finds) the cluster's Kubernetes API and records its endpoint and CA.
async fn attach_api(shared: &Arc<Shared>, id: &str, name: &str, token: &str) {
    match shared.fleet.ensure(id, name, token).await {
        Ok((endpoint, ca)) => {
            if let Ok(mut st) = shared.state() {
                if let Some(mut rec) = st.get(K8S_CLUSTER.kind, id).cloned() {
                    let before = rec.resource.clone();
                    mk8s::attach(&mut rec, &endpoint, &ca);
                    if rec.resource != before {
                        if let Err(e) = st.put(rec) {
                            eprintln!("sandbox cloud: cannot record cluster {id}: {e}");
                        }
                    }
                }
            }
        }
        Err(e) => eprintln!("sandbox cloud: cannot start the Kubernetes API of cluster {id}: {e}"),
    }
}

/// Completes an operation: a cluster's API comes up before its create operation is done,
/// and goes away with its delete.
async fn finish(shared: Arc<Shared>, op_id: String) {
    let cluster = shared.state().ok().and_then(|st| {
        let op = st
            .ops
            .get(&op_id)
            .filter(|o| !o.done && o.effect == Effect::Create)?;
        let t = op.target.as_ref().filter(|t| t.kind == K8S_CLUSTER.kind)?;
        st.get(&t.kind, &t.key).map(cluster_api)
    });
    if let Some((id, name, token)) = cluster {
        attach_api(&shared, &id, &name, &token).await;
    }
    // A deleted cluster's API and data go before the operation reports done, so a client that
    // sees it done never finds them.
    let deleting = shared.state().ok().and_then(|st| {
        let op = st
            .ops
            .get(&op_id)
            .filter(|o| !o.done && o.effect == Effect::Delete)?;
        let t = op.target.as_ref().filter(|t| t.kind == K8S_CLUSTER.kind)?;
        Some(t.key.clone())
    });
    if let Some(id) = deleting {
        shared.fleet.remove(&id).await;
    }
    let removed = match shared.state() {
        Ok(mut st) => st.complete(&op_id, now_ms()),
        Err(e) => Err(e),
    };
    match removed {
        Ok(removed) => {
            for (kind, key) in removed {
                if kind == K8S_CLUSTER.kind {
                    shared.fleet.remove(&key).await;
                }
            }
        }
        Err(e) => eprintln!("sandbox cloud: cannot complete operation {op_id}: {e}"),
    }
}

fn answer(result: Result<Value, CloudError>) -> hyper::Response<Full<Bytes>> {
    match result {
        Ok(v) => respond(200, &v, None),
        Err(e) => respond(e.http(), &e.body(), None),
    }
}

async fn serve(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let path = req.uri().path().to_string();
    let route = route(&path);
    let query = parse_query(req.uri().query().unwrap_or(""));
    let method = req.method().as_str().to_string();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let bearer = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_string()));
    let idempotency_key = header("idempotency-key");
    let host = header("host");
    // The sandbox's own status page is not part of the emulated API: neither counted nor
    // delayed nor faulted.
    if route != Route::Status {
        shared.counters.request();
        shared.counters.delay(shared.latency).await;
    }
    if let Err(h) = hosts::check(host.as_deref(), &path) {
        return Ok(answer(Err(CloudError::not_found(format!(
            "{path} is not served by {h}"
        )))));
    }
    let now = now_ms();
    let subject = match (&route, &bearer) {
        (Route::Tokens, _) => Some(String::new()),
        (_, Some(t)) => shared.tokens.subject(t, now).or_else(|| {
            (route == Route::Status
                && constant_time_eq(t.as_bytes(), shared.oauth_token.as_bytes()))
            .then(|| USER_ID.to_string())
        }),
        (_, None) => None,
    };
    let Some(subject) = subject else {
        return Ok(answer(Err(CloudError::unauthenticated(
            "the IAM token is missing, invalid or expired",
        ))));
    };
    if route != Route::Status {
        match shared.counters.roll(&shared.faults) {
            None => {}
            Some(Fault::Drop) => return Err(Dropped),
            Some(Fault::Error(code)) => {
                let e =
                    CloudError::new(code_of_http(code), format!("injected fault (HTTP {code})"));
                let retry = (code == 429).then_some("1");
                return Ok(respond(code, &e.body(), retry));
            }
        }
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            return Ok(answer(Err(CloudError::invalid(
                "the request body is too large",
            ))))
        }
    };
    let ctx = Ctx {
        now,
        subject,
        idempotency_key,
    };
    let request = Request {
        method,
        query,
        body,
    };
    let result = dispatch(&shared, &route, &request, &ctx).await;
    drain_schedule(&shared, false).await;
    if let Ok(mut x) = shared.exchanges.lock() {
        if let Some(log) = x.as_mut().filter(|_| route != Route::Status) {
            log.push(Exchange {
                host,
                method: request.method.clone(),
                path,
                query: request.query.clone(),
                request: serde_json::from_slice(&request.body).ok(),
                status: match &result {
                    Ok(_) => 200,
                    Err(e) => e.http(),
                },
                response: match &result {
                    Ok(v) => v.clone(),
                    Err(e) => e.body(),
                },
            });
        }
    }
    Ok(answer(result))
}

async fn dispatch(
    shared: &Arc<Shared>,
    route: &Route,
    req: &Request,
    ctx: &Ctx,
) -> Result<Value, CloudError> {
    let m = req.method.as_str();
    match route {
        Route::Tokens if m == "POST" => {
            let body = object(&req.body)?;
            let st = shared.state()?;
            auth::exchange(
                &st,
                &shared.tokens,
                &shared.oauth_token,
                &shared.audiences,
                &body,
                ctx.now,
            )
        }
        Route::Status if m == "GET" => serde_json::to_value(shared.report(&*shared.state()?))
            .map_err(|e| CloudError::internal(e.to_string())),
        Route::Collection { spec, parent: None } if spec.kind == KEY.kind && m == "POST" => {
            let key = {
                let st = shared.state()?;
                keys::prepare(&st, object(&req.body)?)?
            };
            let bits = key.bits;
            let (public, private) = tokio::task::spawn_blocking(move || keys::generate(bits))
                .await
                .map_err(|e| CloudError::internal(format!("key generation failed: {e}")))??;
            keys::store(&mut *shared.state()?, key, public, private, ctx.now)
        }
        _ => {
            let mut st = shared.state()?;
            if matches!(m, "POST" | "PATCH" | "DELETE") {
                if let Some(op) = ctx.idempotency_key.as_deref().and_then(|k| st.replay(k)) {
                    return Ok(op);
                }
            }
            api::handle(&mut st, route, req, ctx)
        }
    }
}
