//! Patches: JSON 6902 operations and strategic-merge patches, and the target selectors that
//! pick the objects a patch applies to.
//!
//! Strategic merge follows the Kubernetes patch semantics for the built-in kinds: lists with a
//! merge key (`containers` by `name`, `volumeMounts` by `mountPath`, ...) are merged item by
//! item, other lists are replaced, `null` deletes a field and `$patch: delete|replace`
//! directives apply (the only directive kustomize v5.5 interprets). Kinds kustomize has no
//! schema for (custom resources) get JSON merge semantics: every list is replaced.

use crate::yaml::{Entry, Node, Value};

/// Built-in kinds whose lists merge by key (kustomize knows their OpenAPI schema).
const BUILTIN_KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Namespace",
    "Ingress",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "LimitRange",
    "ResourceQuota",
    "StorageClass",
    "PriorityClass",
    "Endpoints",
];

/// The merge key of a list field, from the Kubernetes OpenAPI `x-kubernetes-patch-merge-key`.
/// `parent` is the name of the field holding the list's parent object.
fn merge_key(field: &str, parent: &str) -> Option<&'static str> {
    Some(match field {
        "containers" | "initContainers" | "ephemeralContainers" => "name",
        "env" | "volumes" | "imagePullSecrets" | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "conditions" => "type",
        "ports" if parent == "spec" => "port",
        "ports" => "containerPort",
        _ => return None,
    })
}

/// kustomize v5.5 merges with kyaml, which interprets only `$patch`: other strategic-merge
/// directives (`$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…`) are copied
/// into the output as ordinary keys, exactly as `kubectl kustomize` prints them.
fn is_directive(key: &str) -> bool {
    key == "$patch"
}

fn strip_directives(n: &Node) -> Node {
    let mut out = n.clone();
    match &mut out.value {
        Value::Map(entries) => {
            entries.retain(|e| !is_directive(&e.key));
            for e in entries.iter_mut() {
                e.value = strip_directives(&e.value);
            }
        }
        Value::Seq(items) => {
            items.retain(|i| i.get("$patch").and_then(Node::as_str) != Some("delete"));
            for i in items.iter_mut() {
                *i = strip_directives(i);
            }
        }
        _ => {}
    }
    out
}

/// Applies a strategic-merge patch (`patch`, an object) to `dst`. Returns `false` when the
/// patch deletes the whole object (`$patch: delete`).
pub fn strategic_merge(dst: &mut Node, patch: &Node, kind: &str) -> bool {
    match patch.get("$patch").and_then(Node::as_str) {
        Some("delete") => return false,
        Some("replace") => {
            *dst = strip_directives(patch);
            return true;
        }
        _ => {}
    }
    merge_map(dst, patch, BUILTIN_KINDS.contains(&kind), "");
    true
}

fn merge_map(dst: &mut Node, patch: &Node, typed: bool, field: &str) {
    let Value::Map(patch_entries) = &patch.value else {
        *dst = strip_directives(patch);
        return;
    };
    if patch.get("$patch").and_then(Node::as_str) == Some("replace") {
        *dst = strip_directives(patch);
        return;
    }
    if !matches!(dst.value, Value::Map(_)) {
        *dst = strip_directives(patch);
        return;
    }
    for pe in patch_entries {
        if is_directive(&pe.key) {
            continue;
        }
        let Value::Map(dst_entries) = &mut dst.value else {
            return;
        };
        let existing = dst_entries.iter().position(|e| e.key == pe.key);
        match (&pe.value.value, existing) {
            (Value::Null, Some(i)) => {
                dst_entries.remove(i);
            }
            (Value::Null, None) => {}
            (Value::Map(_), Some(i)) => {
                if pe.value.get("$patch").and_then(Node::as_str) == Some("delete") {
                    dst_entries.remove(i);
                } else {
                    merge_map(&mut dst_entries[i].value, &pe.value, typed, &pe.key);
                }
            }
            (Value::Seq(_), Some(i)) => {
                let key = if typed {
                    merge_key(&pe.key, field)
                } else {
                    None
                };
                merge_list(&mut dst_entries[i].value, &pe.value, key, typed, &pe.key);
            }
            (_, Some(i)) => dst_entries[i].value = strip_directives(&pe.value),
            (_, None) => dst_entries.push(Entry {
                key: pe.key.clone(),
                key_pos: pe.key_pos,
                value: strip_directives(&pe.value),
            }),
        }
    }
}

fn merge_list(dst: &mut Node, patch: &Node, key: Option<&str>, typed: bool, field: &str) {
    let (Some(key), Value::Seq(patch_items), Value::Seq(_)) = (key, &patch.value, &dst.value)
    else {
        *dst = strip_directives(patch);
        return;
    };
    for item in patch_items {
        let Value::Seq(dst_items) = &mut dst.value else {
            return;
        };
        let item_key = item.get(key).map(Node::to_json);
        let pos = item_key.as_ref().and_then(|k| {
            dst_items
                .iter()
                .position(|d| d.get(key).map(Node::to_json).as_ref() == Some(k))
        });
        let delete = item.get("$patch").and_then(Node::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                dst_items.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => merge_map(&mut dst_items[i], item, typed, field),
            (None, false) => dst_items.push(strip_directives(item)),
        }
    }
}

/// A JSON 6902 operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPatchError(pub String);

fn parse_pointer(p: &str) -> Result<Vec<String>, JsonPatchError> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(JsonPatchError(format!(
            "invalid JSON pointer `{p}`: must start with /"
        )));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
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
            "replace" => {
                let v = value()?;
                let target = lookup_mut(root, &path).ok_or_else(|| {
                    JsonPatchError(format!("replace: path `{pointer}` does not exist"))
                })?;
                *target = v;
            }
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
    fn containers_merge_by_name_and_null_deletes() {
        let mut d = node(
            "spec:\n  containers:\n  - name: a\n    image: x:1\n    args: [p]\n  - name: b\n    image: y:1\n",
        );
        let p = node(
            "spec:\n  containers:\n  - name: b\n    image: y:2\n  - name: c\n    image: z:1\n  - name: a\n    args: null\n",
        );
        assert!(strategic_merge(&mut d, &p, "Deployment"));
        assert_eq!(
            d.to_json(),
            serde_json::json!({"spec": {"containers": [
                {"name": "a", "image": "x:1"},
                {"name": "b", "image": "y:2"},
                {"name": "c", "image": "z:1"}]}})
        );
    }

    #[test]
    fn custom_resources_replace_lists_and_directives_apply() {
        let mut d = node("spec:\n  items: [1, 2]\n  keep: {a: 1}\n");
        strategic_merge(&mut d, &node("spec:\n  items: [3]\n"), "Widget");
        assert_eq!(
            d.to_json(),
            serde_json::json!({"spec": {"items": [3], "keep": {"a": 1}}})
        );
        let mut d = node("spec:\n  containers:\n  - name: a\n  - name: b\n");
        strategic_merge(
            &mut d,
            &node("spec:\n  containers:\n  - name: a\n    $patch: delete\n"),
            "Pod",
        );
        assert_eq!(
            d.to_json(),
            serde_json::json!({"spec": {"containers": [{"name": "b"}]}})
        );
        let mut d = node("a: 1\n");
        assert!(!strategic_merge(&mut d, &node("$patch: delete\n"), "Pod"));
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
        assert!(json6902(&mut d, &node("- {op: replace, path: /nope, value: 1}\n")).is_err());
        assert!(json6902(&mut d, &node("- {op: add, path: no-slash, value: 1}\n")).is_err());
    }
}
