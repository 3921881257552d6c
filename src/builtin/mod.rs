//! Providers built into the engine crate because they use engine code (the monitoring
//! generator). Pure: no network, no files; their data sources are read at plan time.

pub mod monitoring;

pub use monitoring::MonitoringProvider;
