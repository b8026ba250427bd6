//! The part of a root that root-scope rules must see when only some of its objects are
//! affected by a change (`--changed-since`, `diff --since`).
//!
//! A cluster root holds every app of its environment (about 1,000 objects in the 200-app
//! monorepo); a one-app change affects a handful. Rules that declare
//! `custom.relatesWithin: namespace` relate an object only to the objects of its own
//! namespace, so their findings on the affected objects are the same when every object of
//! the other namespaces is left out. Those are replaced by `{}` rather than removed, so
//! indexes (`"object": i`, and messages naming an object's position) stay the root's.

use std::collections::HashSet;

use serde_json::Value;

/// The namespace an object lands in, as the root-scope rules read it (`""` when unset).
fn namespace(object: &Value) -> &str {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The namespaces findings on `object` may depend on: its own, and for a Namespace the one
/// it names (whose NetworkPolicies decide its findings).
fn related_namespaces<'a>(object: &'a Value, into: &mut HashSet<&'a str>) {
    into.insert(namespace(object));
    let is_namespace = object.get("kind").and_then(Value::as_str) == Some("Namespace")
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str)
        && is_namespace
    {
        into.insert(name);
    }
}

/// `objects` with every object outside the affected objects' namespaces replaced by `{}`,
/// or `None` when that leaves out nothing (every object kept: evaluate the root as it is).
pub fn focus(objects: &[Value], affected: &[bool]) -> Option<Vec<Value>> {
    // Every object affected (any check without --changed-since): nothing to look at.
    if affected.iter().all(|a| *a) {
        return None;
    }
    let mut namespaces = HashSet::new();
    for (object, _) in objects.iter().zip(affected).filter(|(_, a)| **a) {
        related_namespaces(object, &mut namespaces);
    }
    let kept = |o: &Value| namespaces.contains(namespace(o));
    if objects.iter().all(kept) {
        return None;
    }
    Some(
        objects
            .iter()
            .map(|o| {
                if kept(o) {
                    o.clone()
                } else {
                    Value::Object(serde_json::Map::new())
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, ns: Option<&str>, name: &str) -> Value {
        let mut o = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = ns {
            o["metadata"]["namespace"] = json!(ns);
        }
        o
    }

    #[test]
    fn keeps_the_affected_namespaces_and_blanks_the_rest_in_place() {
        let objects = [
            obj("Service", Some("a"), "web"),
            obj("Deployment", Some("b"), "api"),
            obj("ConfigMap", Some("a"), "conf"),
            obj("Namespace", None, "c"),
        ];
        let focused = focus(&objects, &[true, false, false, false]).unwrap();
        assert_eq!(focused[0], objects[0]);
        assert_eq!(focused[1], json!({}));
        assert_eq!(focused[2], objects[2]);
        assert_eq!(focused[3], json!({}));
    }

    #[test]
    fn an_affected_namespace_object_brings_its_namespace_and_the_cluster_level() {
        let objects = [
            obj("Namespace", None, "a"),
            obj("NetworkPolicy", Some("a"), "deny"),
            obj("ClusterRole", None, "reader"),
            obj("Service", Some("b"), "web"),
        ];
        let focused = focus(&objects, &[true, false, false, false]).unwrap();
        assert_eq!(&focused[..3], &objects[..3]);
        assert_eq!(focused[3], json!({}));
    }

    #[test]
    fn nothing_to_leave_out_is_none() {
        let objects = [obj("Service", Some("a"), "web"), obj("Pod", Some("a"), "p")];
        assert_eq!(focus(&objects, &[false, true]), None);
        assert_eq!(focus(&objects, &[true, true]), None);
    }
}
