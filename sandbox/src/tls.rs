//! A CA, a server certificate for 127.0.0.1/localhost and an administrator's client
//! certificate signed by it, generated once and, when a data directory is given, kept there
//! (`tls/`) so that clients which trust the CA keep working across restarts. A client that
//! presents a certificate the CA signed is authenticated, as on a real API server.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::Path;
use std::sync::Arc;

/// The server TLS configuration, the CA certificate (PEM) clients must trust, and a client
/// certificate and key (PEM) that authenticate as the administrator.
pub struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

/// PEM texts of the material a server needs.
struct Material {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

const CA: &str = "ca.pem";
const CERT: &str = "server.pem";
const KEY: &str = "server-key.pem";
const CLIENT_CERT: &str = "client.pem";
const CLIENT_KEY: &str = "client-key.pem";

/// Reuses the material under `dir/tls` when it is all there and valid; otherwise generates
/// new material and saves it there (the key with mode 0600). `None` always generates.
pub fn load_or_generate(dir: Option<&Path>) -> Result<Tls, String> {
    let Some(dir) = dir else {
        return build(&fresh()?);
    };
    let tls_dir = dir.join("tls");
    let read = |name: &str| std::fs::read_to_string(tls_dir.join(name)).ok();
    if let (
        Some(ca_pem),
        Some(cert_pem),
        Some(key_pem),
        Some(client_cert_pem),
        Some(client_key_pem),
    ) = (
        read(CA),
        read(CERT),
        read(KEY),
        read(CLIENT_CERT),
        read(CLIENT_KEY),
    ) {
        let m = Material {
            ca_pem,
            cert_pem,
            key_pem,
            client_cert_pem,
            client_key_pem,
        };
        if let Ok(tls) = build(&m) {
            return Ok(tls);
        }
    }
    let m = fresh()?;
    std::fs::create_dir_all(&tls_dir)
        .map_err(|e| format!("cannot create {}: {e}", tls_dir.display()))?;
    crate::files::write_private(&tls_dir.join(KEY), m.key_pem.as_bytes())?;
    crate::files::write_private(&tls_dir.join(CERT), m.cert_pem.as_bytes())?;
    crate::files::write_private(&tls_dir.join(CLIENT_KEY), m.client_key_pem.as_bytes())?;
    crate::files::write_private(&tls_dir.join(CLIENT_CERT), m.client_cert_pem.as_bytes())?;
    crate::files::write_private(&tls_dir.join(CA), m.ca_pem.as_bytes())?;
    build(&m)
}

fn fresh() -> Result<Material, String> {
    let err = |e: rcgen::Error| format!("certificate generation failed: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mlstack-sandbox-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;

    let key = KeyPair::generate().map_err(err)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "mlstack-sandbox");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params.signed_by(&key, &ca_cert, &ca_key).map_err(err)?;

    let client_key = KeyPair::generate().map_err(err)?;
    let mut client = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    client
        .distinguished_name
        .push(DnType::CommonName, "mlstack-sandbox-admin");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let client_cert = client
        .signed_by(&client_key, &ca_cert, &ca_key)
        .map_err(err)?;
    Ok(Material {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}

fn build(m: &Material) -> Result<Tls, String> {
    let bad = |what: &str| format!("unreadable {what} PEM");
    let cert = CertificateDer::from_pem_slice(m.cert_pem.as_bytes()).map_err(|_| bad("cert"))?;
    let ca = CertificateDer::from_pem_slice(m.ca_pem.as_bytes()).map_err(|_| bad("CA"))?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(m.key_pem.as_bytes()).map_err(|_| bad("key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| e.to_string())?;
    // A client certificate is optional (bearer tokens work too), but one that is presented
    // must chain to our CA.
    let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| e.to_string())?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(clients)
        .with_single_cert(vec![cert, ca], PrivateKeyDer::Pkcs8(key))
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(config),
        ca_pem: m.ca_pem.clone(),
        client_cert_pem: m.client_cert_pem.clone(),
        client_key_pem: m.client_key_pem.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::load_or_generate;

    #[test]
    fn material_is_kept_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_generate(Some(dir.path())).unwrap();
        let b = load_or_generate(Some(dir.path())).unwrap();
        assert_eq!(a.ca_pem, b.ca_pem);
        let c = load_or_generate(None).unwrap();
        assert_ne!(a.ca_pem, c.ca_pem);
    }
}
