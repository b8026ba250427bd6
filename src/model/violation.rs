//! What policy evaluation hands the rest of the pipeline: a rule's verdict on an object, or
//! why the rule could not be evaluated. Validation reports schema errors in the same shape.

use crate::yaml::PathSegment;

/// A violation reported by a rule for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: String,
    pub message: String,
    pub path: Option<Vec<PathSegment>>,
    /// For root-scope rules: the index in `input.objects` of the object concerned.
    pub object: Option<usize>,
}

/// A rule that could not be evaluated on one object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}` failed: {message}")]
pub struct EvalError {
    pub rule: String,
    pub message: String,
}
