//! The plain data every stage shares: findings and their locations, rendered objects, policy
//! violations, the one registry of rule ids, and facts about Kubernetes kinds. Nothing here
//! imports a stage; every stage imports from here.

mod finding;
pub mod kinds;
pub mod kube_version;
pub mod outcome;
pub mod rules;
pub mod violation;

pub use finding::{Finding, Location, ObjectRef, Severity, Summary};
pub use outcome::{Affected, CacheStats, CheckResult, SourceText, Suppressed};
pub use violation::{EvalError, Violation};
