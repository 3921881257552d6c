//! One HTTPS request to a Yandex Cloud service (reqwest, rustls with ring): the service's host
//! (reference §0.1) or the configured endpoint for all, an extra trust anchor for the sandbox,
//! JSON bodies, the `Idempotency-Key` header and `google.rpc.Status` errors. Retries and
//! authentication live in [`crate::session`].

use crate::status::ApiError;
use serde_json::Value as Json;
use std::time::Duration;

/// The services the provider calls, each on its own host in the real cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Iam,
    ResourceManager,
    Vpc,
    Kubernetes,
    Mdb,
    Operation,
    Storage,
}

impl Service {
    /// The real host (reference §0.1).
    pub fn host(self) -> &'static str {
        match self {
            Service::Iam => "iam.api.cloud.yandex.net",
            Service::ResourceManager => "resource-manager.api.cloud.yandex.net",
            Service::Vpc => "vpc.api.cloud.yandex.net",
            Service::Kubernetes => "mks.api.cloud.yandex.net",
            Service::Mdb => "mdb.api.cloud.yandex.net",
            Service::Operation => "operation.api.cloud.yandex.net",
            Service::Storage => "storage.api.cloud.yandex.net",
        }
    }
}

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One call, described fully so that a retry sends exactly the same request (the same
/// `Idempotency-Key` included).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub service: Service,
    /// The path, e.g. `/vpc/v1/networks/enp123`; `:verb` suffixes allowed.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Json>,
    pub idempotency_key: Option<String>,
}

impl Request {
    pub fn get(service: Service, path: impl Into<String>) -> Request {
        Request {
            method: Method::Get,
            service,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotency_key: None,
        }
    }

    /// A create, update or delete: it carries a fresh `Idempotency-Key` (uuid v4) that every
    /// retry of this request reuses.
    pub fn mutation(
        method: Method,
        service: Service,
        path: impl Into<String>,
        body: Option<Json>,
    ) -> Request {
        Request {
            method,
            service,
            path: path.into(),
            query: Vec::new(),
            body,
            idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Request {
        self.query.push((key.to_string(), value.into()));
        self
    }
}

/// The HTTP side: one connection pool for every service.
pub struct Http {
    client: reqwest::Client,
    base: Option<String>,
    /// Send `Host: <the service's host>` to the base URL (the sandbox checks it).
    service_hosts: bool,
}

impl Http {
    /// A client for the real hosts (`endpoint` None) or one base URL for all services, trusting
    /// `ca_pem` in addition to the public roots.
    pub fn new(endpoint: Option<&str>, ca_pem: Option<&str>) -> Result<Http, String> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("mlstack/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem.filter(|p| !p.trim().is_empty()) {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|_| {
                "the provider's ca_certificate is not a PEM certificate".to_string()
            })?;
            if certs.is_empty() {
                return Err("the provider's ca_certificate holds no certificate".into());
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {e}"))?;
        Ok(Http {
            client,
            base: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            service_hosts: false,
        })
    }

    /// Each request to the base URL names its service's real host in `Host`, so that an
    /// emulator can hold every call to the host its service lives on (a call sent to the
    /// wrong service is not found there, as in the real cloud).
    pub fn with_service_hosts(mut self) -> Http {
        self.service_hosts = true;
        self
    }

    /// The full URL of a request (without the query).
    pub fn url(&self, service: Service, path: &str) -> String {
        match &self.base {
            Some(b) => format!("{b}{path}"),
            None => format!("https://{}{path}", service.host()),
        }
    }

    /// Sends `req` once with `bearer` as the IAM token. 2xx → the JSON body (null when empty).
    pub async fn send(&self, req: &Request, bearer: Option<&str>) -> Result<Json, ApiError> {
        let mut url = reqwest::Url::parse(&self.url(req.service, &req.path))
            .map_err(|_| ApiError::local(format!("bad URL for {}", req.path)))?;
        if !req.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
        }
        let mut r = self
            .client
            .request(req.method.reqwest(), url)
            .header("Accept", "application/json");
        if self.service_hosts && self.base.is_some() {
            r = r.header("Host", req.service.host());
        }
        if let Some(t) = bearer {
            r = r.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(k) = &req.idempotency_key {
            r = r.header("Idempotency-Key", k);
        }
        if let Some(body) = &req.body {
            r = r
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let resp = r.send().await.map_err(|e| transport(req, &e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| transport(req, &e))?;
        if !(200..300).contains(&status) {
            return Err(ApiError::from_response(status, &text));
        }
        if text.trim().is_empty() {
            return Ok(Json::Null);
        }
        serde_json::from_str(&text).map_err(|_| {
            ApiError::local(format!(
                "{} {}: the answer is not JSON",
                req.method.name(),
                req.path
            ))
        })
    }
}

/// A transport failure with its root cause (reqwest's message alone says only "error sending
/// request"). Headers, and so tokens, are never part of it.
fn transport(req: &Request, e: &reqwest::Error) -> ApiError {
    let mut msg = format!("{} {}: ", req.method.name(), req.path);
    if e.is_timeout() {
        msg.push_str("timed out");
    } else if e.is_connect() {
        msg.push_str("cannot connect");
    } else {
        msg.push_str("connection failed");
    }
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        msg.push_str(": ");
        msg.push_str(&l);
    }
    ApiError::transport(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_use_the_service_host_or_the_endpoint() {
        let real = Http::new(None, None).unwrap();
        assert_eq!(
            real.url(Service::Vpc, "/vpc/v1/networks"),
            "https://vpc.api.cloud.yandex.net/vpc/v1/networks"
        );
        assert_eq!(
            real.url(Service::Operation, "/operations/x"),
            "https://operation.api.cloud.yandex.net/operations/x"
        );
        let sb = Http::new(Some("https://127.0.0.1:9/"), None).unwrap();
        assert_eq!(
            sb.url(Service::Mdb, "/managed-kafka/v1/clusters"),
            "https://127.0.0.1:9/managed-kafka/v1/clusters"
        );
        assert!(Http::new(None, Some("not a pem")).is_err());
    }

    #[test]
    fn mutations_carry_an_idempotency_key() {
        let a = Request::mutation(Method::Post, Service::Vpc, "/vpc/v1/networks", None);
        let b = a.clone();
        let k = a.idempotency_key.clone().unwrap();
        assert_eq!(uuid::Uuid::parse_str(&k).unwrap().get_version_num(), 4);
        assert_eq!(b.idempotency_key, a.idempotency_key);
        assert!(Request::get(Service::Vpc, "/x").idempotency_key.is_none());
    }
}
