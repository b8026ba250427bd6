//! JSON 6902 patches (RFC 6902 operations on a rendered object). Strategic-merge patches are
//! in `merge2.rs`.

use crate::yaml::{Entry, Node, Value};

/// A JSON 6902 operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPatchError(pub String);

/// Splits a JSON pointer as kustomize's JSON patch library (evanphx/json-patch) does: on `/`,
/// ignoring whatever precedes the first one (so `data/x` is `/x`); a pointer without `/`
/// names nothing.
fn parse_pointer(p: &str) -> Result<Vec<String>, JsonPatchError> {
    let mut parts = p.split('/');
    parts.next();
    let segments: Vec<String> = parts
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    if segments.is_empty() {
        return Err(JsonPatchError(format!("doc is missing path: {p:?}")));
    }
    Ok(segments)
}

fn child_mut<'a>(n: &'a mut Node, seg: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == seg)
            .map(|e| &mut e.value),
        Value::Seq(items) => seg
            .parse::<usize>()
            .ok()
            .and_then(move |i| items.get_mut(i)),
        _ => None,
    }
}

fn lookup_mut<'a>(n: &'a mut Node, path: &[String]) -> Option<&'a mut Node> {
    let mut cur = n;
    for seg in path {
        cur = child_mut(cur, seg)?;
    }
    Some(cur)
}

fn remove_at(root: &mut Node, path: &[String], pointer: &str) -> Result<Node, JsonPatchError> {
    let missing = || JsonPatchError(format!("path `{pointer}` does not exist"));
    let (last, parent) = path.split_last().ok_or_else(missing)?;
    let parent = lookup_mut(root, parent).ok_or_else(missing)?;
    match &mut parent.value {
        Value::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| &e.key == last)
                .ok_or_else(missing)?;
            Ok(entries.remove(i).value)
        }
        Value::Seq(items) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i >= items.len() {
                return Err(missing());
            }
            Ok(items.remove(i))
        }
        _ => Err(missing()),
    }
}

fn add_at(
    root: &mut Node,
    path: &[String],
    value: Node,
    pointer: &str,
) -> Result<(), JsonPatchError> {
    let Some((last, parent)) = path.split_last() else {
        *root = value;
        return Ok(());
    };
    let parent = lookup_mut(root, parent)
        .ok_or_else(|| JsonPatchError(format!("add: parent of `{pointer}` does not exist")))?;
    match &mut parent.value {
        Value::Map(entries) => {
            match entries.iter_mut().find(|e| &e.key == last) {
                Some(e) => e.value = value,
                None => entries.push(Entry {
                    key: last.clone(),
                    key_pos: value.start,
                    value,
                }),
            }
            Ok(())
        }
        Value::Seq(items) => {
            if last == "-" {
                items.push(value);
                return Ok(());
            }
            let i: usize = last.parse().map_err(|_| {
                JsonPatchError(format!("add: `{last}` is not a list index in `{pointer}`"))
            })?;
            if i > items.len() {
                return Err(JsonPatchError(format!(
                    "add: index {i} is out of range in `{pointer}`"
                )));
            }
            items.insert(i, value);
            Ok(())
        }
        _ => Err(JsonPatchError(format!(
            "add: parent of `{pointer}` is not a map or list"
        ))),
    }
}

/// `replace` as evanphx/json-patch v4 (kustomize's library) does it: a missing key of an
/// existing map is set, as `add` would (the library does not check that the key exists);
/// a missing list index, or a missing parent, is an error.
fn replace_at(
    root: &mut Node,
    path: &[String],
    value: Node,
    pointer: &str,
) -> Result<(), JsonPatchError> {
    let missing = || JsonPatchError(format!("replace: path `{pointer}` does not exist"));
    if let Some(target) = lookup_mut(root, path) {
        *target = value;
        return Ok(());
    }
    let (last, parent) = path.split_last().ok_or_else(missing)?;
    match lookup_mut(root, parent).map(|p| &mut p.value) {
        Some(Value::Map(entries)) => {
            entries.push(Entry {
                key: last.clone(),
                key_pos: value.start,
                value,
            });
            Ok(())
        }
        _ => Err(missing()),
    }
}

