//! Field specs: where a transformer writes (kustomize's `FieldSpec`, `FsSlice`).
//!
//! The built-in lists are kustomize's own (`fieldspecs/*.yaml`, vendored from kustomize
//! v5.5.0), so kgate updates exactly the fields kustomize updates.

use crate::yaml::{self, Entry, LoadLimits, Node, Pos, Value};

/// One place a transformer applies: objects of a group/version/kind, and a path in them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldSpec {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    /// Path segments; a list on the way is traversed item by item.
    pub path: Vec<String>,
    pub create: bool,
    /// Indexes of the path segments written with a `[]` suffix (`containers[]`): kustomize
    /// never creates those, and turns a null one into an empty list.
    pub seq_segments: Vec<usize>,
}

/// Splits `spec/template/metadata/labels` (with `\/` escaping a slash in a key, and `[]`
/// marking a list) into segments.
pub fn split_path(path: &str) -> Vec<String> {
    split_marked(path).0
}

/// `split_path`, and the indexes of the segments that had a `[]` suffix.
pub fn split_marked(path: &str) -> (Vec<String>, Vec<usize>) {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    let mut segs = Vec::new();
    let mut seqs = Vec::new();
    for s in out {
        let (s, seq) = match s.strip_suffix("[]") {
            Some(stripped) => (stripped.to_owned(), true),
            None => (s, false),
        };
        if !s.is_empty() {
            if seq {
                seqs.push(segs.len());
            }
            segs.push(s);
        }
    }
    (segs, seqs)
}

/// Group and version of an apiVersion (`apps/v1` -> (`apps`, `v1`), `v1` -> (``, `v1`)).
pub fn group_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl FieldSpec {
    pub fn new(path: &str, create: bool) -> Self {
        let (path, seq_segments) = split_marked(path);
        FieldSpec {
            group: None,
            version: None,
            kind: None,
            path,
            create,
            seq_segments,
        }
    }

    /// Whether this spec applies to an object of `api_version`/`kind` (empty parts are
    /// wildcards, as in kustomize's `Gvk.IsSelected`).
    pub fn selects(&self, api_version: &str, kind: &str) -> bool {
        let (g, v) = group_version(api_version);
        self.group.as_deref().is_none_or(|x| x.is_empty() || x == g)
            && self
                .version
                .as_deref()
                .is_none_or(|x| x.is_empty() || x == v)
            && self
                .kind
                .as_deref()
                .is_none_or(|x| x.is_empty() || x == kind)
    }

    /// Calls `f` on every node at this spec's path in `obj`. With `create`, missing maps on
    /// the way and the final field are created (the final one as an empty map, for `f` to
    /// fill); otherwise a missing path is skipped.
    pub fn visit(&self, obj: &mut Node, f: &mut dyn FnMut(&mut Node)) {
        visit(obj, self, Walk::whole(self), 0, f);
    }

    /// Calls `f` on every existing node at this spec's path without its last segment (the
    /// holders of the field the spec names), creating nothing, as [`FieldSpec::visit`] of
    /// the shorter spec without `create` would (a null list on the way still becomes empty).
    pub fn visit_parents(&self, obj: &mut Node, f: &mut dyn FnMut(&mut Node)) {
        let end = self.path.len().saturating_sub(1);
        visit(obj, self, Walk { end, create: false }, 0, f);
    }
}

/// How far along a spec's path [`visit`] goes, and whether it creates what is missing.
#[derive(Clone, Copy)]
struct Walk {
    end: usize,
    create: bool,
}

impl Walk {
    fn whole(spec: &FieldSpec) -> Walk {
        Walk {
            end: spec.path.len(),
            create: spec.create,
        }
    }
}

impl FieldSpec {
    /// Calls `f` on every node at this spec's path in `obj` that exists (never creates).
    pub fn visit_existing(&self, obj: &Node, f: &mut dyn FnMut(&Node)) {
        visit_ref(obj, &self.path, f);
    }
}

