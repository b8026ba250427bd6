//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: reading patches (files or
//! inline text) and applying them to the objects they target.
//!
//! The patch operations themselves live next door: strategic merge in `merge2.rs`, JSON 6902
//! in `patch.rs`. This file decides which objects a patch applies to and what it may change.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::fieldspec::group_version;
use super::kustomization::{Item, Kustomization, PatchEntry};
use super::resource::{Resource, get_str, kustomize_input};
use super::selector::{Selector, selects};
use super::{merge2, patch};
use crate::model::kinds::is_cluster_scoped_kind;
use crate::yaml::{self, FileId, LoadLimits, Node, Pos, Schema, Value};

/// Patches parsed before in this run, by their text, then by what else their nodes are
/// made of (the file they are stamped with, where an inline text starts, the scalar
/// schema). A component's inline patch is read again by every overlay using it: 459 of the
/// 2,223 patch parses of a whole check of the 200-app monorepo were repeats.
#[derive(Default)]
pub(super) struct ParsedPatches(std::sync::Mutex<std::collections::HashMap<String, Parses>>);

/// The parses of one patch text.
type Parses = Vec<(PatchFrom, std::sync::Arc<Vec<Node>>)>;

/// What a patch's nodes depend on besides its text.
#[derive(Clone, Copy, PartialEq, Eq)]
struct PatchFrom {
    file: FileId,
    base_pos: Option<Pos>,
    yaml11: bool,
}

impl ParsedPatches {
    fn get(&self, text: &str, from: PatchFrom) -> Option<std::sync::Arc<Vec<Node>>> {
        let parsed = crate::source::locked(&self.0);
        let (_, docs) = parsed.get(text)?.iter().find(|(f, _)| *f == from)?;
        Some(docs.clone())
    }

    fn put(&self, text: &str, from: PatchFrom, docs: std::sync::Arc<Vec<Node>>) {
        let mut parsed = crate::source::locked(&self.0);
        let known = parsed.entry(text.to_owned()).or_default();
        if !known.iter().any(|(f, _)| *f == from) {
            known.push((from, docs));
        }
    }
}

/// Reads the patches of one list (files under the load restrictor, or inline text).
///
/// `restricted` resolves a patch file under the load restrictor; `file_id` registers a file
/// for provenance; `read` reads a file through the renderer's file table. All are the renderer's, passed in so patches need not know it.
pub(super) fn load_patches(
    k: &Kustomization,
    entries: &[PatchEntry],
    restricted: &dyn Fn(&Item) -> Result<PathBuf, RenderError>,
    file_id: &dyn Fn(&Path) -> FileId,
    read: &dyn Fn(&Path) -> Result<std::sync::Arc<str>, crate::source::ReadError>,
    parsed: &ParsedPatches,
) -> Result<Vec<LoadedPatch>, RenderError> {
    let mut out = Vec::new();
    for e in entries {
        let (text, source, base_pos) = match (&e.path, &e.inline) {
            (Some(p), _) => {
                let file = restricted(p)?;
                let text = read(&file).map_err(|err| {
                    RenderError::at(&k.file, p.pos, format!("'{}': {err}", p.value))
                })?;
                (text.to_string(), file, None)
            }
            (None, Some(inline)) => (inline.value.clone(), k.file.clone(), Some(inline.pos)),
            (None, None) => continue,
        };
        // An inline patch's text starts at `base_pos`: a block scalar (`patch: |-`) on the
        // line after the key, indented; a one-line string after its opening quote.
        let (shift_l, shift_c) = match base_pos {
            Some(at) if text.contains('\n') => (at.line - 1, at.column.saturating_sub(1)),
            Some(at) => (at.line - 1, at.column),
            None => (0, 0),
        };
        let parse = |schema: Schema| -> Result<std::sync::Arc<Vec<Node>>, RenderError> {
            let from = PatchFrom {
                file: file_id(&source),
                base_pos,
                yaml11: schema == Schema::Yaml11,
            };
            if let Some(known) = parsed.get(&text, from) {
                return Ok(known);
            }
            let limits = LoadLimits {
                schema,
                // A patch's `annotations: {key: null}` deletes the annotation (kyaml keeps
                // the patch's nodes typed), unlike a resource's values, which are strings.
                annotations_as_strings: false,
                ..kustomize_input(from.file)
            };
            let (docs, err) = yaml::parse_documents(&text, limits);
            if let Some(err) = err {
                let pos = base_pos.unwrap_or(err.pos);
                return Err(RenderError::at(&source, pos, format!("patch: {err}")));
            }
            let mut docs: Vec<Node> = docs
                .into_iter()
                .map(|d| d.root)
                .filter(|n| n.value != Value::Null)
                .collect();
            if base_pos.is_some() {
                docs.iter_mut()
                    .for_each(|d| shift_lines(d, shift_l, shift_c));
            }
            let docs = std::sync::Arc::new(docs);
            parsed.put(&text, from, docs.clone());
            Ok(docs)
        };
        let mut docs = parse(Schema::GoYamlV3)?;
        let is_json = matches!(docs.first().map(|d| &d.value), Some(Value::Seq(_)));
        if is_json {
            // kustomize reads JSON 6902 operations with sigs.k8s.io/yaml (YAML 1.1:
            // `value: N` or `y` is a boolean there), strategic-merge patches with kyaml.
            docs = parse(Schema::Yaml11)?;
        }
        out.push(LoadedPatch {
            docs,
            is_json,
            target: e.target.clone(),
            file: k.file.clone(),
            pos: e.pos,
            allow_name_change: e.allow_name_change,
            allow_kind_change: e.allow_kind_change,
            empty_file: e.path.is_some() && text.is_empty(),
            patch_transformer: false,
        });
    }
    Ok(out)
}

