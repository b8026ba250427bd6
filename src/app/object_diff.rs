//! How one root's render differs between two sides, object by object (`kgate diff --since`):
//! objects are paired by apiVersion, kind, namespace and name, generated ConfigMaps and
//! Secrets by their name without the content hash, and each modified pair is told as its
//! smallest differing fields (JSON pointers). Secret values are hidden in every output.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::render::Resource;
use crate::render::kustomize::resource::Origin;
use crate::yaml::Node;

/// What a Secret's values become in every output.
pub const HIDDEN: &str = "(hidden)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Modified,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Modified => "modified",
        }
    }
}

/// One object added, removed or modified in a root.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDiff {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    /// The name in the working tree (at REF for a removed object).
    pub name: String,
    pub change: Change,
    /// The changed fields of a modified object (empty for added and removed ones).
    pub fields: Vec<FieldChange>,
    /// The whole object of an added or removed one (Secret values hidden), for the human,
    /// markdown and HTML reports.
    #[serde(skip)]
    pub object: Option<Value>,
}

impl ObjectDiff {
    /// `Deployment shop-prod/web`.
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// A field that differs: its JSON pointer and its value on each side (`null`: absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub pointer: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A rendered object, ready to compare (borrowed from its render).
struct Object<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    node: &'a Node,
}

/// `name` without the `-<10 characters>` suffix a generator's content hash adds.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stem, hash))
            if hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => name,
    }
}

/// An object of `r`, and whether it is a generated ConfigMap or Secret (paired across the
/// sides without its content hash, which changes with any of its values).
fn object_of(r: &Resource) -> (Object<'_>, bool) {
    let kind = r.kind();
    let generated =
        matches!(r.origin, Origin::Generator { .. }) && matches!(kind, "ConfigMap" | "Secret");
    let object = Object {
        api_version: r.api_version(),
        kind,
        namespace: Some(r.namespace()).filter(|n| !n.is_empty()),
        name: r.name(),
        node: &r.node,
    };
    (object, generated)
}

/// What an object is paired by across the sides: its key in [`objects_by_key`], unformatted.
fn identity<'a>(
    (o, generated): &(Object<'a>, bool),
) -> (&'a str, &'a str, Option<&'a str>, &'a str, bool) {
    let name = if *generated {
        without_hash(o.name)
    } else {
        o.name
    };
    (o.api_version, o.kind, o.namespace, name, *generated)
}

fn objects_by_key(resources: &[Resource]) -> BTreeMap<String, Object<'_>> {
    let mut out = BTreeMap::new();
    for r in resources {
        let of = object_of(r);
        let (api_version, kind, namespace, name, generated) = identity(&of);
        let mut key = format!("{api_version} {kind} {} {name}", namespace.unwrap_or(""));
        if generated {
            key.push_str(" (generated)");
        }
        while out.contains_key(&key) {
            key.push('\'');
        }
        out.insert(key, of.0);
    }
    out
}

/// The object differences of one root's two renders (see [`compare`]). Both sides of a root
/// are rendered by the same steps in the same order, so when every position holds the same
/// object on both sides (the usual change: values, not names), the objects pair by position,
/// as [`objects_by_key`] would pair them (the same keys in the same order; a key met twice
/// pairs its occurrences in order), without formatting a key or building a map.
pub(super) fn compare_renders(before: &[Resource], after: &[Resource]) -> Vec<ObjectDiff> {
    use rayon::prelude::*;
    // A cluster's thousand pairs are split between the workers: the comparison of the
    // largest root was most of the diff's last lap.
    const PAIRS_PER_TASK: usize = 128;
    let aligned = before.len() == after.len()
        && (before.par_iter().zip(after))
            .with_min_len(PAIRS_PER_TASK)
            .all(|(b, a)| identity(&object_of(b)) == identity(&object_of(a)));
    if !aligned {
        return compare(&objects_by_key(before), &objects_by_key(after));
    }
    let mut out: Vec<ObjectDiff> = (before.par_iter().zip(after))
        .with_min_len(PAIRS_PER_TASK)
        .filter(|(b, a)| !b.node.same_value(&a.node))
        .filter_map(|(b, a)| modified(&object_of(b).0, &object_of(a).0))
        .collect();
    sort_diffs(&mut out);
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The smallest differing subtrees of `before` and `after`, by JSON pointer.
pub fn diff_values(before: &Value, after: &Value, pointer: &str, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
            for k in keys {
                let p = format!("{pointer}/{}", escape(k));
                diff_members(a.get(k), b.get(k), p, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                diff_members(a.get(i), b.get(i), format!("{pointer}/{i}"), out);
            }
        }
        _ if before != after => out.push(FieldChange {
            pointer: pointer.to_owned(),
            before: Some(before.clone()),
            after: Some(after.clone()),
        }),
        _ => {}
    }
}

