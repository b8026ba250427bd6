//! Transformer configurations (kustomize's `builtinconfig.TransformerConfig`): where each
//! built-in transformer writes. kustomize's defaults (`fieldspecs/*.yaml`) merged with the
//! files a kustomization names under `configurations:`.
//!
//! As in kustomize's `ResAccumulator`, a configuration belongs to an accumulation, not to one
//! kustomization: a base's configurations travel up into every overlay that includes it
//! (`MergeAccumulator`), a Component's into the kustomization using it, and the configuration
//! of the whole build decides the name-reference and var fix-ups at the top.

use std::path::Path;
use std::sync::Arc;

use super::fieldspec::{FieldSpec, builtin, split_marked};
use super::order::gvk_sort_key;
use crate::yaml::{self, LoadLimits, Node, Value};

/// `nameReference` entry: the fields (`referrers`) that refer by name to objects of a
/// group/version/kind (kustomize's `NameBackReferences`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NameBackRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub referrers: Vec<FieldSpec>,
}

/// The field specs of every built-in transformer.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub volume_claim_template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackRef>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
}

/// The error kustomize reports for two specs of one field that disagree on `create`.
pub const CONFLICT: &str = "conflicting fieldspecs";

/// Whether `selector`'s non-empty group, version and kind equal `x`'s (kustomize's
/// `Gvk.IsSelected`).
fn gvk_selected(x: &FieldSpec, selector: &FieldSpec) -> bool {
    let part = |a: &Option<String>, s: &Option<String>| {
        let s = s.as_deref().unwrap_or("");
        s.is_empty() || a.as_deref().unwrap_or("") == s
    };
    part(&x.group, &selector.group)
        && part(&x.version, &selector.version)
        && part(&x.kind, &selector.kind)
}

/// kustomize's `FsSlice.MergeOne`: a spec whose field is already covered is dropped, unless
/// it disagrees on `create`, which is an error.
pub fn merge_one(specs: &mut Vec<FieldSpec>, x: &FieldSpec) -> Result<(), String> {
    match specs
        .iter()
        .find(|s| gvk_selected(s, x) && s.path == x.path)
    {
        Some(s) if s.create != x.create => Err(CONFLICT.to_owned()),
        Some(_) => Ok(()),
        None => {
            specs.push(x.clone());
            Ok(())
        }
    }
}

/// kustomize's `FsSlice.MergeAll`.
pub fn merge_all(specs: &mut Vec<FieldSpec>, incoming: &[FieldSpec]) -> Result<(), String> {
    incoming.iter().try_for_each(|x| merge_one(specs, x))
}

impl TransformerConfig {
    /// Whether no list has a spec (a new accumulation's configuration).
    pub fn is_empty(&self) -> bool {
        *self == TransformerConfig::default()
    }

