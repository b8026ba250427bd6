//! Builds a kustomization the way `kustomize build` (v5.5) does.
//!
//! Per kustomization (`KustTarget.accumulateTarget`): load `resources` (files, and
//! directories built recursively), run the generators, apply `components` in order to what
//! has accumulated, then the built-in transformers in kustomize's order (namespace, prefix,
//! suffix, labels, annotations, replicas, images). At the top only: append content hashes to
//! generated names, fix every reference to a renamed object, and sort in the legacy order.
//!
//! This file is the flow and the file access (memoization, the load restrictor, provenance
//! file ids); the sections it runs live beside it: `generators.rs` and `plugins.rs` (steps
//! that read files, as `impl Renderer` blocks), `transformers.rs`, `patches.rs`,
//! `namerefs.rs` and `vars.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod reached;

use super::RenderError;
use super::kustomization::ReplacementEntry;
use super::kustomization::{self, Kustomization, PatchEntry, VarEntry};
use super::memo::{self, Inputs, Use, Uses};
use super::namerefs::fix_name_references;
use super::order::{LegacyKey, ResId};
use super::patches::{self, LoadedPatch};
use super::replacement::Replacement;
use super::resource::{
    Resource, Transformation, get_mut, kustomize_input, map, read_objects, set, text,
};
use super::tconfig::{self, Shared, TransformerConfig};
use super::transformers::{add_hashes, apply_replacements, builtin_transformations, transform};
use super::vars::{add_var, merge_vars, resolve_vars};
use crate::model::kinds::is_remote;
use crate::source::PathMap;
use crate::yaml::{self, FileId, Node, Pos, Value};

/// What a render's top-level steps ([`Renderer::finish`]) need of its kustomization, kept
/// for every directory built: a root whose build came from the memo (an overlay a cluster
/// built first) need not parse its kustomization again (4% of a whole check), and keeping
/// the parsed kustomizations themselves cost 16 MB at 800 apps.
struct TopSteps {
    build_metadata: Vec<String>,
    sort_options: Option<kustomization::SortOptions>,
}

impl TopSteps {
    fn of(k: &Kustomization) -> TopSteps {
        TopSteps {
            build_metadata: k.build_metadata.clone(),
            sort_options: k.sort_options.clone(),
        }
    }
}

/// A directory's accumulated resources (or why it failed), shared between its users.
/// A built kustomization: its objects, the `vars` it and its bases declare, and the
/// transformer configuration of its accumulation (its and its bases' `configurations`).
type Accumulated = (Vec<Resource>, Vec<VarEntry>, Shared);
type Built = Arc<Result<Accumulated, RenderError>>;
/// A memoized build: with whether it looked the built-in OpenAPI schema up (see
/// `openapi.rs`), and the files it read.
type Entry = (Built, bool, Arc<Inputs>);
/// A build that read a changed file, kept by the renderer whose memo another reuses
/// ([`Renderer::keeping_reached`]): its result when another build may be compared with it
/// (`None` for a root's own build, which no other build uses), whether it looked the
/// built-in schema up, and its inputs.
type Reached = (Option<Built>, bool, Arc<Inputs>);

/// A renderer's memo and file ids, for another renderer over the same paths whose files
/// differ in a known set ([`Renderer::with_memo`], which takes the builds it reuses out, so
/// that its last user of each takes the build itself rather than a copy).
pub struct Memo {
    entries: Mutex<PathMap<Entry>>,
    files: Arc<Mutex<FileTable>>,
    /// Its builds that read a changed file ([`Renderer::keeping_reached`]).
    reached: Mutex<PathMap<Reached>>,
}

