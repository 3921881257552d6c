//! The few object operations the backend needs (get, create-if-absent, replace under a
//! resourceVersion precondition, delete), as a trait so that the storage and lock logic can be
//! tested against an in-memory double, and its implementation over the kubernetes provider's
//! REST client, run on a [`Worker`].

use super::super::worker::Worker;
use mlstack_provider_kubernetes::{RestClient, RestResponse};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::Duration;

/// How often a request answered with a transient 409 is tried.
const CONFLICT_TRIES: u32 = 5;

/// The two kinds the backend stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Secret,
    Lease,
}

impl Kind {
    fn collection(self, namespace: &str) -> String {
        match self {
            Kind::Secret => format!("/api/v1/namespaces/{namespace}/secrets"),
            Kind::Lease => {
                format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases")
            }
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Secret => "Secret",
            Kind::Lease => "Lease",
        }
    }
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// Create: the object exists. Replace: it changed since it was read (409).
    Conflict,
    /// Replace: the object is gone.
    Missing,
}

/// Objects in the backend's namespace.
pub trait Objects: Send + Sync {
    /// The object, `None` when absent.
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Json>, String>;
    /// Creates `obj` only when no object has its name.
    fn create(&self, kind: Kind, obj: &Json) -> Result<Written, String>;
    /// Replaces the object; a `metadata.resourceVersion` in `obj` is a precondition.
    fn replace(&self, kind: Kind, name: &str, obj: &Json) -> Result<Written, String>;
    /// Deletes it (only at `resource_version` when given); `Ok(false)` when it was not there.
    fn delete(
        &self,
        kind: Kind,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<bool, String>;
}

/// [`Objects`] on a real API server.
#[derive(Debug)]
pub struct KubeApi {
    rest: Arc<RestClient>,
    worker: Worker,
    namespace: String,
}

impl KubeApi {
    pub fn new(rest: RestClient, namespace: &str) -> Result<KubeApi, String> {
        Ok(KubeApi {
            rest: Arc::new(rest),
            worker: Worker::start("mlstack-kubernetes-state")?,
            namespace: namespace.to_string(),
        })
    }

    pub fn server(&self) -> &str {
        self.rest.server()
    }

    fn call(
        &self,
        method: &'static str,
        path: String,
        body: Option<Json>,
    ) -> Result<RestResponse, String> {
        let rest = self.rest.clone();
        let shown = path.clone();
        self.worker
            .run(async move { rest.request(method, &path, body.as_ref()).await })
            .ok_or("the kubernetes state backend's worker thread has stopped")?
            .map_err(|e| format!("{method} {shown} at {}: {e}", self.rest.server()))
    }

    /// [`Self::call`], trying again on a 409 that cannot be the answer the caller asked for
    /// (`conclusive` says which are): an API server (or the sandbox's fault injection) may
    /// answer a transient conflict to any write, and retrying it is what the provider does too.
    fn call_settled(
        &self,
        method: &'static str,
        path: String,
        body: Option<Json>,
        conclusive: impl Fn(&RestResponse) -> bool,
    ) -> Result<RestResponse, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let resp = self.call(method, path.clone(), body.clone())?;
            if resp.status != 409 || conclusive(&resp) || attempt >= CONFLICT_TRIES {
                return Ok(resp);
            }
            std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
        }
    }

    fn path(&self, kind: Kind, name: &str) -> String {
        format!("{}/{name}", kind.collection(&self.namespace))
    }

    /// `<what> failed: HTTP 403 (...)` with advice for the usual causes.
    fn failure(&self, what: &str, kind: Kind, name: &str, resp: &RestResponse) -> String {
        let advice = match resp.status {
            401 => format!(
                "; the API server at {} did not accept the credentials (token, kubeconfig user)",
                self.rest.server()
            ),
            403 => format!(
                "; the state backend needs get, create, update and delete on Secrets and \
                 Leases (coordination.k8s.io) in namespace `{}`",
                self.namespace
            ),
            404 if resp.message().contains("namespaces") => format!(
                "; create the namespace `{}` first (mlstack does not create its own state \
                 namespace)",
                self.namespace
            ),
            _ => String::new(),
        };
        format!(
            "{what} the {} {}/{name} at {} failed: HTTP {} ({}){advice}",
            kind.noun(),
            self.namespace,
            self.rest.server(),
            resp.status,
            resp.message()
        )
    }
}

