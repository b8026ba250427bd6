//! Reading what a rule's `deny` returned: violations of object and root rules (a message,
//! optionally a `path` and the index of the `object`), and of repository rules (a `file`).

use crate::yaml::PathSegment;

use super::{EvalError, Violation};

/// A violation of a repository-scope rule: a message about a file or directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepoViolation {
    pub rule: String,
    pub message: String,
    /// Relative to the scanned root.
    pub file: String,
    pub line: Option<u32>,
}

/// The violations (or errors) of each rule's results, read by `of` (root and repository
/// rules, whose `deny` is evaluated per rule).
pub(super) fn all_violations<T>(
    results: Vec<(String, Result<regorus::Value, EvalError>)>,
    of: impl Fn(&str, &regorus::Value) -> Vec<Result<T, EvalError>>,
) -> Vec<Result<T, EvalError>> {
    (results.into_iter())
        .flat_map(|(id, result)| match result {
            Ok(value) => of(&id, &value),
            Err(e) => vec![Err(e)],
        })
        .collect()
}

pub(super) fn repo_violations_of(
    rule: &str,
    value: &regorus::Value,
) -> Vec<Result<RepoViolation, EvalError>> {
    let bad = |what: String| EvalError {
        rule: rule.to_owned(),
        message: what,
    };
    let json = match serde_json::to_value(value) {
        Ok(j) => j,
        Err(e) => return vec![Err(bad(e.to_string()))],
    };
    let items = match json {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Null => Vec::new(),
        other => return vec![Err(bad(format!("`deny` must be a set, got {other}")))],
    };
    items
        .into_iter()
        .map(|item| {
            let msg = item.get("msg").and_then(|m| m.as_str());
            let file = item.get("file").and_then(|m| m.as_str());
            match (msg, file) {
                (Some(msg), Some(file)) => Ok(RepoViolation {
                    rule: rule.to_owned(),
                    message: msg.to_owned(),
                    file: file.to_owned(),
                    line: item
                        .get("line")
                        .and_then(serde_json::Value::as_u64)
                        .and_then(|l| u32::try_from(l).ok()),
                }),
                _ => Err(bad(format!(
                    "a repository rule reports `{{\"msg\": ..., \"file\": ...}}`, got {item}"
                ))),
            }
        })
        .collect()
}

/// Reads a `deny` result: a set (or array) of messages or `{msg, path}` objects.
pub(crate) fn violations_of(
    rule: &str,
    value: &regorus::Value,
) -> Vec<Result<Violation, EvalError>> {
    let json = match serde_json::to_value(value) {
        Ok(j) => j,
        Err(e) => {
            return vec![Err(EvalError {
                rule: rule.to_owned(),
                message: format!("result is not JSON: {e}"),
            })];
        }
    };
    let items = match json {
        serde_json::Value::Array(items) => items,
        // An undefined `deny` (no violations) serializes as a string "<undefined>" or null.
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::String(s) if s == "<undefined>" => Vec::new(),
        serde_json::Value::Object(o) if o.is_empty() => Vec::new(),
        other => {
            return vec![Err(EvalError {
                rule: rule.to_owned(),
                message: format!("`deny` must be a set of messages, got {other}"),
            })];
        }
    };
    items
        .into_iter()
        .map(|item| violation_of(rule, item))
        .collect()
}

fn violation_of(rule: &str, item: serde_json::Value) -> Result<Violation, EvalError> {
    let bad = |what: String| EvalError {
        rule: rule.to_owned(),
        message: what,
    };
    match item {
        serde_json::Value::String(message) => Ok(Violation {
            rule: rule.to_owned(),
            message,
            path: None,
            object: None,
        }),
        serde_json::Value::Object(o) => {
            let message = o
                .get("msg")
                .or_else(|| o.get("message"))
                .and_then(|m| m.as_str())
                .ok_or_else(|| bad("a violation object needs a string `msg`".to_owned()))?
                .to_owned();
            let path = match o.get("path") {
                None | Some(serde_json::Value::Null) => None,
                Some(p) => Some(parse_path(p).ok_or_else(|| {
                    bad(format!(
                        "violation `path` must be an array of keys and indices or a JSON pointer, got {p}"
                    ))
                })?),
            };
            let object = match o.get("object") {
                None | Some(serde_json::Value::Null) => None,
                Some(i) => Some(
                    i.as_u64()
                        .and_then(|u| usize::try_from(u).ok())
                        .ok_or_else(|| {
                            bad(format!(
                                "violation `object` must be an index into input.objects, got {i}"
                            ))
                        })?,
                ),
            };
            Ok(Violation {
                rule: rule.to_owned(),
                message,
                path,
                object,
            })
        }
        other => Err(bad(format!(
            "a violation must be a string or an object, got {other}"
        ))),
    }
}

pub(super) fn parse_path(p: &serde_json::Value) -> Option<Vec<PathSegment>> {
    match p {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => Some(PathSegment::Key(s.clone())),
                serde_json::Value::Number(n) => n
                    .as_u64()
                    .and_then(|u| usize::try_from(u).ok())
                    .map(PathSegment::Index),
                _ => None,
            })
            .collect(),
        serde_json::Value::String(s) if s.is_empty() => Some(Vec::new()),
        serde_json::Value::String(s) if s.starts_with('/') => Some(
            s[1..]
                .split('/')
                .map(|seg| {
                    let seg = seg.replace("~1", "/").replace("~0", "~");
                    // In a pointer a number addresses a list item; `locate` also accepts it as
                    // a key on lists, so keep the textual form for maps with numeric keys.
                    PathSegment::Key(seg)
                })
                .collect(),
        ),
        _ => None,
    }
}
