//! Rendering a [`Plan`](crate::plan::Plan) for people and tools: [`human`] for a terminal,
//! [`markdown`] for a pull-request comment, [`json`] in Terraform's plan JSON shape for policy
//! tools. Printing is kept apart from computing: these functions only read the plan.
//!
//! Every renderer shows a sensitive value as `(sensitive value)` (or `null` plus a
//! `*_sensitive` mark in JSON) and never its data, length or a diff of it.

mod address;
mod block;
mod diff;
mod human;
mod json;
mod lines;
mod markdown;
mod md;
mod style;
mod text;

pub use human::human;
pub use json::json;
pub use markdown::{markdown, MARKDOWN_LIMIT};