fn visit_ref(node: &Node, path: &[String], f: &mut dyn FnMut(&Node)) {
    let Some((first, rest)) = path.split_first() else {
        f(node);
        return;
    };
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|i| visit_ref(i, path, f)),
        Value::Map(entries) => {
            if let Some(e) = entries.iter().find(|e| &e.key == first) {
                visit_ref(&e.value, rest, f);
            }
        }
        _ => {}
    }
}

fn visit(
    node: &mut Node,
    spec: &FieldSpec,
    walk: Walk,
    depth: usize,
    f: &mut dyn FnMut(&mut Node),
) {
    let Some(first) = spec.path[..walk.end].get(depth) else {
        f(node);
        return;
    };
    let is_seq = spec.seq_segments.contains(&depth);
    let create = walk.create && !is_seq;
    match &mut node.value {
        Value::Seq(items) => {
            for item in items {
                visit(item, spec, walk, depth, f);
            }
        }
        Value::Map(entries) => {
            if let Some(e) = entries.iter_mut().find(|e| &e.key == first) {
                if e.value.value == Value::Null && is_seq {
                    e.value.value = Value::Seq(Vec::new());
                } else if e.value.value == Value::Null && create {
                    e.value.value = Value::Map(Vec::new());
                }
                visit(&mut e.value, spec, walk, depth + 1, f);
            } else if create {
                let mut child = Node::synthetic(Value::Map(Vec::new()));
                visit(&mut child, spec, walk, depth + 1, f);
                entries.push(Entry {
                    key: first.clone(),
                    key_pos: Pos::default(),
                    value: child,
                });
            }
        }
        _ => {}
    }
}

/// Reads a vendored field-spec list (`key:` then a list of `{path, create, group, version,
/// kind}`).
pub fn load(text: &str, key: &str) -> Vec<FieldSpec> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    debug_assert!(err.is_none(), "vendored field specs parse");
    let Some(list) = docs.first().and_then(|d| d.root.get(key)) else {
        return Vec::new();
    };
    let Value::Seq(items) = &list.value else {
        return Vec::new();
    };
    items.iter().filter_map(parse_spec).collect()
}

/// One field spec from a mapping (also used for `labels[].fields` in kustomizations).
pub fn parse_spec(item: &Node) -> Option<FieldSpec> {
    let s = |k: &str| item.get(k).and_then(Node::as_str).map(str::to_owned);
    let (path, seq_segments) = split_marked(&s("path")?);
    Some(FieldSpec {
        group: s("group"),
        version: s("version"),
        kind: s("kind"),
        path,
        seq_segments,
        create: matches!(
            item.get("create").map(|n| &n.value),
            Some(Value::Bool(true))
        ),
    })
}

/// The vendored lists.
pub mod builtin {
    use super::{FieldSpec, load};
    use std::sync::LazyLock;