    /// kustomize's default configuration (`MakeDefaultConfig`).
    pub fn builtin() -> &'static TransformerConfig {
        static DEFAULT: std::sync::LazyLock<TransformerConfig> = std::sync::LazyLock::new(|| {
            let mut tc = TransformerConfig {
                name_prefix: vec![FieldSpec::new("metadata/name", false)],
                name_suffix: vec![FieldSpec::new("metadata/name", false)],
                namespace: builtin::NAMESPACE.clone(),
                common_labels: builtin::COMMON_LABELS.clone(),
                labels: Vec::new(),
                template_labels: builtin::TEMPLATE_LABELS.clone(),
                volume_claim_template_labels: Vec::new(),
                common_annotations: builtin::COMMON_ANNOTATIONS.clone(),
                name_reference: builtin_name_references(),
                var_reference: builtin::VAR_REFERENCE.clone(),
                images: builtin::IMAGES.clone(),
                replicas: builtin::REPLICAS.clone(),
            };
            tc.sort_fields();
            tc
        });
        &DEFAULT
    }

    /// kustomize's `TransformerConfig.Merge`: `other`'s specs added to this one's (field
    /// specs already covered are dropped; name references of one kind merge their fields).
    pub fn merge(&mut self, other: &TransformerConfig) -> Result<(), String> {
        // The common cases, without the quadratic merge: a kustomization adding the
        // defaults to its bases' (the same) configuration, or the defaults to nothing.
        if self == other {
            return Ok(());
        }
        if other == TransformerConfig::builtin() {
            if self.is_empty() {
                *self = accumulated_builtin().clone();
                return Ok(());
            }
            if self == accumulated_builtin() {
                return Ok(());
            }
        }
        self.merge_lists(other)
    }

    /// The merge itself, list by list.
    fn merge_lists(&mut self, other: &TransformerConfig) -> Result<(), String> {
        let lists = [
            (&mut self.name_prefix, &other.name_prefix, "NamePrefix"),
            (&mut self.name_suffix, &other.name_suffix, "NameSuffix"),
            (&mut self.namespace, &other.namespace, "NameSpace"),
            (
                &mut self.common_annotations,
                &other.common_annotations,
                "CommonAnnotations",
            ),
            (
                &mut self.common_labels,
                &other.common_labels,
                "CommonLabels",
            ),
            (&mut self.labels, &other.labels, "Labels"),
            (
                &mut self.template_labels,
                &other.template_labels,
                "TemplateLabels",
            ),
            (
                &mut self.volume_claim_template_labels,
                &other.volume_claim_template_labels,
                "VolumeClaimTemplateLabels",
            ),
            (
                &mut self.var_reference,
                &other.var_reference,
                "VarReference",
            ),
            (&mut self.images, &other.images, "Images"),
            (&mut self.replicas, &other.replicas, "Replicas"),
        ];
        for (mine, theirs, what) in lists {
            merge_all(mine, theirs)
                .map_err(|e| format!("failed to merge {what} fieldSpec: {e}"))?;
        }
        for nbr in &other.name_reference {
            self.merge_name_reference(nbr)
                .map_err(|e| format!("failed to merge NameReference fieldSpec: {e}"))?;
        }
        self.sort_fields();
        Ok(())
    }

    /// kustomize's `sortFields`, run after every merge and load: each list in `Gvk` order,
    /// so a spec for one kind comes before a spec of the same path for every kind, and a
    /// later merge of the list keeps the first (kustomize's `FsSlice.MergeOne`): a
    /// configuration's kind-specific `metadata/labels` replaces the default one.
    fn sort_fields(&mut self) {
        let key = |f: &FieldSpec| {
            let part = |p: &Option<String>| p.as_deref().unwrap_or("").to_owned();
            gvk_sort_key(&part(&f.group), &part(&f.version), &part(&f.kind))
        };
        for list in [
            &mut self.name_prefix,
            &mut self.name_suffix,
            &mut self.namespace,
            &mut self.common_labels,
            &mut self.labels,
            &mut self.template_labels,
            &mut self.volume_claim_template_labels,
            &mut self.common_annotations,
            &mut self.var_reference,
            &mut self.images,
            &mut self.replicas,
        ] {
            list.sort_by_cached_key(key);
        }
        self.name_reference
            .sort_by_cached_key(|n| gvk_sort_key(&n.group, &n.version, &n.kind));
    }

    /// kustomize's `nbrSlice.mergeOne`: by exact group/version/kind.
    fn merge_name_reference(&mut self, nbr: &NameBackRef) -> Result<(), String> {
        let same = |n: &&mut NameBackRef| {
            n.group == nbr.group && n.version == nbr.version && n.kind == nbr.kind
        };
        match self.name_reference.iter_mut().find(same) {
            Some(n) => merge_all(&mut n.referrers, &nbr.referrers),
            None => {
                self.name_reference.push(nbr.clone());
                Ok(())
            }
        }
    }
}

/// A transformer configuration as an accumulation holds it: shared between the builds that
/// include the same base, copied on the first change.
pub type Shared = Arc<TransformerConfig>;

