//! kustomize's built-in transformers, run in its order by [`transform`]: patches,
//! namespace, name prefix and suffix, labels and annotations, JSON patches, replicas and
//! images; then replacements, and (at the top only) content hashes of generated names.
//!
//! Each transformer is a free function on objects so that `transformers:` plugin configs
//! (plugins.rs) reuse exactly the code the kustomization's own fields run.

use super::RenderError;
use super::fieldspec::{FieldSpec, builtin, group_version};
use super::hash::{HashInput, name_hash};
use super::kustomization::{self, Kustomization};
use super::patches::{LoadedPatch, apply_patch};
use super::replacement::{self, Replacement};
use super::resource::{Resource, Transformation, get_mut, get_str, set, string_data, text};
use super::selector::{Selector, id_selects, target_selects};
use super::tconfig::TransformerConfig;
use crate::yaml::{FileId, Node, Pos, Value};

pub(super) fn set_pairs(target: &mut Node, pairs: &[(String, String)]) {
    if target.value == Value::Null {
        target.value = Value::Map(Vec::new());
    }
    if !matches!(target.value, Value::Map(_)) {
        return;
    }
    for (k, v) in pairs {
        set(target, k, text(v));
    }
}

pub(super) fn apply_specs(r: &mut Resource, specs: &[FieldSpec], f: &mut dyn FnMut(&mut Node)) {
    let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
    for spec in specs.iter().filter(|s| s.selects(&api_version, &kind)) {
        spec.visit(&mut r.node, f);
    }
}

/// kustomize's ReplacementTransformer: the last built-in transformer of a kustomization.
pub(super) fn apply_replacements(
    k: &Kustomization,
    ra: &mut [Resource],
    replacements: &[Replacement],
) -> Result<(), RenderError> {
    for rep in replacements {
        let err = |m: String| RenderError::at(&k.file, rep.pos, m);
        let src = &rep.source;
        let source_sel = Selector {
            group: src.group.clone(),
            version: src.version.clone(),
            kind: src.kind.clone(),
            name: src.name.clone(),
            namespace: src.namespace.clone(),
            ..Selector::default()
        };
        let sources: Vec<usize> = (0..ra.len())
            .filter(|&i| id_selects(&source_sel, &ra[i]))
            .collect();
        let [si] = sources.as_slice() else {
            return Err(err(format!(
                "replacement source {}/{} matches {} objects; it must match exactly one",
                src.kind.as_deref().unwrap_or("*"),
                src.name.as_deref().unwrap_or("*"),
                sources.len()
            )));
        };
        let value = replacement::source_value(&ra[*si].node, src).map_err(err)?;
        for target in &rep.targets {
            for r in ra.iter_mut() {
                if target_selects(target.select.as_ref(), &target.reject, r).map_err(err)? {
                    replacement::apply_target(&mut r.node, target, &value)
                        .map_err(|m| err(format!("{m} ({})", r.id())))?;
                }
            }
        }
    }
    Ok(())
}

