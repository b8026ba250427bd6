//! Builds a kustomization the way `kustomize build` (v5.5) does.
//!
//! Per kustomization (`KustTarget.accumulateTarget`): load `resources` (files, and
//! directories built recursively), run the generators, apply `components` in order to what
//! has accumulated, then the built-in transformers in kustomize's order (namespace, prefix,
//! suffix, labels, annotations, replicas, images). At the top only: append content hashes to
//! generated names, fix every reference to a renamed object, and sort in the legacy order.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::RenderError;
use super::fieldspec::FieldSpec;
use super::kustomization::ReplacementEntry;
use super::kustomization::{
    self, GeneratorArgs, GeneratorOptions, Kustomization, PatchEntry, VarEntry,
};
use super::namerefs::fix_name_references;
use super::order::{ResId, legacy_cmp, legacy_cmp_with};
use super::patches::{self, LoadedPatch, apply_patch};
use super::replacement::Replacement;
use super::resource::{
    Origin, Resource, add_unique, get_mut, get_str, kustomize_input, map, set, string_data, text,
};
use super::transformers::{
    add_hashes, apply_affix, apply_replacements, apply_specs, set_namespace, set_pairs, transform,
    update_images,
};
use super::vars::{add_var, merge_vars, resolve_vars};
use crate::model::kinds::is_remote;
use crate::yaml::{self, Entry, FileId, LoadLimits, Node, Pos, Value};

/// The position of an infinite or NaN number, which kustomize cannot write as JSON.
fn non_finite(n: &Node) -> Option<Pos> {
    match &n.value {
        Value::Float(f) if !f.is_finite() => Some(n.start),
        Value::Seq(items) => items.iter().find_map(non_finite),
        Value::Map(entries) => entries.iter().find_map(|e| non_finite(&e.value)),
        _ => None,
    }
}

/// A directory's accumulated resources (or why it failed), shared between its users.
/// A built kustomization: its objects and the `vars` it and its bases declare.
type Accumulated = (Vec<Resource>, Vec<VarEntry>);
type Built = Arc<Result<Accumulated, RenderError>>;

/// Renders kustomizations under one repository root, memoizing each directory's result so a
/// base shared by many overlays is loaded once.
pub struct Renderer {
    repo_root: PathBuf,
    /// Files larger than this are refused (see `limits.maxFileSize`).
    max_file_size: u64,
    cache: Mutex<HashMap<PathBuf, Built>>,
    /// Files read, by [`FileId`] (index 0 is the unknown file).
    files: Mutex<FileTable>,
}

#[derive(Default)]
struct FileTable {
    paths: Vec<PathBuf>,
    ids: HashMap<PathBuf, FileId>,
}

impl Renderer {
    /// `repo_root`: nothing outside it is ever read.
    pub fn new(repo_root: &Path) -> Renderer {
        Renderer {
            repo_root: std::fs::canonicalize(repo_root).unwrap_or_else(|_| repo_root.to_owned()),
            max_file_size: crate::config::DEFAULT_MAX_FILE_SIZE,
            cache: Mutex::new(HashMap::new()),
            files: Mutex::new(FileTable {
                paths: vec![PathBuf::new()],
                ids: HashMap::new(),
            }),
        }
    }

    /// Refuse files larger than `bytes` (the config's `limits.maxFileSize`).
    pub fn with_max_file_size(mut self, bytes: u64) -> Renderer {
        self.max_file_size = bytes;
        self
    }

    /// The id of `path` in this renderer's file table.
    pub fn file_id(&self, path: &Path) -> FileId {
        let Ok(mut files) = self.files.lock() else {
            return FileId::UNKNOWN;
        };
        if let Some(id) = files.ids.get(path) {
            return *id;
        }
        let id = FileId(u32::try_from(files.paths.len()).unwrap_or(0));
        files.paths.push(path.to_owned());
        files.ids.insert(path.to_owned(), id);
        id
    }

    /// Every file read so far (resource files and patches).
    pub fn files_read(&self) -> Vec<PathBuf> {
        self.files
            .lock()
            .map(|f| f.paths.iter().skip(1).cloned().collect())
            .unwrap_or_default()
    }

    /// The file a node was read from.
    pub fn file_path(&self, id: FileId) -> Option<PathBuf> {
        let files = self.files.lock().ok()?;
        files
            .paths
            .get(id.0 as usize)
            .filter(|p| !p.as_os_str().is_empty())
            .cloned()
    }