    macro_rules! spec_list {
        ($name:ident, $file:literal, $key:literal) => {
            pub static $name: LazyLock<Vec<FieldSpec>> =
                LazyLock::new(|| load(include_str!(concat!("fieldspecs/", $file)), $key));
        };
    }
    spec_list!(COMMON_LABELS, "commonlabels.yaml", "commonLabels");
    spec_list!(TEMPLATE_LABELS, "templatelabels.yaml", "templateLabels");
    spec_list!(
        COMMON_ANNOTATIONS,
        "commonannotations.yaml",
        "commonAnnotations"
    );
    spec_list!(NAMESPACE, "namespace.yaml", "namespace");
    spec_list!(IMAGES, "images.yaml", "images");
    spec_list!(REPLICAS, "replicas.yaml", "replicas");
    spec_list!(VAR_REFERENCE, "varreference.yaml", "varReference");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_with_escapes_and_lists() {
        assert_eq!(
            split_path("spec/containers[]/image"),
            ["spec", "containers", "image"]
        );
        assert_eq!(
            split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
            [
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }

    #[test]
    fn builtin_lists_load() {
        assert!(builtin::COMMON_LABELS.len() > 20);
        assert!(
            builtin::TEMPLATE_LABELS
                .iter()
                .any(|f| f.path == ["metadata", "labels"])
        );
        assert_eq!(builtin::NAMESPACE[0].kind.as_deref(), Some("Namespace"));
        assert!(
            builtin::VAR_REFERENCE.iter().any(
                |f| f.path == ["spec", "rules", "host"] && f.kind.as_deref() == Some("Ingress")
            )
        );
        assert!(
            builtin::REPLICAS
                .iter()
                .all(|f| f.path == ["spec", "replicas"])
        );
    }

    #[test]
    fn list_segments_are_never_created_and_null_becomes_an_empty_list() {
        let spec = FieldSpec::new("spec/volumeClaimTemplates[]/metadata/labels", true);
        assert_eq!(spec.seq_segments, [1]);
        let parse = |t: &str| {
            yaml::parse_documents(t, LoadLimits::default())
                .0
                .remove(0)
                .root
        };
        let mut visited = 0;
        let mut missing = parse("spec: {replicas: 1}\n");
        spec.visit(&mut missing, &mut |_| visited += 1);
        assert_eq!(visited, 0);
        assert!(
            missing
                .get("spec")
                .and_then(|s| s.get("volumeClaimTemplates"))
                .is_none()
        );
        let mut null = parse("spec: {volumeClaimTemplates: null}\n");
        spec.visit(&mut null, &mut |_| visited += 1);
        assert_eq!(
            null.get("spec")
                .and_then(|s| s.get("volumeClaimTemplates"))
                .map(|v| &v.value),
            Some(&Value::Seq(Vec::new()))
        );
        let mut two = parse("spec: {volumeClaimTemplates: [{metadata: {name: a}}, {}]}\n");
        spec.visit(&mut two, &mut |_| visited += 1);
        assert_eq!(visited, 2, "labels created in each item");
    }

    /// `visit_parents` visits (and changes) what `visit` of the spec without its last
    /// segment and without `create` does.
    #[test]
    fn parents_are_visited_as_by_the_shorter_spec_that_creates_nothing() {
        let parse = |t: &str| {
            yaml::parse_documents(t, LoadLimits::default())
                .0
                .remove(0)
                .root
        };
        let docs = [
            "spec: {volumes: [{configMap: {name: a}}, {secret: {}}, {configMap: {name: b}}]}\n",
            "spec: {volumes: null}\n",
            "spec: {replicas: 1}\n",
            "spec: {volumes: [{configMap: null}]}\n",
        ];
        for path in [
            "spec/volumes[]/configMap/name",
            "spec/volumes/configMap/name",
        ] {
            for create in [false, true] {
                let spec = FieldSpec::new(path, create);
                let shorter = FieldSpec {
                    path: spec.path[..spec.path.len() - 1].to_vec(),
                    create: false,
                    ..spec.clone()
                };
                for doc in docs {
                    let (mut a, mut b) = (parse(doc), parse(doc));
                    let (mut seen_a, mut seen_b) = (Vec::new(), Vec::new());
                    spec.visit_parents(&mut a, &mut |n| seen_a.push(n.to_json()));
                    shorter.visit(&mut b, &mut |n| seen_b.push(n.to_json()));
                    assert_eq!(seen_a, seen_b, "{path} {doc}");
                    assert_eq!(a.to_json(), b.to_json(), "{path} {doc}");
                }
            }
        }
    }

    #[test]
    fn selects_by_group_version_kind() {
        let f = FieldSpec {
            group: Some("apps".into()),
            kind: Some("Deployment".into()),
            ..FieldSpec::new("spec/replicas", true)
        };
        assert!(f.selects("apps/v1", "Deployment"));
        assert!(!f.selects("extensions/v1beta1", "Deployment"));
        assert!(!f.selects("apps/v1", "StatefulSet"));
    }
}