/// Applies a JSON 6902 patch (a list of operations) to `root`.
pub fn json6902(root: &mut Node, ops: &Node) -> Result<(), JsonPatchError> {
    let Value::Seq(ops) = &ops.value else {
        return Err(JsonPatchError(
            "a JSON patch must be a list of operations".to_owned(),
        ));
    };
    for op in ops {
        let name = op.get("op").and_then(Node::as_str).unwrap_or("");
        let pointer = op
            .get("path")
            .and_then(Node::as_str)
            .ok_or_else(|| JsonPatchError(format!("operation `{name}` has no path")))?;
        let path = parse_pointer(pointer)?;
        let value = || {
            op.get("value").cloned().ok_or_else(|| {
                JsonPatchError(format!("operation `{name}` on `{pointer}` has no value"))
            })
        };
        match name {
            "add" => add_at(root, &path, value()?, pointer)?,
            "remove" => {
                remove_at(root, &path, pointer)?;
            }
            "replace" => replace_at(root, &path, value()?, pointer)?,
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Node::as_str)
                    .ok_or_else(|| JsonPatchError(format!("operation `{name}` has no from")))?;
                let from_path = parse_pointer(from)?;
                let v = if name == "move" {
                    remove_at(root, &from_path, from)?
                } else {
                    lookup_mut(root, &from_path).cloned().ok_or_else(|| {
                        JsonPatchError(format!("copy: path `{from}` does not exist"))
                    })?
                };
                add_at(root, &path, v, pointer)?;
            }
            "test" => {
                let expected = value()?;
                let actual = lookup_mut(root, &path).ok_or_else(|| {
                    JsonPatchError(format!("test: path `{pointer}` does not exist"))
                })?;
                if actual.to_json() != expected.to_json() {
                    return Err(JsonPatchError(format!(
                        "test failed: `{pointer}` is not {}",
                        expected.to_json()
                    )));
                }
            }
            other => {
                return Err(JsonPatchError(format!(
                    "unknown JSON patch operation `{other}`"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{LoadLimits, parse_documents};

    fn node(t: &str) -> Node {
        parse_documents(t, LoadLimits::default()).0.remove(0).root
    }

    #[test]
    fn json6902_operations() {
        let mut d = node("spec:\n  list: [a, b]\n  m: {x: 1}\n");
        json6902(
            &mut d,
            &node("- {op: add, path: /spec/list/-, value: c}\n- {op: add, path: /spec/list/0, value: z}\n- {op: remove, path: /spec/m/x}\n- {op: copy, from: /spec/list/1, path: /spec/m/y}\n- {op: test, path: /spec/m/y, value: a}\n"),
        )
        .unwrap();
        assert_eq!(
            d.to_json(),
            serde_json::json!({"spec": {"list": ["z", "a", "b", "c"], "m": {"y": "a"}}})
        );
        assert!(json6902(&mut d, &node("- {op: test, path: /spec/m/y, value: b}\n")).is_err());
        // kustomize's JSON patch library sets a missing key on `replace`, but a missing parent
        // or list index is an error.
        json6902(&mut d, &node("- {op: replace, path: /nope, value: 1}\n")).unwrap();
        assert_eq!(d.get("nope").and_then(|n| n.to_json().as_i64()), Some(1));
        assert!(json6902(&mut d, &node("- {op: replace, path: /no/pe, value: 1}\n")).is_err());
        assert!(
            json6902(
                &mut d,
                &node("- {op: replace, path: /spec/list/4, value: 1}\n")
            )
            .is_err()
        );
        assert!(
            json6902(
                &mut d,
                &node("- {op: replace, path: /spec/list/-, value: 1}\n")
            )
            .is_err()
        );
        assert!(json6902(&mut d, &node("- {op: add, path: no-slash, value: 1}\n")).is_err());
    }
}