/// The built-in transformers of one kustomization, in kustomize's order, writing where the
/// accumulation's transformer configuration `tc` says.
pub(super) fn transform(
    k: &Kustomization,
    ra: &mut Vec<Resource>,
    psm: &[LoadedPatch],
    patches: &[LoadedPatch],
    json: &[LoadedPatch],
    kid: FileId,
    tc: &TransformerConfig,
) -> Result<(), RenderError> {
    // Whatever a step creates is attributed to the kustomization field that caused it.
    let stamp = |ra: &mut Vec<Resource>, field: &str| {
        let pos = k.pos_of(field);
        for r in ra.iter_mut() {
            r.node.stamp(kid, pos);
        }
    };
    for p in psm.iter().chain(patches) {
        apply_patch(ra, p)?;
    }
    stamp(ra, "patches");
    if let Some(ns) = &k.namespace {
        // The configuration's namespace field specs (built-in and `configurations:` ones),
        // as kustomize's NamespaceTransformer reads `tc.NameSpace`; it stores every
        // object's id as a previous one (name references then consider it moved).
        let settings = NamespaceSettings {
            namespace: ns,
            specs: &tc.namespace,
            unset_only: false,
            subjects: SubjectMode::DefaultOnly,
        };
        for r in ra.iter_mut() {
            apply_namespace(r, &settings);
        }
        stamp(ra, "namespace");
    }
    for (affix, is_prefix) in [(&k.name_prefix, true), (&k.name_suffix, false)] {
        let Some(affix) = affix.as_deref().filter(|a| !a.is_empty()) else {
            continue;
        };
        let specs = if is_prefix {
            &tc.name_prefix
        } else {
            &tc.name_suffix
        };
        for r in ra.iter_mut() {
            apply_configured_affix(r, affix, is_prefix, specs);
        }
        stamp(
            ra,
            if is_prefix {
                "namePrefix"
            } else {
                "nameSuffix"
            },
        );
    }
    // After the first stamp no node lacks a source, so a step that made nothing (its field
    // unset) is not stamped: each stamp walks every node of every object (a cluster's
    // thousand objects, five times).
    if !k.labels.is_empty() {
        apply_labels(k, ra, tc);
        stamp(ra, "labels");
    }
    if !k.common_labels.is_empty() {
        apply_common_labels(k, ra, tc);
        stamp(ra, "commonLabels");
    }
    if !k.common_annotations.is_empty() {
        for r in ra.iter_mut() {
            apply_specs(r, &tc.common_annotations, &mut |n| {
                set_pairs(n, &k.common_annotations)
            });
        }
        stamp(ra, "commonAnnotations");
    }
    if !json.is_empty() {
        for p in json {
            apply_patch(ra, p)?;
        }
        stamp(ra, "patchesJson6902");
    }
    apply_replicas(k, ra, kid, &tc.replicas)?;
    // kustomize's image filter rewrites images where they are; it never creates one.
    let image_specs: Vec<FieldSpec> = configured_only(&tc.images, &builtin::IMAGES)
        .into_iter()
        .map(|s| FieldSpec { create: false, ..s })
        .collect();
    for image in &k.images {
        check_image_pattern(k, ra, image)?;
        for r in ra.iter_mut() {
            update_images(&mut r.node, image, kid);
            if r.kind() != "CustomResourceDefinition" {
                apply_specs(r, &image_specs, &mut |n| update_image_at(n, image, kid));
            }
        }
    }
    Ok(())
}

/// The transformers kustomize configures from the kustomization's own fields
/// (`configureBuiltinTransformers`), in the order they run, one per instance: each patch,
/// image and replica entry is its own transformer, and `labels` entries are each one plus
/// the `commonLabels` one, which runs whenever either field is set.
pub(super) fn builtin_transformations(k: &Kustomization) -> Vec<Transformation> {
    let set_ = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty());
    let labels = k.labels.len() + usize::from(!k.labels.is_empty() || !k.common_labels.is_empty());
    let counts = [
        (
            "PatchStrategicMergeTransformer",
            usize::from(!k.patches_strategic_merge.is_empty()),
        ),
        ("PatchTransformer", k.patches.len()),
        ("NamespaceTransformer", usize::from(set_(&k.namespace))),
        ("PrefixTransformer", usize::from(set_(&k.name_prefix))),
        ("SuffixTransformer", usize::from(set_(&k.name_suffix))),
        ("LabelTransformer", labels),
        (
            "AnnotationsTransformer",
            usize::from(!k.common_annotations.is_empty()),
        ),
        ("PatchJson6902Transformer", k.patches_json6902.len()),
        ("ReplicaCountTransformer", k.replicas.len()),
        ("ImageTagTransformer", k.images.len()),
        (
            "ReplacementTransformer",
            usize::from(!k.replacements.is_empty()),
        ),
    ];
    counts
        .into_iter()
        .flat_map(|(kind, n)| std::iter::repeat_n(Transformation::builtin(&k.file, kind), n))
        .collect()
}

/// The specs of `configured` that are not among `defaults` (those the built-in code already
/// covers), for transformers whose defaults are written as code.
fn configured_only(configured: &[FieldSpec], defaults: &[FieldSpec]) -> Vec<FieldSpec> {
    configured
        .iter()
        .filter(|s| !defaults.contains(s))
        .cloned()
        .collect()
}

