//! Monitoring generated from types: Prometheus alert rules (plain files and `PrometheusRule`
//! objects), promtool unit tests for every alert, the Alertmanager configuration, Grafana
//! dashboards and the runbooks the alerts link to — all from one [`MonitoringSpec`].
//!
//! [`render_all`] is the entry point `mlstack render` uses: it validates the spec and returns
//! every file by its relative path. Nothing here touches the network or the filesystem.

pub mod alertmanager;
pub mod alerts;
pub mod duration;
pub mod pipeline;
pub mod promql;
pub mod queries;
pub mod rules;
pub mod spec;
pub mod template;
pub mod validate;
pub mod yaml;

pub use spec::{AppSpec, KafkaSpec, MonitoringSpec, ReceiversSpec};
pub use validate::SpecError;
