//! Where the cluster is and how to authenticate: from the provider block (`host` +
//! `cluster_ca_certificate` + `token`, or a `kubeconfig` path and `context`), from
//! `$KUBECONFIG` / `~/.kube/config`, or from an override (`--sandbox`).

use base64::Engine;
use mlstack_provider_api::Value;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// The facts needed to talk to one API server. `token` is a secret: never print it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Conn {
    /// `https://host:port`, without a trailing slash.
    pub server: String,
    /// PEM of the CA that signed the server certificate (`None`: the system has none for us,
    /// so only `insecure` works).
    pub ca_pem: Option<String>,
    pub token: Option<String>,
    /// A client certificate and its private key (PEM), as kind, k3s and minikube kubeconfigs
    /// authenticate; the key is a secret.
    pub client_cert: Option<(String, String)>,
    pub insecure: bool,
    /// The namespace objects without one go to.
    pub namespace: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "(sensitive)"))
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|_| "(sensitive)"),
            )
            .finish()
    }
}

impl Conn {
    /// A connection from the three facts a cluster (or the sandbox) publishes.
    pub fn new(server: &str, ca_pem: &str, token: &str) -> Conn {
        Conn {
            server: server.trim_end_matches('/').to_string(),
            ca_pem: Some(ca_pem.to_string()),
            token: Some(token.to_string()),
            client_cert: None,
            insecure: false,
            namespace: "default".into(),
        }
    }
}

fn text<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .map(Value::unmarked)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The connection a provider block describes.
pub fn from_config(config: &Value) -> Result<Conn, String> {
    let insecure = config
        .get("insecure")
        .map(Value::unmarked)
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(host) = text(config, "host") {
        let server = if host.contains("://") {
            host.to_string()
        } else {
            format!("https://{host}")
        };
        return Ok(Conn {
            server: server.trim_end_matches('/').to_string(),
            ca_pem: text(config, "cluster_ca_certificate").map(str::to_string),
            token: text(config, "token").map(str::to_string),
            client_cert: None,
            insecure,
            namespace: "default".into(),
        });
    }
    let path = match text(config, "kubeconfig") {
        Some(p) => expand_home(p),
        None => match default_kubeconfig() {
            Some(p) => p,
            None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
                return in_cluster(Path::new(SERVICE_ACCOUNT_DIR));
            }
            None => return Err("no cluster configured: set `host` or `kubeconfig` in the kubernetes provider block, set KUBECONFIG, run inside a cluster, or use --sandbox".to_string()),
        },
    };
    let mut conn = from_kubeconfig(&path, text(config, "context"))?;
    conn.insecure |= insecure;
    Ok(conn)
}

/// Where a pod finds its service account's token, CA and namespace.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// In-cluster configuration, as client-go's `InClusterConfig`: the API server from
/// `KUBERNETES_SERVICE_HOST`/`_PORT`, the pod's service account token and CA from `dir`.
pub fn in_cluster(dir: &Path) -> Result<Conn, String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| "KUBERNETES_SERVICE_HOST is not set".to_string())?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    in_cluster_at(host, &port, dir)
}

fn in_cluster_at(host: String, port: &str, dir: &Path) -> Result<Conn, String> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).map_err(|e| {
            format!(
                "in-cluster config: cannot read {}: {e}",
                dir.join(f).display()
            )
        })
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    Ok(Conn {
        server: format!("https://{host}:{port}"),
        ca_pem: Some(read("ca.crt")?),
        token: Some(read("token")?.trim().to_string()),
        client_cert: None,
        insecure: false,
        namespace: read("namespace")
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|_| "default".into()),
    })
}

/// Runs a kubeconfig `exec` credential plugin (as `yc k8s create-token` or
/// `aws eks get-token`) and returns the token of the ExecCredential it prints.
fn exec_token(exec: &Json) -> Result<String, String> {
    let command = exec
        .get("command")
        .and_then(Json::as_str)
        .ok_or("the exec credential plugin names no command")?;
    let mut cmd = std::process::Command::new(command);
    for a in exec
        .get("args")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(a) = a.as_str() {
            cmd.arg(a);
        }
    }
    for e in exec
        .get("env")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(n), Some(v)) = (
            e.get("name").and_then(Json::as_str),
            e.get("value").and_then(Json::as_str),
        ) {
            cmd.env(n, v);
        }
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the credential plugin `{command}`: {e}"))?;
    if !out.status.success() {
        // Its stderr may be long; its stdout may hold a token: print neither.
        return Err(format!(
            "the credential plugin `{command}` failed ({})",
            out.status
        ));
    }
    let cred: Json = serde_json::from_slice(&out.stdout).map_err(|_| {
        format!("the credential plugin `{command}` did not print an ExecCredential")
    })?;
    cred.pointer("/status/token")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("the credential plugin `{command}` printed no status.token"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), home()) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

fn default_kubeconfig() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty()) {
        let first = std::env::split_paths(&k).next()?;
        return Some(first);
    }
    let p = home()?.join(".kube").join("config");
    p.exists().then_some(p)
}

fn named<'a>(list: &'a Json, name: &str, field: &str) -> Option<&'a Json> {
    list.as_array()?
        .iter()
        .find(|e| e.get("name").and_then(Json::as_str) == Some(name))
        .and_then(|e| e.get(field))
}