/// kustomize's PrefixTransformer / SuffixTransformer: every spec selecting the object adds
/// the affix once (`metadata/name` renames it; other fields get the affix on their value).
/// A configuration whose kind-specific `metadata/name` spec displaced the default one
/// leaves the other kinds' names alone.
fn apply_configured_affix(r: &mut Resource, affix: &str, is_prefix: bool, specs: &[FieldSpec]) {
    if skips_affixes(r) {
        return;
    }
    let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
    for spec in specs.iter().filter(|s| s.selects(&api_version, &kind)) {
        if spec.path == ["metadata", "name"] {
            apply_affix(r, affix, is_prefix);
            continue;
        }
        let spec = FieldSpec {
            create: false,
            ..spec.clone()
        };
        spec.visit(&mut r.node, &mut |n| {
            if let Value::String(s) = &mut n.value {
                *s = if is_prefix {
                    format!("{affix}{s}")
                } else {
                    format!("{s}{affix}")
                };
            }
        });
    }
}

/// Kinds whose names kustomize never prefixes or suffixes.
pub(super) fn skips_affixes(r: &Resource) -> bool {
    let (g, _) = group_version(r.api_version());
    matches!(r.kind(), "CustomResourceDefinition" | "Namespace")
        || (r.kind() == "APIService" && g == "apiregistration.k8s.io")
}

/// `labels` (with their selector and template options).
fn apply_labels(k: &Kustomization, ra: &mut [Resource], tc: &TransformerConfig) {
    for set_ in &k.labels {
        let mut specs = set_.fields.clone();
        specs.extend(tc.labels.iter().cloned());
        if set_.include_selectors {
            specs.extend(tc.common_labels.iter().cloned());
        } else {
            if set_.include_templates {
                specs.extend(tc.template_labels.iter().cloned());
            }
            specs.push(FieldSpec::new("metadata/labels", true));
        }
        for r in ra.iter_mut() {
            apply_specs(r, &specs, &mut |n| set_pairs(n, &set_.pairs));
        }
    }
}

/// `commonLabels`, wherever the configuration's `commonLabels` specs say.
fn apply_common_labels(k: &Kustomization, ra: &mut [Resource], tc: &TransformerConfig) {
    if !k.common_labels.is_empty() {
        for r in ra.iter_mut() {
            apply_specs(r, &tc.common_labels, &mut |n| {
                set_pairs(n, &k.common_labels)
            });
        }
    }
}

/// `replicas`: each entry must name at least one workload.
fn apply_replicas(
    k: &Kustomization,
    ra: &mut [Resource],
    kid: FileId,
    specs: &[FieldSpec],
) -> Result<(), RenderError> {
    for (name, count) in &k.replicas {
        let mut found = false;
        for r in ra
            .iter_mut()
            .filter(|r| r.name() == name || &r.org_name == name)
        {
            let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
            if specs.iter().any(|s| s.selects(&api_version, &kind)) {
                found = true;
            }
            let pos = k.pos_of("replicas");
            apply_specs(r, specs, &mut |n| {
                n.value = Value::Int(*count);
                n.file = kid;
                n.start = pos;
                n.end = pos;
            });
        }
        if !found {
            return Err(RenderError::at(
                &k.file,
                Pos::default(),
                format!(
                    "replicas: resource with name {name} does not match a Deployment, StatefulSet, ReplicaSet or ReplicationController"
                ),
            ));
        }
    }
    Ok(())
}

/// `namePrefix` / `nameSuffix` on one object (kustomize skips CRDs, Namespaces and
/// APIServices), remembering the affix for name-reference resolution.
pub(super) fn apply_affix(r: &mut Resource, affix: &str, is_prefix: bool) {
    if skips_affixes(r) {
        return;
    }
    r.store_previous_id();
    let name = if is_prefix {
        r.prefixes.push(affix.to_owned());
        format!("{affix}{}", r.name())
    } else {
        r.suffixes.push(affix.to_owned());
        format!("{}{affix}", r.name())
    };
    r.set_name(&name);
}

/// Which RoleBinding/ClusterRoleBinding subjects the namespace transformer moves
/// (`setRoleBindingSubjects`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SubjectMode {
    /// `defaultOnly` (the default): subjects named `default`, of any kind.
    DefaultOnly,
    /// `allServiceAccounts`: subjects of kind ServiceAccount.
    AllServiceAccounts,
    /// `none`.
    None,
}

impl SubjectMode {
    pub(super) fn parse(s: &str) -> Result<SubjectMode, String> {
        match s {
            "" | "defaultOnly" => Ok(SubjectMode::DefaultOnly),
            "allServiceAccounts" => Ok(SubjectMode::AllServiceAccounts),
            "none" => Ok(SubjectMode::None),
            other => Err(format!(
                "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
            )),
        }
    }
}

