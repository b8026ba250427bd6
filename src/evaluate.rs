//! Turning policy results on one object into findings, for plain manifests and rendered
//! roots alike: the offending field's node says where the finding points.

use std::collections::BTreeMap;

use crate::finding::{Finding, Location, ObjectRef, Severity};
use crate::policy::{EvalError, Violation};
use crate::rules::{self, RuleInfo};
use crate::yaml::{FileId, Node, Pos, Value, json_pointer};

/// Resolves a node's file and position to a report location.
pub trait Locator {
    fn location(&self, file: FileId, pos: Pos, end: Option<Pos>) -> Location;
}

/// Findings for the results of evaluating `object` (rooted at `node`).
pub fn findings(
    results: Vec<Result<Violation, EvalError>>,
    node: &Node,
    object: &ObjectRef,
    roots: &[String],
    rules: &BTreeMap<String, RuleInfo>,
    locator: &dyn Locator,
) -> Vec<Finding> {
    results
        .into_iter()
        .map(|r| match r {
            Ok(v) => {
                let info = rules.get(&v.rule);
                let (location, pointer) = match &v.path {
                    Some(path) => {
                        let located = node.locate(path);
                        // Underline scalars whole; for collections the key alone is marked.
                        let scalar = !matches!(located.node.value, Value::Map(_) | Value::Seq(_));
                        let end = (located.complete && scalar).then_some(located.node.end);
                        let file = if located.depth == 0 {
                            node.file
                        } else {
                            located.node.file
                        };
                        (
                            locator.location(file, located.pos, end),
                            Some(json_pointer(path)),
                        )
                    }
                    None => (locator.location(node.file, node.start, None), None),
                };
                Finding {
                    severity: info.map_or(Severity::Error, |i| i.severity),
                    help: info.map(|i| i.remediation.clone()).unwrap_or_default(),
                    rule: v.rule,
                    message: v.message,
                    location,
                    object: Some(object.clone()),
                    pointer,
                    roots: roots.to_vec(),
                }
            }
            Err(e) => Finding {
                rule: rules::POLICY_ERROR.to_owned(),
                severity: Severity::Error,
                message: format!(
                    "rule `{}` could not be evaluated on this object: {}",
                    e.rule, e.message
                ),
                help: "Fix the policy; the object was not fully checked.".to_owned(),
                location: locator.location(node.file, node.start, None),
                object: Some(object.clone()),
                pointer: None,
                roots: roots.to_vec(),
            },
        })
        .collect()
}
