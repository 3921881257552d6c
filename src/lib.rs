//! `mlstack`: a declarative provisioner for a complete MLOps environment.
//!
//! Stages, one module each: [`stack`] (parse and expand), [`graph`] (dependencies), [`plan`]
//! (compute, save, render), [`apply`] (execute), [`state`] (record and lock). The engine speaks
//! to providers only through [`mlstack_provider_api::Provider`]; [`cli`] is a thin layer on top.

pub mod apply;
pub mod builtin;
pub mod cli;
pub mod diag;
pub mod generate;
pub mod graph;
pub mod plan;
pub mod providers;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod session;
pub mod stack;
pub mod state;
pub mod walk;

pub use mlstack_provider_api as provider_api;
