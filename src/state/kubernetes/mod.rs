//! The `kubernetes` backend: state in a Secret `mlstack-state-<suffix>` (split over several
//! when it outgrows one, see [`store`]), the previous version in `mlstack-state-<suffix>-backup`,
//! and the lock in a Lease `mlstack-lock-<suffix>` renewed while its holder lives (see
//! [`lease`]), in one namespace of the cluster the settings (or `--sandbox`) name. The names
//! follow Terraform's kubernetes backend (`secret_suffix`, `namespace`, `labels`,
//! `config_path`, `config_context`, `host`, `cluster_ca_certificate`, `token`, `insecure`).
//!
//! Requests run on the kubernetes provider's own HTTPS client ([`RestClient`]), on a worker
//! thread with its own runtime (the [`Backend`] trait is synchronous).

mod api;
mod config;
mod lease;
mod store;

pub use api::{Kind, Objects, Written};
pub use config::{use_sandbox, CREDENTIAL_SETTINGS, KUBERNETES_SETTINGS};
pub use lease::{INFO_ANNOTATION, LEASE_SECONDS};
pub use store::{Layout, DATA_KEY, PART_BYTES};

use super::backend::{Backend, LockGuard};
use super::crypt::{self, Encryption};
use super::lock::LockInfo;
use api::KubeApi;
use config::Resolved;
use lease::{LeaseRef, Lost, Renewal, Seen};
use mlstack_provider_api::Value;
use mlstack_provider_kubernetes::RestClient;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// State in Kubernetes Secrets.
pub struct KubernetesBackend {
    objs: Arc<dyn Objects>,
    server: String,
    sandbox: bool,
    layout: Layout,
    /// The settings that say where the state is (for [`Backend::identity`]).
    settings: BTreeMap<String, serde_json::Value>,
    encryption: Option<Encryption>,
    stack_arg: String,
    /// Set when a held lock was taken away: writes are refused from then on.
    lost: Lost,
}

impl std::fmt::Debug for KubernetesBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesBackend")
            .field("server", &self.server)
            .field("layout", &self.layout)
            .finish()
    }
}

impl KubernetesBackend {
    /// From the stack's `backend: {kubernetes: {...}}` settings.
    pub fn from_config(
        config: &BTreeMap<String, Value>,
        stack_name: &str,
        base_dir: &Path,
        stack_arg: &str,
    ) -> Result<KubernetesBackend, String> {
        Self::open(config, stack_name, base_dir, stack_arg, None)
    }

    /// Opens a recorded backend; `sandbox` is what the record says.
    pub fn from_recorded(
        config: &BTreeMap<String, Value>,
        stack_name: &str,
        base_dir: &Path,
        stack_arg: &str,
        sandbox: bool,
    ) -> Result<KubernetesBackend, String> {
        Self::open(config, stack_name, base_dir, stack_arg, Some(sandbox))
    }

    fn open(
        config: &BTreeMap<String, Value>,
        stack_name: &str,
        base_dir: &Path,
        stack_arg: &str,
        sandbox: Option<bool>,
    ) -> Result<KubernetesBackend, String> {
        let Resolved {
            layout,
            settings,
            conn,
            sandbox,
            encryption,
        } = config::resolve(config, stack_name, base_dir, sandbox)?;
        let rest =
            RestClient::new(&conn).map_err(|e| format!("the kubernetes state backend: {e}"))?;
        let api = KubeApi::new(rest, &layout.namespace)?;
        Ok(KubernetesBackend {
            server: api.server().to_string(),
            objs: Arc::new(api),
            sandbox,
            layout,
            settings,
            encryption,
            stack_arg: stack_arg.to_string(),
            lost: Arc::new(Mutex::new(None)),
        })
    }

    /// Where the objects are.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The objects (tests look at what the cluster holds through it).
    pub fn objects(&self) -> &dyn Objects {
        self.objs.as_ref()
    }

