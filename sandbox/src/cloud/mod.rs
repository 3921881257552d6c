//! mlstack's sandbox cloud: an emulator of the Yandex Cloud REST API on loopback (TLS, IAM
//! tokens from an OAuth token or a service account's PS256 JWT) for the resources mlstack
//! provisions: VPC networks and subnets, IAM service accounts and keys, folder access
//! bindings, Managed Kubernetes clusters and node groups (each running cluster gets its own
//! sandbox Kubernetes API), Managed Kafka and PostgreSQL clusters with their topics, users
//! and databases, and Object Storage buckets. Long-running operations, idempotency keys,
//! `updateMask`, error bodies and codes follow the reference
//! (/work/shared/reference/yandex_api.md); everything persists under the data directory.
//!
//! Only the methods the published API has are served (tests hold the traffic to the
//! `yandexcloud` descriptors, see [`crate::conformance`]), each on its service's host when
//! the request names one (`hosts.rs`).
//!
//! Simplifications, on purpose: one cloud and any folder id; the real custom methods
//! (`:start`, `:move`, `:grantPermission`, …) answer NOT_IMPLEMENTED, except PostgreSQL's
//! `hosts:batchCreate`/`:batchDelete`; operations never fail asynchronously nor can be
//! cancelled; nothing runs (a Kafka "broker" is a host name).

mod access;
mod api;
mod auth;
mod clock;
mod clusters;
mod config;
mod crud;
mod disk;
mod errors;
mod hooks;
mod hosts;
mod ids;
mod json;
mod jwt;
mod keys;
mod list;
mod mdb;
mod mk8s;
mod operations;
mod pg_config;
mod pg_hosts;
mod router;
mod server;
mod state;
mod status;
mod types;
mod update;

pub use config::CloudConfig;
pub use server::{Cloud, CloudHandle};
pub use status::{CloudStatus, ClusterApiStats, ClusterStatus};