/// The namespace transformer's settings: the kustomization's `namespace:` uses kustomize's
/// built-in field specs, a `NamespaceTransformer` config its own.
pub(super) struct NamespaceSettings<'a> {
    pub namespace: &'a str,
    pub specs: &'a [FieldSpec],
    /// `unsetOnly`: only empty fields are set.
    pub unset_only: bool,
    pub subjects: SubjectMode,
}

/// A kustomization's `namespace:` with the built-in field specs (what `transform` does
/// under the default configuration), for tests.
#[cfg(test)]
pub(super) fn set_namespace(r: &mut Resource, ns: &str) {
    apply_namespace(
        r,
        &NamespaceSettings {
            namespace: ns,
            specs: &builtin::NAMESPACE,
            unset_only: false,
            subjects: SubjectMode::DefaultOnly,
        },
    );
}

/// kustomize's namespace filter (`api/filters/namespace`): `metadata.namespace` of
/// namespaced objects, the subjects `setRoleBindingSubjects` selects, then the field specs
/// (a Namespace's `metadata.name` only for apiVersion `v1`).
pub(super) fn apply_namespace(r: &mut Resource, s: &NamespaceSettings) {
    r.store_previous_id();
    let ns = s.namespace;
    // `SetEntryIfEmpty`: null, "", an empty map or list (what a field spec creates).
    let empty = |n: &Node| match &n.value {
        Value::Null => true,
        Value::String(v) => v.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Seq(l) => l.is_empty(),
        _ => false,
    };
    // A new node: the value comes from the transformer (`--provenance` names it).
    let mut setter = |n: &mut Node| {
        if !s.unset_only || empty(n) {
            *n = text(ns);
        }
    };
    if !r.is_cluster_scoped() {
        let meta = r.metadata();
        if meta.get("namespace").is_none() {
            set(meta, "namespace", text(""));
        }
        if let Some(n) = get_mut(meta, "namespace") {
            setter(n);
        }
    }
    let binding = matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding");
    if binding
        && s.subjects != SubjectMode::None
        && let Some(Value::Seq(subjects)) = get_mut(&mut r.node, "subjects").map(|n| &mut n.value)
    {
        for subject in subjects.iter_mut() {
            let (field, wanted) = match s.subjects {
                SubjectMode::AllServiceAccounts => ("kind", "ServiceAccount"),
                _ => ("name", "default"),
            };
            if subject.get(field).and_then(Node::as_str) != Some(wanted) {
                continue;
            }
            if subject.get("namespace").is_none() {
                set(subject, "namespace", text(""));
            }
            if let Some(n) = get_mut(subject, "namespace") {
                setter(n);
            }
        }
    }
    let v1 = r.api_version() == "v1";
    let specs: Vec<FieldSpec> = s
        .specs
        .iter()
        .filter(|f| f.path != ["metadata", "namespace"])
        .filter(|f| v1 || f.path != ["metadata", "name"])
        .filter(|f| {
            // The subjects have their own handling above.
            let binding_spec = matches!(
                f.kind.as_deref(),
                Some("RoleBinding" | "ClusterRoleBinding")
            );
            !(binding && binding_spec && f.path == ["subjects", "namespace"])
        })
        .cloned()
        .collect();
    let renames = specs
        .iter()
        .any(|f| f.path == ["metadata", "name"] && f.selects(r.api_version(), r.kind()));
    if renames && (!s.unset_only || r.name().is_empty()) {
        // The Namespace object itself: renamed (remembering its old name for references).
        r.set_name(ns);
    }
    let others: Vec<FieldSpec> = specs
        .into_iter()
        .filter(|f| f.path != ["metadata", "name"])
        .collect();
    apply_specs(r, &others, &mut setter);
}

/// kustomize's `image.Split`: (name, tag, digest); a `:` before the first `/` is a port.
fn split_image(image: &str) -> (&str, &str, &str) {
    let slash = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[slash..];
    let (at, colon) = (search.find('@'), search.find(':'));
    match (at, colon) {
        (None, None) => (image, "", ""),
        (Some(a), c) if c.is_none_or(|c| a < c) => {
            (&image[..slash + a], "", &image[slash + a + 1..])
        }
        (Some(a), Some(c)) => (
            &image[..slash + c],
            &image[slash + c + 1..slash + a],
            &image[slash + a + 1..],
        ),
        (None, Some(c)) => (&image[..slash + c], &image[slash + c + 1..], ""),
        (Some(_), None) => (image, "", ""),
    }
}

