//! A kubeconfig the real `kubectl` accepts: inline CA data and the bearer token.

use crate::server::Handle;

/// Standard base64 with padding (kubeconfig CA data, Secret `stringData`).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The kubeconfig for `handle` (cluster, user and context all named `mlstack-sandbox`).
/// It contains the token: write it with mode 0600 and never print it in logs.
pub fn kubeconfig(handle: &Handle) -> String {
    kubeconfig_for(&handle.endpoint, &handle.ca_pem, &handle.token)
}

/// The same kubeconfig from the three facts a running sandbox records (for a process that
/// did not start it).
pub fn kubeconfig_for(endpoint: &str, ca_pem: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: mlstack-sandbox\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: mlstack-sandbox\n  user:\n    token: {}\ncontexts:\n- name: mlstack-sandbox\n  context:\n    cluster: mlstack-sandbox\n    user: mlstack-sandbox\n    namespace: default\ncurrent-context: mlstack-sandbox\n",
        endpoint,
        base64(ca_pem.as_bytes()),
        token
    )
}

/// A kubeconfig that authenticates with a client certificate instead of a token (as kind,
/// k3s and minikube write them). It contains the private key: keep it out of logs.
pub fn kubeconfig_with_client_cert(
    endpoint: &str,
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: mlstack-sandbox\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: mlstack-sandbox-admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: mlstack-sandbox\n  context:\n    cluster: mlstack-sandbox\n    user: mlstack-sandbox-admin\n    namespace: default\ncurrent-context: mlstack-sandbox\n",
        endpoint,
        base64(ca_pem.as_bytes()),
        base64(cert_pem.as_bytes()),
        base64(key_pem.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
