//! mlstack's sandbox: an emulated Yandex Cloud REST API ([`Cloud`], whose Managed
//! Kubernetes clusters each run a [`KubeApi`]) and the sandbox Kubernetes API, an honest
//! emulator of the Kubernetes API server on loopback (TLS with a CA kept in the data
//! directory, bearer token), with discovery, a generic object store
//! for the built-in kinds mlstack uses and for CRD-registered types, CRUD with label
//! selectors, merge/JSON/strategic patches, server-side apply with `managedFields`
//! ownership, `dryRun=All`, the status subresource, defaulting, persistence, simulated
//! controllers and fault injection (latency, error answers, dropped connections) into every
//! API, the clusters' included, counted per API ([`ApiStats`], on the cloud's status page).
//! Nothing runs in it. The real `kubectl` works against it with validation on
//! (`get`, `apply` client- and server-side, `create -f`, `explain`, `diff --server-side`,
//! `patch`, `label`, `delete --wait`, `auth can-i`), and so does the official Python client.
//! `/openapi/v2` (JSON) and `/openapi/v3` are generated from one typed description of the
//! built-in kinds and from CRDs' `openAPIV3Schema` (`openapi/`); the same schemas drive
//! `fieldValidation` (Strict/Warn/Ignore for unknown and duplicate fields) and the
//! defaulting, validation and pruning of custom resources. Strategic merge patch honours its directives;
//! writes are validated where the apiserver validates (`validate/`: decode 400s, 422 causes),
//! DELETE preconditions are checked, and `SelfSubjectAccessReview`s are always allowed.
//!
//! List and watch follow the apiserver (resourceVersion window, bookmarks, 410 Expired,
//! `limit`/`continue`).
//!
//! Simplifications, on purpose: no protobuf (bodies except the self reviews, nor
//! `/openapi/v2`), built-in structs the description leaves open keep unknown fields, no
//! CEL rules in CRD schemas, only part of apiserver validation, and a CRD is Established
//! at once. Deletion follows the real registry (finalizers, graceful Pods,
//! Terminating namespaces, garbage collection of ownerReferences); the controllers create
//! ReplicaSets and Pods as records on one simulated node.

mod api;
mod apply;
mod catalog;
mod cloud;
mod config;
pub mod conformance;
mod controllers;
mod defaults;
mod delete;
mod discovery;
mod error;
mod events;
mod fields;
mod files;
mod immutable;
mod kubeconfig;
mod listen;
mod managed;
mod meta;
mod openapi;
mod paginate;
mod patch;
mod review;
mod router;
mod scale;
mod selector;
mod server;
mod stats;
mod store;
mod strategic;
mod tls;
mod validate;
mod watch;
mod write;
mod yaml;

pub use cloud::{Cloud, CloudConfig, CloudHandle, CloudStatus, ClusterApiStats, ClusterStatus};
pub use config::{Faults, SandboxConfig, TokenCheck};
pub use kubeconfig::{kubeconfig, kubeconfig_for, kubeconfig_with_client_cert};
pub use server::{Handle, KubeApi, StartError};
pub use stats::{ApiStats, Counters};
