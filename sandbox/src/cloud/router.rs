//! Request paths to what they address. One listener serves every service's paths
//! (`/vpc/v1/…`, `/iam/v1/…`, `/managed-kafka/v1/…`, `/operations/{id}`, …).

use super::types::{TypeSpec, TYPES};

/// What a path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/iam/v1/tokens`
    Tokens,
    /// `/sandbox/v1/status`
    Status,
    /// `/operations/{id}`
    Operation(String),
    /// `/operations/{id}:cancel` (a GET on the real API)
    CancelOperation(String),
    /// `/resource-manager/v1/folders/{id}`
    Folder(String),
    /// `/resource-manager/v1/folders/{id}:<verb>`
    FolderBindings {
        folder: String,
        verb: String,
    },
    /// `/managed-kubernetes/v1/versions`
    Versions,
    /// A collection: top-level (`parent: None`) or nested under its parent.
    Collection {
        spec: &'static TypeSpec,
        parent: Option<String>,
    },
    /// A top-level type listed under its parent (`/vpc/v1/networks/{id}/subnets`).
    SubList {
        spec: &'static TypeSpec,
        parent: String,
    },
    /// One resource.
    Item {
        spec: &'static TypeSpec,
        key: String,
    },
    /// A custom method on one resource (`…/{id}:start`).
    Verb {
        spec: &'static TypeSpec,
        key: String,
        verb: String,
    },
    /// `…/clusters/{id}/hosts` of an MDB cluster.
    Hosts {
        spec: &'static TypeSpec,
        key: String,
    },
    /// `…/clusters/{id}/hosts:<verb>` of a PostgreSQL cluster (`batchCreate`, `batchDelete`).
    HostsVerb {
        spec: &'static TypeSpec,
        key: String,
        verb: String,
    },
    /// `…/{id}/operations`
    History {
        spec: &'static TypeSpec,
        key: String,
    },
    NotFound,
}

fn split_verb(seg: &str) -> (String, Option<String>) {
    match seg.split_once(':') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (seg.to_string(), None),
    }
}

/// Parses the path part of a request URI.
pub fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["iam", "v1", "tokens"] => return Route::Tokens,
        ["sandbox", "v1", "status"] => return Route::Status,
        ["managed-kubernetes", "v1", "versions"] => return Route::Versions,
        ["operations", id] => {
            return match split_verb(id) {
                (id, None) => Route::Operation(id),
                (id, Some(v)) if v == "cancel" => Route::CancelOperation(id),
                _ => Route::NotFound,
            }
        }
        ["resource-manager", "v1", "folders", f] => {
            return match split_verb(f) {
                (folder, Some(verb)) => Route::FolderBindings { folder, verb },
                (folder, None) => Route::Folder(folder),
            }
        }
        _ => {}
    }
    for spec in TYPES
        .iter()
        .copied()
        .filter(|t| t.parent.is_none_or(|p| p.nested.is_none()))
    {
        let base: Vec<&str> = spec.path.split('/').filter(|s| !s.is_empty()).collect();
        let Some(rest) = segs.strip_prefix(base.as_slice()) else {
            continue;
        };
        return match rest {
            [] => Route::Collection { spec, parent: None },
            [last] => match split_verb(last) {
                (key, Some(verb)) => Route::Verb { spec, key, verb },
                (key, None) => Route::Item { spec, key },
            },
            [key, sub] => sub_route(spec, key, sub),
            [key, sub, last] => match nested(spec, sub) {
                Some(child) => {
                    let (name, verb) = split_verb(last);
                    let key = super::crud::child_key(key, &name);
                    match verb {
                        Some(verb) => Route::Verb {
                            spec: child,
                            key,
                            verb,
                        },
                        None => Route::Item { spec: child, key },
                    }
                }
                None => Route::NotFound,
            },
            _ => Route::NotFound,
        };
    }
    Route::NotFound
}

fn nested(parent: &TypeSpec, segment: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().copied().find(|t| {
        t.parent
            .is_some_and(|p| p.kind == parent.kind && p.nested == Some(segment))
    })
}

