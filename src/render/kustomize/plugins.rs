//! Plugin configs listed under `transformers:`, `generators:` and `validators:`. Only
//! kustomize's built-in plugins (`apiVersion: builtin`) are run, through the same code as
//! the kustomization's own fields; anything else would execute code from the repository,
//! which kgate never does, so it is refused.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::engine::Renderer;
use super::fieldspec::{FieldSpec, parse_spec};
use super::generators::generator_kind;
use super::kustomization::{self, GeneratorArgs, ImageSet, Item, Kustomization, PatchEntry};
use super::patches::{self, apply_patch};
use super::resource::{Origin, Resource, Transformation, add_unique, get_str, kustomize_input};
use super::transformers::{
    NamespaceSettings, SubjectMode, apply_affix, apply_namespace, apply_replacements, apply_specs,
    set_pairs, skips_affixes, update_images,
};
use crate::yaml::{self, FileId, Node, Pos, Value};

/// One plugin config object and the entry that listed it.
pub(super) struct PluginConfig {
    /// The object (built by its directory's kustomization for a directory entry); its
    /// `source` is the file it was read from, the kustomization file for an inline config.
    res: Resource,
    entry: Pos,
}

impl PluginConfig {
    /// kustomize's `OriginFromCustomPlugin`: the config's file, and its kind, name and
    /// namespace.
    fn transformation(&self) -> Transformation {
        let configured_in = match &self.res.origin {
            Origin::Generator { configured_in, .. } => configured_in.clone(),
            Origin::File(path) => path.clone(),
        };
        Transformation {
            configured_in,
            kind: self.res.kind().to_owned(),
            name: self.res.name().to_owned(),
            namespace: self.res.namespace().to_owned(),
        }
    }
}

/// kustomize's check that a config names a plugin compiled into it (`isBuiltinPlugin`).
fn is_builtin(c: &Node) -> bool {
    get_str(c, &["apiVersion"]) == "builtin"
}

/// The refusal of a plugin that is not built into kustomize.
fn refused(field: &str, c: &Node) -> String {
    format!(
        "`{field}` plugin `{}` ({}) is refused: kgate never executes code from the repository",
        get_str(c, &["kind"]),
        get_str(c, &["apiVersion"])
    )
}

/// The built-in plugins that are generators (the others are transformers).
const BUILTIN_GENERATORS: &[&str] = &[
    "ConfigMapGenerator",
    "SecretGenerator",
    "HelmChartInflationGenerator",
    "IAMPolicyGenerator",
];

impl Renderer {
    /// kustomize's `configureExternalTransformers` / `configureExternalGenerators`: the
    /// config objects of the `field` entries. Inline configs (an entry that reads as YAML
    /// objects) come first, then the files and directories, accumulated like `resources`: a
    /// directory's kustomization is built (its own transformers apply to the configs) and,
    /// like a base, it may sit outside the kustomization's directory.
    fn plugin_configs(
        &self,
        k: &Kustomization,
        dir: &Path,
        field: &str,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<PluginConfig>, RenderError> {
        let mut configs: Vec<Resource> = Vec::new();
        let mut entries: Vec<Pos> = Vec::new();
        let mut paths = Vec::new();
        let entries_of = k.plugins.iter().filter(|p| p.field == field);
        for p in entries_of {
            match inline_configs(&p.item, self.file_id(&k.file)) {
                Some(nodes) => {
                    for n in nodes {
                        add_unique(
                            &mut configs,
                            Resource::loaded(n, &k.file),
                            &k.file,
                            p.item.pos,
                        )?;
                        entries.push(p.item.pos);
                    }
                }
                None => paths.push(p),
            }
        }
        for p in paths {
            let (loaded, _, _) = self.load_resource(k, dir, &p.item.value, p.item.pos, stack)?;
            for r in loaded {
                add_unique(&mut configs, r, &k.file, p.item.pos)?;
                entries.push(p.item.pos);
            }
        }
        Ok(configs
            .into_iter()
            .zip(entries)
            .map(|(res, entry)| PluginConfig { res, entry })
            .collect())
    }

    /// Built-in transformer configs under `transformers:`, run after the kustomization's own
    /// transformers as kustomize does; returns what ran, for transformer annotations.
    /// `validators:` and every non-built-in plugin are refused.
    pub(super) fn apply_plugin_transformers(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        kid: FileId,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<Transformation>, RenderError> {
        if let Some(v) = self.plugin_configs(k, dir, "validators", stack)?.first() {
            return Err(RenderError::at(
                &k.file,
                v.entry,
                refused("validators", &v.res.node),
            ));
        }
        let mut done = Vec::new();
        for c in self.plugin_configs(k, dir, "transformers", stack)? {
            self.apply_plugin_transformer(k, dir, ra, &c)?;
            // What the transformer wrote comes from its config (the file, or where the
            // inline text sits in the kustomization).
            let (file, at) = match c.res.node.file {
                FileId::UNKNOWN => (kid, c.entry),
                file => (file, c.res.node.start),
            };
            for r in ra.iter_mut() {
                r.node.stamp(file, at);
            }
            done.push(c.transformation());
        }
        Ok(done)
    }

    /// Runs one transformer config on `ra`.
    fn apply_plugin_transformer(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        config: &PluginConfig,
    ) -> Result<(), RenderError> {
        let (c, file) = (&config.res.node, &config.res.source);
        let kind = get_str(c, &["kind"]);
        let refuse = |m: String| RenderError::at(&k.file, config.entry, m);
        if !is_builtin(c) {
            return Err(refuse(refused("transformers", c)));
        }
        // Paths in a config resolve from the kustomization listing it (kustomize gives the
        // plugin that kustomization's loader); errors and inline text belong to the config.
        let ck = Kustomization {
            file: file.clone(),
            ..Kustomization::default()
        };
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
                let mut loaded = self.load_patches(&ck, dir, &entries)?;
                if kind == "PatchTransformer" {
                    patches::require_documents(&loaded)?;
                    patches::mark_patch_transformer(&mut loaded);
                }
                for patch in loaded {
                    apply_patch(ra, &patch)?;
                }
            }
            "ReplacementTransformer" => {
                let entries = match c.get("replacements") {
                    Some(n) => kustomization::replacements_of(file, n)?,
                    None => Vec::new(),
                };
                let replacements = self.load_replacements(&ck, dir, &entries)?;
                apply_replacements(&ck, ra, &replacements)?;
            }
            g if BUILTIN_GENERATORS.contains(&g) => {
                return Err(refuse(format!(
                    "plugin {g}.builtin.[noGrp]/{}.[noNs] not a transformer",
                    config.res.name()
                )));
            }
            other => {
                return Err(refuse(format!(
                    "kgate does not render the built-in `{other}` under `transformers` yet"
                )));
            }
        }
        Ok(())
    }