impl Objects for KubeApi {
    fn get(&self, kind: Kind, name: &str) -> Result<Option<Json>, String> {
        let resp = self.call_settled("GET", self.path(kind, name), None, |_| false)?;
        match resp.status {
            s if (200..300).contains(&s) => Ok(Some(resp.body)),
            404 => Ok(None),
            _ => Err(self.failure("reading", kind, name, &resp)),
        }
    }

    fn create(&self, kind: Kind, obj: &Json) -> Result<Written, String> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let resp = self.call_settled(
            "POST",
            kind.collection(&self.namespace),
            Some(obj.clone()),
            |r| r.body["reason"] == "AlreadyExists",
        )?;
        match resp.status {
            s if (200..300).contains(&s) => Ok(Written::Done),
            409 => Ok(Written::Conflict),
            _ => Err(self.failure("creating", kind, name, &resp)),
        }
    }

    fn replace(&self, kind: Kind, name: &str, obj: &Json) -> Result<Written, String> {
        // Under a resourceVersion precondition a 409 is the answer ("changed since read"),
        // which the caller checks by reading again; without one it can only be transient.
        let conditional = obj["metadata"]["resourceVersion"].is_string();
        let resp = self.call_settled("PUT", self.path(kind, name), Some(obj.clone()), |_| {
            conditional
        })?;
        match resp.status {
            s if (200..300).contains(&s) => Ok(Written::Done),
            409 => Ok(Written::Conflict),
            404 => Ok(Written::Missing),
            _ => Err(self.failure("updating", kind, name, &resp)),
        }
    }

    fn delete(
        &self,
        kind: Kind,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<bool, String> {
        let body = resource_version.map(|rv| {
            json!({"kind": "DeleteOptions", "apiVersion": "v1",
                   "preconditions": {"resourceVersion": rv}})
        });
        let conditional = body.is_some();
        let resp = self.call_settled("DELETE", self.path(kind, name), body, |_| conditional)?;
        match resp.status {
            s if (200..300).contains(&s) => Ok(true),
            404 => Ok(false),
            // The precondition failed: it changed since it was read; it is not ours to delete.
            409 => Ok(false),
            _ => Err(self.failure("deleting", kind, name, &resp)),
        }
    }
}

#[cfg(test)]
pub mod fake {
    //! An in-memory [`Objects`] with resourceVersions, for unit tests.

    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Fake {
        pub objects: Mutex<BTreeMap<(Kind, String), Json>>,
        version: Mutex<u64>,
    }

    impl Fake {
        fn next(&self) -> String {
            let mut v = self.version.lock().unwrap();
            *v += 1;
            v.to_string()
        }

        pub fn names(&self, kind: Kind) -> Vec<String> {
            let objects = self.objects.lock().unwrap();
            objects
                .keys()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.clone())
                .collect()
        }
    }

    impl Objects for Fake {
        fn get(&self, kind: Kind, name: &str) -> Result<Option<Json>, String> {
            Ok(self
                .objects
                .lock()
                .unwrap()
                .get(&(kind, name.to_string()))
                .cloned())
        }

        fn create(&self, kind: Kind, obj: &Json) -> Result<Written, String> {
            let name = obj["metadata"]["name"].as_str().unwrap().to_string();
            let rv = self.next();
            let mut objects = self.objects.lock().unwrap();
            if objects.contains_key(&(kind, name.clone())) {
                return Ok(Written::Conflict);
            }
            let mut obj = obj.clone();
            obj["metadata"]["resourceVersion"] = rv.into();
            objects.insert((kind, name), obj);
            Ok(Written::Done)
        }

        fn replace(&self, kind: Kind, name: &str, obj: &Json) -> Result<Written, String> {
            let rv = self.next();
            let mut objects = self.objects.lock().unwrap();
            let Some(old) = objects.get(&(kind, name.to_string())) else {
                return Ok(Written::Missing);
            };
            if let Some(want) = obj["metadata"]["resourceVersion"].as_str() {
                if old["metadata"]["resourceVersion"].as_str() != Some(want) {
                    return Ok(Written::Conflict);
                }
            }
            let mut obj = obj.clone();
            obj["metadata"]["resourceVersion"] = rv.into();
            objects.insert((kind, name.to_string()), obj);
            Ok(Written::Done)
        }

        fn delete(
            &self,
            kind: Kind,
            name: &str,
            resource_version: Option<&str>,
        ) -> Result<bool, String> {
            let mut objects = self.objects.lock().unwrap();
            let key = (kind, name.to_string());
            match objects.get(&key) {
                Some(o)
                    if resource_version.is_none()
                        || o["metadata"]["resourceVersion"].as_str() == resource_version =>
                {
                    objects.remove(&key);
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
    }
}
