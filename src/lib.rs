//! kgate: a CI policy gate and manifest linter for GitOps repositories.
pub mod yaml;
