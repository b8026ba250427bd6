//! Plugin configs listed under `transformers:`, `generators:` and `validators:`. Only
//! kustomize's built-in plugins (`apiVersion: builtin`) are run, through the same code as
//! the kustomization's own fields; anything else would execute code from the repository,
//! which kgate never does, so it is refused.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::engine::Renderer;
use super::fieldspec::{FieldSpec, parse_spec};
use super::generators::generator_kind;
use super::kustomization::{
    self, GeneratorArgs, ImageSet, Item, Kustomization, PatchEntry, PluginRef,
};
use super::patches::{self, apply_patch};
use super::resource::{Origin, Resource, get_str};
use super::transformers::{
    NamespaceSettings, SubjectMode, apply_affix, apply_namespace, apply_specs, set_pairs,
    skips_affixes, update_images,
};
use crate::yaml::{self, FileId, LoadLimits, Node, Pos, Value};

impl Renderer {
    /// Built-in transformer configs under `transformers:`, run after the kustomization's own
    /// transformers as kustomize does; `validators:` and every non-built-in plugin are
    /// refused.
    pub(super) fn apply_plugin_transformers(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        kid: FileId,
    ) -> Result<(), RenderError> {
        for p in k.plugins.iter().filter(|p| p.field != "generators") {
            let (file, docs) = self.plugin_config(k, dir, p)?;
            for d in docs.iter().filter(|d| d.root.value != Value::Null) {
                self.apply_plugin_transformer(k, dir, ra, &d.root, p, &file)?;
                for r in ra.iter_mut() {
                    r.node.stamp(kid, p.item.pos);
                }
            }
        }
        Ok(())
    }

    /// Runs one transformer config `c` (read from `file`) on `ra`.
    fn apply_plugin_transformer(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        c: &Node,
        p: &PluginRef,
        file: &Path,
    ) -> Result<(), RenderError> {
        let api_version = get_str(c, &["apiVersion"]);
        let kind = get_str(c, &["kind"]);
        let refuse = |m: String| RenderError::at(&k.file, p.item.pos, m);
        if api_version != "builtin" || p.field != "transformers" {
            return Err(refuse(format!(
                "`{}` plugin `{kind}` ({api_version}) is refused: kgate never executes code from the repository",
                p.field
            )));
        }
        let specs = field_specs(c);
        match kind {
            "LabelTransformer" | "AnnotationsTransformer" => {
                let values = pairs(
                    c,
                    if kind == "LabelTransformer" {
                        "labels"
                    } else {
                        "annotations"
                    },
                );
                for r in ra.iter_mut() {
                    apply_specs(r, &specs, &mut |n| set_pairs(n, &values));
                }
            }
            "PrefixTransformer" | "SuffixTransformer" => {
                affix_names(ra, c, kind, &specs).map_err(refuse)?;
            }
            // kustomize runs the legacy PrefixSuffixTransformer as a PrefixTransformer then a
            // SuffixTransformer with the same configuration.
            "PrefixSuffixTransformer" => {
                affix_names(ra, c, "PrefixTransformer", &specs).map_err(refuse)?;
                affix_names(ra, c, "SuffixTransformer", &specs).map_err(refuse)?;
            }
            "NamespaceTransformer" => {
                let settings = NamespaceSettings {
                    namespace: get_str(c, &["metadata", "namespace"]),
                    specs: &specs,
                    unset_only: matches!(
                        c.get("unsetOnly").map(|n| &n.value),
                        Some(Value::Bool(true))
                    ),
                    subjects: SubjectMode::parse(get_str(c, &["setRoleBindingSubjects"]))
                        .map_err(refuse)?,
                };
                if !settings.namespace.is_empty() {
                    for r in ra.iter_mut() {
                        apply_namespace(r, &settings);
                    }
                }
            }
            "ImageTagTransformer" => {
                let set_ = image_tag(c);
                let fid = self.file_id(file);
                for r in ra.iter_mut() {
                    update_images(&mut r.node, &set_, fid);
                }
            }
            "ReplicaCountTransformer" => set_replica_count(ra, c, &specs).map_err(refuse)?,
            "PatchTransformer" | "PatchStrategicMergeTransformer" | "PatchJson6902Transformer" => {
                let entries = patch_entries(kind, c, file)?;
                let mut loaded = self.load_patches(k, dir, &entries)?;
                if kind == "PatchTransformer" {
                    patches::require_documents(&loaded)?;
                    patches::mark_patch_transformer(&mut loaded);
                }
                for patch in loaded {
                    apply_patch(ra, &patch)?;
                }
            }
            other => {
                return Err(refuse(format!(
                    "kgate does not render the built-in `{other}` under `transformers` yet"
                )));
            }
        }
        Ok(())
    }