/// kustomize v5.5's PatchTransformer (`patches:`) fails on a patch with no document (only
/// comments or blank lines): an empty object list and an empty JSON patch both decode,
/// which it refuses as ambiguous. A file of zero bytes is a JSON patch with no operation:
/// fine with a target, else "must specify a target".
pub(super) fn require_documents(patches: &[LoadedPatch]) -> Result<(), RenderError> {
    for p in patches.iter().filter(|p| p.docs.is_empty()) {
        let message = match (p.empty_file, &p.target) {
            (true, Some(_)) => continue,
            (true, None) => "must specify a target for JSON patch (the patch file is empty)",
            (false, _) => {
                "trouble configuring builtin PatchTransformer: the patch holds no object and no JSON patch operation (illegally qualifies as both an SM and JSON patch)"
            }
        };
        return Err(RenderError::at(&p.file, p.pos, message));
    }
    Ok(())
}

/// Moves positions read from an inline patch's text to where that text sits in the
/// kustomization: `lines` down, and `columns` right (the indentation of a block scalar).
pub(super) fn shift_lines(n: &mut Node, lines: u32, columns: u32) {
    n.start.line += lines;
    n.end.line += lines;
    n.start.column += columns;
    n.end.column += columns;
    match &mut n.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| shift_lines(i, lines, columns)),
        Value::Map(entries) => entries.iter_mut().for_each(|e| {
            e.key_pos.line += lines;
            e.key_pos.column += columns;
            shift_lines(&mut e.value, lines, columns);
        }),
        _ => {}
    }
}

/// A patch read from its file or the kustomization.
pub(super) struct LoadedPatch {
    /// Shared with the run's other readers of the same patch ([`ParsedPatches`]).
    docs: std::sync::Arc<Vec<Node>>,
    /// A JSON 6902 operation list rather than strategic-merge objects.
    is_json: bool,
    target: Option<Selector>,
    /// The kustomization that lists the patch, and the entry's position in it.
    file: PathBuf,
    pos: Pos,
    allow_name_change: bool,
    allow_kind_change: bool,
    /// A patch file of zero bytes (kustomize reads it as a JSON patch with no operation).
    empty_file: bool,
    /// A `patches` entry (kustomize's PatchTransformer), not `patchesStrategicMerge`.
    patch_transformer: bool,
}

/// Marks patches as `patches` entries (kustomize's PatchTransformer).
pub(super) fn mark_patch_transformer(patches: &mut [LoadedPatch]) {
    patches.iter_mut().for_each(|p| p.patch_transformer = true);
}

/// The patch with the identity fields removed, for applying to a selected target (unless
/// the patch's options allow it to rename the target or change its kind).
fn without_identity(p: &Node, keep_name: bool, keep_kind: bool) -> Node {
    let mut out = p.clone();
    if let Value::Map(entries) = &mut out.value {
        if !keep_kind {
            entries.retain(|e| e.key != "apiVersion" && e.key != "kind");
        }
        if !keep_name
            && let Some(meta) = entries.iter_mut().find(|e| e.key == "metadata")
            && let Value::Map(m) = &mut meta.value.value
        {
            m.retain(|e| e.key != "name");
        }
    }
    out
}

