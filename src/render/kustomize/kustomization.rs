//! `kustomization.yaml`, read into typed fields with the line of each.
//!
//! Fields kustomize v5.5 does not know are an error, as in kustomize. Fields it knows but
//! kgate does not render yet are an error too, naming the field: kgate never renders a
//! kustomization differently from kustomize without saying so.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::fieldspec::{FieldSpec, parse_spec};
use super::selector::Selector;
use crate::yaml::{self, Entry, LoadLimits, Node, Pos, Value};

/// A string from the kustomization and the position it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub value: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, Default)]
pub struct LabelSet {
    pub pairs: Vec<(String, String)>,
    pub include_selectors: bool,
    pub include_templates: bool,
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Default)]
pub struct ImageSet {
    /// The `images` entry, for provenance of the image it writes.
    pub pos: Pos,
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GeneratorOptions {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct GeneratorArgs {
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Option<String>,
    pub literals: Vec<Item>,
    pub files: Vec<Item>,
    pub envs: Vec<Item>,
    pub secret_type: Option<String>,
    pub options: Option<GeneratorOptions>,
    pub pos: Pos,
}

/// One entry of `patches`, `patchesStrategicMerge` or `patchesJson6902`.
#[derive(Debug, Clone, Default)]
pub struct PatchEntry {
    /// A file holding the patch.
    pub path: Option<Item>,
    /// An inline patch.
    pub inline: Option<Item>,
    pub target: Option<Selector>,
    pub pos: Pos,
    /// `options.allowNameChange` / `allowKindChange`: a strategic-merge patch applied to a
    /// selected target may rename it or change its kind.
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Kustomization {
    /// The kustomization file itself.
    pub file: PathBuf,
    pub is_component: bool,
    pub resources: Vec<Item>,
    pub components: Vec<Item>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub common_labels: Vec<(String, String)>,
    pub labels: Vec<LabelSet>,
    pub common_annotations: Vec<(String, String)>,
    pub images: Vec<ImageSet>,
    pub replicas: Vec<(String, i64)>,
    pub config_map_generator: Vec<GeneratorArgs>,
    pub secret_generator: Vec<GeneratorArgs>,
    pub generator_options: Option<GeneratorOptions>,
    pub patches_strategic_merge: Vec<PatchEntry>,
    pub patches: Vec<PatchEntry>,
    pub patches_json6902: Vec<PatchEntry>,
    /// Where each top-level field is, for provenance of what it changes.
    pub field_pos: Vec<(String, Pos)>,
    pub plugins: Vec<PluginRef>,
    pub replacements: Vec<ReplacementEntry>,
    pub vars: Vec<VarEntry>,
    /// `buildMetadata` options (only the top-level kustomization's apply).
    pub build_metadata: Vec<String>,
    /// `sortOptions` (only the top-level kustomization's apply).
    pub sort_options: Option<SortOptions>,
    /// Transformer configuration files (`configurations`).
    pub configurations: Vec<Item>,
    /// `openapi`: a built-in schema version, or a file holding a custom schema.
    pub openapi_version: Option<String>,
    pub openapi_path: Option<Item>,
    /// Files of OpenAPI definitions whose extensions configure transformers (`crds`).
    pub crds: Vec<Item>,
    /// The deprecated `imageTags`, appended to `images` once the file is read.
    pub image_tags: Vec<ImageSet>,
    /// `helmCharts` entries and `helmGlobals`, as written (read by `helm_charts.rs`).
    pub helm_charts: Vec<Node>,
    pub helm_globals: Option<Node>,
}

/// `sortOptions`: `fifo` keeps the order objects were loaded in; `legacy` sorts by kind, with
/// the kinds put first and last configurable (kustomize's defaults when neither is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortOptions {
    Fifo,
    Legacy {
        order_first: Vec<String>,
        order_last: Vec<String>,
        custom: bool,
    },
}

/// An entry of the legacy `vars`: `$(name)` in the fields kustomize substitutes becomes the
/// value at `field_path` of the object `objref` names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VarEntry {
    pub name: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub obj_name: String,
    pub namespace: String,
    /// `fieldref.fieldPath`, `metadata.name` by default.
    pub field_path: String,
    /// The kustomization declaring it, and where.
    pub file: PathBuf,
    pub pos: Pos,
}

/// An entry of `replacements`: inline, or a file of replacements.
#[derive(Debug, Clone)]
pub enum ReplacementEntry {
    Inline(super::replacement::Replacement),
    Path(Item),
}

impl Kustomization {
    /// Whether this kustomization only gathers the builds of other kustomizations: two or more
    /// `resources`, every one a directory (`is_dir`, given the entry as written), and no step
    /// of its own but the metadata transformers (namespace, name affixes, labels,
    /// annotations, images, replicas), each one pass over the objects. A cluster listing two
    /// hundred overlays is one. Its build is not worth storing (see `RenderStore::forget`):
    /// the entry would repeat its directories' entries, and restoring it cost as much as
    /// building it again from theirs.
    pub fn gathers_only(&self, is_dir: impl Fn(&str) -> bool) -> bool {
        self.resources.len() >= 2
            && self.components.is_empty()
            && self.config_map_generator.is_empty()
            && self.secret_generator.is_empty()
            && self.patches_strategic_merge.is_empty()
            && self.patches.is_empty()
            && self.patches_json6902.is_empty()
            && self.plugins.is_empty()
            && self.replacements.is_empty()
            && self.vars.is_empty()
            && self.configurations.is_empty()
            && self.openapi_version.is_none()
            && self.openapi_path.is_none()
            && self.crds.is_empty()
            && self.helm_charts.is_empty()
            && self.helm_globals.is_none()
            && self.resources.iter().all(|r| is_dir(&r.value))
    }