    /// The documents of a plugin config file (under the load restrictor).
    fn plugin_config(
        &self,
        k: &Kustomization,
        dir: &Path,
        p: &PluginRef,
    ) -> Result<(PathBuf, Vec<yaml::Document>), RenderError> {
        let file = self.restricted_file(k, dir, &p.item.value, p.item.pos)?;
        let text = self.read_text(&file).map_err(|e| {
            RenderError::at(&k.file, p.item.pos, format!("'{}': {e}", p.item.value))
        })?;
        let (docs, err) = yaml::parse_documents(&text, LoadLimits::default());
        if let Some(e) = err {
            return Err(RenderError::at(&file, e.pos, e.to_string()));
        }
        Ok((file, docs))
    }

    /// Built-in generator configs listed under `generators:`; any other plugin is refused.
    pub(super) fn plugin_generators(
        &self,
        k: &Kustomization,
        dir: &Path,
    ) -> Result<Vec<(GeneratorArgs, &'static str, Origin)>, RenderError> {
        let mut out = Vec::new();
        for p in k.plugins.iter().filter(|p| p.field == "generators") {
            let (file, docs) = self.plugin_config(k, dir, p)?;
            for d in docs.iter().filter(|d| d.root.value != Value::Null) {
                let api_version = get_str(&d.root, &["apiVersion"]);
                let kind = get_str(&d.root, &["kind"]);
                if p.field == "generators"
                    && let Some((args, secret)) = kustomization::builtin_generator(&file, &d.root)?
                {
                    let origin = Origin::Generator {
                        configured_in: file.clone(),
                        kind: generator_kind(if secret { "Secret" } else { "ConfigMap" }),
                        name: Some(get_str(&d.root, &["metadata", "name"]).to_owned()),
                    };
                    out.push((args, if secret { "Secret" } else { "ConfigMap" }, origin));
                    continue;
                }
                let message = if api_version == "builtin" {
                    format!(
                        "kgate does not render the built-in `{kind}` under `{}` yet",
                        p.field
                    )
                } else {
                    format!(
                        "`{}` plugin `{kind}` ({api_version}) is refused: kgate never executes code from the repository",
                        p.field
                    )
                };
                return Err(RenderError::at(&k.file, p.item.pos, message));
            }
        }
        Ok(out)
    }
}

/// A config's `fieldSpecs`.
fn field_specs(c: &Node) -> Vec<FieldSpec> {
    match c.get("fieldSpecs").map(|f| &f.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(parse_spec).collect(),
        _ => Vec::new(),
    }
}

/// The string pairs of a config's map field (`labels`, `annotations`).
fn pairs(c: &Node, key: &str) -> Vec<(String, String)> {
    match c.get(key).map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|e| e.value.as_str().map(|v| (e.key.clone(), v.to_owned())))
            .collect(),
        _ => Vec::new(),
    }
}

/// A config's string field, with its position.
fn item(c: &Node, key: &str) -> Option<Item> {
    c.get(key).and_then(|n| {
        n.as_str().map(|v| Item {
            value: v.to_owned(),
            pos: n.start,
        })
    })
}

/// `PrefixTransformer` / `SuffixTransformer` (`kind`), as kustomize's: on `metadata/name` the
/// object is renamed (its affix recorded for name references, its previous id kept); on
/// any other field spec the string there gets the affix. CRDs, Namespaces and APIServices
/// are skipped.
fn affix_names(
    ra: &mut [Resource],
    c: &Node,
    kind: &str,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let is_prefix = kind == "PrefixTransformer";
    let affix = get_str(c, &[if is_prefix { "prefix" } else { "suffix" }]).to_owned();
    let affixed = |s: &str| {
        if is_prefix {
            format!("{affix}{s}")
        } else {
            format!("{s}{affix}")
        }
    };
    for r in ra.iter_mut() {
        if skips_affixes(r) {
            continue;
        }
        let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
        let mut renamed = false;
        for spec in specs.iter().filter(|s| s.selects(&api_version, &kind)) {
            if spec.path == ["metadata", "name"] {
                if !affix.is_empty() && !renamed {
                    apply_affix(r, &affix, is_prefix);
                    renamed = true;
                }
                continue;
            }
            spec.visit(&mut r.node, &mut |n| match &n.value {
                Value::String(s) => n.value = Value::String(affixed(s)),
                Value::Null => n.value = Value::String(affixed("")),
                _ => {}
            });
        }
    }
    Ok(())
}

