//! kgate: a CI policy gate and manifest linter for GitOps repositories.
pub mod config;
pub mod finding;
pub mod rules;
pub mod yaml;
pub mod policy;