/// kustomize's `ResAccumulator.MergeConfig` of another accumulation's configuration (a
/// base's, already merged: into an empty accumulation it is taken as it is).
pub fn absorb(acc: &mut Shared, other: &Shared) -> Result<(), String> {
    if Arc::ptr_eq(acc, other) || other.is_empty() {
        return Ok(());
    }
    if acc.is_empty() {
        *acc = Arc::clone(other);
        return Ok(());
    }
    Arc::make_mut(acc).merge(other)
}

/// `MergeConfig` of a kustomization's own configuration (`None`: the defaults alone).
pub fn absorb_own(acc: &mut Shared, own: Option<&TransformerConfig>) -> Result<(), String> {
    match own {
        None if acc.is_empty() => {
            *acc = Arc::clone(&SHARED);
            Ok(())
        }
        None if Arc::ptr_eq(acc, &SHARED) => Ok(()),
        None => Arc::make_mut(acc).merge(TransformerConfig::builtin()),
        Some(own) => Arc::make_mut(acc).merge(own),
    }
}

/// The one shared copy of the defaults as an accumulation holds them: most builds' whole
/// configuration, compared by pointer before merging.
static SHARED: std::sync::LazyLock<Shared> =
    std::sync::LazyLock::new(|| Arc::new(accumulated_builtin().clone()));

/// The defaults' one shared copy (what the render cache reads back for a build whose whole
/// configuration they are, so that merging it stays the pointer comparison it was).
pub fn shared_defaults() -> Shared {
    Arc::clone(&SHARED)
}

/// Whether `config` is the defaults' one shared copy.
pub fn is_shared_defaults(config: &Shared) -> bool {
    Arc::ptr_eq(config, &SHARED)
}

/// Whether `refs` is the defaults' shared `nameReference` list itself (not a copy): what is
/// derived from it holds for the whole process.
pub fn is_shared_name_reference(refs: &[NameBackRef]) -> bool {
    std::ptr::eq(refs, SHARED.name_reference.as_slice())
}

/// The defaults merged into an empty accumulation (kustomize's `ra.MergeConfig` of
/// `MakeDefaultConfig()`), once.
fn accumulated_builtin() -> &'static TransformerConfig {
    static ACC: std::sync::LazyLock<TransformerConfig> = std::sync::LazyLock::new(|| {
        let mut tc = TransformerConfig::default();
        let merged = tc.merge_lists(TransformerConfig::builtin());
        debug_assert!(merged.is_ok(), "the defaults merge");
        tc
    });
    &ACC
}

/// The default `nameReference` list (`fieldspecs/namereference.yaml`).
fn builtin_name_references() -> Vec<NameBackRef> {
    let text = include_str!("fieldspecs/namereference.yaml");
    let parsed = parse(Path::new("namereference.yaml"), text);
    debug_assert!(parsed.is_ok(), "vendored name references parse");
    parsed.map(|c| c.name_reference).unwrap_or_default()
}

/// Reads a transformer configuration file strictly, as kustomize does
/// (`yaml.UnmarshalStrict` into `TransformerConfig`): unknown fields are errors.
pub fn parse(file: &Path, text: &str) -> Result<TransformerConfig, String> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    if let Some(e) = err {
        return Err(e.to_string());
    }
    let mut tc = TransformerConfig::default();
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Ok(tc);
    };
    let entries = match &root.value {
        Value::Map(entries) => entries,
        Value::Null => return Ok(tc),
        _ => {
            return Err(format!(
                "{}: a transformer configuration must be a mapping",
                file.display()
            ));
        }
    };
    for e in entries {
        let list = match e.key.as_str() {
            "namePrefix" => &mut tc.name_prefix,
            "nameSuffix" => &mut tc.name_suffix,
            "namespace" => &mut tc.namespace,
            "commonLabels" => &mut tc.common_labels,
            "labels" => &mut tc.labels,
            "templateLabels" => &mut tc.template_labels,
            "volumeClaimTemplateLabels" => &mut tc.volume_claim_template_labels,
            "commonAnnotations" => &mut tc.common_annotations,
            "varReference" => &mut tc.var_reference,
            "images" => &mut tc.images,
            "replicas" => &mut tc.replicas,
            "nameReference" => {
                for item in seq(&e.value, "nameReference")? {
                    tc.name_reference.push(name_back_ref(item)?);
                }
                continue;
            }
            other => {
                return Err(format!(
                    "error unmarshaling JSON: while decoding JSON: json: unknown field \"{other}\""
                ));
            }
        };
        for item in seq(&e.value, &e.key)? {
            list.push(field_spec(item)?);
        }
    }
    tc.sort_fields();
    Ok(tc)
}

