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

/// What the focus reads of an object: the namespace it lands in, as the root-scope rules
/// read it (`""` when unset or not a string), and, for a Namespace, the one it names.
/// Implemented for the JSON the rules see and for the rendered node it comes from, which
/// read the same (a node's string is the JSON string, anything else is none).
pub trait Placed {
    fn namespace(&self) -> &str;
    /// The namespace a `v1` Namespace object names.
    fn names_namespace(&self) -> Option<&str>;
}

impl<T: Placed> Placed for &T {
    fn namespace(&self) -> &str {
        (**self).namespace()
    }

    fn names_namespace(&self) -> Option<&str> {
        (**self).names_namespace()
    }
}

impl Placed for Value {
    fn namespace(&self) -> &str {
        self.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn names_namespace(&self) -> Option<&str> {
        let is_namespace = self.get("kind").and_then(Value::as_str) == Some("Namespace")
            && self.get("apiVersion").and_then(Value::as_str) == Some("v1");
        let name = self.pointer("/metadata/name").and_then(Value::as_str);
        name.filter(|_| is_namespace)
    }
}

impl Placed for crate::yaml::Node {
    fn namespace(&self) -> &str {
        self.get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(crate::yaml::Node::as_str)
            .unwrap_or("")
    }

    fn names_namespace(&self) -> Option<&str> {
        let str_at = |key: &str| self.get(key).and_then(crate::yaml::Node::as_str);
        let is_namespace =
            str_at("kind") == Some("Namespace") && str_at("apiVersion") == Some("v1");
        let name = self.get("metadata").and_then(|m| m.get("name"));
        name.and_then(crate::yaml::Node::as_str)
            .filter(|_| is_namespace)
    }
}

/// Which of `objects` the root-scope rules must see when only the `affected` ones count:
/// those in the namespaces findings on an affected object may depend on (its own, and for a
/// Namespace the one it names, whose NetworkPolicies decide its findings). `None` when that
/// leaves out nothing (every object kept: evaluate the root as it is).
pub fn kept<O: Placed>(objects: &[O], affected: &[bool]) -> Option<Vec<bool>> {
    // Every object affected (any check without --changed-since): nothing to look at.
    if affected.iter().all(|a| *a) {
        return None;
    }
    let mut namespaces = HashSet::new();
    for (object, _) in objects.iter().zip(affected).filter(|(_, a)| **a) {
        namespaces.insert(object.namespace());
        namespaces.extend(object.names_namespace());
    }
    let kept: Vec<bool> = (objects.iter())
        .map(|o| namespaces.contains(o.namespace()))
        .collect();
    (!kept.iter().all(|k| *k)).then_some(kept)
}

/// `objects` with every object [`kept`] leaves out (`keep`) replaced by `blank` (`{}`), in
/// place.
pub fn focused<T: Clone>(objects: &[T], keep: &[bool], blank: impl Fn() -> T) -> Vec<T> {
    (objects.iter().zip(keep))
        .map(|(o, kept)| if *kept { o.clone() } else { blank() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The focus of `objects` as the JSON the rules see (`None`: nothing left out).
    fn focus(objects: &[Value], affected: &[bool]) -> Option<Vec<Value>> {
        let keep = kept(objects, affected)?;
        Some(focused(objects, &keep, || json!({})))
    }

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
    fn rendered_nodes_are_kept_as_their_json_is() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n---\n\
                    apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n, namespace: 7}\n---\n\
                    apiVersion: v1\nkind: Role\nmetadata: {name: r, namespace: b}\n---\n\
                    apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: c}\n---\n\
                    apiVersion: example.com/v1\nkind: Namespace\nmetadata: {name: c}\n";
        let (docs, err) = crate::yaml::parse_documents(text, crate::yaml::LoadLimits::default());
        assert!(err.is_none());
        let nodes: Vec<crate::yaml::Node> = docs.into_iter().map(|d| d.root).collect();
        let json: Vec<Value> = nodes.iter().map(crate::yaml::Node::to_json).collect();
        for affected in [
            [true, false, false, false, false, false],
            [false, true, false, false, false, false],
            [false, false, true, false, false, false],
            [false, false, false, false, false, true],
        ] {
            assert_eq!(
                kept(&nodes, &affected),
                kept(&json, &affected),
                "{affected:?}"
            );
        }
        // The Namespace brings the cluster level (a non-string namespace reads as none) and
        // the namespace it names; another group's `Namespace` names none.
        assert_eq!(
            kept(&nodes, &[false, true, false, false, false, false]),
            Some(vec![false, true, true, true, false, true])
        );
        assert_eq!(
            kept(&nodes, &[false, false, false, false, false, true]),
            Some(vec![false, true, true, false, false, true])
        );
    }

    #[test]
    fn nothing_to_leave_out_is_none() {
        let objects = [obj("Service", Some("a"), "web"), obj("Pod", Some("a"), "p")];
        assert_eq!(focus(&objects, &[false, true]), None);
        assert_eq!(focus(&objects, &[true, true]), None);
    }
}
