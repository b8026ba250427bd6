//! One object being built (`Resource`) and the small node helpers every section uses.
//!
//! Kept apart from the engine so that the sections (generators, transformers, patches,
//! vars, name references) can work on objects without depending on the build flow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::RenderError;
use super::fieldspec::group_version;
use crate::yaml::{Entry, FileId, LoadLimits, Node, Pos, Schema, Value};

/// One object being built, with what kustomize remembers about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Resource {
    pub node: Node,
    /// The file the object was read from (the kustomization file for generated objects).
    pub source: PathBuf,
    /// Name and namespace when loaded: references in other objects use these.
    pub org_name: String,
    pub org_namespace: String,
    /// A generated object whose name gets the content hash at the end.
    pub needs_hash: bool,
    /// Name prefixes and suffixes applied, innermost first: when several objects were loaded
    /// with the same name, a reference resolves to the one renamed like the referrer.
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Every name the object had before its current one (references may use any).
    pub prev_names: Vec<String>,
    /// kustomize's previous ids (`StorePreviousId`): the object's kind, name and effective
    /// namespace before each namespace, prefix/suffix or hash transformer; replacements
    /// select an object by any of its ids.
    pub prev_ids: Vec<ResIdent>,
    /// The `vars` whose `objref` is this object (their values are read from it at the end).
    pub ref_vars: Vec<String>,
    /// Where the object comes from (`buildMetadata: [originAnnotations]`).
    pub origin: Origin,
    /// The transformers that ran on it, in order (`buildMetadata: [transformerAnnotations]`).
    pub transformations: Vec<Transformation>,
    /// Helm output: for a field located at the values line that decided it (values file and
    /// line), the template position that wrote it, the finding's related location.
    pub template_origins: Vec<TemplateOrigin>,
    /// Helm output: fields the values removed (a key set to `null` over the chart's
    /// default), by the JSON pointer they would have, with the values line that removed
    /// them (where a finding about the missing field points).
    pub removed_fields: Vec<RemovedField>,
}

/// `(JSON pointer, values file, position of the key set to null)`.
pub type RemovedField = (String, FileId, Pos);

impl Resource {
    /// The values line that removed the field at `pointer`.
    pub fn removed_field(&self, pointer: &str) -> Option<(FileId, Pos)> {
        self.removed_fields
            .iter()
            .find(|(p, _, _)| p == pointer)
            .map(|(_, f, pos)| (*f, *pos))
    }

    /// The template position behind a field located at `line` of the values file `file`.
    pub fn template_origin(&self, file: FileId, line: u32) -> Option<(FileId, Pos)> {
        self.template_origins
            .iter()
            .find(|((f, l), _)| *f == file && *l == line)
            .map(|(_, t)| *t)
    }
}

/// `((values file, values line), (template file, template position))`.
pub type TemplateOrigin = ((FileId, u32), (FileId, Pos));

/// One id of an object: kind, name, namespace (kustomize `ResId` without group/version,
/// which no transformer changes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResIdent {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// Where an object comes from, as kustomize's `config.kubernetes.io/origin` annotation
/// records it: the resource file, or the generator and the file configuring it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Origin {
    File(PathBuf),
    Generator {
        configured_in: PathBuf,
        /// `ConfigMapGenerator` or `SecretGenerator`.
        kind: &'static str,
        /// The generator config's `metadata.name`, for generators listed under `generators:`.
        name: Option<String>,
    },
}

/// [`Origin`] as the render cache reads it back: the generator kind owned.
#[derive(serde::Deserialize)]
enum OriginRepr {
    File(PathBuf),
    Generator {
        configured_in: PathBuf,
        kind: String,
        name: Option<String>,
    },
}