    /// `kustomize build DIR`: the objects in output order.
    pub fn render(&self, dir: &Path) -> Result<Vec<Resource>, RenderError> {
        let dir = self.canonical_dir(dir, dir, Pos::default())?;
        let (resources, vars) = self.accumulate(&dir, &mut Vec::new(), None)?;
        let top = self.load_kustomization(&dir, None)?;
        self.finish(&dir, resources, vars, &top)
    }

    /// Builds a kustomization that exists only as `text` (what a GitOps controller
    /// generates from an Argo CD Application's or a Flux Kustomization's options), as if it
    /// were the file `file` in `dir`: its paths resolve from `dir`.
    pub fn render_virtual(
        &self,
        dir: &Path,
        file: &Path,
        text: &str,
    ) -> Result<Vec<Resource>, RenderError> {
        let dir = self.canonical_dir(dir, dir, Pos::default())?;
        let k = kustomization::parse(file, text)?;
        let mut vars = Vec::new();
        let resources = self.apply(&k, &dir, Vec::new(), &mut vars, &mut Vec::new())?;
        self.finish(&dir, resources, vars, &k)
    }

    /// The top-level steps of a build: name hashes and references, vars, build metadata,
    /// output order.
    fn finish(
        &self,
        dir: &Path,
        mut resources: Vec<Resource>,
        vars: Vec<VarEntry>,
        top: &Kustomization,
    ) -> Result<Vec<Resource>, RenderError> {
        let dir = dir.to_path_buf();
        add_hashes(&mut resources);
        fix_name_references(&mut resources);
        resolve_vars(&mut resources, &vars)?;
        for r in resources.iter_mut() {
            // kustomize drops an empty `metadata.annotations` (its internal annotations are
            // removed from the map at the end) but keeps an empty `labels`.
            if let Some(Value::Map(meta)) = get_mut(&mut r.node, "metadata").map(|m| &mut m.value) {
                meta.retain(|e| {
                    !(e.key == "annotations" && e.value.value == Value::Map(Vec::new()))
                });
            }
        }
        for r in resources.iter_mut() {
            if top.build_metadata.iter().any(|o| o == "originAnnotations") {
                let value = r.origin.annotation(&dir);
                let meta = r.metadata();
                if meta.get("annotations").is_none() {
                    set(meta, "annotations", map(vec![]));
                }
                if let Some(a) = get_mut(meta, "annotations") {
                    set(a, "config.kubernetes.io/origin", text(&value));
                }
            }
            if top.build_metadata.iter().any(|o| o == "managedByLabel") {
                // kubectl's embedded kustomize reports its version as "(devel)".
                let meta = r.metadata();
                if meta.get("labels").is_none() {
                    set(meta, "labels", map(vec![]));
                }
                if let Some(l) = get_mut(meta, "labels") {
                    set(l, "app.kubernetes.io/managed-by", text("kustomize-(devel)"));
                }
            }
        }
        fn id(r: &Resource) -> ResId<'_> {
            ResId {
                api_version: r.api_version(),
                kind: r.kind(),
                namespace: r.namespace(),
                name: r.name(),
            }
        }
        match &top.sort_options {
            Some(kustomization::SortOptions::Fifo) => {}
            Some(kustomization::SortOptions::Legacy {
                order_first,
                order_last,
                custom: true,
            }) => {
                let first: Vec<&str> = order_first.iter().map(String::as_str).collect();
                let last: Vec<&str> = order_last.iter().map(String::as_str).collect();
                resources.sort_by(|a, b| legacy_cmp_with(&id(a), &id(b), &first, &last));
            }
            _ => resources.sort_by(|a, b| legacy_cmp(&id(a), &id(b))),
        }
        Ok(resources)
    }

    /// The rendered stream, byte for byte as `kubectl kustomize DIR` prints it.
    pub fn render_to_string(&self, dir: &Path) -> Result<String, RenderError> {
        let resources = self.render(dir)?;
        Ok(super::emit::emit_stream(resources.iter().map(|r| &r.node)))
    }

    /// The rendered stream with a comment after every value naming the file and line it
    /// came from (`kgate render --provenance`), paths relative to `base`.
    pub fn render_with_provenance(&self, dir: &Path, base: &Path) -> Result<String, RenderError> {
        let resources = self.render(dir)?;
        let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_owned());
        let origin = |n: &Node| -> Option<String> {
            let file = self.file_path(n.file)?;
            Some(format!(
                "{}:{}",
                crate::source::relative(&base, &file),
                n.start.line.max(1)
            ))
        };
        Ok(super::emit::emit_stream_with(
            resources.iter().map(|r| &r.node),
            Some(&origin),
        ))
    }

    fn canonical_dir(&self, dir: &Path, from: &Path, pos: Pos) -> Result<PathBuf, RenderError> {
        let canon = std::fs::canonicalize(dir)
            .map_err(|e| RenderError::at(from, pos, format!("{}: {e}", dir.display())))?;
        if !canon.starts_with(&self.repo_root) {
            return Err(RenderError::at(
                from,
                pos,
                format!(
                    "{} is outside the repository; kgate never reads outside it",
                    dir.display()
                ),
            ));
        }
        Ok(canon)
    }

    /// Builds `dir` without the top-level-only steps. Memoized for kustomizations (not for
    /// components, which transform what they are given).
    fn accumulate(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
        from: Option<(&Path, Pos)>,
    ) -> Result<Accumulated, RenderError> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(dir).cloned()) {
            return (*hit).clone();
        }
        let result = self.accumulate_uncached(dir, stack, from);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(dir.to_owned(), Arc::new(result.clone()));
        }
        result
    }

    fn load_kustomization(
        &self,
        dir: &Path,
        from: Option<(&Path, Pos)>,
    ) -> Result<Kustomization, RenderError> {
        let (from_file, pos) = from.unwrap_or((dir, Pos::default()));
        match kustomization::find_in(dir) {
            Ok(Some(file)) => kustomization::load(&file),
            Ok(None) => Err(RenderError::at(
                from_file,
                pos,
                format!(
                    "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                    dir.display()
                ),
            )),
            Err(m) => Err(RenderError::at(from_file, pos, m)),
        }
    }

    fn accumulate_uncached(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
        from: Option<(&Path, Pos)>,
    ) -> Result<Accumulated, RenderError> {
        let k = self.load_kustomization(dir, from)?;
        if k.is_component {
            let (f, pos) = from.unwrap_or((&k.file, Pos::default()));
            return Err(RenderError::at(
                f,
                pos,
                format!(
                    "expected kind 'Kustomization' for path '{}' but got 'Component'",
                    dir.display()
                ),
            ));
        }
        let mut vars = Vec::new();
        let resources = self.apply(&k, dir, Vec::new(), &mut vars, stack)?;
        Ok((resources, vars))
    }

    /// Runs one kustomization (or component) on top of `ra`.
    fn apply(
        &self,
        k: &Kustomization,
        dir: &Path,
        mut ra: Vec<Resource>,
        vars: &mut Vec<VarEntry>,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<Resource>, RenderError> {
        if stack.iter().any(|d| d == dir) {
            return Err(RenderError::at(
                &k.file,
                Pos::default(),
                format!("cycle detected: {} includes itself", dir.display()),
            ));
        }
        stack.push(dir.to_owned());
        let result = self.apply_inner(k, dir, &mut ra, vars, stack).map(|()| ra);
        stack.pop();
        result
    }

    fn apply_inner(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        vars: &mut Vec<VarEntry>,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RenderError> {
        for item in &k.resources {
            let (loaded, loaded_vars) = self.load_resource(k, dir, &item.value, item.pos, stack)?;
            for r in loaded {
                add_unique(ra, r, &k.file, item.pos)?;
            }
            for v in loaded_vars {
                add_var(vars, v, &k.file, item.pos)?;
            }
        }
        self.run_generators(k, dir, ra)?;
        for item in &k.components {
            if is_remote(&item.value) {
                return Err(remote_error(&k.file, item.pos, &item.value));
            }
            let cdir = self.canonical_dir(&dir.join(&item.value), &k.file, item.pos)?;
            let ck = self.load_kustomization(&cdir, Some((&k.file, item.pos)))?;
            if !ck.is_component {
                return Err(RenderError::at(
                    &k.file,
                    item.pos,
                    format!(
                        "expected kind 'Component' for path '{}' but got 'Kustomization'",
                        cdir.display()
                    ),
                ));
            }
            let taken = std::mem::take(ra);
            *ra = self.apply(&ck, &cdir, taken, vars, stack)?;
        }
        let psm = self.load_patches(k, dir, &k.patches_strategic_merge)?;
        let patches = self.load_patches(k, dir, &k.patches)?;
        let json = self.load_patches(k, dir, &k.patches_json6902)?;
        let kid = self.file_id(&k.file);
        let replacements = self.load_replacements(k, dir)?;
        transform(k, ra, &psm, &patches, &json, kid)?;
        apply_replacements(k, ra, &replacements)?;
        for r in ra.iter_mut() {
            r.node.stamp(kid, k.pos_of("replacements"));
        }
        self.apply_plugin_transformers(k, dir, ra, kid)?;
        merge_vars(k, ra, vars)
    }

    /// Built-in transformer configs under `transformers:`, run after the kustomization's own
    /// transformers as kustomize does; `validators:` and every non-built-in plugin are
    /// refused.
    fn apply_plugin_transformers(
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

    fn apply_plugin_transformer(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        c: &Node,
        p: &kustomization::PluginRef,
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
        let specs: Vec<FieldSpec> = match c.get("fieldSpecs").map(|f| &f.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(super::fieldspec::parse_spec)
                .collect(),
            _ => Vec::new(),
        };
        let pairs = |key: &str| -> Vec<(String, String)> {
            match c.get(key).map(|n| &n.value) {
                Some(Value::Map(entries)) => entries
                    .iter()
                    .filter_map(|e| e.value.as_str().map(|v| (e.key.clone(), v.to_owned())))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let item = |key: &str| {
            c.get(key).and_then(|n| {
                n.as_str().map(|v| kustomization::Item {
                    value: v.to_owned(),
                    pos: n.start,
                })
            })
        };
        match kind {
            "LabelTransformer" | "AnnotationsTransformer" => {
                let values = pairs(if kind == "LabelTransformer" {
                    "labels"
                } else {
                    "annotations"
                });
                for r in ra.iter_mut() {
                    apply_specs(r, &specs, &mut |n| set_pairs(n, &values));
                }
            }
            "PrefixTransformer" | "SuffixTransformer" => {
                let is_prefix = kind == "PrefixTransformer";
                let affix = get_str(c, &[if is_prefix { "prefix" } else { "suffix" }]).to_owned();
                if specs.iter().any(|s| s.path != ["metadata", "name"]) {
                    return Err(refuse(format!(
                        "kgate renders `{kind}` on metadata/name only so far"
                    )));
                }
                for r in ra.iter_mut() {
                    let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
                    if !affix.is_empty() && specs.iter().any(|s| s.selects(&api_version, &kind)) {
                        apply_affix(r, &affix, is_prefix);
                    }
                }
            }
            "NamespaceTransformer" => {
                let ns = get_str(c, &["metadata", "namespace"]).to_owned();
                for r in ra.iter_mut() {
                    set_namespace(r, &ns);
                }
            }
            "ImageTagTransformer" => {
                let tag = c.get("imageTag");
                let field = |f: &str| {
                    tag.and_then(|t| t.get(f))
                        .and_then(Node::as_str)
                        .map(str::to_owned)
                };
                let set_ = kustomization::ImageSet {
                    pos: tag.map_or(Pos::default(), |t| t.start),
                    name: field("name").unwrap_or_default(),
                    new_name: field("newName"),
                    new_tag: field("newTag"),
                    digest: field("digest"),
                };
                let fid = self.file_id(file);
                for r in ra.iter_mut() {
                    update_images(&mut r.node, &set_, fid);
                }
            }
            "ReplicaCountTransformer" => {
                let name = get_str(c, &["replica", "name"]).to_owned();
                let Some(Value::Int(count)) = c
                    .get("replica")
                    .and_then(|r| r.get("count"))
                    .map(|n| &n.value)
                else {
                    return Err(refuse(
                        "ReplicaCountTransformer needs replica.count".to_owned(),
                    ));
                };
                let count = *count;
                for r in ra
                    .iter_mut()
                    .filter(|r| r.name() == name || r.org_name == name)
                {
                    apply_specs(r, &specs, &mut |n| n.value = Value::Int(count));
                }
            }
            "PatchTransformer" | "PatchStrategicMergeTransformer" | "PatchJson6902Transformer" => {
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
                                    path: path.as_str().map(|v| kustomization::Item {
                                        value: v.to_owned(),
                                        pos: path.start,
                                    }),
                                    ..PatchEntry::default()
                                });
                            }
                        }
                        if let Some(inline) = item("patches") {
                            entries.push(PatchEntry {
                                inline: Some(inline),
                                ..PatchEntry::default()
                            });
                        }
                    }
                    "PatchJson6902Transformer" => entries.push(PatchEntry {
                        path: item("path"),
                        inline: item("jsonOp"),
                        target,
                        pos: c.start,
                        ..PatchEntry::default()
                    }),
                    _ => entries.push(PatchEntry {
                        path: item("path"),
                        inline: item("patch"),
                        target,
                        pos: c.start,
                        ..PatchEntry::default()
                    }),
                }
                for patch in self.load_patches(k, dir, &entries)? {
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

    /// Reads the patches of one list (files under the load restrictor, or inline text).
    fn load_patches(
        &self,
        k: &Kustomization,
        dir: &Path,
        entries: &[PatchEntry],
    ) -> Result<Vec<LoadedPatch>, RenderError> {
        patches::load_patches(
            k,
            entries,
            &|p| self.restricted_file(k, dir, &p.value, p.pos),
            &|f| self.file_id(f),
        )
    }

    fn load_resource(
        &self,
        k: &Kustomization,
        dir: &Path,
        entry: &str,
        pos: Pos,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Accumulated, RenderError> {
        if is_remote(entry) {
            return Err(remote_error(&k.file, pos, entry));
        }
        let path = dir.join(entry);
        if !path.exists() {
            return Err(RenderError::at(
                &k.file,
                pos,
                format!("accumulating resources from '{entry}': no such file or directory"),
            ));
        }
        if path.is_dir() {
            let sub = self.canonical_dir(&path, &k.file, pos)?;
            if stack.contains(&sub) {
                return Err(RenderError::at(
                    &k.file,
                    pos,
                    format!("cycle detected: '{entry}' includes a kustomization that includes it"),
                ));
            }
            return self.accumulate(&sub, stack, Some((&k.file, pos)));
        }
        let file = self.restricted_file(k, dir, entry, pos)?;
        Ok((
            read_objects(&file, &k.file, pos, self.file_id(&file))?,
            Vec::new(),
        ))
    }

    /// A file the kustomization in `dir` may read: kustomize's default load restrictor
    /// (`LoadRestrictionsRootOnly`) allows only files in or below the kustomization's
    /// directory, and kgate never reads outside the repository.
    fn restricted_file(
        &self,
        k: &Kustomization,
        dir: &Path,
        entry: &str,
        pos: Pos,
    ) -> Result<PathBuf, RenderError> {
        let file = std::fs::canonicalize(dir.join(entry))
            .map_err(|e| RenderError::at(&k.file, pos, format!("'{entry}': {e}")))?;
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.len() > self.max_file_size
        {
            return Err(RenderError::at(
                &k.file,
                pos,
                format!(
                    "'{entry}' is {} bytes, over the limit of {} bytes (limits.maxFileSize)",
                    meta.len(),
                    self.max_file_size
                ),
            ));
        }
        if !file.starts_with(dir) || !file.starts_with(&self.repo_root) {
            return Err(RenderError::at(
                &k.file,
                pos,
                format!(
                    "security; file '{}' is not in or below '{}'",
                    file.display(),
                    dir.display()
                ),
            ));
        }
        Ok(file)
    }

    /// Inline replacements and those read from `path:` files.
    fn load_replacements(
        &self,
        k: &Kustomization,
        dir: &Path,
    ) -> Result<Vec<Replacement>, RenderError> {
        let mut out = Vec::new();
        for entry in &k.replacements {
            match entry {
                ReplacementEntry::Inline(r) => out.push(r.clone()),
                ReplacementEntry::Path(item) => {
                    let file = self.restricted_file(k, dir, &item.value, item.pos)?;
                    let text = std::fs::read_to_string(&file).map_err(|e| {
                        RenderError::at(&k.file, item.pos, format!("'{}': {e}", item.value))
                    })?;
                    let (docs, err) =
                        yaml::parse_documents(&text, kustomize_input(self.file_id(&file)));
                    if let Some(e) = err {
                        return Err(RenderError::at(&file, e.pos, e.to_string()));
                    }
                    for d in docs.iter().filter(|d| d.root.value != Value::Null) {
                        let items: Vec<&Node> = match &d.root.value {
                            Value::Seq(items) => items.iter().collect(),
                            _ => vec![&d.root],
                        };
                        for n in items {
                            out.push(super::replacement::parse(&file, n, |s| {
                                kustomization::selector_of(&file, s)
                            })?);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The documents of a plugin config file (under the load restrictor).
    fn plugin_config(
        &self,
        k: &Kustomization,
        dir: &Path,
        p: &kustomization::PluginRef,
    ) -> Result<(PathBuf, Vec<yaml::Document>), RenderError> {
        let file = self.restricted_file(k, dir, &p.item.value, p.item.pos)?;
        let text = std::fs::read_to_string(&file).map_err(|e| {
            RenderError::at(&k.file, p.item.pos, format!("'{}': {e}", p.item.value))
        })?;
        let (docs, err) = yaml::parse_documents(&text, LoadLimits::default());
        if let Some(e) = err {
            return Err(RenderError::at(&file, e.pos, e.to_string()));
        }
        Ok((file, docs))
    }

    /// Built-in generator configs listed under `generators:`; any other plugin is refused.
    fn plugin_generators(
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
                        kind: if secret {
                            "SecretGenerator"
                        } else {
                            "ConfigMapGenerator"
                        },
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

    fn run_generators(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
    ) -> Result<(), RenderError> {
        let plugin = self.plugin_generators(k, dir)?;
        for (args, kind, origin) in k
            .config_map_generator
            .iter()
            .map(|a| (a, "ConfigMap", None))
            .chain(k.secret_generator.iter().map(|a| (a, "Secret", None)))
            .chain(plugin.iter().map(|(a, kind, o)| (a, *kind, Some(o))))
        {
            let data = self.generator_data(k, dir, args)?;
            let opts = merged_options(k.generator_options.as_ref(), args.options.as_ref());
            let behavior = args.behavior.as_deref().unwrap_or("create");
            let namespace = args.namespace.clone().unwrap_or_default();
            match behavior {
                "create" => {
                    let mut r = generated(kind, args, &data, &opts, &k.file);
                    // A generator configured under `generators:` is attributed to its config
                    // file (where `args.pos` is), like kustomize's origin annotation.
                    let config = match origin {
                        Some(o @ Origin::Generator { configured_in, .. }) => {
                            r.origin = o.clone();
                            configured_in.clone()
                        }
                        _ => k.file.clone(),
                    };
                    r.node.stamp(self.file_id(&config), args.pos);
                    add_unique(ra, r, &k.file, args.pos)?;
                }
                "merge" | "replace" => {
                    let Some(existing) = ra.iter_mut().find(|r| {
                        r.kind() == kind && r.org_name == args.name && r.org_namespace == namespace
                    }) else {
                        return Err(RenderError::at(
                            &k.file,
                            args.pos,
                            format!(
                                "id {kind}/{} does not exist; cannot merge or replace",
                                args.name
                            ),
                        ));
                    };
                    let mut merged: BTreeMap<String, String> = if behavior == "merge" {
                        string_data(existing.node.get("data"))
                    } else {
                        BTreeMap::new()
                    };
                    let (encoded, _) = encode_data(kind, &data);
                    merged.extend(encoded);
                    set(&mut existing.node, "data", string_map_node(&merged));
                    for (key, pairs) in
                        [("labels", &opts.labels), ("annotations", &opts.annotations)]
                    {
                        if pairs.is_empty() {
                            continue;
                        }
                        let meta = existing.metadata();
                        if meta.get(key).is_none() {
                            set(meta, key, map(vec![]));
                        }
                        if let Some(m) = get_mut(meta, key) {
                            for (lk, lv) in pairs {
                                set(m, lk, text(lv));
                            }
                        }
                    }
                    if opts.disable_name_suffix_hash == Some(true) {
                        existing.needs_hash = false;
                    }
                    if behavior == "replace" {
                        // The object is the overlay's now (kustomize's origin moves too).
                        let kid = self.file_id(&k.file);
                        existing.origin = Origin::Generator {
                            configured_in: k.file.clone(),
                            kind: if kind == "Secret" {
                                "SecretGenerator"
                            } else {
                                "ConfigMapGenerator"
                            },
                            name: None,
                        };
                        let root = &mut existing.node;
                        (root.file, root.start, root.end) = (kid, args.pos, args.pos);
                        if let Some(m) = get_mut(root, "metadata") {
                            (m.file, m.start, m.end) = (kid, args.pos, args.pos);
                        }
                    }
                    existing.node.stamp(self.file_id(&k.file), args.pos);
                }
                other => {
                    return Err(RenderError::at(
                        &k.file,
                        args.pos,
                        format!(
                            "unknown generator behavior `{other}` (expected create, merge or replace)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Key/value pairs of a generator, in the order kustomize reads them.
    fn generator_data(
        &self,
        k: &Kustomization,
        dir: &Path,
        args: &GeneratorArgs,
    ) -> Result<Vec<(String, Vec<u8>)>, RenderError> {
        let mut data: Vec<(String, Vec<u8>)> = Vec::new();
        let mut put = |key: String, value: Vec<u8>, pos: Pos| -> Result<(), RenderError> {
            if data.iter().any(|(k2, _)| *k2 == key) {
                return Err(RenderError::at(
                    &k.file,
                    pos,
                    format!("configmap {} illegally repeats the key `{key}`", args.name),
                ));
            }
            data.push((key, value));
            Ok(())
        };
        for env in &args.envs {
            let file = self.restricted_file(k, dir, &env.value, env.pos)?;
            let content = std::fs::read_to_string(&file)
                .map_err(|e| RenderError::at(&k.file, env.pos, format!("'{}': {e}", env.value)))?;
            for line in content.lines() {
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else {
                    return Err(RenderError::at(
                        &k.file,
                        env.pos,
                        format!(
                            "{}: line `{line}` is not KEY=VALUE (kgate does not read the environment)",
                            env.value
                        ),
                    ));
                };
                put(
                    key.trim_end().to_owned(),
                    value.as_bytes().to_vec(),
                    env.pos,
                )?;
            }
        }
        for lit in &args.literals {
            let Some((key, value)) = lit.value.split_once('=') else {
                return Err(RenderError::at(
                    &k.file,
                    lit.pos,
                    format!("literal `{}` is not KEY=VALUE", lit.value),
                ));
            };
            put(key.to_owned(), unquote(value).as_bytes().to_vec(), lit.pos)?;
        }
        for f in &args.files {
            let (key, rel) = match f.value.split_once('=') {
                Some((k2, p)) => (k2.to_owned(), p.to_owned()),
                None => (
                    Path::new(&f.value)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    f.value.clone(),
                ),
            };
            let file = self.restricted_file(k, dir, &rel, f.pos)?;
            let content = std::fs::read(&file)
                .map_err(|e| RenderError::at(&k.file, f.pos, format!("'{rel}': {e}")))?;
            put(key, content, f.pos)?;
        }
        Ok(data)
    }
}

fn remote_error(file: &Path, pos: Pos, entry: &str) -> RenderError {
    RenderError::at(
        file,
        pos,
        format!(
            "remote base `{entry}` is not fetched: kgate renders only what is in the repository"
        ),
    )
}

/// A literal's value with one pair of surrounding quotes removed, as kustomize does.
fn unquote(v: &str) -> &str {
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn merged_options(
    global: Option<&GeneratorOptions>,
    own: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut out = global.cloned().unwrap_or_default();
    if let Some(o) = own {
        for (k, v) in &o.labels {
            out.labels.retain(|(k2, _)| k2 != k);
            out.labels.push((k.clone(), v.clone()));
        }
        for (k, v) in &o.annotations {
            out.annotations.retain(|(k2, _)| k2 != k);
            out.annotations.push((k.clone(), v.clone()));
        }
        if o.disable_name_suffix_hash.is_some() {
            out.disable_name_suffix_hash = o.disable_name_suffix_hash;
        }
        if o.immutable.is_some() {
            out.immutable = o.immutable;
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// kustomize writes long base64 values as lines of 70 characters, each ending in a newline.
fn wrap_base64(s: String) -> String {
    if s.len() <= 70 {
        return s;
    }
    let mut out = String::with_capacity(s.len() + s.len() / 70 + 1);
    for chunk in s.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Generated data as kustomize writes it: `data` (base64 for Secrets) and, for ConfigMaps,
/// `binaryData` for values that are not UTF-8.
fn encode_data(
    kind: &str,
    data: &[(String, Vec<u8>)],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut text = BTreeMap::new();
    let mut binary = BTreeMap::new();
    for (k, v) in data {
        if kind == "Secret" {
            text.insert(k.clone(), wrap_base64(base64(v)));
        } else {
            match std::str::from_utf8(v) {
                Ok(s) => {
                    text.insert(k.clone(), s.to_owned());
                }
                Err(_) => {
                    binary.insert(k.clone(), wrap_base64(base64(v)));
                }
            }
        }
    }
    (text, binary)
}

fn string_map_node(m: &BTreeMap<String, String>) -> Node {
    Node::synthetic(Value::Map(
        m.iter()
            .map(|(k, v)| Entry {
                key: k.clone(),
                key_pos: Pos::default(),
                value: text(v),
            })
            .collect(),
    ))
}

fn generated(
    kind: &str,
    args: &GeneratorArgs,
    data: &[(String, Vec<u8>)],
    opts: &GeneratorOptions,
    source: &Path,
) -> Resource {
    let mut meta = vec![("name", text(&args.name))];
    if let Some(ns) = &args.namespace {
        meta.push(("namespace", text(ns)));
    }
    let pairs = |p: &[(String, String)]| {
        Node::synthetic(Value::Map(
            p.iter()
                .map(|(k, v)| Entry {
                    key: k.clone(),
                    key_pos: Pos::default(),
                    value: text(v),
                })
                .collect(),
        ))
    };
    if !opts.labels.is_empty() {
        meta.push(("labels", pairs(&opts.labels)));
    }
    if !opts.annotations.is_empty() {
        meta.push(("annotations", pairs(&opts.annotations)));
    }
    let mut fields = vec![
        ("apiVersion", text("v1")),
        ("kind", text(kind)),
        ("metadata", map(meta)),
    ];
    let (encoded, binary) = encode_data(kind, data);
    if !binary.is_empty() {
        fields.push(("binaryData", string_map_node(&binary)));
    }
    if !encoded.is_empty() {
        fields.push(("data", string_map_node(&encoded)));
    }
    if kind == "Secret" {
        fields.push((
            "type",
            text(args.secret_type.as_deref().unwrap_or("Opaque")),
        ));
    }
    if opts.immutable == Some(true) {
        fields.push(("immutable", Node::synthetic(Value::Bool(true))));
    }
    Resource {
        node: map(fields),
        source: source.to_owned(),
        org_name: args.name.clone(),
        org_namespace: args.namespace.clone().unwrap_or_default(),
        needs_hash: opts.disable_name_suffix_hash != Some(true),
        prefixes: Vec::new(),
        suffixes: Vec::new(),
        prev_names: Vec::new(),
        ref_vars: Vec::new(),
        origin: Origin::Generator {
            configured_in: source.to_owned(),
            kind: if kind == "Secret" {
                "SecretGenerator"
            } else {
                "ConfigMapGenerator"
            },
            name: None,
        },
    }
}

/// Objects of a resource file (multi-document; `kind: List` expanded).
fn read_objects(
    file: &Path,
    from: &Path,
    pos: Pos,
    id: FileId,
) -> Result<Vec<Resource>, RenderError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| RenderError::at(from, pos, format!("{}: {e}", file.display())))?;
    let (docs, err) = yaml::parse_documents(&text, kustomize_input(id));
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
        push_object(d.root, file, &mut out)?;
    }
    Ok(out)
}

fn push_object(node: Node, file: &Path, out: &mut Vec<Resource>) -> Result<(), RenderError> {
    match &node.value {
        Value::Null => return Ok(()),
        Value::Map(_) => {}
        _ => {
            return Err(RenderError::at(
                file,
                node.start,
                "a resource must be a YAML mapping",
            ));
        }
    }
    let kind = get_str(&node, &["kind"]).to_owned();
    if kind.is_empty() {
        return Err(RenderError::at(
            file,
            node.start,
            "missing Resource metadata: an object needs `kind`",
        ));
    }
    if kind.ends_with("List")
        && let Some(Value::Seq(items)) = node.get("items").map(|n| &n.value)
    {
        for item in items.clone() {
            push_object(item, file, out)?;
        }
        return Ok(());
    }
    out.push(Resource::loaded(node, file));
    Ok(())
}