fn seq<'n>(n: &'n Node, what: &str) -> Result<&'n [Node], String> {
    match &n.value {
        Value::Seq(items) => Ok(items),
        Value::Null => Ok(&[]),
        _ => Err(format!("`{what}` must be a list of field specs")),
    }
}

/// A string field of a spec (`""` when absent or null).
fn string(item: &Node, key: &str) -> Result<String, String> {
    match item.get(key).map(|n| &n.value) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` of a field spec must be a string")),
    }
}

fn known_keys(item: &Node, keys: &[&str]) -> Result<(), String> {
    let Value::Map(entries) = &item.value else {
        return Err("a field spec must be a mapping".to_owned());
    };
    match entries.iter().find(|e| !keys.contains(&e.key.as_str())) {
        Some(e) => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: unknown field \"{}\"",
            e.key
        )),
        None => Ok(()),
    }
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

fn field_spec(item: &Node) -> Result<FieldSpec, String> {
    known_keys(item, &["group", "version", "kind", "path", "create"])?;
    let create = match item.get("create").map(|n| &n.value) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("`create` of a field spec must be true or false".to_owned()),
    };
    let (path, seq_segments) = split_marked(&string(item, "path")?);
    Ok(FieldSpec {
        group: some(string(item, "group")?),
        version: some(string(item, "version")?),
        kind: some(string(item, "kind")?),
        path,
        create,
        seq_segments,
    })
}

fn name_back_ref(item: &Node) -> Result<NameBackRef, String> {
    known_keys(item, &["group", "version", "kind", "fieldSpecs"])?;
    let referrers = match item.get("fieldSpecs") {
        Some(list) => seq(list, "fieldSpecs")?
            .iter()
            .map(field_spec)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(NameBackRef {
        group: string(item, "group")?,
        version: string(item, "version")?,
        kind: string(item, "kind")?,
        referrers,
    })
}

/// kustomize's `LoadConfigFromCRDs` for one `crds:` file: OpenAPI definitions by type name
/// (`{<pkg>.<Kind>: {Schema: {properties: ...}}}`, JSON or YAML). In the types that look like
/// Kubernetes objects, properties marked `x-kubernetes-annotation`, `-label-selector` and
/// `-identity` become commonAnnotations, commonLabels and namePrefix specs, and
/// `x-kubernetes-object-ref-api-version` with `-kind` (and `-name-key`) a name reference;
/// `$ref`s to other definitions of the file are followed.
pub fn from_crds(text: &str) -> Result<TransformerConfig, String> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    if let Some(e) = err {
        return Err(e.to_string());
    }
    let mut tc = TransformerConfig::default();
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Ok(tc);
    };
    let defs: Vec<(&str, &Node)> = match &root.value {
        Value::Map(entries) => entries.iter().map(|e| (e.key.as_str(), &e.value)).collect(),
        Value::Null => Vec::new(),
        _ => {
            return Err(
                "json: cannot unmarshal into Go value of type accumulator.nameToApiMap".to_owned(),
            );
        }
    };
    for (name, def) in &defs {
        if !matches!(def.value, Value::Map(_) | Value::Null) {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type accumulator.OpenAPIDefinition",
                json_type(def)
            ));
        }
        let props = properties(def);
        let looks_like_object = ["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.iter().any(|(p, _)| p == k));
        if !looks_like_object {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        let mut one = TransformerConfig::default();
        load_crd(&mut one, kind, &defs, name, &[], 0)?;
        tc.merge(&one)?;
    }
    Ok(tc)
}

fn json_type(n: &Node) -> &'static str {
    match n.value {
        Value::String(_) => "string",
        Value::Seq(_) => "array",
        Value::Bool(_) => "bool",
        _ => "number",
    }
}

/// The `Schema.properties` of a definition (the Go field matches case-insensitively).
fn properties(def: &Node) -> Vec<(String, &Node)> {
    let Value::Map(entries) = &def.value else {
        return Vec::new();
    };
    let schema = entries
        .iter()
        .find(|e| e.key.eq_ignore_ascii_case("schema"))
        .map(|e| &e.value);
    match schema.and_then(|s| s.get("properties")).map(|p| &p.value) {
        Some(Value::Map(props)) => props.iter().map(|e| (e.key.clone(), &e.value)).collect(),
        _ => Vec::new(),
    }
}

/// kustomize's `loadCrdIntoConfig`.
fn load_crd(
    tc: &mut TransformerConfig,
    kind: &str,
    defs: &[(&str, &Node)],
    type_name: &str,
    path: &[String],
    depth: usize,
) -> Result<(), String> {
    // A `$ref` cycle would recurse forever in kustomize; stop where no real schema goes.
    let Some((_, def)) = defs
        .iter()
        .find(|(n, _)| *n == type_name)
        .filter(|_| depth < 64)
    else {
        return Ok(());
    };
    for (prop, schema) in properties(def) {
        let ext = |key: &str| schema.get(key).and_then(Node::as_str).map(str::to_owned);
        let mut at = path.to_vec();
        at.push(prop.clone());
        let spec = |p: &[String]| FieldSpec {
            kind: Some(kind.to_owned()),
            path: p.to_vec(),
            ..FieldSpec::new("", false)
        };
        if ext("x-kubernetes-annotation").is_some() {
            merge_one(&mut tc.common_annotations, &spec(&at))?;
        }
        if ext("x-kubernetes-label-selector").is_some() {
            merge_one(&mut tc.common_labels, &spec(&at))?;
        }
        if ext("x-kubernetes-identity").is_some() {
            merge_one(&mut tc.name_prefix, &spec(&at))?;
        }
        if let (Some(version), Some(ref_kind)) = (
            ext("x-kubernetes-object-ref-api-version"),
            ext("x-kubernetes-object-ref-kind"),
        ) {
            let mut name_at = at.clone();
            name_at
                .push(ext("x-kubernetes-object-ref-name-key").unwrap_or_else(|| "name".to_owned()));
            tc.merge_name_reference(&NameBackRef {
                group: String::new(),
                version,
                kind: ref_kind,
                referrers: vec![spec(&name_at)],
            })?;
        }
        if let Some(r) = ext("$ref") {
            load_crd(tc, kind, defs, &r, &at, depth + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> TransformerConfig {
        parse(Path::new("c.yaml"), text).expect("parses")
    }

    #[test]
    fn builtin_has_the_default_name_references() {
        let tc = TransformerConfig::builtin();
        let cm = tc
            .name_reference
            .iter()
            .find(|n| n.kind == "ConfigMap")
            .expect("ConfigMap references");
        assert_eq!(cm.version, "v1");
        assert!(cm.referrers.len() > 10);
        assert_eq!(tc.images.len(), 4);
    }

    #[test]
    fn merge_adds_new_specs_drops_covered_ones_and_refuses_conflicts() {
        let mut tc = TransformerConfig::builtin().clone();
        let before = tc.common_labels.len();
        let custom = config(
            "commonLabels:\n- path: spec/selector\n  kind: Widget\n  create: true\n- path: metadata/labels\n  create: true\n",
        );
        tc.merge(&custom).expect("merges");
        assert_eq!(tc.common_labels.len(), before + 1);
        assert!(
            tc.common_labels
                .iter()
                .any(|f| f.kind.as_deref() == Some("Widget"))
        );
        let conflict = config("commonLabels:\n- path: metadata/labels\n");
        assert_eq!(
            tc.merge(&conflict),
            Err("failed to merge CommonLabels fieldSpec: conflicting fieldspecs".to_owned())
        );
    }

    #[test]
    fn a_kind_specific_spec_displaces_the_default_of_its_path() {
        // As kustomize does it: default + configuration, sorted; then merged into the
        // (empty) accumulation, where the default spec is covered by the kind-specific one
        // sorted before it.
        let mut own = TransformerConfig::builtin().clone();
        own.merge(&config(
            "commonLabels:\n- {path: metadata/labels, kind: Host, create: true}\n",
        ))
        .expect("merges");
        let mut ra = TransformerConfig::default();
        ra.merge(&own).expect("merges");
        let labels: Vec<Option<&str>> = ra
            .common_labels
            .iter()
            .filter(|f| f.path == ["metadata", "labels"])
            .map(|f| f.kind.as_deref())
            .collect();
        assert_eq!(labels, [Some("Host")]);
        // Disagreeing on `create`, the two conflict.
        let mut own = TransformerConfig::builtin().clone();
        own.merge(&config(
            "commonLabels:\n- {path: metadata/labels, kind: Host}\n",
        ))
        .expect("merges");
        let err = TransformerConfig::default()
            .merge(&own)
            .expect_err("conflict");
        assert!(err.ends_with(CONFLICT), "{err}");
    }

    #[test]
    fn name_references_merge_by_exact_gvk() {
        let mut tc = TransformerConfig::builtin().clone();
        let n = tc.name_reference.len();
        tc.merge(&config(
            "nameReference:\n- kind: Secret\n  version: v1\n  fieldSpecs:\n  - {path: spec/tls/secret, kind: Gateway}\n- kind: Issuer\n  group: cert-manager.io\n  fieldSpecs:\n  - {path: spec/issuerRef/name, kind: Certificate}\n",
        ))
        .expect("merges");
        assert_eq!(tc.name_reference.len(), n + 1);
        let secret = tc
            .name_reference
            .iter()
            .find(|r| r.kind == "Secret" && r.version == "v1")
            .expect("Secret");
        assert!(
            secret
                .referrers
                .iter()
                .any(|f| f.path == ["spec", "tls", "secret"])
        );
    }

    #[test]
    fn crd_definitions_configure_references_labels_and_prefixes() {
        let tc = from_crds(
            r#"{"a.v1.Thing": {"Schema": {"properties": {
                 "apiVersion": {}, "kind": {}, "metadata": {},
                 "spec": {"$ref": "a.v1.Spec"}}}},
               "a.v1.Spec": {"schema": {"properties": {
                 "cm": {"x-kubernetes-object-ref-api-version": "v1",
                        "x-kubernetes-object-ref-kind": "ConfigMap"},
                 "sel": {"x-kubernetes-label-selector": ""},
                 "flag": {"x-kubernetes-annotation": true}}}},
               "a.v1.NotAnObject": {"Schema": {"properties": {
                 "x": {"x-kubernetes-identity": ""}}}}}"#,
        )
        .expect("definitions");
        assert_eq!(tc.name_reference.len(), 1);
        let cm = &tc.name_reference[0];
        assert_eq!((cm.kind.as_str(), cm.version.as_str()), ("ConfigMap", "v1"));
        assert_eq!(cm.referrers[0].path, ["spec", "cm", "name"]);
        assert_eq!(cm.referrers[0].kind.as_deref(), Some("Thing"));
        assert_eq!(tc.common_labels[0].path, ["spec", "sel"]);
        // An extension must be a string; a type that is no object configures nothing.
        assert!(tc.common_annotations.is_empty());
        assert!(tc.name_prefix.is_empty());
        assert!(from_crds("apiVersion: v1\nkind: X\n").is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse(Path::new("c.yaml"), "nameRefs: []\n").expect_err("unknown");
        assert!(err.contains("unknown field \"nameRefs\""), "{err}");
        let err =
            parse(Path::new("c.yaml"), "images:\n- {path: a, crate: true}\n").expect_err("unknown");
        assert!(err.contains("unknown field \"crate\""), "{err}");
    }
}
