//! kgate: a CI policy gate and manifest linter for GitOps repositories.
//!
//! The library owns the pipeline, `discover -> render -> validate -> evaluate (policy) ->
//! gate -> report`; the `kgate` binary only parses arguments and prints. Layers depend
//! downward only (`tests/layers.rs` guards it; `docs/architecture.md` explains it):
//!
//! ```text
//! app -> {discover, render, validate, policy, gate, report} -> config -> {model, source, yaml}
//! ```
//!
//! Stages exchange plain data from [`model`]: [`Finding`], [`model::Violation`],
//! [`model::CheckResult`].

pub mod app;
pub mod config;
pub mod discover;
pub mod gate;
pub mod model;
pub mod policy;
pub mod render;
pub mod report;
pub mod source;
pub mod validate;
pub mod yaml;

pub use app::check::{CheckError, CheckOptions, check};
pub use model::{CheckResult, Finding, Location, ObjectRef, Severity, Summary};