/// One member (at `pointer`) of two objects or arrays: compared further when both sides
/// have it, else a change of its own.
fn diff_members(
    before: Option<&Value>,
    after: Option<&Value>,
    pointer: String,
    out: &mut Vec<FieldChange>,
) {
    match (before, after) {
        (Some(x), Some(y)) => diff_values(x, y, &pointer, out),
        (x, y) => out.push(FieldChange {
            pointer,
            before: x.cloned(),
            after: y.cloned(),
        }),
    }
}

fn is_secret_value(kind: &str, pointer: &str) -> bool {
    kind == "Secret"
        && ["/data", "/stringData"]
            .iter()
            .any(|p| pointer == *p || pointer.starts_with(&format!("{p}/")))
}

/// `v` with a Secret's values replaced by [`HIDDEN`].
fn hide_secret(kind: &str, mut v: Value) -> Value {
    if kind == "Secret" {
        for field in ["data", "stringData"] {
            if let Some(Value::Object(m)) = v.get_mut(field) {
                for x in m.values_mut() {
                    *x = Value::String(HIDDEN.to_owned());
                }
            }
        }
    }
    v
}

/// A Secret's value (or its whole `data`) as reports show it.
fn hide_all(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.keys()
                .map(|k| (k.clone(), Value::String(HIDDEN.to_owned())))
                .collect(),
        ),
        _ => Value::String(HIDDEN.to_owned()),
    }
}

/// The object differences of one root, sorted by kind, namespace and name. Objects are
/// converted to JSON only when they differ: most of a root is the same on both sides.
fn compare(before: &BTreeMap<String, Object>, after: &BTreeMap<String, Object>) -> Vec<ObjectDiff> {
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let diff = match (before.get(key), after.get(key)) {
            (Some(b), Some(a)) if b.node.same_value(a.node) => continue,
            (Some(b), Some(a)) => modified(b, a),
            (Some(b), None) => Some(whole(Change::Removed, b)),
            (None, Some(a)) => Some(whole(Change::Added, a)),
            (None, None) => continue,
        };
        out.extend(diff);
    }
    sort_diffs(&mut out);
    out
}

fn sort_diffs(diffs: &mut [ObjectDiff]) {
    diffs.sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
}

/// How `b` became `a` (the same object on both sides), field by field; `None` when their
/// JSON is the same after all.
fn modified(b: &Object, a: &Object) -> Option<ObjectDiff> {
    let mut fields = Vec::new();
    diff_values(&b.node.to_json(), &a.node.to_json(), "", &mut fields);
    if fields.is_empty() {
        return None;
    }
    for f in fields
        .iter_mut()
        .filter(|f| is_secret_value(a.kind, &f.pointer))
    {
        f.before = f.before.as_ref().map(hide_all);
        f.after = f.after.as_ref().map(hide_all);
    }
    Some(ObjectDiff {
        fields,
        object: None,
        ..whole(Change::Modified, a)
    })
}

