//! HTTPS to one API server: rustls (ring) over tokio, HTTP/1.1 with a small pool of kept-alive
//! connections, bearer token. A lean client on purpose (see the crate docs for why not `kube`).

use crate::conn::Conn;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A response: status code and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

/// A failure below HTTP (connect, TLS, a dropped connection): always worth a retry.
#[derive(Debug, Clone)]
pub struct TransportError(pub String);

/// One API server's transport.
pub struct Http {
    authority: String,
    host: String,
    port: u16,
    server_name: rustls::pki_types::ServerName<'static>,
    tls: TlsConnector,
    auth: Option<String>,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(conn: &Conn) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    if conn.insecure {
        let b = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)));
        return with_client_auth(b, conn);
    }
    let pem = conn.ca_pem.as_deref().ok_or_else(|| {
        format!(
            "no CA certificate for {}: give cluster_ca_certificate (or certificate-authority in the kubeconfig)",
            conn.server
        )
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("the cluster CA is not valid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("the cluster CA is not usable: {e}"))?;
    }
    if roots.is_empty() {
        return Err("the cluster CA holds no certificate".into());
    }
    with_client_auth(builder.with_root_certificates(roots), conn)
}

/// Presents the kubeconfig's client certificate, when it has one.
fn with_client_auth(
    b: rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    conn: &Conn,
) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    let Some((cert_pem, key_pem)) = &conn.client_cert else {
        return Ok(b.with_no_client_auth());
    };
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the client certificate is not valid PEM: {e}"))?;
    // Never echo the key or its parse error details beyond the kind of problem.
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| "the client key is not a PEM private key".to_string())?;
    b.with_client_auth_cert(certs, key)
        .map_err(|e| format!("the client certificate does not match its key: {e}"))
}

fn split_server(server: &str) -> Result<(String, u16), String> {
    let rest = server
        .strip_prefix("https://")
        .ok_or_else(|| format!("API server {server}: only https:// is supported"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    if let Some(stripped) = hostport.strip_prefix('[') {
        let (h, p) = stripped.split_once(']').unwrap_or((stripped, ""));
        let port = p.trim_start_matches(':').parse().unwrap_or(443);
        return Ok((h.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Ok((
            h.to_string(),
            p.parse()
                .map_err(|_| format!("API server {server}: bad port"))?,
        )),
        None => Ok((hostport.to_string(), 443)),
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Http {
    pub fn new(conn: &Conn) -> Result<Http, String> {
        let (host, port) = split_server(&conn.server)?;
        let server_name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| format!("API server {}: bad host name", conn.server))?;
        Ok(Http {
            authority: if port == 443 {
                host.clone()
            } else {
                format!("{host}:{port}")
            },
            host,
            port,
            server_name,
            tls: TlsConnector::from(Arc::new(tls_config(conn)?)),
            auth: conn.token.as_ref().map(|t| format!("Bearer {t}")),
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let t = |e: String| TransportError(e);
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| t(format!("connecting to {} timed out", self.authority)))?
        .map_err(|e| t(format!("cannot connect to {}: {e}", self.authority)))?;
        let _ = tcp.set_nodelay(true);
        let tls = self
            .tls
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| t(format!("TLS with {} failed: {e}", self.authority)))?;
        let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|e| t(format!("HTTP with {} failed: {e}", self.authority)))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    /// One request (no retry here). `path` includes the query string.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Response, TransportError> {
        let mut send = match self.take_idle() {
            Some(s) => s,
            None => self.connect().await?,
        };
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority)
            .header("accept", "application/json")
            .header("user-agent", "mlstack");
        if let Some(a) = &self.auth {
            req = req.header("authorization", a);
        }
        let body = match body {
            Some((ct, b)) => {
                req = req.header("content-type", ct);
                Full::new(Bytes::from(b))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req
            .body(body)
            .map_err(|e| TransportError(format!("bad request {method} {path}: {e}")))?;
        let exchange = async {
            send.ready()
                .await
                .map_err(|e| TransportError(format!("connection lost: {e}")))?;
            let resp = send
                .send_request(req)
                .await
                .map_err(|e| TransportError(format!("connection lost: {e}")))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| TransportError(format!("connection lost reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, TransportError>(Response { status, body })
        };
        let resp = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| TransportError(format!("{method} {path}: no answer in time")))??;
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < 16 {
                idle.push(send);
            }
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_servers() {
        assert_eq!(
            super::split_server("https://127.0.0.1:6443").unwrap(),
            ("127.0.0.1".into(), 6443)
        );
        assert_eq!(
            super::split_server("https://k8s.example").unwrap(),
            ("k8s.example".into(), 443)
        );
        assert!(super::split_server("http://x").is_err());
    }
}
