//! The kubeconfig of a Managed Kubernetes cluster as `yc managed-kubernetes cluster
//! get-credentials` writes it (reference §4): the cluster's endpoint and CA, and a user whose
//! token comes from the `yc k8s create-token` exec plugin, so no token is ever stored.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// A YAML scalar in double quotes (JSON's string syntax is valid YAML).
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The kubeconfig for cluster `id` named `name` at `endpoint` with CA `ca_pem`.
pub fn build(id: &str, name: &str, endpoint: &str, ca_pem: &str) -> String {
    let entry = format!("yc-managed-k8s-{id}");
    let context = format!("yc-{name}");
    format!(
        "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: {server}
  name: {entry}
contexts:
- context:
    cluster: {entry}
    user: {entry}
  name: {context}
current-context: {context}
preferences: {{}}
users:
- name: {entry}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: yc
      args:
      - k8s
      - create-token
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
",
        ca = q(&STANDARD.encode(ca_pem.as_bytes())),
        server = q(endpoint),
        entry = q(&entry),
        context = q(&context),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_plugin_kubeconfig_without_a_token() {
        let k = build(
            "cat123",
            "k8s-main",
            "https://127.0.0.1:6443",
            "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n",
        );
        assert!(k.contains("server: \"https://127.0.0.1:6443\""));
        assert!(k.contains("current-context: \"yc-k8s-main\""));
        assert!(k.contains("name: \"yc-managed-k8s-cat123\""));
        assert!(k.contains("command: yc") && k.contains("- create-token"));
        assert!(!k.contains("token:"), "{k}");
        let ca_line = k
            .lines()
            .find(|l| l.contains("certificate-authority-data"))
            .unwrap();
        let b64 = ca_line.split('"').nth(1).unwrap();
        assert!(String::from_utf8(STANDARD.decode(b64).unwrap())
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
