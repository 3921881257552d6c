//! The clusters' own Kubernetes APIs: one sandbox `KubeApi` per running Managed Kubernetes
//! cluster, on its own loopback port, with data (objects, TLS, port) under
//! `<data_dir>/clusters/<id>/kube`, accepting its static token and any unexpired IAM token
//! the cloud issued.

use super::auth::Tokens;
use super::clock::now_ms;
use crate::config::{SandboxConfig, TokenCheck};
use crate::server::{Handle, KubeApi};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The running cluster APIs.
pub struct Fleet {
    handles: Mutex<BTreeMap<String, Handle>>,
    data_dir: Option<PathBuf>,
    ready_delay: Duration,
    tokens: Arc<Tokens>,
}

impl Fleet {
    pub fn new(data_dir: Option<PathBuf>, ready_delay: Duration, tokens: Arc<Tokens>) -> Fleet {
        Fleet {
            handles: Mutex::new(BTreeMap::new()),
            data_dir,
            ready_delay,
            tokens,
        }
    }

    fn dir(&self, id: &str) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join("clusters").join(id))
    }

    /// Starts the API of cluster `id` unless it runs; returns its (endpoint, CA PEM).
    pub async fn ensure(&self, id: &str, token: &str) -> Result<(String, String), String> {
        let mut handles = self.handles.lock().await;
        if let Some(h) = handles.get(id) {
            return Ok((h.endpoint.clone(), h.ca_pem.clone()));
        }
        let tokens = self.tokens.clone();
        let config = SandboxConfig {
            data_dir: self.dir(id).map(|d| d.join("kube")),
            token: Some(token.to_string()),
            also_accept: Some(TokenCheck::new(move |t| {
                tokens.subject(t, now_ms()).is_some()
            })),
            ready_delay: self.ready_delay,
            ..SandboxConfig::default()
        };
        let handle = KubeApi::start(config).await.map_err(|e| e.to_string())?;
        let out = (handle.endpoint.clone(), handle.ca_pem.clone());
        handles.insert(id.to_string(), handle);
        Ok(out)
    }

    /// Stops the API of a deleted cluster and removes its data.
    pub async fn remove(&self, id: &str) {
        let handle = self.handles.lock().await.remove(id);
        if let Some(h) = handle {
            h.shutdown().await;
        }
        if let Some(dir) = self.dir(id) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Stops every API (their data stays for the next start).
    pub async fn stop_all(&self) {
        let all = std::mem::take(&mut *self.handles.lock().await);
        for (_, h) in all {
            h.shutdown().await;
        }
    }
}