impl<'de> serde::Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Origin, D::Error> {
        Origin::try_from(OriginRepr::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<OriginRepr> for Origin {
    type Error = String;

    /// The two generator kinds kgate names; anything else is not an entry it wrote.
    fn try_from(o: OriginRepr) -> Result<Origin, String> {
        Ok(match o {
            OriginRepr::File(p) => Origin::File(p),
            OriginRepr::Generator {
                configured_in,
                kind,
                name,
            } => Origin::Generator {
                configured_in,
                kind: ["ConfigMapGenerator", "SecretGenerator"]
                    .into_iter()
                    .find(|k| *k == kind)
                    .ok_or_else(|| format!("unknown generator kind {kind}"))?,
                name,
            },
        })
    }
}

impl Origin {
    /// The annotation's value: YAML with paths relative to the built directory.
    pub(super) fn annotation(&self, root: &Path) -> String {
        let rel = |p: &Path| crate::source::relative(root, p);
        match self {
            Origin::File(path) => {
                super::emit::emit_document(&map(vec![("path", text(&rel(path)))]))
            }
            Origin::Generator {
                configured_in,
                kind,
                name,
            } => configured(&rel(configured_in), kind, name.as_deref().unwrap_or(""), ""),
        }
    }
}

/// A transformer that ran on an object, as kustomize records it in the
/// `alpha.config.kubernetes.io/transformations` annotation (`buildMetadata:
/// [transformerAnnotations]`): the file configuring it and the config's kind, name and
/// namespace (`apiVersion` is always `builtin`, the only plugins kgate runs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transformation {
    pub configured_in: PathBuf,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl Transformation {
    /// A transformer configured by a field of the kustomization `file`.
    pub(super) fn builtin(file: &Path, kind: &str) -> Transformation {
        Transformation {
            configured_in: file.to_owned(),
            kind: kind.to_owned(),
            name: String::new(),
            namespace: String::new(),
        }
    }

    /// The annotation's value for `list` (a YAML list of origins), paths relative to `root`.
    pub(super) fn annotation(list: &[Transformation], root: &Path) -> String {
        let mut out = String::new();
        for t in list {
            let one = configured(
                &crate::source::relative(root, &t.configured_in),
                &t.kind,
                &t.name,
                &t.namespace,
            );
            for (i, line) in one.lines().enumerate() {
                out.push_str(if i == 0 { "- " } else { "  " });
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// kyaml's rendering of an origin's `configuredIn` and `configuredBy` (empty fields left
/// out, in the struct's field order).
fn configured(configured_in: &str, kind: &str, name: &str, namespace: &str) -> String {
    let one = |k: &str, v: &str| super::emit::emit_document(&map(vec![(k, text(v))]));
    let mut out = one("configuredIn", configured_in);
    out.push_str("configuredBy:\n");
    let by = [
        ("apiVersion", "builtin"),
        ("kind", kind),
        ("name", name),
        ("namespace", namespace),
    ];
    for (k, v) in by.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str("  ");
        out.push_str(&one(k, v));
    }
    out
}

pub(super) fn text(s: &str) -> Node {
    Node::synthetic(Value::String(s.to_owned()))
}

pub(super) fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::synthetic(Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| Entry {
                key: k.to_owned(),
                key_pos: Pos::default(),
                value: v,
            })
            .collect(),
    ))
}

pub(super) fn get_str<'a>(n: &'a Node, path: &[&str]) -> &'a str {
    n.str_at(path).unwrap_or("")
}

/// Sets `key` in a mapping node (adding it at the end when missing).
pub(super) fn set(n: &mut Node, key: &str, value: Node) {
    if n.value == Value::Null {
        n.value = Value::Map(Vec::new());
    }
    if let Value::Map(entries) = &mut n.value {
        match entries.iter_mut().find(|e| e.key == key) {
            Some(e) => e.value = value,
            None => entries.push(Entry {
                key: key.to_owned(),
                key_pos: Pos::default(),
                value,
            }),
        }
    }
}