/// Reads a kubeconfig file and picks `context` (default: its current context).
pub fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Conn, String> {
    let body = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
    let doc =
        crate::yaml::parse(&body).map_err(|e| format!("kubeconfig {}: {e}", path.display()))?;
    parse_kubeconfig(&doc, context, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("kubeconfig {}: {e}", path.display()))
}

/// The connection a parsed kubeconfig describes; relative file paths resolve against `base`.
pub fn parse_kubeconfig(doc: &Json, context: Option<&str>, base: &Path) -> Result<Conn, String> {
    let ctx_name = context
        .map(str::to_string)
        .or_else(|| {
            doc.get("current-context")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .ok_or("no context given and no current-context")?;
    let ctx = named(&doc["contexts"], &ctx_name, "context")
        .ok_or_else(|| format!("no context named `{ctx_name}`"))?;
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).map(str::to_string);
    let cluster_name = s(ctx, "cluster").ok_or("the context names no cluster")?;
    let cluster = named(&doc["clusters"], &cluster_name, "cluster")
        .ok_or_else(|| format!("no cluster named `{cluster_name}`"))?;
    let read = |p: String| {
        let p = base.join(p);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let ca_pem = match (
        s(cluster, "certificate-authority-data"),
        s(cluster, "certificate-authority"),
    ) {
        (Some(data), _) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or("certificate-authority-data is not base64 PEM")?,
        ),
        (None, Some(file)) => Some(read(file)?),
        (None, None) => None,
    };
    let user = s(ctx, "user")
        .and_then(|u| named(&doc["users"], &u, "user"))
        .cloned()
        .unwrap_or(Json::Null);
    let token = match (s(&user, "token"), s(&user, "tokenFile")) {
        (Some(t), _) => Some(t),
        (None, Some(f)) => Some(read(f)?.trim().to_string()),
        (None, None) => match user.get("exec") {
            Some(exec) => Some(exec_token(exec)?),
            None => None,
        },
    };
    let pem = |data: &str, file: &str| -> Result<Option<String>, String> {
        match (s(&user, data), s(&user, file)) {
            (Some(d), _) => base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .map(Some)
                .ok_or_else(|| format!("{data} is not base64 PEM")),
            (None, Some(f)) => read(f).map(Some),
            (None, None) => Ok(None),
        }
    };
    let client_cert = match (
        pem("client-certificate-data", "client-certificate")?,
        pem("client-key-data", "client-key")?,
    ) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err(
            "the user has a client certificate without its key, or a key without its certificate"
                .into(),
        ),
    };
    Ok(Conn {
        server: s(cluster, "server")
            .ok_or("the cluster has no server")?
            .trim_end_matches('/')
            .to_string(),
        ca_pem,
        token,
        client_cert,
        insecure: cluster
            .get("insecure-skip-tls-verify")
            .and_then(Json::as_str)
            == Some("true"),
        namespace: s(ctx, "namespace").unwrap_or_else(|| "default".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_plugin_token_and_in_cluster_files() {
        let dir = std::env::temp_dir().join(format!("mlstack-conn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let doc = crate::yaml::parse(
            "clusters:\n- name: c\n  cluster: {server: https://h:1}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: sh\n      args: [-c, 'echo \"{\\\"kind\\\":\\\"ExecCredential\\\",\\\"status\\\":{\\\"token\\\":\\\"$T\\\"}}\"']\n      env: [{name: T, value: from-plugin}]\n",
        )
        .unwrap();
        let c = parse_kubeconfig(&doc, None, Path::new(".")).unwrap();
        assert_eq!(c.token.as_deref(), Some("from-plugin"));

        std::fs::write(dir.join("ca.crt"), "PEM").unwrap();
        std::fs::write(dir.join("token"), "sa-token\n").unwrap();
        std::fs::write(dir.join("namespace"), "ml\n").unwrap();
        let c = in_cluster_at("10.96.0.1".into(), "443", &dir).unwrap();
        assert_eq!(c.server, "https://10.96.0.1:443");
        assert_eq!(c.token.as_deref(), Some("sa-token"));
        assert_eq!(c.namespace, "ml");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn kubeconfig_current_context_and_named() {
        let doc = crate::yaml::parse(
            "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n    certificate-authority-data: UEVN\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: ns}\n- name: y\n  context: {cluster: c, user: v}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n- name: v\n  user: {}\n",
        )
        .unwrap();
        let c = parse_kubeconfig(&doc, None, Path::new(".")).unwrap();
        assert_eq!(c.server, "https://127.0.0.1:6443");
        assert_eq!(c.ca_pem.as_deref(), Some("PEM"));
        assert_eq!(c.token.as_deref(), Some("t"));
        assert_eq!(c.namespace, "ns");
        let c = parse_kubeconfig(&doc, Some("y"), Path::new(".")).unwrap();
        assert_eq!(c.token, None);
        assert!(parse_kubeconfig(&doc, Some("z"), Path::new("."))
            .unwrap_err()
            .contains("no context named `z`"));
        assert!(!format!("{c:?}").contains("PEM"));
    }

    #[test]
    fn host_settings() {
        let mut m = Value::map();
        m.set_path(
            &mlstack_provider_api::parse_path("host"),
            "10.0.0.1:443".into(),
        );
        m.set_path(
            &mlstack_provider_api::parse_path("token"),
            Value::from("s").into_sensitive(),
        );
        let c = from_config(&m).unwrap();
        assert_eq!(c.server, "https://10.0.0.1:443");
        assert_eq!(c.token.as_deref(), Some("s"));
        assert!(!format!("{c:?}").contains("\"s\""));
    }
}
