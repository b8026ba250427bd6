//! kgate: a CI policy gate and manifest linter for GitOps repositories.
//!
//! The library owns the pipeline (`discover -> render -> validate -> evaluate -> gate ->
//! report`); the
//! `kgate` binary only parses arguments and prints. Stages exchange plain data:
//! [`discover::SourceFile`], [`manifest::Manifest`], [`finding::Finding`].

pub mod baseline;
pub mod changes;
pub mod check;
pub mod config;
pub mod context;
pub mod discover;
pub mod drift;
pub mod entry;
pub mod evaluate;
pub mod finding;
pub mod gate;
pub mod graph;
pub mod init;
pub mod layout;
pub mod manifest;
pub mod policy;
pub mod render;
pub mod report;
pub mod roots;
pub mod rules;
pub mod suppress;
pub mod validate;
pub mod yaml;

pub use check::{CheckError, CheckOptions, CheckResult, check};
pub use finding::{Finding, Location, ObjectRef, Severity, Summary};
