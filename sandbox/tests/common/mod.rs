//! A tiny HTTPS client for the sandbox API (tokio-rustls + hyper http1), one connection per
//! request.

#![allow(dead_code)]

pub mod cloud;
pub mod kctl;

/// The real kubectl from PATH; a missing kubectl fails the test (scripts/check.sh verifies it).
pub fn kubectl() -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("kubectl is required on PATH for these tests"))
}

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mlstack_sandbox::Handle;
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub struct Client {
    pub addr: String,
    pub token: Option<String>,
    tls: tokio_rustls::TlsConnector,
}

impl Client {
    pub fn new(h: &Handle) -> Client {
        Client::to(&h.endpoint, &h.ca_pem, Some(h.token.clone()))
    }

    /// A client of any endpoint that trusts `ca_pem`.
    pub fn to(endpoint: &str, ca_pem: &str, token: Option<String>) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Client {
            addr: endpoint.trim_start_matches("https://").to_string(),
            token,
            tls: tokio_rustls::TlsConnector::from(Arc::new(cfg)),
        }
    }

    /// Sends one request; returns (status, JSON body).
    pub async fn send(&self, method: &str, path: &str, ctype: &str, body: &str) -> (u16, Value) {
        self.try_send(method, path, ctype, body)
            .await
            .expect("request failed")
    }

    /// Like [`Client::send`], but a transport failure is an `Err`.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        ctype: &str,
        body: &str,
    ) -> std::io::Result<(u16, Value)> {
        self.try_send_with(method, path, ctype, body, &[]).await
    }

    /// Like [`Client::try_send`], with extra headers.
    pub async fn try_send_with(
        &self,
        method: &str,
        path: &str,
        ctype: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<(u16, Value)> {
        let (code, _, bytes) = self.try_raw(method, path, ctype, body, headers).await?;
        Ok((code, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// One request; the status, response headers and the whole body (e.g. a watch stream
    /// that ends at its `timeoutSeconds`).
    pub async fn try_raw(
        &self,
        method: &str,
        path: &str,
        ctype: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<(u16, hyper::HeaderMap, Bytes)> {
        let fut = async {
            let tcp = tokio::net::TcpStream::connect(&self.addr).await?;
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let tls = self.tls.connect(name, tcp).await?;
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(std::io::Error::other)?;
            tokio::spawn(conn);
            let mut b = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", &self.addr)
                .header("content-type", ctype);
            if let Some(t) = &self.token {
                b = b.header("authorization", format!("Bearer {t}"));
            }
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            let req = b.body(Full::new(Bytes::from(body.to_string()))).unwrap();
            let resp = send
                .send_request(req)
                .await
                .map_err(std::io::Error::other)?;
            let code = resp.status().as_u16();
            let headers = resp.headers().clone();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(std::io::Error::other)?
                .to_bytes();
            Ok::<_, std::io::Error>((code, headers, bytes))
        };
        tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .expect("request hung")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, "application/json", "").await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, "application/json", &body.to_string())
            .await
    }

    pub async fn apply(&self, path: &str, query: &str, body: &str) -> (u16, Value) {
        self.send(
            "PATCH",
            &format!("{path}?{query}"),
            "application/apply-patch+yaml",
            body,
        )
        .await
    }
}