/// `o` added or removed as a whole (or the head of a modification).
fn whole(change: Change, o: &Object) -> ObjectDiff {
    ObjectDiff {
        api_version: o.api_version.to_owned(),
        kind: o.kind.to_owned(),
        namespace: o.namespace.map(str::to_owned),
        name: o.name.to_owned(),
        change,
        fields: Vec::new(),
        object: (change != Change::Modified).then(|| hide_secret(o.kind, o.node.to_json())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_differ_at_the_smallest_subtree() {
        let mut out = Vec::new();
        diff_values(
            &json!({"spec": {"replicas": 2, "a/b": [1, 2]}}),
            &json!({"spec": {"replicas": 3, "a/b": [1], "new": {"x": 1}}}),
            "",
            &mut out,
        );
        let pointers: Vec<&str> = out.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/spec/replicas", "/spec/a~1b/1", "/spec/new"]);
        assert_eq!(out[2].before, None);
        assert_eq!(out[2].after, Some(json!({"x": 1})));
    }

    fn resources(yaml: &str, generated: &[&str]) -> Vec<Resource> {
        let (docs, err) = crate::yaml::parse_documents(yaml, crate::yaml::LoadLimits::default());
        assert!(err.is_none(), "{err:?}");
        docs.into_iter()
            .map(|d| {
                let mut r = Resource::loaded(d.root, std::path::Path::new("test.yaml"));
                if generated.contains(&r.name()) {
                    r.origin = Origin::Generator {
                        configured_in: "kustomization.yaml".into(),
                        kind: "ConfigMapGenerator",
                        name: None,
                    };
                }
                r
            })
            .collect()
    }

    fn changes(diffs: &[ObjectDiff]) -> Vec<String> {
        let mut out = Vec::new();
        for d in diffs {
            let fields: Vec<&str> = d.fields.iter().map(|f| f.pointer.as_str()).collect();
            out.push(format!(
                "{} {} {:?} {}",
                d.change.as_str(),
                d.kind,
                d.name,
                fields.join(",")
            ));
        }
        out
    }

    /// Objects paired by position (both renders hold the same objects in the same order) and
    /// by key (names differ somewhere) tell the same changes.
    #[test]
    fn renders_in_the_same_order_pair_by_position_as_by_key() {
        let doc = |kind: &str, name: &str, v: u32| {
            format!(
                "apiVersion: v1\nkind: {kind}\nmetadata: {{name: {name}}}\ndata: {{v: '{v}'}}\n---\n"
            )
        };
        let before = [
            doc("ConfigMap", "web-config-2k7h9mf8dc", 1),
            doc("ConfigMap", "same", 1),
            doc("ConfigMap", "same", 2),
            doc("Service", "web", 1),
        ]
        .concat();
        let generated = ["web-config-2k7h9mf8dc", "web-config-5g7b6t2m4c"];
        let cases = [
            // The generated map's values (so its hash), and the second of two equal names.
            [
                doc("ConfigMap", "web-config-5g7b6t2m4c", 2),
                doc("ConfigMap", "same", 1),
                doc("ConfigMap", "same", 3),
                doc("Service", "web", 1),
            ]
            .concat(),
            // Nothing.
            before.clone(),
            // A renamed object: the orders no longer pair up.
            [
                doc("ConfigMap", "web-config-2k7h9mf8dc", 1),
                doc("ConfigMap", "same", 1),
                doc("ConfigMap", "same", 2),
                doc("Service", "web-renamed", 1),
            ]
            .concat(),
        ];
        let b = resources(&before, &generated);
        let mut told = Vec::new();
        for after in &cases {
            let a = resources(after, &generated);
            let by_key = compare(&objects_by_key(&b), &objects_by_key(&a));
            assert_eq!(changes(&compare_renders(&b, &a)), changes(&by_key));
            told.push(changes(&by_key));
        }
        assert_eq!(
            told,
            [
                vec![
                    "modified ConfigMap \"same\" /data/v".to_owned(),
                    "modified ConfigMap \"web-config-5g7b6t2m4c\" /metadata/name,/data/v"
                        .to_owned(),
                ],
                vec![],
                vec![
                    "removed Service \"web\" ".to_owned(),
                    "added Service \"web-renamed\" ".to_owned(),
                ],
            ]
        );
    }

    #[test]
    fn generator_hashes_are_stripped_and_secret_values_hidden() {
        assert_eq!(without_hash("web-config-2k7h9mf8dc"), "web-config");
        assert_eq!(without_hash("web-config"), "web-config");
        assert!(is_secret_value("Secret", "/data/password"));
        assert!(!is_secret_value("ConfigMap", "/data/password"));
        let v = hide_secret("Secret", json!({"data": {"a": "c2VjcmV0"}}));
        assert_eq!(v, json!({"data": {"a": HIDDEN}}));
    }
}