pub(super) fn get_mut<'a>(n: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// The string values of a mapping node (`data`, `binaryData`), sorted by key.
pub(super) fn string_data(n: Option<&Node>) -> BTreeMap<String, String> {
    match n.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|e| e.value.as_str().map(|v| (e.key.clone(), v.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Resource and patch files are typed as kustomize (go-yaml v3) reads them.
pub(super) fn kustomize_input(file: FileId) -> LoadLimits {
    LoadLimits {
        schema: Schema::GoYamlV3,
        file,
        annotations_as_strings: true,
        ..LoadLimits::default()
    }
}

impl Resource {
    /// kyaml's `ClearEmptyAnnotations`, which kustomize's writer runs on every object: an
    /// `metadata.annotations` holding nothing (`{}`, `null`, any scalar) is dropped; an
    /// empty `labels` stays.
    pub(super) fn clear_empty_annotations(&mut self) {
        if let Some(Value::Map(meta)) = get_mut(&mut self.node, "metadata").map(|m| &mut m.value) {
            meta.retain(|e| {
                e.key != "annotations"
                    || match &e.value.value {
                        Value::Map(m) => !m.is_empty(),
                        Value::Seq(s) => !s.is_empty(),
                        _ => false,
                    }
            });
        }
    }

    /// An object as read from `file`: its current name and namespace are its original ones.
    pub(crate) fn loaded(node: Node, file: &Path) -> Resource {
        let org_name = get_str(&node, &["metadata", "name"]).to_owned();
        let org_namespace = get_str(&node, &["metadata", "namespace"]).to_owned();
        Resource {
            node,
            source: file.to_owned(),
            org_name,
            org_namespace,
            needs_hash: false,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            prev_names: Vec::new(),
            prev_ids: Vec::new(),
            ref_vars: Vec::new(),
            origin: Origin::File(file.to_owned()),
            transformations: Vec::new(),
            template_origins: Vec::new(),
            removed_fields: Vec::new(),
        }
    }
    pub fn api_version(&self) -> &str {
        get_str(&self.node, &["apiVersion"])
    }
    pub fn kind(&self) -> &str {
        get_str(&self.node, &["kind"])
    }
    pub fn name(&self) -> &str {
        get_str(&self.node, &["metadata", "name"])
    }
    pub fn namespace(&self) -> &str {
        get_str(&self.node, &["metadata", "namespace"])
    }
    /// As kustomize decides it: by apiVersion and kind in its built-in schema.
    pub(super) fn is_cluster_scoped(&self) -> bool {
        super::scope::is_cluster_scoped(self.api_version(), self.kind())
    }
    /// kustomize's `StorePreviousId`: remembers the current id, with its effective
    /// namespace (`default` when unset), before a transformer may change it.
    pub(super) fn store_previous_id(&mut self) {
        let namespace = match self.namespace() {
            _ if self.is_cluster_scoped() => String::new(),
            "" => "default".to_owned(),
            ns => ns.to_owned(),
        };
        let id = ResIdent {
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace,
        };
        self.prev_ids.push(id);
    }
    /// kustomize's `MakeResIds`: the current id, then the previous ones, oldest first.
    pub(super) fn ids(&self) -> Vec<ResIdent> {
        let current = ResIdent {
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace: self.namespace().to_owned(),
        };
        std::iter::once(current)
            .chain(self.prev_ids.iter().cloned())
            .collect()
    }
    pub(super) fn metadata(&mut self) -> &mut Node {
        if get_mut(&mut self.node, "metadata").is_none() {
            set(&mut self.node, "metadata", map(vec![]));
        }
        get_mut(&mut self.node, "metadata").expect("metadata was just set")
    }
    pub(super) fn set_name(&mut self, name: &str) {
        let old = self.name().to_owned();
        if old != name && !self.prev_names.contains(&old) {
            self.prev_names.push(old);
        }
        set(self.metadata(), "name", text(name));
    }
    /// `Kind.version.group/namespace/name`, as kustomize names ids in messages.
    pub(super) fn id(&self) -> String {
        let (g, v) = group_version(self.api_version());
        format!(
            "{}.{}.{}/{}.{}",
            self.kind(),
            if v.is_empty() { "[noVer]" } else { v },
            if g.is_empty() { "[noGrp]" } else { g },
            self.name(),
            if self.namespace().is_empty() {
                "[noNs]"
            } else {
                self.namespace()
            }
        )
    }
    /// kustomize's `ResId.Equals`: group, version and kind, name, and the effective namespace
    /// (none counts as `default`; cluster-scoped kinds have none). The same object under two
    /// API versions is two ids to kustomize (the `duplicate-resource-id` rule catches it).
    pub(super) fn same_id(&self, other: &Resource) -> bool {
        self.name() == other.name() && self.id_key() == other.id_key()
    }

    /// What makes an object's id for [`Resource::same_id`]: group/version, kind, name and
    /// effective namespace (`default` for none; nothing for cluster-scoped kinds).
    fn id_key(&self) -> ((&str, &str), &str, &str, &str) {
        let namespace = if self.is_cluster_scoped() {
            ""
        } else if self.namespace().is_empty() {
            "default"
        } else {
            self.namespace()
        };
        (
            group_version(self.api_version()),
            self.kind(),
            self.name(),
            namespace,
        )
    }
}

/// Adds objects like [`add_unique`], remembering the ids already added: a cluster root adds
/// a thousand objects, and comparing each with every other was quadratic.
pub(super) struct UniqueAdder {
    seen: std::collections::HashSet<OwnedId, foldhash::fast::RandomState>,
}

impl UniqueAdder {
    pub(super) fn new(ra: &[Resource]) -> UniqueAdder {
        UniqueAdder {
            seen: ra.iter().map(owned_key).collect(),
        }
    }

    pub(super) fn add(
        &mut self,
        ra: &mut Vec<Resource>,
        r: Resource,
        file: &Path,
        pos: Pos,
    ) -> Result<(), RenderError> {
        if self.seen.insert(owned_key(&r)) {
            ra.push(r);
            Ok(())
        } else {
            add_unique(ra, r, file, pos)
        }
    }
}

/// An object's id as [`UniqueAdder`] compares it (group, version, kind, name, namespace).
pub(super) type OwnedId = (String, String, String, String, String);

pub(super) fn owned_key(r: &Resource) -> OwnedId {
    let ((group, version), kind, name, namespace) = r.id_key();
    (
        group.to_owned(),
        version.to_owned(),
        kind.to_owned(),
        name.to_owned(),
        namespace.to_owned(),
    )
}

/// Adds `r` unless an object with the same id is already there (kustomize refuses that).
pub(super) fn add_unique(
    ra: &mut Vec<Resource>,
    r: Resource,
    file: &Path,
    pos: Pos,
) -> Result<(), RenderError> {
    if let Some(existing) = ra.iter().find(|x| x.same_id(&r)) {
        return Err(RenderError::at(
            file,
            pos,
            format!(
                "may not add resource with an already registered id: {}",
                existing.id()
            ),
        ));
    }
    ra.push(r);
    Ok(())
}

/// Objects built from YAML text, for the unit tests of every section.
#[cfg(test)]
pub(super) fn test_resources(yaml: &str) -> Vec<Resource> {
    let (docs, err) = crate::yaml::parse_documents(yaml, kustomize_input(FileId::UNKNOWN));
    assert!(err.is_none(), "bad test YAML: {err:?}");
    docs.into_iter()
        .filter(|d| d.root.value != Value::Null)
        .map(|d| Resource::loaded(d.root, Path::new("test.yaml")))
        .collect()
}

#[cfg(test)]
pub(super) fn test_resource(yaml: &str) -> Resource {
    let mut all = test_resources(yaml);
    assert_eq!(all.len(), 1, "expected one object");
    all.remove(0)
}

/// The position of an infinite or NaN number, which kustomize cannot write as JSON.
fn non_finite(n: &Node) -> Option<Pos> {
    match &n.value {
        Value::Float(f) if !f.is_finite() => Some(n.start),
        Value::Seq(items) => items.iter().find_map(non_finite),
        Value::Map(entries) => entries.iter().find_map(|e| non_finite(&e.value)),
        _ => None,
    }
}

/// Objects of a resource file (multi-document; `kind: List` expanded).
pub(super) fn read_objects(
    file: &Path,
    text: Result<std::sync::Arc<str>, crate::source::ReadError>,
    from: &Path,
    pos: Pos,
    id: FileId,
) -> Result<Vec<Resource>, RenderError> {
    let text = text.map_err(|e| RenderError::at(from, pos, format!("{}: {e}", file.display())))?;
    let (docs, err) = crate::yaml::parse_documents(&text, kustomize_input(id));
    if let Some(e) = err {
        return Err(RenderError::at(file, e.pos, e.to_string()));
    }
    for d in &docs {
        if let Some(pos) = non_finite(&d.root) {
            return Err(RenderError::at(
                file,
                pos,
                "json: unsupported value: infinity or NaN cannot be rendered",
            ));
        }
    }
    let mut out = Vec::new();
    for d in docs {
        push_object(d.root, file, &mut out, &RESOURCE_FILE)?;
    }
    Ok(out)
}

/// Who made the documents [`push_object`] takes, for its messages.
pub(crate) struct ObjectSource {
    /// Said of a document that is not a mapping.
    pub not_a_mapping: &'static str,
    /// Said of an object without a `kind`.
    pub no_kind: &'static str,
}

/// A resource file's documents.
const RESOURCE_FILE: ObjectSource = ObjectSource {
    not_a_mapping: "a resource must be a YAML mapping",
    no_kind: "missing Resource metadata: an object needs `kind`",
};

/// `node` as objects of `out` (a `kind: List` expanded, a null document skipped), or why it
/// is not one.
pub(crate) fn push_object(
    node: Node,
    file: &Path,
    out: &mut Vec<Resource>,
    source: &ObjectSource,
) -> Result<(), RenderError> {
    match &node.value {
        Value::Null => return Ok(()),
        Value::Map(_) => {}
        _ => return Err(RenderError::at(file, node.start, source.not_a_mapping)),
    }
    let kind = get_str(&node, &["kind"]).to_owned();
    if kind.is_empty() {
        return Err(RenderError::at(file, node.start, source.no_kind));
    }
    if kind.ends_with("List")
        && let Some(Value::Seq(items)) = node.get("items").map(|n| &n.value)
    {
        for item in items.clone() {
            push_object(item, file, out, source)?;
        }
        return Ok(());
    }
    out.push(Resource::loaded(node, file));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_scalar_annotations_are_cleared_but_labels_stay() {
        for meta in ["annotations: {}", "annotations: null", "annotations: \"\""] {
            let mut r = test_resource(&format!(
                "kind: ConfigMap\nmetadata: {{name: a, labels: {{}}, {meta}}}\n"
            ));
            r.clear_empty_annotations();
            let m = r.node.get("metadata").expect("metadata");
            assert!(m.get("annotations").is_none(), "{meta}");
            assert!(m.get("labels").is_some(), "{meta}");
        }
        let mut r = test_resource("kind: ConfigMap\nmetadata: {name: a, annotations: {x: y}}\n");
        r.clear_empty_annotations();
        assert_eq!(r.node.str_at(&["metadata", "annotations", "x"]), Some("y"));
    }

    #[test]
    fn ids_name_missing_parts_like_kustomize() {
        let cm = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n");
        assert_eq!(cm.id(), "ConfigMap.v1.[noGrp]/cfg.[noNs]");
        let d = test_resource(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\n",
        );
        assert_eq!(d.id(), "Deployment.v1.apps/web.prod");
    }

    #[test]
    fn same_id_treats_no_namespace_as_default_and_ignores_it_when_cluster_scoped() {
        let a = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n");
        let b = test_resource(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\n",
        );
        let c = test_resource(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: other}\n",
        );
        assert!(a.same_id(&b));
        assert!(!a.same_id(&c));
        let r1 = test_resource(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: x}\n",
        );
        let r2 = test_resource(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
        );
        assert!(r1.same_id(&r2));
        let beta = test_resource(
            "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: ClusterRole\nmetadata: {name: r}\n",
        );
        assert!(!r2.same_id(&beta), "another API version is another id");
    }

    #[test]
    fn add_unique_refuses_a_second_object_with_the_same_id() {
        let mut ra = Vec::new();
        let cm = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n");
        add_unique(&mut ra, cm.clone(), Path::new("k.yaml"), Pos::default()).expect("first");
        let err = add_unique(&mut ra, cm, Path::new("k.yaml"), Pos::default())
            .expect_err("a duplicate is refused");
        assert!(err.message.contains("ConfigMap.v1.[noGrp]/cfg.[noNs]"));
        assert_eq!(ra.len(), 1);
    }

    #[test]
    fn set_name_remembers_previous_names_once() {
        let mut r = test_resource("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n");
        assert_eq!(r.org_name, "web");
        r.set_name("p-web");
        r.set_name("p-web");
        r.set_name("p-web-s");
        assert_eq!(r.name(), "p-web-s");
        assert_eq!(r.prev_names, ["web", "p-web"]);
        assert_eq!(r.org_name, "web");
    }

    #[test]
    fn set_creates_maps_and_replaces_values_in_place() {
        let mut n = Node::synthetic(Value::Null);
        set(&mut n, "a", text("1"));
        set(&mut n, "b", text("2"));
        set(&mut n, "a", text("3"));
        assert_eq!(get_str(&n, &["a"]), "3");
        let keys: Vec<&str> = match &n.value {
            Value::Map(e) => e.iter().map(|e| e.key.as_str()).collect(),
            _ => Vec::new(),
        };
        assert_eq!(keys, ["a", "b"]);
        assert!(get_mut(&mut n, "missing").is_none());
    }

    #[test]
    fn metadata_is_created_when_missing() {
        let mut r = test_resource("apiVersion: v1\nkind: Namespace\n");
        r.set_name("ns");
        assert_eq!(r.name(), "ns");
    }

    #[test]
    fn origin_annotations_name_the_file_or_the_generator() {
        let root = Path::new("/repo/app");
        let file = Origin::File(PathBuf::from("/repo/app/base/deploy.yaml"));
        assert_eq!(file.annotation(root), "path: base/deploy.yaml\n");
        let generator = Origin::Generator {
            configured_in: PathBuf::from("/repo/app/kustomization.yaml"),
            kind: "SecretGenerator",
            name: Some("creds".to_owned()),
        };
        assert_eq!(
            generator.annotation(root),
            "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: SecretGenerator\n  name: creds\n"
        );
    }

    #[test]
    fn transformation_annotations_list_origins_in_order() {
        let root = Path::new("/repo/app");
        let list = [
            Transformation::builtin(
                Path::new("/repo/base/kustomization.yaml"),
                "PrefixTransformer",
            ),
            Transformation {
                configured_in: PathBuf::from("/repo/app/labels.yaml"),
                kind: "LabelTransformer".to_owned(),
                name: "l".to_owned(),
                namespace: "ns".to_owned(),
            },
        ];
        assert_eq!(
            Transformation::annotation(&list, root),
            "- configuredIn: ../base/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PrefixTransformer\n- configuredIn: labels.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: LabelTransformer\n    name: l\n    namespace: ns\n"
        );
    }
}
