//! Turning policy results on one object into findings, for plain manifests and rendered
//! roots alike: the offending field's node says where the finding points.

use std::collections::BTreeMap;

use crate::model::rules::{self, RuleInfo};
use crate::model::{Finding, Location, ObjectRef, Severity};
use crate::policy::{EvalError, Violation};
use crate::yaml::{FileId, Node, Pos, Value, json_pointer};

/// Resolves a node's file and position to a report location.
pub trait Locator {
    fn location(&self, file: FileId, pos: Pos, end: Option<Pos>) -> Location;

    /// Where the field at `pointer`, missing from the object, was removed (Helm values that
    /// set a chart default to `null`), when that is known.
    fn removed(&self, _pointer: &str) -> Option<Location> {
        None
    }
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
    let annotations = node.get("metadata").and_then(|m| m.get("annotations"));
    // A Secret's lines hold its values; a sensitive rule's finding points at one.
    let secret = object.kind == "Secret";
    let hide = |rule: &str| secret || rules.get(rule).is_some_and(|i| i.sensitive);
    results
        .into_iter()
        .flat_map(|r| match &r {
            // `ignore-check.kgate.io/<rule>: "<reason>"` on the object suppresses the rule;
            // without a reason it does not, and says so.
            Ok(v) => match crate::model::outcome::annotation_reason(annotations, &v.rule) {
                Some(reason) if reason.is_empty() => {
                    let invalid = Err(EvalError {
                        rule: crate::model::rules::INVALID_SUPPRESSION.to_owned(),
                        message: format!("ignore-check.kgate.io/{}", v.rule),
                    });
                    vec![r, invalid]
                }
                Some(_) => Vec::new(),
                None => vec![r],
            },
            Err(_) => vec![r],
        })
        .map(|r| match r {
            Err(e) if e.rule == crate::model::rules::INVALID_SUPPRESSION => Finding {
                hide_source: secret,
                rule: e.rule,
                severity: Severity::Error,
                message: format!(
                    "the annotation `{}` has no reason, so it does not suppress",
                    e.message
                ),
                help: "Give the reason as the annotation's value.".to_owned(),
                location: locator.location(node.file, node.start, None),
                object: Some(object.clone()),
                pointer: None,
                roots: roots.to_vec(),
            },
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
                        let removed = (!located.complete)
                            .then(|| locator.removed(&json_pointer(&path[..=located.depth])))
                            .flatten();
                        (
                            removed.unwrap_or_else(|| locator.location(file, located.pos, end)),
                            Some(json_pointer(path)),
                        )
                    }
                    None => (locator.location(node.file, node.start, None), None),
                };
                Finding {
                    hide_source: hide(&v.rule),
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
                hide_source: secret,
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
