//! The clusters' own Kubernetes APIs: one sandbox `KubeApi` per running Managed Kubernetes
//! cluster, on its own loopback port, with data (objects, TLS, port) under
//! `<data_dir>/clusters/<id>/kube`, accepting its static token and any unexpired IAM token
//! the cloud issued. They inject the cloud's faults (the same settings, shared) and count
//! them per cluster; the counts outlive a deleted cluster so that a test can still read them.

use super::auth::Tokens;
use super::clock::now_ms;
use super::status::ClusterApiStats;
use crate::config::{Faults, SandboxConfig, TokenCheck};
use crate::server::{Handle, KubeApi};
use crate::stats::Counters;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The running cluster APIs.
pub struct Fleet {
    handles: Mutex<BTreeMap<String, Handle>>,
    /// Every cluster API started by this process, by cluster id: name, running, counters.
    counted: std::sync::Mutex<BTreeMap<String, (String, bool, Counters)>>,
    data_dir: Option<PathBuf>,
    ready_delay: Duration,
    latency: Duration,
    faults: Arc<std::sync::Mutex<Faults>>,
    tokens: Arc<Tokens>,
}

/// How the clusters' APIs are started: where their data goes and the cloud's settings.
pub struct FleetConfig {
    pub data_dir: Option<PathBuf>,
    pub ready_delay: Duration,
    pub latency: Duration,
    /// The cloud's fault settings, shared: changing them changes the clusters' too.
    pub faults: Arc<std::sync::Mutex<Faults>>,
}

impl Fleet {
    pub fn new(config: FleetConfig, tokens: Arc<Tokens>) -> Fleet {
        Fleet {
            handles: Mutex::new(BTreeMap::new()),
            counted: std::sync::Mutex::new(BTreeMap::new()),
            data_dir: config.data_dir,
            ready_delay: config.ready_delay,
            latency: config.latency,
            faults: config.faults,
            tokens,
        }
    }

    /// Requests served and faults injected by each cluster API this process started.
    pub fn stats(&self) -> BTreeMap<String, ClusterApiStats> {
        self.counted
            .lock()
            .map(|c| {
                c.iter()
                    .map(|(id, (name, running, counters))| {
                        let s = ClusterApiStats {
                            name: name.clone(),
                            running: *running,
                            stats: counters.snapshot(),
                        };
                        (id.clone(), s)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn mark(&self, id: &str, running: bool) {
        if let Ok(mut c) = self.counted.lock() {
            if let Some(entry) = c.get_mut(id) {
                entry.1 = running;
            }
        }
    }

    fn dir(&self, id: &str) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join("clusters").join(id))
    }

    /// Starts the API of cluster `id` (named `name`) unless it runs; returns its (endpoint,
    /// CA PEM).
    pub async fn ensure(
        &self,
        id: &str,
        name: &str,
        token: &str,
    ) -> Result<(String, String), String> {
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
            latency: self.latency,
            ..SandboxConfig::default()
        };
        // A cluster API started again (after a restart of the cloud) keeps counting.
        let counters = self
            .counted
            .lock()
            .ok()
            .and_then(|c| c.get(id).map(|e| e.2.clone()))
            .unwrap_or_default();
        let handle = KubeApi::start_shared(config, self.faults.clone(), counters.clone())
            .await
            .map_err(|e| e.to_string())?;
        if let Ok(mut c) = self.counted.lock() {
            c.insert(id.to_string(), (name.to_string(), true, counters));
        }
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
        self.mark(id, false);
        if let Some(dir) = self.dir(id) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Stops every API (their data stays for the next start).
    pub async fn stop_all(&self) {
        let all = std::mem::take(&mut *self.handles.lock().await);
        for (id, h) in all {
            h.shutdown().await;
            self.mark(&id, false);
        }
    }
}