    /// The line of a top-level field (line 1 when absent).
    pub fn pos_of(&self, key: &str) -> Pos {
        self.field_pos
            .iter()
            .find(|(k, _)| k == key)
            .map_or(Pos { line: 1, column: 1 }, |(_, p)| *p)
    }
}

/// Every top-level field of kustomize v5.5's `Kustomization` type.
const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// Fields that change the output and that kgate does not render yet.
const NOT_YET: &[&str] = &["helmGlobals", "helmCharts", "helmChartInflationGenerator"];

/// Fields that list plugin configs: only kustomize's built-in generators are rendered; any
/// other plugin is refused (kgate never runs code from the repository).
const PLUGINS: &[&str] = &["generators", "transformers", "validators"];

/// An entry of `generators`, `transformers` or `validators`.
#[derive(Debug, Clone)]
pub struct PluginRef {
    pub field: String,
    pub item: Item,
}

pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file in `dir`, if any (kustomize errors when there are several);
/// `is_file` tells which files exist (the renderer's file table).
pub fn find_in(dir: &Path, is_file: impl Fn(&Path) -> bool) -> Result<Option<PathBuf>, String> {
    let found: Vec<PathBuf> = FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| is_file(p))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => Err(format!(
            "found multiple kustomization files under: {}",
            dir.display()
        )),
    }
}

struct Reader<'a> {
    file: &'a Path,
}

