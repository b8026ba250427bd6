//! `kustomization.yaml`, read into typed fields with the line of each.
//!
//! Fields kustomize v5.5 does not know are an error, as in kustomize. Fields it knows but
//! kgate does not render yet are an error too, naming the field: kgate never renders a
//! kustomization differently from kustomize without saying so.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::fieldspec::{FieldSpec, parse_spec};
use super::selector::Selector;
use crate::yaml::{self, LoadLimits, Node, Pos, Value};

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
const NOT_YET: &[&str] = &[
    "openapi",
    "imageTags",
    "crds",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "configurations",
];

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

/// The kustomization file in `dir`, if any (kustomize errors when there are several).
pub fn find_in(dir: &Path) -> Result<Option<PathBuf>, String> {
    let found: Vec<PathBuf> = FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
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
pub fn load(file: &Path) -> Result<Kustomization, RenderError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| RenderError::at(file, Pos::default(), format!("cannot read: {e}")))?;
    parse(file, &text)
}

pub fn parse(file: &Path, text: &str) -> Result<Kustomization, RenderError> {
    let r = Reader { file };
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    if let Some(e) = err {
        return Err(r.err(e.pos, e.to_string()));
    }
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
        let key = e.key.as_str();
        let v = &e.value;
        if !KNOWN_FIELDS.contains(&key) {
            return Err(r.err(
                e.key_pos,
                format!("invalid Kustomization: unknown field \"{key}\""),
            ));
        }
        if PLUGINS.contains(&key) {
            for item in r.items(v, key)? {
                if item.value.contains('\n') {
                    return Err(r.err(
                        item.pos,
                        format!("kgate does not render inline plugin configs under `{key}` yet"),
                    ));
                }
                k.plugins.push(PluginRef {
                    field: key.to_owned(),
                    item,
                });
            }
            continue;
        }
        if key.starts_with("helm") && !is_empty(v) {
            // Helm needs the helm binary and chart repositories: a note, not an error.
            let mut err = r.err(
                e.key_pos,
                format!("`{key}`: Helm charts are not rendered yet, so this root was not checked"),
            );
            err.unavailable = true;
            return Err(err);
        }
        if NOT_YET.contains(&key) && !is_empty(v) {
            return Err(r.err(e.key_pos, format!("kgate does not render `{key}` yet")));
        }
        match key {
            "kind" => {
                let kind = r.string(v, "kind")?;
                match kind.as_str() {
                    "Kustomization" | "" => {}
                    "Component" => k.is_component = true,
                    other => {
                        return Err(r.err(v.start, format!("unknown kustomization kind `{other}`")));
                    }
                }
            }
            "resources" | "bases" => k.resources.extend(r.items(v, key)?),
            "components" => k.components = r.items(v, key)?,
            "namespace" => k.namespace = Some(r.string(v, key)?).filter(|s| !s.is_empty()),
            "namePrefix" => k.name_prefix = Some(r.string(v, key)?),
            "nameSuffix" => k.name_suffix = Some(r.string(v, key)?),
            "commonLabels" => k.common_labels = r.string_map(v, key)?,
            "commonAnnotations" => k.common_annotations = r.string_map(v, key)?,
            "labels" => {
                let Value::Seq(items) = &v.value else {
                    if v.value == Value::Null {
                        continue;
                    }
                    return Err(r.err(v.start, "`labels` must be a list"));
                };
                for item in items {
                    let fields = match item.get("fields").map(|f| &f.value) {
                        Some(Value::Seq(fs)) => fs.iter().filter_map(parse_spec).collect(),
                        _ => Vec::new(),
                    };
                    k.labels.push(LabelSet {
                        pairs: item
                            .get("pairs")
                            .map(|p| r.string_map(p, "pairs"))
                            .transpose()?
                            .unwrap_or_default(),
                        include_selectors: r
                            .bool(item.get("includeSelectors"), "includeSelectors")?
                            .unwrap_or(false),
                        include_templates: r
                            .bool(item.get("includeTemplates"), "includeTemplates")?
                            .unwrap_or(false),
                        fields,
                    });
                }
            }
            "images" => {
                let Value::Seq(items) = &v.value else {
                    continue;
                };
                for item in items {
                    let s = |key: &str| -> Result<Option<String>, RenderError> {
                        item.get(key).map(|x| r.string(x, key)).transpose()
                    };
                    // The entry's value that decides the new image is what a finding points at.
                    let pos = ["digest", "newTag", "newName"]
                        .iter()
                        .find_map(|f| item.get(f).map(|n| n.start))
                        .unwrap_or(item.start);
                    k.images.push(ImageSet {
                        pos,
                        name: s("name")?.unwrap_or_default(),
                        new_name: s("newName")?,
                        new_tag: s("newTag")?,
                        digest: s("digest")?,
                    });
                }
            }
            "replicas" => {
                let Value::Seq(items) = &v.value else {
                    continue;
                };
                for item in items {
                    let name = item
                        .get("name")
                        .map(|n| r.string(n, "name"))
                        .transpose()?
                        .unwrap_or_default();
                    let count = match item.get("count").map(|c| &c.value) {
                        Some(Value::Int(i)) => *i,
                        _ => return Err(r.err(item.start, "`replicas[].count` must be an integer")),
                    };
                    k.replicas.push((name, count));
                }
            }
            "configMapGenerator" => k.config_map_generator = r.generators(v, false)?,
            "secretGenerator" => k.secret_generator = r.generators(v, true)?,
            "generatorOptions" => k.generator_options = Some(r.options(v)?),
            "sortOptions" => {
                if v.value == Value::Null {
                    continue;
                }
                let order = v
                    .get("order")
                    .map(|o| r.string(o, "sortOptions.order"))
                    .transpose()?;
                let legacy = v
                    .get("legacySortOptions")
                    .filter(|l| l.value != Value::Null);
                let pos = v.get("order").map_or(v.start, |o| o.start);
                k.sort_options = Some(match order.as_deref() {
                    Some("fifo") => {
                        if legacy.is_some() {
                            return Err(r.err(
                                pos,
                                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                            ));
                        }
                        SortOptions::Fifo
                    }
                    Some("legacy") => {
                        let list = |key: &str| -> Result<Vec<String>, RenderError> {
                            match legacy.and_then(|l| l.get(key)) {
                                Some(n) => {
                                    Ok(r.items(n, key)?.into_iter().map(|i| i.value).collect())
                                }
                                None => Ok(Vec::new()),
                            }
                        };
                        SortOptions::Legacy {
                            order_first: list("orderFirst")?,
                            order_last: list("orderLast")?,
                            custom: legacy.is_some(),
                        }
                    }
                    _ => {
                        return Err(r.err(
                            pos,
                            "the field 'sortOptions.order' must be one of [fifo, legacy]",
                        ));
                    }
                });
            }
            "buildMetadata" => {
                for item in r.items(v, key)? {
                    match item.value.as_str() {
                        "originAnnotations" | "managedByLabel" => k.build_metadata.push(item.value),
                        "transformerAnnotations" => {
                            return Err(r.err(
                                item.pos,
                                "kgate does not render `buildMetadata: [transformerAnnotations]` yet",
                            ));
                        }
                        // kustomize ignores options it does not know; so does kgate.
                        _ => {}
                    }
                }
            }
            "vars" => {
                let Value::Seq(items) = &v.value else {
                    if v.value == Value::Null {
                        continue;
                    }
                    return Err(r.err(v.start, "`vars` must be a list"));
                };
                for item in items {
                    k.vars.push(r.var(item)?);
                }
            }
            "replacements" => {
                let Value::Seq(items) = &v.value else {
                    if v.value == Value::Null {
                        continue;
                    }
                    return Err(r.err(v.start, "`replacements` must be a list"));
                };
                for item in items {
                    if let Some(p) = item.get("path") {
                        k.replacements.push(ReplacementEntry::Path(Item {
                            value: r.string(p, "path")?,
                            pos: p.start,
                        }));
                    } else {
                        k.replacements
                            .push(ReplacementEntry::Inline(super::replacement::parse(
                                file,
                                item,
                                |n| r.selector(n),
                            )?));
                    }
                }
            }
            "patchesStrategicMerge" => {
                for item in r.items(v, key)? {
                    // An entry is a file path, or an inline patch when it spans lines.
                    let inline = item.value.contains('\n');
                    k.patches_strategic_merge.push(PatchEntry {
                        path: (!inline).then(|| item.clone()),
                        inline: inline.then(|| item.clone()),
                        target: None,
                        pos: item.pos,
                        ..PatchEntry::default()
                    });
                }
            }
            "patches" | "patchesJson6902" => {
                let Value::Seq(items) = &v.value else {
                    if v.value == Value::Null {
                        continue;
                    }
                    return Err(r.err(v.start, format!("`{key}` must be a list")));
                };
                for item in items {
                    let option = |name: &str| -> Result<bool, RenderError> {
                        let o = item.get("options");
                        if let Some(Value::Map(opts)) = o.map(|o| &o.value)
                            && let Some(unknown) = opts
                                .iter()
                                .find(|e| e.key != "allowNameChange" && e.key != "allowKindChange")
                        {
                            return Err(r.err(
                                unknown.key_pos,
                                format!("unknown patch option `{}`", unknown.key),
                            ));
                        }
                        Ok(r.bool(o.and_then(|o| o.get(name)), name)?.unwrap_or(false))
                    };
                    let text = |name: &str| -> Result<Option<Item>, RenderError> {
                        item.get(name)
                            .map(|n| {
                                Ok(Item {
                                    value: r.string(n, name)?,
                                    pos: n.start,
                                })
                            })
                            .transpose()
                    };
                    let entry = PatchEntry {
                        path: text("path")?,
                        inline: text("patch")?,
                        target: item.get("target").map(|t| r.selector(t)).transpose()?,
                        pos: item.start,
                        allow_name_change: option("allowNameChange")?,
                        allow_kind_change: option("allowKindChange")?,
                    };
                    if entry.path.is_none() && entry.inline.is_none() {
                        return Err(r.err(item.start, "a patch needs `path` or `patch`"));
                    }
                    if key == "patches" {
                        k.patches.push(entry);
                    } else {
                        if entry.target.is_none() {
                            return Err(
                                r.err(item.start, "a patchesJson6902 entry needs a `target`")
                            );
                        }
                        k.patches_json6902.push(entry);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(k)
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
    // The config is a generator entry whose name and namespace sit under `metadata`.
    let mut entry = doc.clone();
    if let Value::Map(entries) = &mut entry.value
        && let Some(meta) = doc.get("metadata")
    {
        for key in ["name", "namespace"] {
            if let Some(v) = meta.get(key) {
                entries.push(crate::yaml::Entry {
                    key: key.to_owned(),
                    key_pos: v.start,
                    value: v.clone(),
                });
            }
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