/// kustomize's `IsImageMatched`: the configured name (a regular expression, as in
/// kustomize) followed by an optional tag and digest.
/// kustomize v5.5 compiles an `images` name into a pattern and dereferences it unchecked
/// (`image.IsImageMatched`): a name that is no valid pattern crashes the build as soon as a
/// container image is compared with it. kgate fails there instead.
fn check_image_pattern(
    k: &Kustomization,
    ra: &[Resource],
    set_: &kustomization::ImageSet,
) -> Result<(), RenderError> {
    if super::patterns::is_literal(&set_.name)
        || super::patterns::is_match(&format!("^{}", set_.name), "").is_ok()
        || !ra.iter().any(|r| has_container_image(&r.node))
    {
        return Ok(());
    }
    Err(RenderError::at(
        &k.file,
        set_.pos,
        format!(
            "images: name {:?} is not a valid regular expression (kustomize v5.5 crashes on it)",
            set_.name
        ),
    ))
}

/// Whether `update_images` would compare an image in `node`.
fn has_container_image(node: &Node) -> bool {
    match &node.value {
        Value::Map(entries) => entries.iter().any(|e| {
            let in_containers = (e.key == "containers" || e.key == "initContainers")
                && matches!(&e.value.value, Value::Seq(items)
                    if items.iter().any(|c| c.get("image").and_then(Node::as_str).is_some()));
            in_containers || has_container_image(&e.value)
        }),
        Value::Seq(items) => items.iter().any(has_container_image),
        _ => false,
    }
}

fn image_matches(image: &str, name: &str) -> bool {
    super::patterns::image_matches(image, name).unwrap_or(false)
}

fn new_image(current: &str, set_: &kustomization::ImageSet) -> String {
    let (name, tag, digest) = split_image(current);
    let name = set_.new_name.as_deref().unwrap_or(name);
    let new_tag = set_.new_tag.as_deref().filter(|t| !t.is_empty());
    let new_digest = set_.digest.as_deref().filter(|d| !d.is_empty());
    // Overriding the tag or the digest replaces both original values.
    let (tag, digest) = match (new_tag, new_digest) {
        (Some(t), Some(d)) => (t, d),
        (Some(t), None) => (t, ""),
        (None, Some(d)) => ("", d),
        (None, None) => (tag, digest),
    };
    let mut out = name.to_owned();
    if !tag.is_empty() {
        out.push(':');
        out.push_str(tag);
    }
    if !digest.is_empty() {
        out.push('@');
        out.push_str(digest);
    }
    out
}

/// An image at a configured field spec: rewritten when it matches `set_`.
fn update_image_at(img: &mut Node, set_: &kustomization::ImageSet, kid: FileId) {
    if let Some(current) = img.as_str()
        && image_matches(current, &set_.name)
    {
        img.value = Value::String(new_image(current, set_));
        img.file = kid;
        img.start = set_.pos;
        img.end = set_.pos;
    }
}

pub(super) fn update_images(node: &mut Node, set_: &kustomization::ImageSet, kid: FileId) {
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                if (e.key == "containers" || e.key == "initContainers")
                    && let Value::Seq(items) = &mut e.value.value
                {
                    for c in items.iter_mut() {
                        if let Some(img) = get_mut(c, "image")
                            && let Some(current) = img.as_str()
                            && image_matches(current, &set_.name)
                        {
                            img.value = Value::String(new_image(current, set_));
                            // The image now comes from this `images` entry.
                            img.file = kid;
                            img.start = set_.pos;
                            img.end = set_.pos;
                        }
                    }
                }
                update_images(&mut e.value, set_, kid);
            }
        }
        Value::Seq(items) => {
            for i in items.iter_mut() {
                update_images(i, set_, kid);
            }
        }
        _ => {}
    }
}