impl Reader<'_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> RenderError {
        RenderError::at(self.file, pos, message)
    }

    fn string(&self, n: &Node, what: &str) -> Result<String, RenderError> {
        match &n.value {
            Value::String(s) => Ok(s.clone()),
            // kustomize decodes into Go strings: an unquoted number or boolean is an error.
            Value::Int(_) | Value::Float(_) => Err(self.err(
                n.start,
                format!(
                    "invalid Kustomization: `{what}` must be a string, not a number (quote it)"
                ),
            )),
            Value::Bool(_) => Err(self.err(
                n.start,
                format!(
                    "invalid Kustomization: `{what}` must be a string, not a boolean (quote it)"
                ),
            )),
            _ => Err(self.err(n.start, format!("`{what}` must be a string"))),
        }
    }

    fn items(&self, n: &Node, what: &str) -> Result<Vec<Item>, RenderError> {
        match &n.value {
            Value::Null => Ok(Vec::new()),
            Value::Seq(items) => items
                .iter()
                .map(|i| {
                    Ok(Item {
                        value: self.string(i, what)?,
                        pos: i.start,
                    })
                })
                .collect(),
            _ => Err(self.err(n.start, format!("`{what}` must be a list"))),
        }
    }

    fn string_map(&self, n: &Node, what: &str) -> Result<Vec<(String, String)>, RenderError> {
        match &n.value {
            Value::Null => Ok(Vec::new()),
            Value::Map(entries) => entries
                .iter()
                .map(|e| {
                    let v = match &e.value.value {
                        Value::Null => String::new(),
                        _ => self.string(&e.value, what)?,
                    };
                    Ok((e.key.clone(), v))
                })
                .collect(),
            _ => Err(self.err(n.start, format!("`{what}` must be a map of strings"))),
        }
    }

    /// One `vars` entry. Its keys decode like kustomize's (Go JSON: case-insensitive).
    fn var(&self, n: &Node) -> Result<VarEntry, RenderError> {
        let Value::Map(_) = &n.value else {
            return Err(self.err(n.start, "a `vars` entry must be a map"));
        };
        let field = |m: &Node, key: &str| -> Result<String, RenderError> {
            let Value::Map(entries) = &m.value else {
                return Ok(String::new());
            };
            match entries.iter().find(|e| e.key.eq_ignore_ascii_case(key)) {
                Some(e) if e.value.value == Value::Null => Ok(String::new()),
                Some(e) => self.string(&e.value, key),
                None => Ok(String::new()),
            }
        };
        let child = |key: &str| {
            let Value::Map(entries) = &n.value else {
                return None;
            };
            entries
                .iter()
                .find(|e| e.key.eq_ignore_ascii_case(key))
                .map(|e| &e.value)
        };
        let name = field(n, "name")?;
        if name.is_empty() {
            return Err(self.err(n.start, "a `vars` entry needs a `name`"));
        }
        let empty = Node::synthetic(Value::Null);
        let objref = child("objref").unwrap_or(&empty);
        let (mut group, mut version) = (field(objref, "group")?, field(objref, "version")?);
        let api_version = field(objref, "apiVersion")?;
        // kustomize's Target.GVK(): apiVersion, when set, overrides group/version.
        match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [g, v] => (group, version) = ((*g).to_owned(), (*v).to_owned()),
            [v] if !v.is_empty() => version = (*v).to_owned(),
            _ => {}
        }
        let field_path = child("fieldref")
            .map(|f| field(f, "fieldPath"))
            .transpose()?
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "metadata.name".to_owned());
        Ok(VarEntry {
            name,
            group,
            version,
            kind: field(objref, "kind")?,
            obj_name: field(objref, "name")?,
            namespace: field(objref, "namespace")?,
            field_path,
            file: self.file.to_owned(),
            pos: n.start,
        })
    }

    fn bool(&self, n: Option<&Node>, what: &str) -> Result<Option<bool>, RenderError> {
        match n.map(|n| (&n.value, n.start)) {
            None | Some((Value::Null, _)) => Ok(None),
            Some((Value::Bool(b), _)) => Ok(Some(*b)),
            Some((_, pos)) => Err(self.err(pos, format!("`{what}` must be true or false"))),
        }
    }

    fn options(&self, n: &Node) -> Result<GeneratorOptions, RenderError> {
        Ok(GeneratorOptions {
            labels: n
                .get("labels")
                .map(|l| self.string_map(l, "labels"))
                .transpose()?
                .unwrap_or_default(),
            annotations: n
                .get("annotations")
                .map(|l| self.string_map(l, "annotations"))
                .transpose()?
                .unwrap_or_default(),
            disable_name_suffix_hash: self
                .bool(n.get("disableNameSuffixHash"), "disableNameSuffixHash")?,
            immutable: self.bool(n.get("immutable"), "immutable")?,
        })
    }

    fn selector(&self, n: &Node) -> Result<Selector, RenderError> {
        let s = |k: &str| -> Result<Option<String>, RenderError> {
            n.get(k).map(|v| self.string(v, k)).transpose()
        };
        Ok(Selector {
            group: s("group")?,
            version: s("version")?,
            kind: s("kind")?,
            name: s("name")?,
            namespace: s("namespace")?,
            label_selector: s("labelSelector")?,
            annotation_selector: s("annotationSelector")?,
            pos: n.start,
        })
    }

    fn generators(&self, n: &Node, secret: bool) -> Result<Vec<GeneratorArgs>, RenderError> {
        let Value::Seq(items) = &n.value else {
            if n.value == Value::Null {
                return Ok(Vec::new());
            }
            return Err(self.err(n.start, "a generator list must be a list"));
        };
        items
            .iter()
            .map(|g| {
                let s = |k: &str| -> Result<Option<String>, RenderError> {
                    g.get(k).map(|v| self.string(v, k)).transpose()
                };
                let list = |k: &str| -> Result<Vec<Item>, RenderError> {
                    Ok(g.get(k)
                        .map(|v| self.items(v, k))
                        .transpose()?
                        .unwrap_or_default())
                };
                let mut envs = list("envs")?;
                if let Some(e) = g.get("env") {
                    envs.push(Item {
                        value: self.string(e, "env")?,
                        pos: e.start,
                    });
                }
                Ok(GeneratorArgs {
                    name: s("name")?.unwrap_or_default(),
                    namespace: s("namespace")?,
                    behavior: s("behavior")?,
                    literals: list("literals")?,
                    files: list("files")?,
                    envs,
                    secret_type: if secret { s("type")? } else { None },
                    options: g.get("options").map(|o| self.options(o)).transpose()?,
                    pos: g.start,
                })
            })
            .collect()
    }
}

