//! The lock: a `coordination.k8s.io/v1` Lease `mlstack-lock-<suffix>` created only when absent
//! (a second creator gets 409), naming its holder in `holderIdentity` and, in full, in an
//! annotation. The holder renews `renewTime` every few seconds; a Lease not renewed for its
//! `leaseDurationSeconds` belongs to a run that is gone (killed, cut off), and the next run
//! takes it over, replacing it under its resourceVersion so that only one run can.

use super::super::lock::LockInfo;
use super::api::{Kind, Objects, Written};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a Lease stays valid without renewal.
pub const LEASE_SECONDS: u64 = 30;
/// How often the holder renews it (a third of the duration: two renewals may fail in a row).
pub const RENEW_EVERY: Duration = Duration::from_secs(LEASE_SECONDS / 3);
/// The annotation holding the holder's [`LockInfo`] as JSON.
pub const INFO_ANNOTATION: &str = "mlstack.dev/lock-info";

/// A Lease as read.
#[derive(Debug, Clone)]
pub struct Seen {
    pub info: LockInfo,
    /// When it stops being valid (`None`: it never said; such a Lease never expires).
    pub expires: Option<SystemTime>,
    pub resource_version: Option<String>,
}

impl Seen {
    pub fn parse(obj: &Json) -> Seen {
        let info = obj["metadata"]["annotations"][INFO_ANNOTATION]
            .as_str()
            .and_then(|t| serde_json::from_str::<LockInfo>(t).ok())
            .unwrap_or_else(|| foreign(obj));
        let renewed = obj["spec"]["renewTime"]
            .as_str()
            .or(obj["spec"]["acquireTime"].as_str())
            .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok());
        let duration = obj["spec"]["leaseDurationSeconds"].as_u64();
        Seen {
            info,
            expires: match (renewed, duration) {
                (Some(r), Some(d)) => r.checked_add(Duration::from_secs(d)),
                _ => None,
            },
            resource_version: obj["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string),
        }
    }

    /// Whether the holder stopped renewing it before `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|e| e < now)
    }
}

/// A Lease mlstack did not write (or whose annotation was removed) still blocks, under an id
/// derived from its holderIdentity, so that `force-unlock` can clear it.
fn foreign(obj: &Json) -> LockInfo {
    let who = obj["spec"]["holderIdentity"].as_str().unwrap_or("");
    let digest = super::super::s3::sigv4::sha256_hex(who.as_bytes());
    LockInfo {
        id: format!("unreadable-{}", &digest[..16]),
        host: if who.is_empty() {
            "an unknown holder".into()
        } else {
            format!("`{who}`")
        },
        pid: 0,
        command: format!("not recorded: the Lease has no {INFO_ANNOTATION} annotation"),
        operation: "unknown".into(),
        created: "an unknown time".into(),
        machine: String::new(),
    }
}

fn micro_time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// The Lease naming `info` as holder, renewed at `now`.
pub fn body(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    info: &LockInfo,
    acquired: SystemTime,
    now: SystemTime,
    resource_version: Option<&str>,
) -> Result<Json, String> {
    let text =
        serde_json::to_string(info).map_err(|e| format!("cannot describe the lock holder: {e}"))?;
    let labels: Map<String, Json> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Json::from(v.as_str())))
        .collect();
    let mut metadata = json!({
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "annotations": {INFO_ANNOTATION: text},
    });
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = rv.into();
    }
    Ok(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": format!("{}/{}/{}", info.host, info.pid, info.id),
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": micro_time(acquired),
            "renewTime": micro_time(now),
        },
    }))
}

/// Everything needed to write the Lease again (renewal, release).
#[derive(Clone)]
pub struct LeaseRef {
    pub objs: Arc<dyn Objects>,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub info: LockInfo,
    pub acquired: SystemTime,
}

impl LeaseRef {
    /// The Lease as it is now, if it is still ours.
    fn ours(&self) -> Result<Option<Seen>, String> {
        Ok(self
            .objs
            .get(Kind::Lease, &self.name)?
            .map(|o| Seen::parse(&o))
            .filter(|s| s.info.id == self.info.id))
    }