pub(super) fn add_hashes(ra: &mut [Resource]) {
    for r in ra.iter_mut().filter(|r| r.needs_hash) {
        let kind = r.kind().to_owned();
        let input = HashInput {
            kind: kind.clone(),
            secret_type: (kind == "Secret").then(|| get_str(&r.node, &["type"]).to_owned()),
            data: string_data(r.node.get("data")),
            data_absent: r.node.get("data").is_none(),
            extra: r
                .node
                .get(if kind == "Secret" {
                    "stringData"
                } else {
                    "binaryData"
                })
                .map(|n| string_data(Some(n))),
        };
        let name = format!("{}-{}", r.name(), name_hash(&input));
        r.store_previous_id();
        r.set_name(&name);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::kustomize::resource::{test_resource, test_resources};
    #[test]
    fn builtin_transformations_follow_kustomizes_instances() {
        let k = kustomization::parse(
            Path::new("k.yaml"),
            "labels: [{pairs: {a: b}}, {pairs: {c: d}}]\nimages: [{name: x, newTag: '1'}]\nnamePrefix: p-\nnamespace: ''\n",
        )
        .expect("kustomization");
        let kinds: Vec<String> = builtin_transformations(&k)
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "PrefixTransformer",
                "LabelTransformer",
                "LabelTransformer",
                "LabelTransformer",
                "ImageTagTransformer"
            ],
            "two labels entries and the commonLabels transformer; no namespace"
        );
    }

    /// `transform` with the built-in transformer configuration and nothing else.
    fn transform_builtin(k: &Kustomization, ra: &mut Vec<Resource>) -> Result<(), RenderError> {
        transform(
            k,
            ra,
            &[],
            &[],
            &[],
            FileId(1),
            TransformerConfig::builtin(),
        )
    }

    fn image_set(
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> kustomization::ImageSet {
        kustomization::ImageSet {
            pos: Pos { line: 7, column: 3 },
            name: name.to_owned(),
            new_name: new_name.map(str::to_owned),
            new_tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        }
    }

    /// A list under the pod template's spec (`containers`, `initContainers`).
    fn pod_list(r: &Resource, list: &str) -> Vec<Node> {
        match r
            .node
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get(list))
            .map(|n| &n.value)
        {
            Some(Value::Seq(items)) => items.clone(),
            _ => Vec::new(),
        }
    }

    fn kustomization(text: &str) -> Kustomization {
        kustomization::parse(Path::new("kustomization.yaml"), text).expect("valid kustomization")
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: busybox}]
      containers:
        - {name: app, image: 'registry.local:5000/web:1.0'}
        - {name: proxy, image: envoy@sha256:abc}