/// `ImageTagTransformer`'s `imageTag`, as an `images` entry.
fn image_tag(c: &Node) -> ImageSet {
    let tag = c.get("imageTag");
    let field = |f: &str| {
        tag.and_then(|t| t.get(f))
            .and_then(Node::as_str)
            .map(str::to_owned)
    };
    ImageSet {
        pos: tag.map_or(Pos::default(), |t| t.start),
        name: field("name").unwrap_or_default(),
        new_name: field("newName"),
        new_tag: field("newTag"),
        digest: field("digest"),
    }
}

/// `ReplicaCountTransformer`: `replica.count` on the fieldSpecs of objects named
/// `replica.name`.
fn set_replica_count(ra: &mut [Resource], c: &Node, specs: &[FieldSpec]) -> Result<(), String> {
    let name = get_str(c, &["replica", "name"]).to_owned();
    let Some(Value::Int(count)) = c
        .get("replica")
        .and_then(|r| r.get("count"))
        .map(|n| &n.value)
    else {
        return Err("ReplicaCountTransformer needs replica.count".to_owned());
    };
    let count = *count;
    for r in ra
        .iter_mut()
        .filter(|r| r.name() == name || r.org_name == name)
    {
        apply_specs(r, specs, &mut |n| n.value = Value::Int(count));
    }
    Ok(())
}