    /// Moves `renewTime` to now. `Ok(false)`: the Lease is no longer ours.
    pub fn renew(&self) -> Result<bool, String> {
        for _ in 0..3 {
            let Some(seen) = self.ours()? else {
                return Ok(false);
            };
            let lease = body(
                &self.name,
                &self.namespace,
                &self.labels,
                &self.info,
                self.acquired,
                SystemTime::now(),
                seen.resource_version.as_deref(),
            )?;
            match self.objs.replace(Kind::Lease, &self.name, &lease)? {
                Written::Done => return Ok(true),
                Written::Missing => return Ok(false),
                Written::Conflict => continue,
            }
        }
        Err("the Lease keeps changing under its holder".into())
    }

    /// Deletes the Lease if it is still ours (reading it again when the delete's
    /// resourceVersion precondition fails: the renewal may have moved it).
    pub fn release(&self) -> Result<(), String> {
        for _ in 0..3 {
            let Some(seen) = self.ours()? else {
                return Ok(());
            };
            if self
                .objs
                .delete(Kind::Lease, &self.name, seen.resource_version.as_deref())?
            {
                return Ok(());
            }
        }
        Err(format!(
            "the Lease {}/{} kept changing while it was being deleted",
            self.namespace, self.name
        ))
    }
}

/// Why the lock was lost, when it was (shared with the backend, which then refuses to write).
pub type Lost = Arc<Mutex<Option<String>>>;

/// The background renewal of a held Lease; stops (without releasing) when dropped.
pub struct Renewal {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Renewal {
    pub fn start(lease: LeaseRef, lost: Lost) -> Result<Renewal, String> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mlstack-lease-renewal".into())
            .spawn(move || renew_until_stopped(&lease, &lost, &stopped))
            .map_err(|e| format!("cannot start renewing the state lock: {e}"))?;
        Ok(Renewal {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn renew_until_stopped(lease: &LeaseRef, lost: &Lost, stopped: &mpsc::Receiver<()>) {
    let mut warned = false;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(RENEW_EVERY) {
        match lease.renew() {
            Ok(true) => warned = false,
            Ok(false) => {
                let why = format!(
                    "the state lock {} (Lease {}/{}) was removed or taken over by another run \
                     while this run held it",
                    lease.info.id, lease.namespace, lease.name
                );
                eprintln!("\nWarning: {why}; this run will not write the state any more.");
                if let Ok(mut l) = lost.lock() {
                    *l = Some(why);
                }
                return;
            }
            Err(e) if !warned => {
                warned = true;
                eprintln!(
                    "\nWarning: cannot renew the state lock (retrying every {}s; it expires \
                     {LEASE_SECONDS}s after the last renewal): {e}",
                    RENEW_EVERY.as_secs()
                );
            }
            Err(_) => {}
        }
    }
}

impl Drop for Renewal {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> LockInfo {
        LockInfo {
            id: "abc".into(),
            host: "box".into(),
            pid: 7,
            command: "mlstack apply s.yaml".into(),
            operation: "apply".into(),
            created: "2024-01-01T00:00:00Z".into(),
            machine: String::new(),
        }
    }

    #[test]
    fn a_lease_round_trips_and_expires() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let b = body(
            "mlstack-lock-demo",
            "default",
            &BTreeMap::new(),
            &info(),
            t0,
            t0,
            None,
        )
        .unwrap();
        assert_eq!(b["spec"]["holderIdentity"], "box/7/abc");
        assert_eq!(b["spec"]["renewTime"], "2023-11-14T22:13:20.000000Z");
        let seen = Seen::parse(&b);
        assert_eq!(seen.info, info());
        assert!(!seen.expired(t0 + Duration::from_secs(LEASE_SECONDS)));
        assert!(seen.expired(t0 + Duration::from_secs(LEASE_SECONDS + 1)));
    }

    #[test]
    fn a_foreign_lease_blocks_under_a_stable_id_and_never_expires_without_times() {
        let obj = json!({"spec": {"holderIdentity": "someone"}});
        let a = Seen::parse(&obj);
        assert!(a.info.id.starts_with("unreadable-"));
        assert_eq!(a.info.id, Seen::parse(&obj).info.id);
        assert!(!a.expired(SystemTime::now()));
    }
}