";

    #[test]
    fn split_image_tells_ports_tags_and_digests_apart() {
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
        assert_eq!(split_image("nginx:1.25"), ("nginx", "1.25", ""));
        assert_eq!(split_image("nginx@sha256:abc"), ("nginx", "", "sha256:abc"));
        assert_eq!(
            split_image("registry.local:5000/web"),
            ("registry.local:5000/web", "", "")
        );
        assert_eq!(
            split_image("registry.local:5000/web:1.0@sha256:abc"),
            ("registry.local:5000/web", "1.0", "sha256:abc")
        );
    }

    #[test]
    fn new_image_replaces_tag_and_digest_together() {
        let current = "registry.local:5000/web:1.0@sha256:abc";
        assert_eq!(
            new_image(current, &image_set("x", None, Some("2.0"), None)),
            "registry.local:5000/web:2.0"
        );
        assert_eq!(
            new_image(current, &image_set("x", None, None, Some("sha256:def"))),
            "registry.local:5000/web@sha256:def"
        );
        assert_eq!(
            new_image(current, &image_set("x", Some("mirror:443/web"), None, None)),
            "mirror:443/web:1.0@sha256:abc"
        );
        // An empty tag is no tag override.
        assert_eq!(
            new_image("web:1.0", &image_set("x", None, Some(""), None)),
            "web:1.0"
        );
    }

    #[test]
    fn images_match_by_whole_name_with_optional_tag_or_digest() {
        assert!(image_matches("nginx", "nginx"));
        assert!(image_matches("nginx:1.25", "nginx"));
        assert!(image_matches("nginx@sha256:abc", "nginx"));
        assert!(!image_matches("nginx-unprivileged:1.25", "nginx"));
        assert!(!image_matches("docker.io/nginx", "nginx"));
    }

    #[test]
    fn update_images_rewrites_containers_and_init_containers_with_provenance() {
        let mut d = test_resource(DEPLOYMENT);
        let set_ = image_set("registry.local:5000/web", None, Some("2.0"), None);
        update_images(&mut d.node, &set_, FileId(3));
        let web = &pod_list(&d, "containers")[0];
        assert_eq!(get_str(web, &["image"]), "registry.local:5000/web:2.0");
        let img = web.get("image").expect("image");
        assert_eq!(
            (img.file, img.start),
            (FileId(3), Pos { line: 7, column: 3 })
        );
        assert_eq!(
            get_str(&pod_list(&d, "containers")[1], &["image"]),
            "envoy@sha256:abc"
        );
        let busybox = image_set("busybox", None, Some("1.36"), None);
        update_images(&mut d.node, &busybox, FileId(3));
        assert_eq!(
            get_str(&pod_list(&d, "initContainers")[0], &["image"]),
            "busybox:1.36"
        );
    }

    #[test]
    fn set_namespace_leaves_cluster_scoped_objects_but_moves_default_subjects() {
        let mut cm = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        set_namespace(&mut cm, "prod");
        assert_eq!(cm.namespace(), "prod");
        let mut crb = test_resource(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: default, namespace: old}
  - {kind: ServiceAccount, name: robot, namespace: old}
",
        );
        set_namespace(&mut crb, "prod");
        assert_eq!(
            crb.namespace(),
            "",
            "a cluster-scoped object gets no namespace"
        );
        let Some(Value::Seq(subjects)) = crb.node.get("subjects").map(|s| &s.value) else {
            panic!("subjects");
        };
        assert_eq!(get_str(&subjects[0], &["namespace"]), "prod");
        assert_eq!(get_str(&subjects[1], &["namespace"]), "old");
        let mut ns = test_resource("apiVersion: v1\nkind: Namespace\nmetadata: {name: old}\n");
        set_namespace(&mut ns, "prod");
        assert_eq!((ns.name(), ns.namespace()), ("prod", ""));
    }

    #[test]
    fn namespace_settings_pick_subjects_and_keep_set_values_when_unset_only() {
        let rb = "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: mine}
subjects:
  - {kind: ServiceAccount, name: robot}
  - {kind: ServiceAccount, name: default, namespace: old}
  - {kind: User, name: default}
";
        let subject_ns = |mode, unset_only| {
            let mut r = test_resource(rb);
            let settings = NamespaceSettings {
                namespace: "prod",
                specs: &[],
                unset_only,
                subjects: mode,
            };
            apply_namespace(&mut r, &settings);
            let Some(Value::Seq(subjects)) = r.node.get("subjects").map(|s| &s.value) else {
                panic!("subjects");
            };
            let nss: Vec<String> = subjects
                .iter()
                .map(|s| get_str(s, &["namespace"]).to_owned())
                .collect();
            (r.namespace().to_owned(), nss)
        };
        let all = SubjectMode::AllServiceAccounts;
        assert_eq!(
            subject_ns(all, false),
            (
                "prod".into(),
                vec!["prod".into(), "prod".into(), String::new()]
            )
        );
        assert_eq!(
            subject_ns(all, true),
            (
                "mine".into(),
                vec!["prod".into(), "old".into(), String::new()]
            )
        );
        let none = SubjectMode::None;
        assert_eq!(subject_ns(none, false).1, ["", "old", ""]);
        let default_only = SubjectMode::DefaultOnly;
        assert_eq!(subject_ns(default_only, false).1, ["", "prod", "prod"]);
        assert!(SubjectMode::parse("everyone").is_err());
    }

    #[test]
    fn affixes_rename_and_are_remembered_except_on_skipped_kinds() {
        let mut d = test_resource(DEPLOYMENT);
        apply_affix(&mut d, "p-", true);
        apply_affix(&mut d, "-s", false);
        assert_eq!(d.name(), "p-web-s");
        assert_eq!(
            (d.prefixes.as_slice(), d.suffixes.as_slice()),
            (&["p-".to_owned()][..], &["-s".to_owned()][..])
        );
        assert_eq!(d.prev_names, ["web", "p-web"]);
        for skipped in [
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\n",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n",
            "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.x}\n",
        ] {
            let mut r = test_resource(skipped);
            let before = r.name().to_owned();
            apply_affix(&mut r, "p-", true);
            assert_eq!(r.name(), before);
            assert!(r.prefixes.is_empty());
        }
    }

    #[test]
    fn transform_runs_namespace_affixes_labels_replicas_and_images() {
        let k = kustomization(
            "namespace: prod
namePrefix: p-
commonLabels: {team: blue}
replicas: [{name: web, count: 3}]
images: [{name: busybox, newTag: '1.36'}]
",
        );
        let mut ra = test_resources(&format!(
            "{DEPLOYMENT}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\n"
        ));
        transform_builtin(&k, &mut ra).expect("transform");
        let d = &ra[0];
        assert_eq!((d.name(), d.namespace()), ("p-web", "prod"));
        assert_eq!(d.node.str_at(&["metadata", "labels", "team"]), Some("blue"));
        assert_eq!(
            d.node.str_at(&["spec", "selector", "matchLabels", "team"]),
            Some("blue")
        );
        assert_eq!(
            d.node
                .str_at(&["spec", "template", "metadata", "labels", "team"]),
            Some("blue")
        );
        assert_eq!(
            d.node
                .get("spec")
                .and_then(|s| s.get("replicas"))
                .map(|n| &n.value),
            Some(&Value::Int(3))
        );
        let cm = &ra[1];
        assert_eq!((cm.name(), cm.namespace()), ("p-cfg", "prod"));
        assert_eq!(
            cm.node.str_at(&["metadata", "labels", "team"]),
            Some("blue")
        );
        assert!(
            cm.node.get("spec").is_none(),
            "no selector is created on a ConfigMap"
        );
    }

    #[test]
    fn an_images_name_that_is_no_pattern_fails_once_an_image_is_compared() {
        let k = kustomization("images: [{name: 'app[', newTag: v2}]\n");
        let run = |yaml: &str| {
            let mut ra = test_resources(yaml);
            transform_builtin(&k, &mut ra)
        };
        let err = run(DEPLOYMENT).expect_err("crashes in kustomize");
        assert!(
            err.message.contains("not a valid regular expression"),
            "{err}"
        );
        run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n").expect("no image");
    }

    #[test]
    fn replicas_must_name_a_workload() {
        let k = kustomization("replicas: [{name: cfg, count: 2}]\n");
        let mut ra = test_resources("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n");
        let err = transform_builtin(&k, &mut ra).expect_err("no workload");
        assert!(
            err.message
                .contains("resource with name cfg does not match")
        );
    }

    #[test]
    fn labels_without_selectors_stay_out_of_selectors() {
        let k = kustomization("labels:\n- pairs: {team: blue}\n  includeTemplates: true\n");
        let mut ra = test_resources(DEPLOYMENT);
        transform_builtin(&k, &mut ra).expect("transform");
        let d = &ra[0];
        assert_eq!(d.node.str_at(&["metadata", "labels", "team"]), Some("blue"));
        assert_eq!(
            d.node
                .str_at(&["spec", "template", "metadata", "labels", "team"]),
            Some("blue")
        );
        assert_eq!(
            d.node.str_at(&["spec", "selector", "matchLabels", "team"]),
            None
        );
    }

    #[test]
    fn hashes_are_appended_to_generated_names_only() {
        let mut ra = test_resources(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {A: '1'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {A: '1'}\n",
        );
        ra[0].needs_hash = true;
        add_hashes(&mut ra);
        // The suffix `kubectl kustomize` prints for this data (see hash.rs).
        assert_eq!(ra[0].name(), "cfg-89g4tffbfk");
        assert_eq!(ra[0].prev_names, ["cfg"]);
        assert_eq!(ra[1].name(), "plain");
    }

    /// The inline `replacements:` of `k` (these tests have no `path:` entries).
    fn inline_replacements(k: &Kustomization) -> Vec<Replacement> {
        k.replacements
            .iter()
            .filter_map(|e| match e {
                kustomization::ReplacementEntry::Inline(r) => Some(r.clone()),
                kustomization::ReplacementEntry::Path(_) => None,
            })
            .collect()
    }

    #[test]
    fn replacements_copy_a_field_into_selected_targets() {
        let k = kustomization(
            "replacements:
- source: {kind: ConfigMap, name: cfg, fieldPath: data.host}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.0.image]
",
        );
        let replacements = inline_replacements(&k);
        let mut ra = test_resources(&format!(
            "{DEPLOYMENT}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\ndata: {{host: example/web:9}}\n"
        ));
        apply_replacements(&k, &mut ra, &replacements).expect("replacements");
        let c = pod_list(&ra[0], "containers");
        assert_eq!(get_str(&c[0], &["image"]), "example/web:9");
        let missing =
            kustomization("replacements:\n- source: {kind: Secret, name: nope}\n  targets: []\n");
        let reps = inline_replacements(&missing);
        let err = apply_replacements(&missing, &mut ra, &reps).expect_err("no source");
        assert!(err.message.contains("matches 0 objects"));
    }
}