/// Reads the kustomization at `file`.
pub fn parse(file: &Path, text: &str) -> Result<Kustomization, RenderError> {
    from_documents(file, &documents(file, text)?)
}

/// The YAML documents of the kustomization `file`'s `text`, as [`parse`] reads them.
pub fn documents(file: &Path, text: &str) -> Result<Vec<yaml::Document>, RenderError> {
    // kustomize decodes a kustomization through go-yaml v2: a repeated key keeps the last value.
    let limits = LoadLimits {
        duplicate_keys_last_wins: true,
        ..LoadLimits::default()
    };
    let (docs, err) = yaml::parse_documents(text, limits);
    match err {
        Some(e) => Err(Reader { file }.err(e.pos, e.to_string())),
        None => Ok(docs),
    }
}

/// [`parse`] on the documents of a kustomization's text, parsed without error (as
/// discovery parsed them: `FileTable::take_documents`).
pub fn from_documents(file: &Path, docs: &[yaml::Document]) -> Result<Kustomization, RenderError> {
    let r = Reader { file };
    let mut k = Kustomization {
        file: file.to_owned(),
        ..Kustomization::default()
    };
    let empty = || r.err(Pos::default(), "kustomization.yaml is empty");
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Err(empty());
    };
    let entries = match &root.value {
        Value::Map(e) => e,
        Value::Null => return Err(empty()),
        _ => return Err(r.err(root.start, "a kustomization must be a YAML mapping")),
    };
    // kustomize refuses a kustomization that says nothing beyond its type.
    if entries
        .iter()
        .all(|e| e.key == "apiVersion" || e.key == "kind")
    {
        return Err(empty());
    }
    k.field_pos = entries.iter().map(|e| (e.key.clone(), e.key_pos)).collect();
    for e in entries {
        r.field(&mut k, e)?;
    }
    let tags = std::mem::take(&mut k.image_tags);
    k.images.extend(tags);
    Ok(k)
}