/// The patch entries a patch transformer config stands for, as if listed in the
/// kustomization.
fn patch_entries(kind: &str, c: &Node, file: &Path) -> Result<Vec<PatchEntry>, RenderError> {
    let target = c
        .get("target")
        .map(|t| kustomization::selector_of(file, t))
        .transpose()?;
    let mut entries = Vec::new();
    match kind {
        "PatchStrategicMergeTransformer" => {
            if let Some(Value::Seq(paths)) = c.get("paths").map(|n| &n.value) {
                for path in paths {
                    entries.push(PatchEntry {
                        path: path.as_str().map(|v| Item {
                            value: v.to_owned(),
                            pos: path.start,
                        }),
                        ..PatchEntry::default()
                    });
                }
            }
            if let Some(inline) = item(c, "patches") {
                entries.push(PatchEntry {
                    inline: Some(inline),
                    ..PatchEntry::default()
                });
            }
        }
        "PatchJson6902Transformer" => entries.push(PatchEntry {
            path: item(c, "path"),
            inline: item(c, "jsonOp"),
            target,
            pos: c.start,
            ..PatchEntry::default()
        }),
        _ => entries.push(PatchEntry {
            path: item(c, "path"),
            inline: item(c, "patch"),
            target,
            pos: c.start,
            ..PatchEntry::default()
        }),
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::resource::{test_resource, test_resources};

    fn config(text: &str) -> Node {
        test_resource(text).node
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        std::fs::write(dir.join(rel), text).expect("write test file");
    }

    #[test]
    fn patch_transformer_configs_become_patch_entries() {
        let file = Path::new("/repo/t.yaml");
        let smp = config(
            "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: {name: p}\npaths: [a.yaml, b.yaml]\npatches: |-\n  kind: Deployment\n",
        );
        let entries = patch_entries("PatchStrategicMergeTransformer", &smp, file).expect("smp");
        let paths: Vec<Option<&str>> = entries
            .iter()
            .map(|e| e.path.as_ref().map(|p| p.value.as_str()))
            .collect();
        assert_eq!(paths, [Some("a.yaml"), Some("b.yaml"), None]);
        assert_eq!(
            entries[2].inline.as_ref().map(|i| i.value.as_str()),
            Some("kind: Deployment")
        );
        let json = config(
            "apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: j}\ntarget: {kind: Service, name: web}\njsonOp: '[]'\n",
        );
        let entries = patch_entries("PatchJson6902Transformer", &json, file).expect("json");
        let [e] = entries.as_slice() else {
            panic!("one entry");
        };
        assert_eq!(e.inline.as_ref().map(|i| i.value.as_str()), Some("[]"));
        let target = e.target.as_ref().expect("target");
        assert_eq!(
            (target.kind.as_deref(), target.name.as_deref()),
            (Some("Service"), Some("web"))
        );
        let plain = config(
            "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: p.yaml\n",
        );
        let entries = patch_entries("PatchTransformer", &plain, file).expect("patch");
        assert_eq!(
            entries[0].path.as_ref().map(|p| p.value.as_str()),
            Some("p.yaml")
        );
        assert!(entries[0].target.is_none());
    }

    #[test]
    fn image_tag_configs_become_images_entries() {
        let c = config(
            "apiVersion: builtin\nkind: ImageTagTransformer\nmetadata: {name: i}\nimageTag: {name: nginx, newTag: '1.25'}\n",
        );
        let set_ = image_tag(&c);
        assert_eq!(set_.name, "nginx");
        assert_eq!(set_.new_tag.as_deref(), Some("1.25"));
        assert_eq!((set_.new_name, set_.digest), (None, None));
        assert_eq!(set_.pos.line, 4);
    }

    #[test]
    fn affixes_rename_selected_kinds_and_affix_other_fields() {
        let mut ra = test_resources(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: v}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n",
        );
        let c = config(
            "apiVersion: builtin\nkind: PrefixTransformer\nmetadata: {name: p}\nprefix: x-\nfieldSpecs: [{kind: Service, path: metadata/name}, {kind: Namespace, path: metadata/name}]\n",
        );
        affix_names(&mut ra, &c, "PrefixTransformer", &field_specs(&c)).expect("prefix");
        assert_eq!(
            (ra[0].name(), ra[1].name(), ra[2].name()),
            ("c", "x-s", "n"),
            "a Namespace is never renamed"
        );
        let data = config(
            "apiVersion: builtin\nkind: SuffixTransformer\nmetadata: {name: p}\nsuffix: -y\nfieldSpecs: [{kind: ConfigMap, path: data/x}]\n",
        );
        affix_names(&mut ra, &data, "SuffixTransformer", &field_specs(&data)).expect("suffix");
        assert_eq!(ra[0].node.str_at(&["data", "x"]), Some("v-y"));
        assert_eq!(ra[0].name(), "c", "only the configured field changes");
    }

    #[test]
    fn replica_counts_need_a_count_and_apply_by_name() {
        let mut ra = test_resources(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n",
        );
        let c = config(
            "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata: {name: r}\nreplica: {name: web, count: 5}\nfieldSpecs: [{path: spec/replicas, create: true}]\n",
        );
        set_replica_count(&mut ra, &c, &field_specs(&c)).expect("count");
        assert_eq!(
            ra[0]
                .node
                .get("spec")
                .and_then(|s| s.get("replicas"))
                .map(|n| &n.value),
            Some(&Value::Int(5))
        );
        let no_count = config(
            "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata: {name: r}\nreplica: {name: web}\n",
        );
        assert!(set_replica_count(&mut ra, &no_count, &[]).is_err());
    }

    #[test]
    fn builtin_plugins_run_and_others_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        write(
            dir,
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        );
        write(
            dir,
            "labels.yaml",
            "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {team: blue}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
        );
        write(
            dir,
            "gen.yaml",
            "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: generated}\nliterals: [A=1]\n",
        );
        write(
            dir,
            "kustomization.yaml",
            "resources: [cm.yaml]\ntransformers: [labels.yaml]\ngenerators: [gen.yaml]\n",
        );
        let out = Renderer::new(dir).render(dir).expect("render");
        assert_eq!(out.len(), 2);
        for r in &out {
            assert_eq!(r.node.str_at(&["metadata", "labels", "team"]), Some("blue"));
        }
        let generated = out
            .iter()
            .find(|r| r.org_name == "generated")
            .expect("generated object");
        assert!(matches!(
            &generated.origin,
            Origin::Generator { kind: "ConfigMapGenerator", name: Some(n), .. } if n == "generated"
        ));
        write(
            dir,
            "exec.yaml",
            "apiVersion: example.com/v1\nkind: Exec\nmetadata: {name: e}\n",
        );
        write(
            dir,
            "kustomization.yaml",
            "resources: [cm.yaml]\ntransformers: [exec.yaml]\n",
        );
        let err = Renderer::new(dir).render(dir).expect_err("refused");
        assert!(
            err.message
                .contains("`transformers` plugin `Exec` (example.com/v1) is refused"),
            "{err}"
        );
        write(
            dir,
            "kustomization.yaml",
            "resources: [cm.yaml]\nvalidators: [labels.yaml]\n",
        );
        let err = Renderer::new(dir)
            .render(dir)
            .expect_err("validators are refused");
        assert!(
            err.message
                .contains("`validators` plugin `LabelTransformer`"),
            "{err}"
        );
    }
}