    fn held_message(&self, h: &Seen, waited: Duration) -> String {
        let waited = if waited.is_zero() {
            String::new()
        } else {
            let ms = Duration::from_millis(waited.as_millis().min(u128::from(u64::MAX)) as u64);
            format!(" (waited {})", humantime::format_duration(ms))
        };
        let expiry = match h.expires {
            Some(t) => format!(
                "that run renews its Lease while it lives; a Lease left unrenewed expires \
                 {LEASE_SECONDS}s after its last renewal (this one at {}) and is then taken over",
                humantime::format_rfc3339_seconds(t)
            ),
            None => "its Lease has no renewal time, so it never expires".to_string(),
        };
        format!(
            "state is locked by {} (operation `{}`, lock id {}){waited}; {expiry}. Retry with \
             --lock-timeout or wait.\nIf that run is gone, remove its lock with:\n  mlstack \
             force-unlock {} {}",
            h.info.holder(),
            h.info.operation,
            h.info.id,
            self.stack_arg,
            h.info.id
        )
    }

    /// The lock is ours: renew it in the background until the guard drops.
    fn hold(&self, holder: &LockInfo, acquired: SystemTime) -> Result<LockGuard, String> {
        if let Ok(mut l) = self.lost.lock() {
            *l = None;
        }
        let lease = LeaseRef {
            objs: self.objs.clone(),
            name: self.layout.lease(),
            namespace: self.layout.namespace.clone(),
            labels: self.layout.labels.clone(),
            info: holder.clone(),
            acquired,
        };
        let on_signal = lease.clone();
        super::interrupt::register(
            &holder.id,
            Box::new(move || {
                let _ = on_signal.release();
            }),
        );
        let renewal = match Renewal::start(lease.clone(), self.lost.clone()) {
            Ok(r) => r,
            Err(e) => {
                super::interrupt::unregister(&holder.id);
                let _ = lease.release();
                return Err(e);
            }
        };
        let held = KubeLock {
            renewal: Some(renewal),
            lease,
            stack_arg: self.stack_arg.clone(),
        };
        Ok(LockGuard::new(holder.clone(), Box::new(held)))
    }
}

/// The lock held in a Lease; dropping it stops the renewal and deletes the Lease (if ours).
struct KubeLock {
    renewal: Option<Renewal>,
    lease: LeaseRef,
    stack_arg: String,
}

impl Drop for KubeLock {
    fn drop(&mut self) {
        drop(self.renewal.take());
        super::interrupt::unregister(&self.lease.info.id);
        if let Err(e) = self.lease.release() {
            // A guard cannot return an error; say what is left behind and how to clear it.
            eprintln!(
                "Warning: releasing the state lock failed: {e}\nThe Lease {}/{} expires \
                 {LEASE_SECONDS}s from now; or clear it with:\n  mlstack force-unlock {} {}",
                self.lease.namespace, self.lease.name, self.stack_arg, self.lease.info.id
            );
        }
    }
}

/// First wait between lock attempts; grows by half each time up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(5);

impl Backend for KubernetesBackend {
    fn describe(&self) -> String {
        format!(
            "kubernetes state Secret {}/{} at {}{}",
            self.layout.namespace,
            self.layout.head(),
            self.server,
            if self.sandbox { " (the sandbox)" } else { "" }
        )
    }

    fn place(&self) -> String {
        format!(
            "state Secret {}/{}",
            self.layout.namespace,
            self.layout.head()
        )
    }

    fn backup_hint(&self) -> String {
        format!(
            "The previous version, if any, is the Secret {}/{} (its `{DATA_KEY}` key; a state \
             split over several Secrets continues in the parts its annotations name).",
            self.layout.namespace,
            self.layout.backup()
        )
    }

    fn identity(&self) -> serde_json::Value {
        let mut id = serde_json::json!({"kind": "kubernetes"});
        for (k, v) in &self.settings {
            id[k] = v.clone();
        }
        if let Some(e) = &self.encryption {
            id["encryption"] = e.source().to_config();
        }
        id
    }

    fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    fn read_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        match store::read(self.objs.as_ref(), &self.layout)? {
            None => Ok(None),
            Some(bytes) => {
                crypt::unseal_stored(self.encryption.as_ref(), bytes, "state", &self.place())
                    .map(Some)
            }
        }
    }

    fn write_bytes(&self, plain: &[u8]) -> Result<(), String> {
        if let Some(why) = self.lost.lock().ok().and_then(|l| l.clone()) {
            return Err(format!("not writing the state: {why}"));
        }
        let bytes = crypt::seal_stored(self.encryption.as_ref(), plain, "state")?;
        store::write(self.objs.as_ref(), &self.layout, &bytes)
    }

    fn lock(&self, holder: &LockInfo, timeout: Duration) -> Result<LockGuard, String> {
        let name = self.layout.lease();
        let (ns, labels) = (&self.layout.namespace, &self.layout.labels);
        let start = Instant::now();
        let mut poll = FIRST_POLL;
        let mut races = 0;
        loop {
            let now = SystemTime::now();
            let lease = lease::body(&name, ns, labels, holder, now, now, None)?;
            if self.objs.create(Kind::Lease, &lease)? == Written::Done {
                return self.hold(holder, now);
            }
            let seen = match self.objs.get(Kind::Lease, &name)? {
                Some(obj) => Seen::parse(&obj),
                // Released between our attempt and the read: try again at once.
                None if races < 10 => {
                    races += 1;
                    continue;
                }
                None => {
                    return Err(format!(
                        "the Lease {ns}/{name} keeps appearing and vanishing"
                    ))
                }
            };
            if seen.info.id == holder.id {
                // Our create went through but its answer was lost, and the retry found it.
                return self.hold(holder, now);
            }
            let expired = seen.expired(now);
            if expired || seen.info.holder_is_gone() {
                let taken = lease::body(
                    &name,
                    ns,
                    labels,
                    holder,
                    now,
                    now,
                    seen.resource_version.as_deref(),
                )?;
                if self.objs.replace(Kind::Lease, &name, &taken)? == Written::Done {
                    let why = if expired {
                        format!(
                            "its Lease expired at {} (not renewed for {LEASE_SECONDS}s: that run \
                             was killed or cut off from the cluster)",
                            seen.expires
                                .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                                .unwrap_or_default()
                        )
                    } else {
                        "that process on this machine is no longer running".to_string()
                    };
                    eprintln!(
                        "Note: took over the state lock {} of {} (operation `{}`): {why}.",
                        seen.info.id,
                        seen.info.holder(),
                        seen.info.operation
                    );
                    return self.hold(holder, now);
                }
                // Someone else took it over first, or it changed: look again.
                continue;
            }
            let waited = start.elapsed();
            let left = timeout.saturating_sub(waited);
            if left.is_zero() {
                let shown = if timeout.is_zero() {
                    Duration::ZERO
                } else {
                    waited
                };
                return Err(self.held_message(&seen, shown));
            }
            std::thread::sleep(poll.min(left));
            poll = (poll + poll / 2).min(MAX_POLL);
        }
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, String> {
        let name = self.layout.lease();
        let ns = &self.layout.namespace;
        for _ in 0..3 {
            let Some(obj) = self.objs.get(Kind::Lease, &name)? else {
                return Err(format!(
                    "{} is not locked (no Lease {ns}/{name}); nothing to unlock",
                    self.describe()
                ));
            };
            let seen = Seen::parse(&obj);
            if seen.info.id != id {
                return Err(format!(
                    "the state lock is held by {} with lock id {}, not {id}; nothing was \
                     removed. Check that run is gone, then pass its id.",
                    seen.info.holder(),
                    seen.info.id
                ));
            }
            // Only this version of the Lease: if its holder renews it meanwhile, look again.
            if self
                .objs
                .delete(Kind::Lease, &name, seen.resource_version.as_deref())?
            {
                return Ok(seen.info);
            }
        }
        Err(format!(
            "the Lease {ns}/{name} kept changing while it was being removed (its holder is \
             renewing it: that run is alive); nothing was removed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_connection_settings() {
        let mut cfg = BTreeMap::new();
        cfg.insert("host".to_string(), Value::from("https://127.0.0.1:1"));
        cfg.insert("insecure".to_string(), Value::Bool(true));
        cfg.insert("token".to_string(), Value::from("shh").into_sensitive());
        cfg.insert("secret_suffix".to_string(), Value::from("prod"));
        let b = KubernetesBackend::from_config(&cfg, "demo", Path::new("."), "s.yaml").unwrap();
        assert_eq!(
            b.identity(),
            serde_json::json!({"kind": "kubernetes", "namespace": "default",
                "secret_suffix": "prod", "host": "https://127.0.0.1:1"})
        );
        assert_eq!(
            b.describe(),
            "kubernetes state Secret default/mlstack-state-prod at https://127.0.0.1:1"
        );
        assert!(!format!("{b:?}").contains("shh"));
        cfg.remove("host");
        let err = KubernetesBackend::from_config(&cfg, "demo", Path::new("."), "s").unwrap_err();
        assert!(err.contains("go with `host`"), "{err}");
    }
}