/// The top-level types the real API also lists under their parent
/// (`NetworkService.ListSubnets`, `ClusterService.ListNodeGroups`; keys are listed only by
/// `GET /iam/v1/keys?serviceAccountId=`).
const LISTED_UNDER_PARENT: &[&str] = &["vpc.subnet", "k8s.nodeGroup"];

fn sub_route(spec: &'static TypeSpec, key: &str, sub: &str) -> Route {
    let key = key.to_string();
    if sub == "operations" && spec.history {
        return Route::History { spec, key };
    }
    if sub == "hosts" && spec.kind.starts_with("mdb.") {
        return Route::Hosts { spec, key };
    }
    if let Some(verb) = sub.strip_prefix("hosts:") {
        if spec.kind == "mdb.postgresql.cluster" {
            return Route::HostsVerb {
                spec,
                key,
                verb: verb.to_string(),
            };
        }
    }
    if let Some(child) = nested(spec, sub) {
        return Route::Collection {
            spec: child,
            parent: Some(key),
        };
    }
    match TYPES.iter().copied().find(|t| {
        t.parent
            .is_some_and(|p| p.kind == spec.kind && p.nested.is_none())
            && t.plural == sub
            && LISTED_UNDER_PARENT.contains(&t.kind)
    }) {
        Some(child) => Route::SubList {
            spec: child,
            parent: key,
        },
        None => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::types::*;

    #[test]
    fn paths() {
        assert_eq!(route("/iam/v1/tokens"), Route::Tokens);
        assert_eq!(
            route("/vpc/v1/networks"),
            Route::Collection {
                spec: &NETWORK,
                parent: None
            }
        );
        assert_eq!(
            route("/vpc/v1/networks/enp1"),
            Route::Item {
                spec: &NETWORK,
                key: "enp1".into()
            }
        );
        assert_eq!(
            route("/vpc/v1/networks/enp1/subnets"),
            Route::SubList {
                spec: &SUBNET,
                parent: "enp1".into()
            }
        );
        assert_eq!(
            route("/managed-kafka/v1/clusters/c1/topics/events"),
            Route::Item {
                spec: &KAFKA_TOPIC,
                key: "c1/events".into()
            }
        );
        assert_eq!(
            route("/managed-postgresql/v1/clusters/c1/users"),
            Route::Collection {
                spec: &PG_USER,
                parent: Some("c1".into())
            }
        );
        assert_eq!(
            route("/managed-kubernetes/v1/clusters/c1/nodeGroups"),
            Route::SubList {
                spec: &K8S_NODE_GROUP,
                parent: "c1".into()
            }
        );
        assert_eq!(
            route("/managed-kafka/v1/clusters/c1/hosts"),
            Route::Hosts {
                spec: &KAFKA_CLUSTER,
                key: "c1".into()
            }
        );
        assert_eq!(
            route("/resource-manager/v1/folders/f:updateAccessBindings"),
            Route::FolderBindings {
                folder: "f".into(),
                verb: "updateAccessBindings".into()
            }
        );
        assert_eq!(route("/operations/op1"), Route::Operation("op1".into()));
        assert_eq!(
            route("/storage/v1/buckets/b.x"),
            Route::Item {
                spec: &BUCKET,
                key: "b.x".into()
            }
        );
        assert_eq!(route("/nope"), Route::NotFound);
        assert_eq!(
            route("/operations/op1:cancel"),
            Route::CancelOperation("op1".into())
        );
        assert_eq!(route("/operations/op1:retry"), Route::NotFound);
        // Routes the real API does not have.
        assert_eq!(route("/iam/v1/serviceAccounts/aje1/keys"), Route::NotFound);
        assert_eq!(route("/storage/v1/buckets/b/operations"), Route::NotFound);
        assert_eq!(
            route("/managed-postgresql/v1/clusters/c1/hosts:batchCreate"),
            Route::HostsVerb {
                spec: &PG_CLUSTER,
                key: "c1".into(),
                verb: "batchCreate".into()
            }
        );
        assert_eq!(
            route("/managed-kafka/v1/clusters/c1/hosts:batchCreate"),
            Route::NotFound
        );
    }
}
