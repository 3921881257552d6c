//! mlstack's sandbox: an emulated Yandex Cloud REST API ([`Cloud`], whose Managed
//! Kubernetes clusters each run a [`KubeApi`]) and the sandbox Kubernetes API, an honest
//! emulator of the Kubernetes API server on loopback (TLS with a CA kept in the data
//! directory, bearer token), with discovery, a generic object store
//! for the built-in kinds mlstack uses and for CRD-registered types, CRUD with label
//! selectors, merge/JSON/strategic patches, server-side apply with `managedFields`
//! ownership, `dryRun=All`, the status subresource, defaulting, persistence, simulated
//! controllers and fault injection. Nothing runs in it. The real `kubectl` works against it
//! (`get`, `apply --server-side --validate=false`, `diff --server-side`, `delete`).
//!
//! Simplifications, on purpose: no watch, no OpenAPI (hence `--validate=false`), strategic
//! merge patch is a merge patch whose keyed lists merge by key, deletion is immediate
//! (no finalizers or graceful termination), and a CRD is Established at once.

mod api;
mod apply;
mod catalog;
mod cloud;
mod config;
mod controllers;
mod defaults;
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
mod paginate;
mod patch;
mod router;
mod scale;
mod selector;
mod server;
mod store;
mod tls;
mod watch;
mod write;
mod yaml;

pub use cloud::{Cloud, CloudConfig, CloudHandle, CloudStatus, ClusterStatus};
pub use config::{Faults, SandboxConfig, TokenCheck};
pub use kubeconfig::{kubeconfig, kubeconfig_for, kubeconfig_with_client_cert};
pub use server::{Handle, KubeApi, StartError};