    /// Built-in generator configs listed under `generators:`; any other plugin is refused.
    pub(super) fn plugin_generators(
        &self,
        k: &Kustomization,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<(GeneratorArgs, &'static str, Origin)>, RenderError> {
        let mut out = Vec::new();
        for c in self.plugin_configs(k, dir, "generators", stack)? {
            let (node, file) = (&c.res.node, &c.res.source);
            let refuse = |m: String| RenderError::at(&k.file, c.entry, m);
            if !is_builtin(node) {
                return Err(refuse(refused("generators", node)));
            }
            if let Some((args, secret)) = kustomization::builtin_generator(file, node)? {
                let kind = if secret { "Secret" } else { "ConfigMap" };
                let by = c.transformation();
                let origin = Origin::Generator {
                    configured_in: by.configured_in,
                    kind: generator_kind(kind),
                    name: Some(by.name),
                };
                out.push((args, kind, origin));
                continue;
            }
            let kind = get_str(node, &["kind"]);
            return Err(refuse(if BUILTIN_GENERATORS.contains(&kind) {
                format!("kgate does not render the built-in `{kind}` under `generators` yet")
            } else {
                format!(
                    "plugin {kind}.builtin.[noGrp]/{}.[noNs] not a generator",
                    c.res.name()
                )
            }));
        }
        Ok(out)
    }
}

/// An entry that reads as YAML objects is an inline config (kustomize tries
/// `NewResMapFromBytes` first); `None`: a path. Positions move to where the text sits in
/// the kustomization.
fn inline_configs(item: &Item, kid: FileId) -> Option<Vec<Node>> {
    let (docs, err) = yaml::parse_documents(&item.value, kustomize_input(kid));
    if err.is_some() {
        return None;
    }
    let mut nodes: Vec<Node> = docs
        .into_iter()
        .map(|d| d.root)
        .filter(|n| n.value != Value::Null)
        .collect();
    if nodes.iter().any(|n| !matches!(n.value, Value::Map(_))) {
        return None;
    }
    let at = item.pos;
    let (lines, columns) = if item.value.contains('\n') {
        (at.line - 1, at.column.saturating_sub(1))
    } else {
        (at.line - 1, at.column)
    };
    nodes
        .iter_mut()
        .for_each(|n| patches::shift_lines(n, lines, columns));
    Some(nodes)
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
    fn entries_reading_as_objects_are_inline_configs() {
        let entry = |value: &str, line: u32| Item {
            value: value.to_owned(),
            pos: Pos { line, column: 3 },
        };
        assert!(inline_configs(&entry("prefix.yaml", 4), FileId::UNKNOWN).is_none());
        assert!(inline_configs(&entry("../dir", 4), FileId::UNKNOWN).is_none());
        let nodes = inline_configs(
            &entry("apiVersion: builtin\nkind: LabelTransformer\n", 5),
            FileId::UNKNOWN,
        )
        .expect("inline");
        let [n] = nodes.as_slice() else {
            panic!("one config");
        };
        assert_eq!(get_str(n, &["kind"]), "LabelTransformer");
        assert_eq!(n.start.line, 5, "the text's first line is the entry's");
        let two = inline_configs(&entry("kind: A\n---\nkind: B\n", 1), FileId::UNKNOWN);
        assert_eq!(two.map(|n| n.len()), Some(2));
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