impl Memo {
    /// How many builds it holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// Renders kustomizations under one repository root, memoizing each directory's result so a
/// base shared by many overlays is loaded once.
pub struct Renderer {
    repo_root: PathBuf,
    /// Files larger than this are refused (see `limits.maxFileSize`).
    max_file_size: u64,
    /// Where file contents come from: the check's one file table when shared
    /// ([`Renderer::with_sources`]), so a file discovery already read is not read again.
    sources: Arc<crate::source::FileTable>,
    cache: Mutex<PathMap<Entry>>,
    /// The files changed for the renderer that reuses this one's memo next, and this one's
    /// builds that read one of them ([`Renderer::keeping_reached`]).
    reached: Option<(memo::Differing, Mutex<PathMap<Reached>>)>,
    /// The other renderer's builds that read a file whose content differs for this one, and
    /// those files ([`Renderer::with_memo`]): such a build whose own reads are the same and
    /// whose used builds that differ come out equal here is this one's too (`cut_off`).
    theirs: Option<(memo::Differing, PathMap<Reached>)>,
    /// Components parsed, by path: every overlay using a component reads the same file.
    parsed: Mutex<PathMap<Arc<Kustomization>>>,
    /// Patches parsed, by text: a component's inline patch is read by every overlay.
    patches_parsed: super::patches::ParsedPatches,
    /// The top-level steps of every kustomization directory built ([`TopSteps`]).
    tops: Mutex<PathMap<Arc<TopSteps>>>,
    /// Files read, by [`FileId`] (index 0 is the unknown file): shared with the renderer
    /// whose memo this one reuses, so the reused objects' ids name the same files.
    files: Arc<Mutex<FileTable>>,
    /// The ids this renderer's builds gave or reused (see [`Renderer::files_read`]).
    used: Mutex<BTreeSet<FileId>>,
    /// Helm, for `helmCharts` (see `helm_charts.rs`); `None`: Helm is not available.
    pub(super) helm: Option<Arc<crate::render::helm::Helm>>,
    /// Whether builds record the paths they read ([`Renderer::recording_reads`]): only a
    /// renderer whose memo another reuses needs them, and a plain check spent ~2% of its CPU
    /// collecting and merging them.
    record_reads: bool,
    /// How many more times each directory's build will be asked for ([`Renderer::expecting`]).
    uses: Uses,
    /// Whether [`Renderer::memo`] hands the builds over ([`Renderer::recording_reads`]).
    hands_over: bool,
    /// The render cache across runs ([`Renderer::with_store`]).
    store: Option<Arc<super::store::RenderStore>>,
    /// Builds taken from the store ahead of their turn, by directory (`None`: no valid
    /// entry), see [`Renderer::ahead_of_turn`].
    prefetched: Mutex<PathMap<Option<super::store::Restored>>>,
    /// How many builds were served from `prefetched` (for the tests).
    #[cfg(test)]
    taken_ahead: std::sync::atomic::AtomicUsize,
}

/// A kustomization with at least this many resources has the stored builds of its second
/// half read on a second thread ([`Renderer::ahead_of_turn`]).
const PREFETCH_FROM: usize = 32;

#[derive(Default)]
struct FileTable {
    paths: Vec<PathBuf>,
    ids: PathMap<FileId>,
}

impl Renderer {
    /// `repo_root`: nothing outside it is ever read.
    pub fn new(repo_root: &Path) -> Renderer {
        let max_file_size = crate::config::DEFAULT_MAX_FILE_SIZE;
        Renderer {
            repo_root: std::fs::canonicalize(repo_root).unwrap_or_else(|_| repo_root.to_owned()),
            max_file_size,
            sources: Arc::new(crate::source::FileTable::new(repo_root, max_file_size)),
            cache: Mutex::default(),
            reached: None,
            theirs: None,
            parsed: Mutex::default(),
            patches_parsed: Default::default(),
            tops: Mutex::default(),
            files: Arc::new(Mutex::new(FileTable {
                paths: vec![PathBuf::new()],
                ids: PathMap::default(),
            })),
            used: Mutex::new(BTreeSet::new()),
            helm: None,
            record_reads: false,
            uses: Uses::default(),
            hands_over: false,
            store: None,
            prefetched: Mutex::default(),
            #[cfg(test)]
            taken_ahead: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many times this render will ask for each directory's build (canonical paths: one
    /// per root rendered, one per `resources` entry of each build that names it): the memo
    /// drops a build after its last use, which takes it rather than a copy. A directory not
    /// counted keeps its build; one used more often than counted is built again once. Not
    /// for a renderer whose [`Renderer::memo`] another reuses, unless it has the render cache
    /// (where the other finds what the memo let go); call after [`Renderer::with_store`].
    pub fn expecting(mut self, uses: PathMap<usize>) -> Renderer {
        if !self.hands_over || self.store.is_some() {
            self.uses = Uses::new(uses);
        }
        self
    }

    /// Record what each build reads, so that [`Renderer::memo`] can be reused by
    /// [`Renderer::with_memo`].
    pub fn recording_reads(mut self) -> Renderer {
        self.record_reads = true;
        self.hands_over = true;
        self
    }

    /// Keep what each build that reads one of `changed` (absolute paths: the files whose
    /// content differs for the renderer that reuses this one's memo next) read and, when
    /// another build uses it, its result, for [`Renderer::memo`]: that renderer takes such a
    /// build as its own when what it reads itself is the same and the builds it uses that
    /// differ come out equal (a base's change that every overlay overrides leaves the
    /// clusters as they were). Call with [`Renderer::recording_reads`].
    pub fn keeping_reached(mut self, changed: &BTreeSet<PathBuf>) -> Renderer {
        if !changed.is_empty() {
            self.reached = Some((memo::Differing::new(changed), Mutex::default()));
        }
        self
    }

    /// Take builds from `store` when what they read is unchanged, and store every build
    /// (see `store.rs`). Only for a renderer whose file table is the disk's.
    pub fn with_store(mut self, store: Arc<super::store::RenderStore>) -> Renderer {
        self.record_reads = true;
        self.store = Some(store);
        self
    }

    /// Inflate `helmCharts` with `helm` (kustomize's `--enable-helm`).
    pub fn with_helm(mut self, helm: Arc<crate::render::helm::Helm>) -> Renderer {
        self.helm = Some(helm);
        self
    }

    /// Refuse files larger than `bytes` (the config's `limits.maxFileSize`).
    pub fn with_max_file_size(mut self, bytes: u64) -> Renderer {
        self.max_file_size = bytes;
        self.sources = Arc::new(crate::source::FileTable::new(&self.repo_root, bytes));
        self
    }

    /// Read files through `sources` (the check's file table) and refuse files over its limit.
    pub fn with_sources(mut self, sources: Arc<crate::source::FileTable>) -> Renderer {
        self.max_file_size = sources.max_size();
        self.sources = sources;
        self
    }

    /// This renderer's memo, for [`Renderer::with_memo`], handed over (the renderer keeps
    /// none of it): empty unless it was [`Renderer::recording_reads`] (a build whose reads are
    /// unknown must not be reused).
    pub fn memo(&self) -> Memo {
        let entries = if self.hands_over {
            self.cache
                .lock()
                .map(|mut c| std::mem::take(&mut *c))
                .unwrap_or_default()
        } else {
            PathMap::default()
        };
        let reached = (self.reached.as_ref().filter(|_| self.hands_over))
            .and_then(|(_, r)| r.lock().ok().map(|mut r| std::mem::take(&mut *r)))
            .unwrap_or_default();
        Memo {
            entries: Mutex::new(entries),
            files: self.files.clone(),
            reached: Mutex::new(reached),
        }
    }

    /// Reuse the builds of `memo` (another renderer's, over the same paths) that read none of
    /// `changed` (absolute paths whose content differs for this renderer; no file may exist
    /// for one renderer and not for the other), taking them out of `memo`, and its file ids.
    pub fn with_memo(mut self, memo: &Memo, changed: &BTreeSet<PathBuf>) -> Renderer {
        self.files = memo.files.clone();
        let changed = memo::Differing::new(changed);
        if let Ok(mut entries) = memo.entries.lock() {
            let reusable: Vec<PathBuf> = (entries.iter())
                .filter(|(_, (_, _, inputs))| !inputs.read_any(&changed))
                .map(|(dir, _)| dir.to_path_buf())
                .collect();
            let taken = reusable
                .into_iter()
                .filter_map(|dir| entries.remove_entry(&dir));
            self.cache = Mutex::new(taken.collect());
        }
        let reached = (memo.reached.lock().ok())
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        if !reached.is_empty() {
            self.theirs = Some((changed, reached));
        }
        self
    }

    /// The text of `file`, through the file table (read once, bounded).
    pub(super) fn read_text(&self, file: &Path) -> Result<Arc<str>, crate::source::ReadError> {
        if self.record_reads {
            memo::note_read(self.sources.path(file));
        }
        self.sources.text(file)
    }

    /// The bytes of `file`, through the file table.
    pub(super) fn read_bytes(&self, file: &Path) -> Result<Arc<[u8]>, crate::source::ReadError> {
        if self.record_reads {
            memo::note_read(self.sources.path(file));
        }
        self.sources.bytes(file)
    }

    /// The id of `path` in this renderer's file table.
    pub fn file_id(&self, path: &Path) -> FileId {
        let id = {
            let Ok(mut files) = self.files.lock() else {
                return FileId::UNKNOWN;
            };
            match files.ids.get(path) {
                Some(id) => *id,
                None => {
                    let id = FileId(u32::try_from(files.paths.len()).unwrap_or(0));
                    files.paths.push(path.to_owned());
                    files.ids.insert(path.to_owned(), id);
                    id
                }
            }
        };
        self.use_ids(std::iter::once(id));
        memo::note_id(id);
        id
    }

    fn use_ids(&self, ids: impl IntoIterator<Item = FileId>) {
        if let Ok(mut used) = self.used.lock() {
            used.extend(ids);
        }
    }

    /// Every file this renderer's builds read (resource files and patches), reused builds
    /// included.
    pub fn files_read(&self) -> Vec<PathBuf> {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        self.files
            .lock()
            .map(|f| {
                used.iter()
                    .filter_map(|id| f.paths.get(id.0 as usize))
                    .filter(|p| !p.as_os_str().is_empty())
                    .cloned()
                    .collect()
            })
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
        super::openapi::begin_build();
        // A directory built before (as another root's base) is a kustomization whose
        // top-level steps are known.
        if let Some(steps) = self.tops.lock().ok().and_then(|t| t.get(&dir).cloned()) {
            let (resources, vars, tc) = self.accumulate(&dir, &mut Vec::new(), None)?;
            return self.finish(&dir, resources, vars, &tc, &steps);
        }
        let top = self.load_kustomization(&dir, None)?;
        // A Component built on its own is built like a Kustomization (kustomize's
        // `MakeCustomizedResMap` on an empty accumulator); it is not memoized, since as a
        // resource of another kustomization the same directory is an error.
        let (resources, vars, tc) = if top.is_component {
            let (mut vars, mut tc) = (Vec::new(), Shared::default());
            let ra = self.apply(&top, &dir, Vec::new(), &mut vars, &mut tc, &mut Vec::new())?;
            (ra, vars, tc)
        } else {
            self.accumulate(&dir, &mut Vec::new(), None)?
        };
        self.finish(&dir, resources, vars, &tc, &TopSteps::of(&top))
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
        super::openapi::begin_build();
        let k = kustomization::parse(file, text)?;
        let (mut vars, mut tc) = (Vec::new(), Shared::default());
        let resources = self.apply(&k, &dir, Vec::new(), &mut vars, &mut tc, &mut Vec::new())?;
        self.finish(&dir, resources, vars, &tc, &TopSteps::of(&k))
    }

    /// The top-level steps of a build: name hashes and references, vars, build metadata,
    /// output order.
    fn finish(
        &self,
        dir: &Path,
        mut resources: Vec<Resource>,
        vars: Vec<VarEntry>,
        tc: &TransformerConfig,
        top: &TopSteps,
    ) -> Result<Vec<Resource>, RenderError> {
        let dir = dir.to_path_buf();
        add_hashes(&mut resources);
        fix_name_references(&mut resources, &tc.name_reference)?;
        resolve_vars(&mut resources, &vars, &tc.var_reference)?;
        // kustomize's `IgnoreLocal`: objects annotated as local configuration (used only as
        // name-reference or replacement sources) are not output.
        resources.retain(|r| {
            r.node
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get("config.kubernetes.io/local-config"))
                .is_none_or(|v| v.as_str() == Some("false"))
        });
        resources
            .iter_mut()
            .for_each(Resource::clear_empty_annotations);
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
            if top
                .build_metadata
                .iter()
                .any(|o| o == "transformerAnnotations")
                && !r.transformations.is_empty()
            {
                let value = Transformation::annotation(&r.transformations, &dir);
                let meta = r.metadata();
                if meta.get("annotations").is_none() {
                    set(meta, "annotations", map(vec![]));
                }
                if let Some(a) = get_mut(meta, "annotations") {
                    set(
                        a,
                        "alpha.config.kubernetes.io/transformations",
                        text(&value),
                    );
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
                resources = sorted(resources, |r| LegacyKey::new(&id(r), &first, &last));
            }
            _ => resources = sorted(resources, |r| LegacyKey::default_order(&id(r))),
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

    /// The file table `path`'s existence is asked of (the file set may be another
    /// revision's: `kgate diff --since`), the question noted as an input of the build under
    /// way (a build that found a path missing depends on it as one that read it does).
    fn probe(&self, path: &Path) -> &crate::source::FileTable {
        if self.record_reads {
            memo::note_read(crate::source::lexical(&self.sources.path(path)));
        }
        &self.sources
    }

    fn canonical_dir(&self, dir: &Path, from: &Path, pos: Pos) -> Result<PathBuf, RenderError> {
        let canon = self
            .probe(dir)
            .canonicalize(dir)
            .map_err(|e| RenderError::at(from, pos, format!("{}: {e}", dir.display())))?;
        if self.record_reads {
            memo::note_resolved(dir.to_owned(), canon.clone());
        }
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
        let this_use = self.uses.take(dir);
        self.accumulate_as(dir, stack, from, this_use)
    }

    /// [`Renderer::accumulate`] as the use `this_use` of `dir`'s build.
    fn accumulate_as(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
        from: Option<(&Path, Pos)>,
        this_use: Use,
    ) -> Result<Accumulated, RenderError> {
        // What is memoized was built under the built-in schema and set no custom one; a hit
        // replays its only effect on the schema state, having looked the built-in one up.
        let before = super::openapi::build_state();
        // In the memo, or (REF's side of `diff --since`) the other renderer's build, taken
        // when it comes out the same here (`cut_off`), kept for the users to come.
        let served = (!before.has_custom()).then(|| {
            let hit = self.cache.lock().ok().and_then(|mut c| {
                if this_use == Use::Last {
                    c.remove(dir)
                } else {
                    c.get(dir).cloned()
                }
            });
            hit.or_else(|| {
                let (built, looked_up, inputs) = self.cut_off(dir, stack)?;
                if this_use != Use::Last {
                    self.remember_built(dir, Arc::clone(&built), looked_up, inputs.clone());
                }
                Some((built, looked_up, inputs))
            })
        });
        if let Some((hit, looked_up, inputs)) = served.flatten() {
            if looked_up {
                super::openapi::note_builtin_lookup();
            }
            memo::note_all(&inputs);
            self.use_ids(inputs.ids.iter().copied());
            // The last user takes the build (unless another memo shares it).
            return Arc::try_unwrap(hit).unwrap_or_else(|shared| (*shared).clone());
        }
        if !before.has_custom()
            && let Some(restored) = self.restore(dir)
        {
            let (inputs, looked_up) = (Arc::new(restored.inputs), restored.looked_up);
            if looked_up {
                super::openapi::note_builtin_lookup();
            }
            memo::note_all(&inputs);
            self.keep_build(dir, (&restored.result, looked_up), from, this_use, inputs);
            return restored.result;
        }
        let mut gathers = false;
        let (result, inputs) = memo::recording_build(dir, || {
            self.accumulate_uncached(dir, stack, from, &mut gathers)
        });
        let after = super::openapi::build_state();
        if !after.has_custom() {
            let looked_up = after.builtin_lookups > before.builtin_lookups;
            // A failure located where the directory was referenced from (no kustomization in
            // it) belongs to that referrer: another one would be told its own line.
            let at_referrer =
                |e: &RenderError| from.is_some_and(|(f, p)| e.file == f && e.pos == p);
            let referrers_own = result.as_ref().is_err_and(at_referrer);
            if let Some(store) = self.store.as_ref().filter(|_| !referrers_own) {
                let path_of = |id: FileId| self.file_path(id);
                let build = (result.as_ref()).map(|(r, v, tc)| (r.as_slice(), v.as_slice(), tc));
                match build {
                    Ok(_) if gathers => store.forget(dir),
                    _ => store.save(dir, build, looked_up, &inputs, &self.sources, path_of),
                }
            }
            // Nor is it kept in the memo: each referrer builds again (finding no kustomization
            // takes a probe) and is told its own line.
            if !referrers_own {
                self.keep_build(dir, (&result, looked_up), from, this_use, inputs);
            }
        }
        result
    }

    /// Keeps `dir`'s build in the memo for its users to come.
    fn remember_built(&self, dir: &Path, built: Built, looked_up: bool, inputs: Arc<Inputs>) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(dir.to_owned(), (built, looked_up, inputs));
        }
    }

    /// `dir`'s build from the render cache, its files given ids of this run.
    fn restore(&self, dir: &Path) -> Option<super::store::Restored> {
        let store = self.store.as_ref()?;
        if let Some(ahead) = (self.prefetched.lock().ok()).and_then(|mut p| p.remove(dir)) {
            store.count(ahead.is_some());
            #[cfg(test)]
            self.taken_ahead
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return ahead;
        }
        store.load(dir, &self.sources, |p| self.file_id(p))
    }

    fn load_kustomization(
        &self,
        dir: &Path,
        from: Option<(&Path, Pos)>,
    ) -> Result<Arc<Kustomization>, RenderError> {
        let (from_file, pos) = from.unwrap_or((dir, Pos::default()));
        match kustomization::find_in(dir, |p| self.probe(p).is_file(p)) {
            Ok(Some(file)) => {
                let text = self.read_text(&file).map_err(|e| {
                    RenderError::at(&file, Pos::default(), format!("cannot read: {e}"))
                })?;
                self.parsed(&file, &text)
            }
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

    /// `file` (whose text is `text`) parsed: a component parsed before, else parsed now.
    fn parsed(&self, file: &Path, text: &str) -> Result<Arc<Kustomization>, RenderError> {
        if let Some(known) = self.parsed.lock().ok().and_then(|p| p.get(file).cloned()) {
            return Ok(known);
        }
        // Discovery's parse when it made one of this text (`FileTable::take_documents`).
        let fresh = match self.sources.take_documents(file, text) {
            Some(docs) => kustomization::from_documents(file, &docs)?,
            None => super::store::parse_kustomization(self.store.as_deref(), file, text)?,
        };
        let fresh = Arc::new(fresh);
        if fresh.is_component
            && let Ok(mut p) = self.parsed.lock()
        {
            p.insert(file.to_owned(), Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    fn accumulate_uncached(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
        from: Option<(&Path, Pos)>,
        gathers: &mut bool,
    ) -> Result<Accumulated, RenderError> {
        let k = self.load_kustomization(dir, from)?;
        *gathers = self.store.is_some()
            && k.gathers_only(|entry| !is_remote(entry) && self.sources.is_dir(&dir.join(entry)));
        if !k.is_component
            && let Ok(mut tops) = self.tops.lock()
        {
            tops.entry(dir.to_owned())
                .or_insert_with(|| Arc::new(TopSteps::of(&k)));
        }
        if k.is_component {
            let (f, pos) = from.unwrap_or((&k.file, Pos::default()));
            return Err(RenderError::at(
                f,
                pos,
                format!("expected kind != 'Component' for path '{}'", dir.display()),
            ));
        }
        let (mut vars, mut tc) = (Vec::new(), Shared::default());
        let resources = self.apply(&k, dir, Vec::new(), &mut vars, &mut tc, stack)?;
        Ok((resources, vars, tc))
    }

    /// Runs one kustomization (or component) on top of `ra`.
    fn apply(
        &self,
        k: &Kustomization,
        dir: &Path,
        mut ra: Vec<Resource>,
        vars: &mut Vec<VarEntry>,
        tc: &mut Shared,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<Resource>, RenderError> {
        if stack.iter().any(|d| d == dir) {
            return Err(RenderError::at(
                &k.file,
                Pos::default(),
                format!("cycle detected: {} includes itself", dir.display()),
            ));
        }
        self.set_openapi(k, dir)?;
        stack.push(dir.to_owned());
        let result = self
            .apply_inner(k, dir, &mut ra, vars, tc, stack)
            .map(|()| ra);
        stack.pop();
        result
    }

    fn apply_inner(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        vars: &mut Vec<VarEntry>,
        tc: &mut Shared,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RenderError> {
        if ra.is_empty()
            && !k.is_component
            && let Some(e) = self.failure_ahead(k, dir, stack)
        {
            return Err(e);
        }
        let mut adder = super::resource::UniqueAdder::new(ra);
        let (mid, ahead) = self.ahead_of_turn(k, dir);
        std::thread::scope(|scope| {
            let mut helper = (!ahead.is_empty()).then(|| {
                scope.spawn(|| {
                    let store = self.store.as_ref()?;
                    // Under the canonical path each is built by (a link resolved here).
                    let load = |d: &PathBuf| {
                        let d = self.sources.canonicalize(d).ok()?;
                        let found = store.load_ahead(&d, &self.sources, |p| self.file_id(p));
                        Some((d, found))
                    };
                    Some(ahead.iter().filter_map(load).collect::<Vec<_>>())
                })
            });
            for (i, item) in k.resources.iter().enumerate() {
                if i == mid
                    && let Some(Ok(Some(found))) = helper.take().map(|h| h.join())
                    && let Ok(mut prefetched) = self.prefetched.lock()
                {
                    prefetched.extend(found);
                }
                let (loaded, loaded_vars, loaded_tc) =
                    self.load_resource(k, dir, &item.value, item.pos, stack)?;
                for r in loaded {
                    adder.add(ra, r, &k.file, item.pos)?;
                }
                tconfig::absorb(tc, &loaded_tc)
                    .map_err(|e| RenderError::at(&k.file, item.pos, e))?;
                for v in loaded_vars {
                    add_var(vars, v, &k.file, item.pos)?;
                }
            }
            Ok::<(), RenderError>(())
        })?;
        let own = self.load_configurations(k, dir)?;
        tconfig::absorb_own(tc, own.as_ref())
            .map_err(|e| RenderError::at(&k.file, k.pos_of("configurations"), e))?;
        self.run_generators(k, dir, ra, stack)?;
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
            *ra = self.apply(&ck, &cdir, taken, vars, tc, stack)?;
        }
        let psm = self.load_patches(k, dir, &k.patches_strategic_merge)?;
        let mut patches = self.load_patches(k, dir, &k.patches)?;
        patches::require_documents(&patches)?;
        patches::mark_patch_transformer(&mut patches);
        let json = self.load_patches(k, dir, &k.patches_json6902)?;
        let kid = self.file_id(&k.file);
        let replacements = self.load_replacements(k, dir, &k.replacements)?;
        transform(k, ra, &psm, &patches, &json, kid, tc)?;
        apply_replacements(k, ra, &replacements)?;
        for r in ra.iter_mut() {
            r.node.stamp(kid, k.pos_of("replacements"));
        }
        let mut ran = builtin_transformations(k);
        ran.extend(self.apply_plugin_transformers(k, dir, ra, kid, stack)?);
        // kustomize records each transformer on every object present after it ran.
        for r in ra.iter_mut() {
            r.transformations.extend(ran.iter().cloned());
        }
        merge_vars(k, ra, vars)
    }

    /// How many builds were taken ahead of their turn and then used, and how many are
    /// still waiting for it (for the tests).
    #[cfg(test)]
    pub(crate) fn ahead_of_turn_counts(&self) -> (usize, usize) {
        let used = self.taken_ahead.load(std::sync::atomic::Ordering::Relaxed);
        (used, self.prefetched.lock().map_or(0, |p| p.len()))
    }

    /// Where the second half of `k`'s resources starts, and the directories among them whose
    /// stored builds a second thread takes from the store while this one builds the first
    /// half (none for a kustomization of fewer than [`PREFETCH_FROM`] resources, without a
    /// store, or under a custom schema). A cluster composes two hundred stored overlays on
    /// one thread while the other, done with the smaller roots, waits. The paths are joined
    /// lexically and made canonical on the second thread.
    fn ahead_of_turn(&self, k: &Kustomization, dir: &Path) -> (usize, Vec<PathBuf>) {
        let n = k.resources.len();
        if self.store.is_none() || n < PREFETCH_FROM || super::openapi::build_state().has_custom() {
            return (n, Vec::new());
        }
        let mid = n / 2;
        let Ok(memo) = self.cache.lock() else {
            return (n, Vec::new());
        };
        let ahead = (k.resources[mid..].iter())
            .filter(|item| !is_remote(&item.value))
            .map(|item| crate::source::lexical(&dir.join(&item.value)))
            .filter(|d| !memo.contains_key(d))
            .collect();
        (mid, ahead)
    }

    /// The error `k`'s resources fail with, told without decoding the stored builds before
    /// the failing one. The resources are added in order and the first error ends the build,
    /// so when a directory's build is known to fail (in the memo, or stored and still valid)
    /// and every entry before it adds cleanly (no id met twice, no variables, the default
    /// transformer configuration), the build fails with that error; the stored builds before
    /// it need only their ids, which their headers hold. A cluster of two hundred overlays
    /// with one broken overlay decoded every overlay before it, run after run, to fail the
    /// same way. Only tried for a kustomization whose last stored build failed; `None`
    /// (build as usual) whenever an entry is anything else (a file, a remote, a missing path).
    fn failure_ahead(
        &self,
        k: &Kustomization,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Option<RenderError> {
        let store = self.store.as_ref()?;
        if k.resources.len() < 2
            || super::openapi::build_state().has_custom()
            || !store.failed_before(dir)
        {
            return None;
        }
        // Each entry's directory and what is known of its build, up to the first failure.
        let mut entries = Vec::new();
        let mut fails = false;
        for item in &k.resources {
            let path = dir.join(&item.value);
            if is_remote(&item.value)
                || !self.probe(&path).exists(&path)
                || !self.sources.is_dir(&path)
            {
                return None;
            }
            let sub = self.canonical_dir(&path, &k.file, item.pos).ok()?;
            if stack.contains(&sub) {
                return None;
            }
            let in_memo = (self.cache.lock().ok())
                .and_then(|c| c.get(&sub).map(|(built, _, _)| built.is_err()));
            let peeked = match in_memo {
                Some(failed) => {
                    fails = failed;
                    None
                }
                None => store.peek(&sub, &self.sources).inspect(|p| {
                    fails = matches!(p, super::store::Peeked::Failed(..));
                }),
            };
            entries.push((item, peeked));
            if fails {
                break;
            }
        }
        if !fails {
            return None;
        }
        // In order, as the resources loop adds them.
        let mut seen =
            std::collections::HashSet::with_hasher(foldhash::fast::RandomState::default());
        for (item, peeked) in entries {
            let (ids, plain): (Arc<[_]>, _) = match peeked {
                Some(super::store::Peeked::Failed(e, inputs)) => {
                    memo::note_all(&inputs);
                    return Some(e);
                }
                Some(super::store::Peeked::Built { ids, plain, inputs }) => {
                    memo::note_all(&inputs);
                    (ids, plain)
                }
                // In the memo, or to build: taken as the loop takes it.
                None => match self.load_resource(k, dir, &item.value, item.pos, stack) {
                    Err(e) => return Some(e),
                    Ok((resources, vars, tc)) => (
                        resources.iter().map(super::resource::owned_key).collect(),
                        vars.is_empty() && tconfig::is_shared_defaults(&tc),
                    ),
                },
            };
            if !plain || !ids.iter().all(|id| seen.insert(id.clone())) {
                return None;
            }
        }
        None
    }

    /// Reads the patches of one list (files under the load restrictor, or inline text).
    pub(super) fn load_patches(
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
            &|f| self.read_text(f),
            &self.patches_parsed,
        )
    }

    /// One `resources` entry (also a plugin config entry): a file's objects, or a
    /// directory built as a kustomization.
    pub(super) fn load_resource(
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
        if !self.probe(&path).exists(&path) {
            return Err(RenderError::at(
                &k.file,
                pos,
                format!("accumulating resources from '{entry}': no such file or directory"),
            ));
        }
        if self.sources.is_dir(&path) {
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
            read_objects(
                &file,
                self.read_text(&file),
                &k.file,
                pos,
                self.file_id(&file),
            )?,
            Vec::new(),
            Shared::default(),
        ))
    }

    /// A file the kustomization in `dir` may read: kustomize's default load restrictor
    /// (`LoadRestrictionsRootOnly`) allows only files in or below the kustomization's
    /// directory, and kgate never reads outside the repository.
    pub(super) fn restricted_file(
        &self,
        k: &Kustomization,
        dir: &Path,
        entry: &str,
        pos: Pos,
    ) -> Result<PathBuf, RenderError> {
        let path = dir.join(entry);
        let file = (self.probe(&path).canonicalize(&path))
            .map_err(|e| RenderError::at(&k.file, pos, format!("'{entry}': {e}")))?;
        if let Some(len) = self.sources.len(&file)
            && len > self.max_file_size
        {
            return Err(RenderError::at(
                &k.file,
                pos,
                format!(
                    "'{entry}' is {} bytes, over the limit of {} bytes (limits.maxFileSize)",
                    len, self.max_file_size
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

    /// kyaml's `SetSchema` for the kustomization's `openapi` field (the file read under the
    /// load restrictor); see `openapi.rs` for when it takes effect.
    fn set_openapi(&self, k: &Kustomization, dir: &Path) -> Result<(), RenderError> {
        let text = match &k.openapi_path {
            Some(item) => {
                let file = self.restricted_file(k, dir, &item.value, item.pos)?;
                Some(self.read_text(&file).map_err(|e| {
                    RenderError::at(&k.file, item.pos, format!("'{}': {e}", item.value))
                })?)
            }
            None => None,
        };
        super::openapi::set_schema(k.openapi_version.as_deref(), text.as_deref())
            .map_err(|e| RenderError::at(&k.file, k.pos_of("openapi"), e))
    }

    /// kustomize's `MakeTransformerConfig`: the default configuration merged with the files
    /// under `configurations:` (read under the load restrictor), in order; then what the
    /// `crds:` files' OpenAPI extensions configure (`None`: the defaults alone).
    fn load_configurations(
        &self,
        k: &Kustomization,
        dir: &Path,
    ) -> Result<Option<TransformerConfig>, RenderError> {
        if k.configurations.is_empty() && k.crds.is_empty() {
            return Ok(None);
        }
        let mut tc = TransformerConfig::builtin().clone();
        let mut custom = TransformerConfig::default();
        for item in &k.configurations {
            let file = self.restricted_file(k, dir, &item.value, item.pos)?;
            let text = self.read_text(&file).map_err(|e| {
                RenderError::at(&k.file, item.pos, format!("'{}': {e}", item.value))
            })?;
            let parsed = super::tconfig::parse(&file, &text)
                .map_err(|e| RenderError::at(&file, Pos::default(), e))?;
            custom
                .merge(&parsed)
                .map_err(|e| RenderError::at(&file, Pos::default(), e))?;
        }
        tc.merge(&custom)
            .map_err(|e| RenderError::at(&k.file, k.pos_of("configurations"), e))?;
        // `LoadConfigFromCRDs`, merged after the configurations.
        for item in &k.crds {
            let file = self.restricted_file(k, dir, &item.value, item.pos)?;
            let text = self.read_text(&file).map_err(|e| {
                RenderError::at(&k.file, item.pos, format!("'{}': {e}", item.value))
            })?;
            let crd = super::tconfig::from_crds(&text).map_err(|e| {
                let m = format!(
                    "unable to parse open API definition from '{}': {e}",
                    item.value
                );
                RenderError::at(&k.file, item.pos, m)
            })?;
            tc.merge(&crd)
                .map_err(|e| RenderError::at(&k.file, item.pos, e))?;
        }
        Ok(Some(tc))
    }

    /// Inline replacements and those read from `path:` files.
    pub(super) fn load_replacements(
        &self,
        k: &Kustomization,
        dir: &Path,
        entries: &[ReplacementEntry],
    ) -> Result<Vec<Replacement>, RenderError> {
        let mut out = Vec::new();
        for entry in entries {
            match entry {
                ReplacementEntry::Inline(r) => out.push(r.clone()),
                ReplacementEntry::Path(item) => {
                    let file = self.restricted_file(k, dir, &item.value, item.pos)?;
                    let text = self.read_text(&file).map_err(|e| {
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
}

/// `resources` in the order of `key` (stable: equal keys keep their order), each key
/// computed once.
fn sorted(resources: Vec<Resource>, key: impl Fn(&Resource) -> LegacyKey) -> Vec<Resource> {
    let mut keyed: Vec<(LegacyKey, Resource)> =
        resources.into_iter().map(|r| (key(&r), r)).collect();
    keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
    keyed.into_iter().map(|(_, r)| r).collect()
}

/// kgate never fetches: a root with a remote base or component is `render-unavailable` (a
/// note naming the reference), not a `render-error`; nothing in the kustomization is wrong.
fn remote_error(file: &Path, pos: Pos, entry: &str) -> RenderError {
    let mut err = RenderError::at(
        file,
        pos,
        format!(
            "remote base `{entry}` is not fetched: kgate renders only what is in the repository, so this root was not checked"
        ),
    );
    err.unavailable = true;
    err
}