/// One section of the kustomization per function, read in the file's order.
impl Reader<'_> {
    /// Reads the top-level field `e` into `k`, refusing fields kustomize does not know and
    /// fields kgate does not render.
    fn field(&self, k: &mut Kustomization, e: &Entry) -> Result<(), RenderError> {
        // kustomize decodes with Go's encoding/json, which matches a field name that differs
        // only in case (`nameprefix` is `namePrefix`).
        let key = KNOWN_FIELDS
            .iter()
            .find(|f| f.eq_ignore_ascii_case(&e.key))
            .copied()
            .unwrap_or(e.key.as_str());
        let v = &e.value;
        if !KNOWN_FIELDS.contains(&key) {
            return Err(self.err(
                e.key_pos,
                format!("invalid Kustomization: unknown field \"{key}\""),
            ));
        }
        if PLUGINS.contains(&key) {
            return self.plugins(k, key, v);
        }
        // Kept as written; `helm_charts.rs` reads them when it inflates the charts.
        if key == "helmGlobals" {
            k.helm_globals = Some(v.clone()).filter(|n| n.value != Value::Null);
            return Ok(());
        }
        if key == "helmCharts" {
            if let Value::Seq(items) = &v.value {
                k.helm_charts = items.clone();
            }
            return Ok(());
        }
        if key.starts_with("helm") && !is_empty(v) {
            // Helm needs the helm binary and chart repositories: a note, not an error.
            let mut err = self.err(
                e.key_pos,
                format!("`{key}`: Helm charts are not rendered yet, so this root was not checked"),
            );
            err.unavailable = true;
            return Err(err);
        }
        if NOT_YET.contains(&key) && !is_empty(v) {
            return Err(self.err(e.key_pos, format!("kgate does not render `{key}` yet")));
        }
        match key {
            "kind" => self.kind(k, v)?,
            "resources" | "bases" => k.resources.extend(self.items(v, key)?),
            "components" => k.components = self.items(v, key)?,
            "namespace" => k.namespace = Some(self.string(v, key)?).filter(|s| !s.is_empty()),
            "namePrefix" => k.name_prefix = Some(self.string(v, key)?),
            "nameSuffix" => k.name_suffix = Some(self.string(v, key)?),
            "commonLabels" => k.common_labels = self.string_map(v, key)?,
            "commonAnnotations" => k.common_annotations = self.string_map(v, key)?,
            "labels" => k.labels.extend(self.labels(v)?),
            "images" => k.images.extend(self.images(v)?),
            // kustomize's `FixKustomization` appends the deprecated `imageTags` to `images`.
            "imageTags" => k.image_tags.extend(self.images(v)?),
            "configurations" => k.configurations = self.items(v, key)?,
            "crds" => k.crds = self.items(v, key)?,
            "openapi" => {
                for (name, value) in self.string_map(v, key)? {
                    match name.as_str() {
                        "path" => {
                            let pos = v.get("path").map_or(e.key_pos, |p| p.start);
                            k.openapi_path = Some(Item { value, pos });
                        }
                        "version" => k.openapi_version = Some(value),
                        _ => {}
                    }
                }
            }
            "replicas" => k.replicas.extend(self.replicas(v)?),
            "configMapGenerator" => k.config_map_generator = self.generators(v, false)?,
            "secretGenerator" => k.secret_generator = self.generators(v, true)?,
            "generatorOptions" => k.generator_options = Some(self.options(v)?),
            // A null `sortOptions` is no sort options (the catch-all below).
            "sortOptions" if v.value != Value::Null => {
                k.sort_options = Some(self.sort_options(v)?);
            }
            "buildMetadata" => k.build_metadata.extend(self.build_metadata(v, key)?),
            "vars" => k.vars.extend(self.vars(v)?),
            "replacements" => k.replacements.extend(self.replacements(v)?),
            "patchesStrategicMerge" => {
                k.patches_strategic_merge
                    .extend(self.patches_strategic_merge(v, key)?);
            }
            "patches" => k.patches.extend(self.patches(v, key)?),
            "patchesJson6902" => k.patches_json6902.extend(self.patches(v, key)?),
            _ => {}
        }
        Ok(())
    }

    fn plugins(&self, k: &mut Kustomization, key: &str, v: &Node) -> Result<(), RenderError> {
        // An entry is a config file, a directory built as a kustomization, or an inline
        // config (`plugins.rs` tells them apart as kustomize does).
        for item in self.items(v, key)? {
            k.plugins.push(PluginRef {
                field: key.to_owned(),
                item,
            });
        }
        Ok(())
    }

    fn kind(&self, k: &mut Kustomization, v: &Node) -> Result<(), RenderError> {
        let kind = self.string(v, "kind")?;
        match kind.as_str() {
            "Kustomization" | "" => {}
            "Component" => k.is_component = true,
            other => {
                return Err(self.err(v.start, format!("unknown kustomization kind `{other}`")));
            }
        }
        Ok(())
    }

    /// The items of a list field (nothing for null, `what must be a list` otherwise).
    fn list<'n>(&self, v: &'n Node, what: &str) -> Result<&'n [Node], RenderError> {
        match &v.value {
            Value::Seq(items) => Ok(items),
            Value::Null => Ok(&[]),
            _ => Err(self.err(v.start, format!("{what} must be a list"))),
        }
    }

    fn labels(&self, v: &Node) -> Result<Vec<LabelSet>, RenderError> {
        let mut out = Vec::new();
        for item in self.list(v, "`labels`")? {
            // kustomize v5.5's `Label` has only these fields (Go's JSON matches them
            // ignoring case); `includeVolumeClaimTemplates` came later.
            const KNOWN: [&str; 4] = ["pairs", "includeSelectors", "includeTemplates", "fields"];
            if let Value::Map(entries) = &item.value
                && let Some(e) = entries
                    .iter()
                    .find(|e| !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&e.key)))
            {
                return Err(self.err(
                    e.key_pos,
                    format!("invalid Kustomization: json: unknown field \"{}\"", e.key),
                ));
            }
            let fields = match item.get("fields").map(|f| &f.value) {
                Some(Value::Seq(fs)) => fs.iter().filter_map(parse_spec).collect(),
                _ => Vec::new(),
            };
            out.push(LabelSet {
                pairs: item
                    .get("pairs")
                    .map(|p| self.string_map(p, "pairs"))
                    .transpose()?
                    .unwrap_or_default(),
                include_selectors: self
                    .bool(item.get("includeSelectors"), "includeSelectors")?
                    .unwrap_or(false),
                include_templates: self
                    .bool(item.get("includeTemplates"), "includeTemplates")?
                    .unwrap_or(false),
                fields,
            });
        }
        Ok(out)
    }

    fn images(&self, v: &Node) -> Result<Vec<ImageSet>, RenderError> {
        let Value::Seq(items) = &v.value else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in items {
            let s = |key: &str| -> Result<Option<String>, RenderError> {
                item.get(key).map(|x| self.string(x, key)).transpose()
            };
            // The entry's value that decides the new image is what a finding points at.
            let pos = ["digest", "newTag", "newName"]
                .iter()
                .find_map(|f| item.get(f).map(|n| n.start))
                .unwrap_or(item.start);
            out.push(ImageSet {
                pos,
                name: s("name")?.unwrap_or_default(),
                new_name: s("newName")?,
                new_tag: s("newTag")?,
                digest: s("digest")?,
            });
        }
        Ok(out)
    }

    fn replicas(&self, v: &Node) -> Result<Vec<(String, i64)>, RenderError> {
        let Value::Seq(items) = &v.value else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for item in items {
            let name = item
                .get("name")
                .map(|n| self.string(n, "name"))
                .transpose()?
                .unwrap_or_default();
            let count = match item.get("count").map(|c| &c.value) {
                Some(Value::Int(i)) => *i,
                _ => return Err(self.err(item.start, "`replicas[].count` must be an integer")),
            };
            out.push((name, count));
        }
        Ok(out)
    }

    fn sort_options(&self, v: &Node) -> Result<SortOptions, RenderError> {
        let order = v
            .get("order")
            .map(|o| self.string(o, "sortOptions.order"))
            .transpose()?;
        let legacy = v
            .get("legacySortOptions")
            .filter(|l| l.value != Value::Null);
        let pos = v.get("order").map_or(v.start, |o| o.start);
        match order.as_deref() {
            Some("fifo") => {
                if legacy.is_some() {
                    return Err(self.err(
                        pos,
                        "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                    ));
                }
                Ok(SortOptions::Fifo)
            }
            Some("legacy") => {
                let list = |key: &str| -> Result<Vec<String>, RenderError> {
                    match legacy.and_then(|l| l.get(key)) {
                        Some(n) => Ok(self.items(n, key)?.into_iter().map(|i| i.value).collect()),
                        None => Ok(Vec::new()),
                    }
                };
                Ok(SortOptions::Legacy {
                    order_first: list("orderFirst")?,
                    order_last: list("orderLast")?,
                    custom: legacy.is_some(),
                })
            }
            _ => Err(self.err(
                pos,
                "the field 'sortOptions.order' must be one of [fifo, legacy]",
            )),
        }
    }

    fn build_metadata(&self, v: &Node, key: &str) -> Result<Vec<String>, RenderError> {
        let mut out = Vec::new();
        for item in self.items(v, key)? {
            match item.value.as_str() {
                "originAnnotations" | "managedByLabel" | "transformerAnnotations" => {
                    out.push(item.value)
                }
                // kustomize ignores options it does not know; so does kgate.
                _ => {}
            }
        }
        Ok(out)
    }

    fn vars(&self, v: &Node) -> Result<Vec<VarEntry>, RenderError> {
        self.list(v, "`vars`")?
            .iter()
            .map(|item| self.var(item))
            .collect()
    }

    fn replacements(&self, v: &Node) -> Result<Vec<ReplacementEntry>, RenderError> {
        let mut out = Vec::new();
        for item in self.list(v, "`replacements`")? {
            if let Some(p) = item.get("path") {
                out.push(ReplacementEntry::Path(Item {
                    value: self.string(p, "path")?,
                    pos: p.start,
                }));
            } else {
                out.push(ReplacementEntry::Inline(super::replacement::parse(
                    self.file,
                    item,
                    |n| self.selector(n),
                )?));
            }
        }
        Ok(out)
    }

    fn patches_strategic_merge(&self, v: &Node, key: &str) -> Result<Vec<PatchEntry>, RenderError> {
        let mut out = Vec::new();
        for item in self.items(v, key)? {
            // An entry is a file path, or an inline patch when it spans lines.
            let inline = item.value.contains('\n');
            out.push(PatchEntry {
                path: (!inline).then(|| item.clone()),
                inline: inline.then(|| item.clone()),
                target: None,
                pos: item.pos,
                ..PatchEntry::default()
            });
        }
        Ok(out)
    }

    /// `patches` or `patchesJson6902` (`key`), whose entries need a target.
    fn patches(&self, v: &Node, key: &str) -> Result<Vec<PatchEntry>, RenderError> {
        let mut out = Vec::new();
        for item in self.list(v, &format!("`{key}`"))? {
            let entry = self.patch(item)?;
            if key == "patchesJson6902" && entry.target.is_none() {
                return Err(self.err(item.start, "a patchesJson6902 entry needs a `target`"));
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// One entry of `patches` or `patchesJson6902`.
    fn patch(&self, item: &Node) -> Result<PatchEntry, RenderError> {
        let option = |name: &str| -> Result<bool, RenderError> {
            let o = item.get("options");
            if let Some(Value::Map(opts)) = o.map(|o| &o.value)
                && let Some(unknown) = opts
                    .iter()
                    .find(|e| e.key != "allowNameChange" && e.key != "allowKindChange")
            {
                return Err(self.err(
                    unknown.key_pos,
                    format!("unknown patch option `{}`", unknown.key),
                ));
            }
            Ok(self
                .bool(o.and_then(|o| o.get(name)), name)?
                .unwrap_or(false))
        };
        let text = |name: &str| -> Result<Option<Item>, RenderError> {
            item.get(name)
                .map(|n| {
                    Ok(Item {
                        value: self.string(n, name)?,
                        pos: n.start,
                    })
                })
                .transpose()
        };
        let entry = PatchEntry {
            path: text("path")?,
            inline: text("patch")?,
            target: item.get("target").map(|t| self.selector(t)).transpose()?,
            pos: item.start,
            allow_name_change: option("allowNameChange")?,
            allow_kind_change: option("allowKindChange")?,
        };
        if entry.path.is_none() && entry.inline.is_none() {
            return Err(self.err(item.start, "a patch needs `path` or `patch`"));
        }
        Ok(entry)
    }
}

/// The `replacements` of a built-in ReplacementTransformer config read from `file`.
pub fn replacements_of(file: &Path, n: &Node) -> Result<Vec<ReplacementEntry>, RenderError> {
    Reader { file }.replacements(n)
}

/// A patch target selector read from a built-in transformer config.
pub fn selector_of(file: &Path, n: &Node) -> Result<Selector, RenderError> {
    Reader { file }.selector(n)
}

/// A built-in generator config (`apiVersion: builtin`, `kind: ConfigMapGenerator` or
/// `SecretGenerator`) as generator arguments; `None` for any other kind.
pub fn builtin_generator(
    file: &Path,
    doc: &Node,
) -> Result<Option<(GeneratorArgs, bool)>, RenderError> {
    let r = Reader { file };
    let secret = match doc.get("kind").and_then(Node::as_str) {
        Some("ConfigMapGenerator") => false,
        Some("SecretGenerator") => true,
        _ => return Ok(None),
    };
    if doc.get("apiVersion").and_then(Node::as_str) != Some("builtin") {
        return Ok(None);
    }
    // The config is a generator entry; its own `name` and `namespace` win, those under
    // `metadata` fill in when they are empty (the plugin's `Config`).
    let mut entry = doc.clone();
    if let Value::Map(entries) = &mut entry.value
        && let Some(meta) = doc.get("metadata")
    {
        for key in ["name", "namespace"] {
            let Some(v) = meta.get(key) else { continue };
            let own = entries.iter().position(|e| e.key == key);
            if own.is_some_and(|i| !is_empty(&entries[i].value)) {
                continue;
            }
            entries.retain(|e| e.key != key);
            entries.push(Entry {
                key: key.to_owned(),
                key_pos: v.start,
                value: v.clone(),
            });
        }
    }
    let list = Node {
        value: Value::Seq(vec![entry]),
        ..doc.clone()
    };
    let mut args = r.generators(&list, secret)?;
    Ok(args.pop().map(|a| (a, secret)))
}

fn is_empty(n: &Node) -> bool {
    match &n.value {
        Value::Null => true,
        Value::Seq(i) => i.is_empty(),
        Value::Map(e) => e.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Kustomization, RenderError> {
        parse(Path::new("kustomization.yaml"), text)
    }

    fn message(text: &str) -> String {
        match read(text) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn sections_are_read_in_order_with_positions() {
        let k = read(
            "kind: Component
resources: [a.yaml]
bases: [../base]
namespace: ''
images:
- name: nginx
  newTag: '1.25'
replicas: [{name: web, count: 2}]
labels:
- pairs: {a: b}
  includeSelectors: true
buildMetadata: [originAnnotations, unknownOption]
sortOptions: {order: legacy, legacySortOptions: {orderFirst: [Namespace]}}
",
        )
        .expect("valid");
        assert!(k.is_component);
        let resources: Vec<&str> = k.resources.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(resources, ["a.yaml", "../base"]);
        assert_eq!(k.namespace, None, "an empty namespace is none");
        assert_eq!(k.images[0].pos.line, 7, "images point at the new value");
        assert_eq!(k.replicas, [("web".to_owned(), 2)]);
        assert!(k.labels[0].include_selectors && !k.labels[0].include_templates);
        assert_eq!(k.build_metadata, ["originAnnotations"]);
        assert!(matches!(
            &k.sort_options,
            Some(SortOptions::Legacy { order_first, custom: true, .. }) if order_first == &["Namespace"]
        ));
        assert_eq!(k.pos_of("images").line, 5);
    }

    #[test]
    fn patches_need_a_body_and_json_patches_a_target() {
        let k = read(
            "patches:
- path: p.yaml
  target: {kind: Deployment, labelSelector: app=web}
  options: {allowNameChange: true}
patchesStrategicMerge:
- file.yaml
- |-
  kind: Deployment
  metadata: {name: web}
",
        )
        .expect("valid");
        assert!(k.patches[0].allow_name_change && !k.patches[0].allow_kind_change);
        let target = k.patches[0].target.as_ref().expect("target");
        assert_eq!(target.label_selector.as_deref(), Some("app=web"));
        assert!(k.patches_strategic_merge[0].path.is_some());
        assert!(k.patches_strategic_merge[1].inline.is_some());
        assert_eq!(
            message("patches:\n- target: {kind: X}\n"),
            "a patch needs `path` or `patch`"
        );
        assert_eq!(
            message("patchesJson6902:\n- path: p.yaml\n"),
            "a patchesJson6902 entry needs a `target`"
        );
        assert_eq!(
            message("patches:\n- path: p.yaml\n  options: {force: true}\n"),
            "unknown patch option `force`"
        );
    }

    #[test]
    fn list_fields_may_be_null_but_not_scalars() {
        let k = read("resources: [a.yaml]\nlabels:\nvars:\nreplacements:\npatches:\n")
            .expect("null lists");
        assert!(k.labels.is_empty() && k.vars.is_empty() && k.patches.is_empty());
        assert_eq!(message("labels: x\n"), "`labels` must be a list");
        assert_eq!(message("vars: x\n"), "`vars` must be a list");
        assert_eq!(
            message("replacements: x\n"),
            "`replacements` must be a list"
        );
        assert_eq!(
            message("patchesJson6902: x\n"),
            "`patchesJson6902` must be a list"
        );
    }

    #[test]
    fn labels_know_only_the_v5_5_fields() {
        assert_eq!(
            message("labels:\n- pairs: {a: b}\n  includeVolumeClaimTemplates: true\n"),
            "invalid Kustomization: json: unknown field \"includeVolumeClaimTemplates\""
        );
        // Go's JSON decoding matches field names ignoring case.
        assert!(
            parse(
                Path::new("/k/kustomization.yaml"),
                "labels:\n- pairs: {a: b}\n  IncludeTemplates: true\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn unknown_unsupported_and_empty_kustomizations_are_refused() {
        assert_eq!(
            message("resources: []\nfoo: 1\n"),
            "invalid Kustomization: unknown field \"foo\""
        );
        assert_eq!(
            message("kind: Kustomization\n"),
            "kustomization.yaml is empty"
        );
        assert_eq!(
            message("kind: Other\nresources: []\n"),
            "unknown kustomization kind `Other`"
        );
        assert_eq!(
            message("sortOptions: {order: fifo, legacySortOptions: {}}\n"),
            "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'"
        );
        let helm = read("helmChartInflationGenerator: [{chartName: x}]\n").expect_err("helm");
        assert!(helm.unavailable);
        let k = read("generators: [g.yaml]\nvalidators: [v.yaml]\ntransformers:\n- |\n  kind: X\n")
            .expect("plugins");
        let fields: Vec<&str> = k.plugins.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["generators", "validators", "transformers"]);
        assert_eq!(
            k.plugins[2].item.value, "kind: X\n",
            "inline configs are kept as text"
        );
    }
}