/// Applies one patch to the objects it targets (by selector, or by its own identity).
pub(super) fn apply_patch(ra: &mut Vec<Resource>, p: &LoadedPatch) -> Result<(), RenderError> {
    let err = |m: String| RenderError::at(&p.file, p.pos, m);
    if p.is_json {
        let Some(target) = &p.target else {
            return Err(err("a JSON 6902 patch needs a `target`".to_owned()));
        };
        for r in ra.iter_mut() {
            if selects(target, r).map_err(err)? {
                // kustomize stores the previous id before every JSON patch: a patch that
                // renames the object leaves references to the old name resolvable.
                r.store_previous_id();
                let old_name = r.name().to_owned();
                for ops in p.docs.iter() {
                    patch::json6902(&mut r.node, ops)
                        .map_err(|e| err(format!("JSON patch on {}: {}", r.id(), e.0)))?;
                }
                if r.name() != old_name && !r.prev_names.contains(&old_name) {
                    r.prev_names.push(old_name);
                }
            }
        }
        return Ok(());
    }
    let mut deleted_in_entry = false;
    for doc in p.docs.iter() {
        let mut deleted: Vec<usize> = Vec::new();
        match &p.target {
            Some(target) => {
                let body = without_identity(doc, p.allow_name_change, p.allow_kind_change);
                for (i, r) in ra.iter_mut().enumerate() {
                    if selects(target, r).map_err(err)? {
                        let old_name = r.name().to_owned();
                        if p.allow_name_change || p.allow_kind_change {
                            r.store_previous_id();
                        }
                        let kept = merge2::strategic_merge(
                            &mut r.node,
                            &body,
                            p.allow_name_change,
                            p.allow_kind_change,
                        )
                        .map_err(|e| err(format!("patch on {}: {e}", r.id())))?;
                        if r.name() != old_name && !r.prev_names.contains(&old_name) {
                            r.prev_names.push(old_name);
                        }
                        if !kept {
                            deleted.push(i);
                        }
                    }
                }
            }
            None => {
                // kustomize's `GetById(patch.OrgId())`: one of the object's ids (current or
                // previous) has the patch's group, version, kind, name and effective
                // namespace (none is `default`).
                if p.patch_transformer && deleted_in_entry {
                    // v5.5's PatchTransformer leaves the deleted object, emptied, in the
                    // list, and the next lookup reads its id (a nil dereference).
                    return Err(err(
                        "a document follows a `$patch: delete` in one `patches` entry without a target: kustomize v5.5 crashes on it (put each in its own entry)".to_owned(),
                    ));
                }
                let kind = get_str(doc, &["kind"]);
                let name = get_str(doc, &["metadata", "name"]);
                let ns = get_str(doc, &["metadata", "namespace"]);
                let api_version = get_str(doc, &["apiVersion"]);
                let effective = |kind: &str, ns: &str| -> String {
                    if is_cluster_scoped_kind(kind) {
                        String::new()
                    } else if ns.is_empty() {
                        "default".to_owned()
                    } else {
                        ns.to_owned()
                    }
                };
                let hits: Vec<usize> = ra
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        group_version(r.api_version()) == group_version(api_version)
                            && r.ids().iter().any(|id| {
                                id.kind == kind
                                    && id.name == name
                                    && effective(&id.kind, &id.namespace) == effective(kind, ns)
                            })
                    })
                    .map(|(i, _)| i)
                    .collect();
                let [i] = hits.as_slice() else {
                    return Err(err(format!(
                        "no unique target for patch {kind}/{name}: {} objects match",
                        hits.len()
                    )));
                };
                let r = &mut ra[*i];
                let kept = merge2::strategic_merge(&mut r.node, doc, false, false)
                    .map_err(|e| err(format!("patch on {}: {e}", r.id())))?;
                if !kept {
                    deleted.push(*i);
                    deleted_in_entry = true;
                }
            }
        }
        for i in deleted.into_iter().rev() {
            ra.remove(i);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::kustomization;
    use crate::render::kustomize::resource::{test_resource, test_resources};

    fn node(text: &str) -> Node {
        test_resource(text).node
    }

    fn load(k_text: &str) -> Result<Vec<LoadedPatch>, RenderError> {
        let k = kustomization::parse(Path::new("/repo/kustomization.yaml"), k_text)
            .expect("valid kustomization");
        load_patches(
            &k,
            &k.patches,
            &|item| {
                Err(RenderError::at(
                    &k.file,
                    item.pos,
                    format!("refused {}", item.value),
                ))
            },
            &|_| FileId(5),
            &|_| {
                Err(crate::source::ReadError::Io(
                    "no file in this test".to_owned(),
                ))
            },
            &ParsedPatches::default(),
        )
    }

    /// A patch read again (the same component in another overlay) is the first parse,
    /// shared; the same text at another place or in another file is parsed on its own.
    #[test]
    fn a_patch_read_again_is_parsed_once() {
        let parsed = ParsedPatches::default();
        let load_from = |k_text: &str, id: u32| {
            let k = kustomization::parse(Path::new("/repo/kustomization.yaml"), k_text)
                .expect("valid kustomization");
            load_patches(
                &k,
                &k.patches,
                &|item| Err(RenderError::at(&k.file, item.pos, item.value.clone())),
                &|_| FileId(id),
                &|_| Err(crate::source::ReadError::Io("no file".to_owned())),
                &parsed,
            )
            .expect("loads")
        };
        let k_text = "patches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /metadata/labels/a\n      value: y\n";
        let first = load_from(k_text, 5);
        let again = load_from(k_text, 5);
        assert!(std::sync::Arc::ptr_eq(&first[0].docs, &again[0].docs));
        // A JSON 6902 patch is read under YAML 1.1 (`y` a boolean), as the first load read it.
        let Value::Seq(ops) = &again[0].docs[0].value else {
            panic!("operations")
        };
        assert_eq!(
            ops[0].get("value").map(|v| &v.value),
            Some(&Value::Bool(true))
        );
        let elsewhere = load_from(&format!("\n{k_text}"), 5);
        assert!(!std::sync::Arc::ptr_eq(&first[0].docs, &elsewhere[0].docs));
        assert_eq!(
            elsewhere[0].docs[0].start.line,
            first[0].docs[0].start.line + 1
        );
        let other_file = load_from(k_text, 6);
        assert!(!std::sync::Arc::ptr_eq(&first[0].docs, &other_file[0].docs));
        assert_eq!(other_file[0].docs[0].file, FileId(6));
    }

    #[test]
    fn a_patch_without_documents_is_refused() {
        let comments = patch("# nothing yet\n", None);
        assert!(comments.docs.is_empty());
        let err = require_documents(&[comments]).expect_err("no document");
        assert!(err.message.contains("PatchTransformer"), "{err}");
        require_documents(&[patch("kind: ConfigMap\nmetadata: {name: a}\n", None)])
            .expect("one object");
        // A zero-byte file: a JSON patch without operations, which needs a target.
        let mut empty = patch("", None);
        empty.empty_file = true;
        assert!(require_documents(std::slice::from_ref(&empty)).is_err());
        empty.target = Some(Selector::default());
        require_documents(&[empty]).expect("a target");
    }

    #[test]
    fn a_document_after_a_delete_in_one_patches_entry_fails_as_kustomize_crashes() {
        let objects = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let docs = "$patch: delete\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: y}\n";
        let mut entry = patch(docs, None);
        // patchesStrategicMerge drops the deleted object first: both apply.
        let mut ra = test_resources(objects);
        apply_patch(&mut ra, &entry).expect("strategic merge list");
        assert_eq!(ra.len(), 1);
        mark_patch_transformer(std::slice::from_mut(&mut entry));
        let mut ra = test_resources(objects);
        let err = apply_patch(&mut ra, &entry).expect_err("v5.5 crashes");
        assert!(err.message.contains("$patch: delete"), "{err}");
    }

    fn patch(docs: &str, target: Option<Selector>) -> LoadedPatch {
        LoadedPatch {
            docs: std::sync::Arc::new(test_resources(docs).into_iter().map(|r| r.node).collect()),
            is_json: false,
            target,
            file: PathBuf::from("kustomization.yaml"),
            pos: Pos::default(),
            allow_name_change: false,
            allow_kind_change: false,
            empty_file: false,
            patch_transformer: false,
        }
    }

    const TWO: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {replicas: 1}
";

    fn replicas(r: &Resource) -> Option<&Value> {
        r.node
            .get("spec")
            .and_then(|s| s.get("replicas"))
            .map(|n| &n.value)
    }

    #[test]
    fn without_identity_drops_name_and_kind_unless_allowed() {
        let p =
            node("apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: n}\nspec: {}\n");
        let bare = without_identity(&p, false, false);
        assert!(bare.get("apiVersion").is_none() && bare.get("kind").is_none());
        assert_eq!(bare.str_at(&["metadata", "name"]), None);
        assert_eq!(bare.str_at(&["metadata", "namespace"]), Some("n"));
        assert!(bare.get("spec").is_some());
        let named = without_identity(&p, true, false);
        assert_eq!(named.str_at(&["metadata", "name"]), Some("x"));
        assert!(named.get("kind").is_none());
        let kinded = without_identity(&p, false, true);
        assert_eq!(kinded.str_at(&["kind"]), Some("Service"));
        assert_eq!(kinded.str_at(&["metadata", "name"]), None);
    }

    #[test]
    fn inline_patches_keep_their_position_in_the_kustomization() {
        let loaded = load(
            "patches:
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec: {replicas: 2}
",
        )
        .expect("inline patch");
        let [p] = loaded.as_slice() else {
            panic!("one patch");
        };
        assert!(!p.is_json);
        let spec = p.docs[0].get("spec").expect("spec");
        assert_eq!(
            spec.start.line, 6,
            "the line of `spec` in kustomization.yaml"
        );
        assert_eq!(spec.file, FileId(5));
    }

    #[test]
    fn json_patches_are_read_as_yaml_1_1() {
        let loaded = load(
            "patches:
- target: {kind: Deployment}
  patch: |-
    - {op: replace, path: /spec/paused, value: y}
",
        )
        .expect("json patch");
        assert!(loaded[0].is_json);
        let Value::Seq(ops) = &loaded[0].docs[0].value else {
            panic!("an operation list");
        };
        assert_eq!(
            ops[0].get("value").map(|v| &v.value),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn patch_files_go_through_the_restrictor() {
        let Err(err) = load("patches:\n- path: ../outside.yaml\n") else {
            panic!("the restrictor refuses");
        };
        assert_eq!(err.message, "refused ../outside.yaml");
    }

    #[test]
    fn a_patch_without_target_applies_to_the_object_it_names() {
        let mut ra = test_resources(TWO);
        let p = patch(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: 4}\n",
            None,
        );
        apply_patch(&mut ra, &p).expect("patch");
        assert_eq!(replicas(&ra[0]), Some(&Value::Int(1)));
        assert_eq!(replicas(&ra[1]), Some(&Value::Int(4)));
        let nowhere = patch(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db}\nspec: {replicas: 4}\n",
            None,
        );
        let err = apply_patch(&mut ra, &nowhere).expect_err("no target");
        assert!(
            err.message
                .contains("no unique target for patch Deployment/db: 0 objects match")
        );
    }

    #[test]
    fn a_targeted_patch_applies_to_every_selected_object_without_renaming_it() {
        let mut ra = test_resources(TWO);
        let target = Selector {
            kind: Some("Deployment".into()),
            ..Selector::default()
        };
        let p = patch(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ignored}\nspec: {replicas: 3}\n",
            Some(target),
        );
        apply_patch(&mut ra, &p).expect("patch");
        assert_eq!((ra[0].name(), ra[1].name()), ("web", "api"));
        assert_eq!(replicas(&ra[0]), Some(&Value::Int(3)));
        assert_eq!(replicas(&ra[1]), Some(&Value::Int(3)));
    }

    #[test]
    fn a_delete_patch_removes_the_selected_objects() {
        let mut ra = test_resources(TWO);
        let target = Selector {
            label_selector: Some("tier=front".into()),
            ..Selector::default()
        };
        let p = patch(
            "$patch: delete\nkind: Deployment\nmetadata: {name: x}\n",
            Some(target),
        );
        apply_patch(&mut ra, &p).expect("patch");
        assert_eq!(ra.len(), 1);
        assert_eq!(ra[0].name(), "api");
    }

    #[test]
    fn json_patches_need_a_target_and_apply_to_it() {
        let mut ra = test_resources(TWO);
        let mut p = patch("", None);
        p.docs = std::sync::Arc::new(vec![node_seq(
            "- {op: replace, path: /spec/replicas, value: 9}\n",
        )]);
        p.is_json = true;
        let err = apply_patch(&mut ra, &p).expect_err("no target");
        assert_eq!(err.message, "a JSON 6902 patch needs a `target`");
        p.target = Some(Selector {
            name: Some("api".into()),
            ..Selector::default()
        });
        apply_patch(&mut ra, &p).expect("patch");
        assert_eq!(replicas(&ra[0]), Some(&Value::Int(1)));
        assert_eq!(replicas(&ra[1]), Some(&Value::Int(9)));
    }

    fn node_seq(text: &str) -> Node {
        let (docs, err) = yaml::parse_documents(text, kustomize_input(FileId::UNKNOWN));
        assert!(err.is_none());
        docs.into_iter().next().expect("a document").root
    }
}
