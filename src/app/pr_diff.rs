//! What a change since a git revision does to the rendered repository (`kgate diff --since
//! REF`): the roots the change can reach are rendered at REF and at the working tree and
//! compared object by object, and the check runs on both sides over the same roots so the
//! findings the change adds and resolves can be told apart.
//!
//! REF's side is checked in the working tree's paths with REF's file set (`pr_diff_ref`), or,
//! when that cannot express the change, in REF's tree exported with `git archive` into a
//! temporary directory (in RAM when it fits), read only: the user's work tree and index are
//! never touched. Each side is rendered once, by its check, which hands the renders of the
//! affected roots back; `object_diff` compares each root's two renders object by object
//! (generated ConfigMaps and Secrets by their name without the content hash, so a changed
//! literal is a modified ConfigMap, not a removed and an added one). Secret values are never
//! part of the result.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde::Serialize;

use crate::discover::graph::{NodeKind, RepoGraph};
use crate::model::Finding;
use crate::render::{RenderError, Renderer, Resource};

use super::roots::Rendered;
use crate::source::relative;

use super::changes::ChangesError;
pub use super::object_diff::{Change, FieldChange, HIDDEN, ObjectDiff};

use super::check::{Keeping, Prepared, RefFiles};
use super::pr_diff_ref::{AtRef, RefTree};
use super::schedule::joined;
use super::settings::{CheckError, CheckOptions, Settings};
use crate::source::FileTable;

/// The whole comparison (`kgate diff --since REF -f json` prints it as it serializes).
#[derive(Debug, Clone, Serialize)]
pub struct PrDiff {
    pub version: u32,
    /// The revision compared with.
    #[serde(skip)]
    pub reference: String,
    pub roots: Vec<RootDiff>,
    pub findings: FindingsDiff,
    /// How long each phase took, in order (`kgate diff --since REF --timings`).
    #[serde(skip)]
    pub timings: Vec<(String, std::time::Duration)>,
    /// How the render cache served each side (`--timings`): REF's, then the working tree's.
    #[serde(skip)]
    pub render_cache: Vec<(&'static str, crate::model::CacheStats)>,
}

/// One rendered root that differs (or fails to render) between REF and the working tree.
#[derive(Debug, Clone, Serialize)]
pub struct RootDiff {
    /// The root's directory, relative to the scanned root.
    pub root: String,
    pub environment: Option<String>,
    pub cluster: Option<String>,
    pub objects: Vec<ObjectDiff>,
    /// Why a side does not render (`before`: at REF, `after`: the working tree).
    #[serde(skip_serializing_if = "SideErrors::is_empty")]
    pub errors: SideErrors,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SideErrors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl SideErrors {
    pub fn is_empty(&self) -> bool {
        self.before.is_none() && self.after.is_none()
    }
}

/// Findings (by fingerprint) only the working tree has, and only REF has.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingsDiff {
    pub added: Vec<Finding>,
    pub resolved: Vec<Finding>,
}

/// A directory removed when dropped: REF's exported tree.
struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git_error(message: impl Into<String>) -> CheckError {
    CheckError::Changes(ChangesError::Git(message.into()))
}

/// Trees up to this size go to a RAM-backed directory (`/dev/shm`) when there is one.
const RAM_TREE_LIMIT: u64 = 256 << 20;

/// The total size of REF's files (`git ls-tree -r -l`), `None` when git cannot tell.
fn tree_size(top: &Path, reference: &str) -> Option<u64> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args([
            "ls-tree",
            "-r",
            "-l",
            "--full-tree",
            "--end-of-options",
            reference,
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `<mode> <type> <object> <size>\t<path>`; a submodule's size is `-`.
    Some(
        text.lines()
            .filter_map(|l| {
                l.split('\t')
                    .next()?
                    .split_whitespace()
                    .nth(3)?
                    .parse::<u64>()
                    .ok()
            })
            .sum(),
    )
}

/// Where REF's tree is exported. Creating and removing thousands of files is most of the
/// cost of the REF side on a disk (the 200-app benchmark's 2,405 files: 0.6–1.7 s to
/// extract and 0.1–2 s to remove under /tmp, against 0.13 s and 0.01 s in /dev/shm), so a
/// tree that fits comfortably goes to RAM, unless the user chose a directory with `TMPDIR`.
fn export_base(top: &Path, reference: &str) -> PathBuf {
    let ram = Path::new("/dev/shm");
    let usable = std::env::var_os("TMPDIR").is_none()
        && ram.is_dir()
        && tree_size(top, reference).is_some_and(|n| n <= RAM_TREE_LIMIT);
    if usable {
        ram.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// REF's tree of the repository at `top`, exported (`git archive REF | tar -x`) into a new
/// temporary directory (in RAM when it fits, else on disk). An empty `.git` marks it as the
/// repository root, so configuration lookup and the repository boundary stop where they
/// stop in the working tree.
fn export_tree(top: &Path, reference: &str) -> Result<TempTree, CheckError> {
    let base = export_base(top, reference);
    match export_tree_into(&base, top, reference) {
        // A full or read-only RAM directory is no reason to fail: the disk may do.
        Err(_) if base != std::env::temp_dir() => {
            export_tree_into(&std::env::temp_dir(), top, reference)
        }
        result => result,
    }
}

fn export_tree_into(base: &Path, top: &Path, reference: &str) -> Result<TempTree, CheckError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = base.join(format!("kgate-diff-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join(".git")).map_err(|e| git_error(e.to_string()))?;
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let tree = TempTree(dir);
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["archive", "--format=tar", "--end-of-options", reference])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git_error(e.to_string()))?;
    let Some(stdout) = archive.stdout.take() else {
        return Err(git_error("git archive has no output"));
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&tree.0)
        .stdin(stdout)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| git_error(format!("cannot run tar: {e}")))?;
    let archived = archive
        .wait_with_output()
        .map_err(|e| git_error(e.to_string()))?;
    if !archived.status.success() {
        return Err(git_error(format!(
            "git archive {reference}: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        )));
    }
    if !tar.status.success() {
        return Err(git_error(format!(
            "tar: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(tree)
}

/// `opts` limited to what `changed` can affect (as `check --changed-since`).
fn limited(opts: &CheckOptions, changed: Option<&BTreeSet<String>>) -> CheckOptions {
    CheckOptions {
        changed_since: None,
        changed_files: changed.cloned(),
        ..opts.clone()
    }
}

/// One side of the comparison, as its check left it: the scanned root, the repository graph
/// and the rendered affected roots.
struct Side {
    root: PathBuf,
    graph: RepoGraph,
    rendered: Rendered,
    findings: Vec<Finding>,
    /// The working tree's render memo (see `Keeping::reuse`).
    memo: Option<crate::render::Memo>,
    helm_runs: usize,
    /// Where REF's side, checked in the working tree's paths, reads its files from.
    sources: Option<Arc<FileTable>>,
    /// How long each phase of its check took.
    timings: Vec<(&'static str, std::time::Duration)>,
    /// Its repository-scope rules' input and results.
    repo: Option<super::check::RepoResults>,
    /// Its check's file table.
    table: Arc<FileTable>,
    /// How the render cache served its check.
    render_cache: Option<crate::model::CacheStats>,
    /// How many object and root evaluations the results by content (shared with the other
    /// side) spared its check.
    results_reused: (usize, usize),
    /// Whether its graph is the working tree's (REF checked in place with the working tree's
    /// discovery, graph and selection, `Prepared::shared`): it reaches the same roots.
    shares_graph: bool,
    /// The render cache its check used.
    store: Option<Arc<crate::render::RenderStore>>,
    /// The worker threads it was prepared on (`Prepared::threads`): the comparison runs on
    /// the working tree's (a pool of its own would start threads only for it).
    pool: Arc<rayon::ThreadPool>,
    /// REF's side checked in place: the roots whose check it took from the working tree's,
    /// as they render the same (`roots/taken.rs`).
    taken: BTreeSet<String>,
}

impl Side {
    /// The check of `opts` limited to what `changed` can affect, keeping its renders.
    fn check(
        opts: &CheckOptions,
        changed: &BTreeSet<String>,
        keeping: &Keeping<'_>,
    ) -> Result<Side, CheckError> {
        let prepared = super::check::prepare(&limited(opts, Some(changed)), keeping.files, false)?;
        Side::finish(prepared, keeping)
    }

    /// The rest of the check [`super::check::prepare`] began.
    fn finish(prepared: Prepared, keeping: &Keeping<'_>) -> Result<Side, CheckError> {
        let pool = prepared.threads();
        let (result, kept) = super::check::check_prepared(prepared, Some(keeping))?;
        Ok(Side {
            root: result.root,
            graph: kept.graph,
            rendered: kept.rendered,
            findings: result.findings,
            memo: kept.memo,
            helm_runs: kept.helm_runs,
            sources: keeping.reuse.map(|_| kept.sources.clone()),
            table: kept.sources,
            timings: result.timings,
            render_cache: result.render_cache,
            repo: kept.repo,
            results_reused: kept.results_reused,
            shares_graph: false,
            store: kept.store,
            pool,
            taken: kept.taken,
        })
    }

    /// Whether its check, of REF in the working tree's paths, needs REF's tree after all:
    /// Helm ran (it reads the disk), or a read asked for a path REF's tree has not (only the
    /// tree tells how the read fails). Entry points that list directories (a Flux
    /// Kustomization of a plain directory, ApplicationSet generators, Argo CD path globs)
    /// list them through the file table, which answers for REF's tree.
    fn needs_ref_tree(&self) -> bool {
        self.helm_runs > 0 || !self.table.hidden_reads().is_empty()
    }

    /// Messages as the working tree's paths would give them: REF checked in its export at
    /// `from` names files under it (kustomize's "unable to find one of 'kustomization.yaml'
    /// ... in directory '/tmp/kgate-diff-…/config/manager'"), which would make every such
    /// finding differ between runs and from the working tree's, so the diff would report it
    /// resolved (and added) though nothing changed.
    fn rebase_messages(&mut self, from: &Path, to: &Path) {
        let (from, to) = (from.to_string_lossy(), to.to_string_lossy());
        if from.is_empty() {
            return;
        }
        let rebase = |text: &mut String| {
            if text.contains(from.as_ref()) {
                *text = text.replace(from.as_ref(), to.as_ref());
            }
        };
        for f in &mut self.findings {
            rebase(&mut f.message);
            rebase(&mut f.help);
        }
        for e in self.rendered.values_mut().filter_map(|r| r.as_mut().err()) {
            rebase(&mut e.message);
        }
    }

    /// The phases of its check, indented under it.
    fn phases(&self, timings: &mut Timings) {
        timings.extend(self.timings.iter().map(|(w, d)| (format!("  {w}"), *d)));
    }

    fn is_root(&self, id: &str) -> bool {
        // An entry point checked as a root of its own is named by its id, not a graph node.
        self.rendered.contains_key(id)
            || self
                .graph
                .node(id)
                .is_some_and(|n| matches!(n.kind, NodeKind::Root | NodeKind::Chart) && n.exists)
    }

    /// The root's objects, or why it does not render: what the check rendered (borrowed),
    /// or (for a root the check did not select, which a change reaching it on the other
    /// side only can cause) a render of its own.
    fn render(&self, id: &str) -> Result<Cow<'_, [Resource]>, String> {
        let is_chart = self
            .graph
            .node(id)
            .is_some_and(|n| n.kind == NodeKind::Chart);
        let rendered = match (self.rendered.get(id), &self.sources) {
            (Some(Ok(resources)), _) => return Ok(Cow::Borrowed(resources)),
            (Some(Err(e)), _) => return Err(error_text(&self.root, e)),
            // A chart renders through Helm, which only the check runs (and it rendered every
            // chart the change reaches on either side).
            (None, _) if is_chart => return Err(format!("{id}: the chart was not rendered")),
            (None, Some(sources)) => Renderer::new(&self.root)
                .with_sources(sources.clone())
                .render(&self.root.join(id)),
            (None, None) => Renderer::new(&self.root).render(&self.root.join(id)),
        };
        match rendered {
            Ok(resources) => Ok(Cow::Owned(resources)),
            Err(e) => Err(error_text(&self.root, &e)),
        }
    }
}

fn error_text(root: &Path, e: &RenderError) -> String {
    format!(
        "{}:{}:{}: {}",
        relative(root, &e.file),
        e.pos.line,
        e.pos.column,
        e.message
    )
}

/// `opts` with its paths (and configuration file) moved from the working tree at `top` into
/// REF's exported tree at `tree`; `None` when none of the paths exists at REF.
fn options_at_ref(opts: &CheckOptions, paths: &[PathBuf], top: &Path, tree: &Path) -> CheckOptions {
    let move_path = |p: &Path| match p.strip_prefix(top) {
        Ok(rel) => tree.join(rel),
        Err(_) => p.to_path_buf(),
    };
    let config = opts.config.as_ref().map(|c| {
        let abs = std::fs::canonicalize(c).unwrap_or_else(|_| c.clone());
        move_path(&abs)
    });
    CheckOptions {
        paths: paths
            .iter()
            .map(|p| move_path(p))
            .filter(|p| p.exists())
            .collect(),
        config: config.filter(|c| c.exists()),
        // A temporary tree's builds are never asked for again.
        cache_dir: None,
        ..opts.clone()
    }
}

/// The sides of the comparison: REF's (`None` when none of the paths exists at REF) and the
/// working tree's, with REF's exported tree when REF's side reads from one.
type Sides = (Option<Side>, Side, Option<TempTree>);

type Timings = Vec<(String, std::time::Duration)>;

/// A keeping of the renders and nothing else.
const KEEP: Keeping<'static> = Keeping {
    files: RefFiles {
        contents: &[],
        hidden: &[],
        present: &[],
    },
    reuse: None,
    repo: None,
    sources: None,
    results: None,
    store: None,
    ref_next: false,
    on_rendered: None,
    repo_out: None,
    plan: None,
    root_checks: None,
};

/// `kgate diff --since REF [PATH...]`: the rendered difference and the findings difference
/// of the change since `reference`, over the roots under `opts.paths` it can affect.
///
/// Each side is rendered once: the check of each side (limited to what the change can
/// affect, as `check --changed-since`) keeps the renders of the affected roots, and those are
/// compared. When the change edits, adds or removes files (see `pr_diff_ref`), REF's side is
/// checked in the working tree's paths with REF's file set, from the moment the working
/// tree's roots are rendered (beside its last checks), reusing every render that read none
/// of the changed paths; otherwise REF's tree is exported and both sides are checked at once.
pub fn pr_diff(opts: &CheckOptions, reference: &str) -> Result<PrDiff, CheckError> {
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |what: &str, timings: &mut Timings| {
        timings.push((what.to_owned(), clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let settings = Settings::resolve(opts)?;
    // REF's git questions cost process starts more than work: the working tree's first
    // phase (policies, discovery, graph) runs meanwhile, its selection waiting for the
    // changed files only (as `check --changed-since` asks git beside its walk).
    let (files_tx, files_rx) = std::sync::mpsc::channel();
    let settings_ref = &settings;
    let (asked, prepared) = std::thread::scope(|scope| {
        let asked = scope.spawn(move || {
            let clock = std::time::Instant::now();
            let (since, beside) = std::thread::scope(|scope| {
                let beside = scope.spawn(|| super::pr_diff_ref::beside(&settings_ref.root));
                let since = super::changes::since(&settings_ref.root, reference, true)
                    .map_err(|e| e.named("--since"));
                (since, joined(beside))
            });
            // (A failure is this thread's to report: the walk is told only that it failed.)
            let files = (since.as_ref().map(|s| s.files.clone()))
                .map_err(|e| super::changes::ChangesError::Git(e.to_string()));
            let _ = files_tx.send(files);
            let since = since?;
            let cache = opts.cache_dir.as_deref();
            let contents =
                super::pr_diff_ref::ref_contents(&since, beside, reference, settings_ref, cache);
            Ok::<_, CheckError>((since, contents, clock.elapsed()))
        });
        let changed: super::check::ChangedFiles<'_> = Box::new(move || {
            files_rx
                .recv()
                .unwrap_or_else(|e| Err(super::changes::ChangesError::Git(e.to_string())))
        });
        let prepared =
            super::check::prepare_changed(&limited(opts, None), RefFiles::default(), true, changed);
        (joined(asked), prepared)
    });
    // A REF git cannot read is the user's error, whatever the walk made of it.
    let (since, contents, git_time) = asked?;
    let (contents, prepared) = (contents?, prepared?);
    let (changed, top) = (&since.files, since.top.as_path());
    lap(
        &format!(
            "changed files and REF's contents of the edited files (git: {:.1} ms); meanwhile, \
             prepare the working tree (policies, discover, graph, select)",
            git_time.as_secs_f64() * 1000.0
        ),
        &mut timings,
    );
    let at_ref = RefSide {
        opts,
        changed,
        paths: &settings.paths,
        top,
        reference,
    };
    let (before, after, tree) = match contents {
        RefTree::InPlace(at) => at_ref.in_place(&at, prepared, &mut timings)?,
        RefTree::Export(why) => at_ref.exported(prepared, why, &mut timings)?,
    };
    lap("both sides", &mut timings);
    // The affected roots, and the entry points either side checked as roots of their own.
    // REF's graph, when it is the working tree's, reaches the same roots; else both graphs
    // are walked at once.
    let ref_graph = before
        .as_ref()
        .filter(|b| !b.shares_graph)
        .map(|b| &b.graph);
    let roots: Vec<RootDiff> = after.pool.install(|| {
        let (mut ids, ref_ids): (BTreeSet<String>, _) = rayon::join(
            || after.graph.affected_roots(changed),
            || ref_graph.map(|g| g.affected_roots(changed)),
        );
        ids.extend(ref_ids.into_iter().flatten());
        ids.extend(after.rendered.keys().cloned());
        if let Some(b) = &before {
            ids.extend(b.rendered.keys().cloned());
        }
        use rayon::prelude::*;
        let ids: Vec<&String> = ids.iter().collect();
        ids.par_iter()
            .filter_map(|id| root_diff(id, before.as_ref(), &after))
            .collect()
    });
    lap("compare both sides", &mut timings);
    let (mut before, mut after) = (before, after);
    let had = before.as_mut().map(|b| std::mem::take(&mut b.findings));
    let has = std::mem::take(&mut after.findings);
    // Each side's renders, graph and memo are hundreds of thousands of allocations: they are
    // freed on a thread of their own, which the report does not wait for (a process that
    // exits first frees them at once). Freeing them here was most of the 8-15 ms lap the
    // timings named after REF's tree, and the working tree's, after it, was not timed.
    let render_cache = [("REF", before.as_ref()), ("working tree", Some(&after))]
        .into_iter()
        .filter_map(|(side, s)| Some((side, s?.render_cache.clone()?)))
        .collect();
    std::thread::spawn(move || drop((before, after)));
    let findings = findings_diff(had.unwrap_or_default(), has);
    lap("findings added and resolved", &mut timings);
    if let Some(tree) = tree {
        drop(tree);
        lap("remove REF's tree", &mut timings);
    }
    Ok(PrDiff {
        version: 1,
        reference: reference.to_owned(),
        roots,
        findings,
        timings,
        render_cache,
    })
}

/// The working tree's memo, once its check hands it over (`None`: it ended without). Once
/// its last render is under way, `on_one_left` is called (REF's side makes its definitions
/// then, as a worker has nothing left to take), and REF's thread then waits yielding rather
/// than asleep: woken from sleep, on an idle virtual CPU, it started 0-5 ms after the
/// hand-over (traced), on the diff's serial path.
fn handed_over(
    rx: &std::sync::mpsc::Receiver<super::handover::Rendering>,
    on_one_left: impl FnOnce(Option<crate::source::PathMap<usize>>),
) -> Option<super::handover::RendersDone> {
    use super::handover::Rendering;
    use std::sync::mpsc::TryRecvError;
    let mut on_one_left = Some(on_one_left);
    // Beyond this, a long last render is waited for asleep.
    const YIELDING: std::time::Duration = std::time::Duration::from_millis(100);
    // With one CPU the render would share it with the waiting.
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let yielding = if cpus > 1 {
        YIELDING
    } else {
        std::time::Duration::ZERO
    };
    let mut since: Option<std::time::Instant> = None;
    loop {
        let got = match since {
            Some(t) if t.elapsed() < yielding => match rx.try_recv() {
                Err(TryRecvError::Empty) => {
                    std::thread::yield_now();
                    continue;
                }
                got => got.ok(),
            },
            _ => rx.recv().ok(),
        };
        match got? {
            Rendering::OneLeft(counts) => {
                if let Some(f) = on_one_left.take() {
                    f(counts);
                }
                since = Some(std::time::Instant::now());
            }
            Rendering::Done(done) => return Some(done),
        }
    }
}

/// Ends a [`super::check::RepoHandoff`] and a [`super::handover::RootChecks`] when dropped.
struct EndsHandoff<'a>(
    &'a super::check::RepoHandoff,
    &'a super::handover::RootChecks,
);

impl Drop for EndsHandoff<'_> {
    fn drop(&mut self) {
        self.0.end();
        self.1.end();
    }
}

/// What the two checks in place share besides the working tree's memo.
struct SharedInPlace<'a> {
    /// Policy results by content.
    results: &'a super::roots::SharedResults,
    /// The working tree's checks of roots REF's side may take (`roots/taken.rs`).
    root_checks: &'a super::handover::RootChecks,
}

/// REF's side checked in place beside the working tree's ([`RefSide::working_tree_and_ref`]):
/// checked (and how long it took), or only prepared, to check after the working tree's.
enum RefCheck {
    // (Boxed: a side and a prepared check are large, and of different sizes.)
    Done(Box<Result<Side, CheckError>>, std::time::Duration),
    Prepared(Box<Result<Prepared, CheckError>>),
}

/// What checking REF's side needs.
struct RefSide<'a> {
    opts: &'a CheckOptions,
    changed: &'a BTreeSet<String>,
    /// The resolved paths to check.
    paths: &'a [PathBuf],
    /// The git top level.
    top: &'a Path,
    reference: &'a str,
}

impl RefSide<'_> {
    /// The working tree's check, and REF's (once the working tree's roots are rendered, see
    /// [`RefSide::working_tree_and_ref`]) in the same paths with REF's contents of the
    /// edited files and without the paths REF's tree has not (`at`), reusing the working
    /// tree's renders that read none of them and sharing its policy results by content.
    /// When Helm ran on either side (it reads its charts and values from disk) or REF's check
    /// needs REF's tree (`Side::needs_ref_tree`), REF's side is checked in an export after
    /// all.
    fn in_place(
        &self,
        at: &AtRef,
        prepared: Prepared,
        timings: &mut Timings,
    ) -> Result<Sides, CheckError> {
        let files = RefFiles {
            contents: &at.contents,
            hidden: &at.hidden,
            present: &at.present,
        };
        let results = super::roots::SharedResults::default();
        let root_checks = super::handover::RootChecks::default();
        let beside = SharedInPlace {
            results: &results,
            root_checks: &root_checks,
        };
        let (after, at_ref, shares_graph) =
            self.working_tree_and_ref(prepared, files, beside, timings)?;
        if after.helm_runs > 0 {
            let why = "Helm ran (it reads the disk)";
            let (before, tree) = self.export_and_check(None, why, timings)?;
            return Ok((before, after, Some(tree)));
        }
        let (before, took, when) = match at_ref {
            RefCheck::Done(before, took) => {
                (*before, took, "beside the working tree's last checks")
            }
            // The working tree's check did not hand its memo over: REF's side after it.
            RefCheck::Prepared(prepared) => {
                let clock = std::time::Instant::now();
                let keeping = Keeping {
                    files,
                    reuse: after.memo.as_ref(),
                    repo: after.repo.as_ref(),
                    sources: Some(&after.table),
                    results: Some(&results),
                    store: after.store.as_ref(),
                    root_checks: Some(&root_checks),
                    ..KEEP
                };
                let before = (*prepared).and_then(|p| Side::finish(p, &keeping));
                (before, clock.elapsed(), "after the working tree's check")
            }
        };
        let before = Side {
            shares_graph,
            ..before?
        };
        let (objects, roots) = before.results_reused;
        timings.push((
            format!(
                "check REF in the working tree's paths, reusing its renders, {when} \
                 ({objects} object and {roots} root results reused)"
            ),
            took,
        ));
        before.phases(timings);
        // Freed as the sides are, off the diff's serial path.
        super::roots::drop_aside(results);
        if before.needs_ref_tree() {
            let why = "REF's check needs its tree (Helm, a hidden path read)";
            let (before, tree) = self.export_and_check(None, why, timings)?;
            return Ok((before, after, Some(tree)));
        }
        // An ignored file either check read or found (`AtRef::paths`): REF's checkout has it
        // not, which only REF's tree tells how the check takes.
        let strays = (at.paths.as_ref())
            .is_some_and(|paths| paths.any_stray(&[&after.table, &before.table], &at.hidden));
        if strays {
            let why = "a check read or found an ignored path REF's tree has not";
            let (before, tree) = self.export_and_check(None, why, timings)?;
            return Ok((before, after, Some(tree)));
        }
        Ok((Some(before), after, None))
    }

    /// The working tree's check, and REF's on a thread of its own: its first phase at once
    /// (the working tree's policies, as the configuration and the policies are the same on
    /// both sides in place, and its discovery, graph and selection when REF's files cannot
    /// change them: `Prepared::shared`, then `true`, else REF's own), its check as soon as
    /// every root of the working tree is rendered (`Keeping::on_rendered` hands the memo
    /// over; the working tree's last roots are then being evaluated, on one worker while the
    /// other has nothing left to take).
    fn working_tree_and_ref(
        &self,
        prepared: Prepared,
        files: RefFiles<'_>,
        SharedInPlace {
            results,
            root_checks,
        }: SharedInPlace<'_>,
        timings: &mut Timings,
    ) -> Result<(Side, RefCheck, bool), CheckError> {
        let clock = std::time::Instant::now();
        let opts = limited(self.opts, Some(self.changed));
        let shared = prepared.shared(files);
        let shares_graph = shared.has_selection();
        let what = if shares_graph {
            "prepare REF (the working tree's policies, discovery, graph and selection), meanwhile"
        } else {
            "prepare REF (the working tree's policies; discover, graph, select), meanwhile"
        };
        // The working tree's repository-scope results, for REF's (the same input when the
        // graph is shared): made beside the working tree's first roots, long before REF starts.
        let repo = super::check::RepoHandoff::default();
        let whole_repo = opts.shard.is_none_or(|(i, _)| i == 1);
        let (after, (at_ref, prepare_time)) = std::thread::scope(|scope| {
            let (done_tx, done_rx) = std::sync::mpsc::channel::<super::handover::Rendering>();
            let (opts, repo) = (&opts, &repo);
            let at_ref = scope.spawn(move || {
                let clock = std::time::Instant::now();
                let mut prepared =
                    super::check::prepare_from(opts, files, false, Some(shared), None);
                let prepare_time = clock.elapsed();
                let define = |counts| {
                    let failed = prepared.as_mut().ok().and_then(|p| p.define(counts).err());
                    if let Some(e) = failed {
                        prepared = Err(e);
                    }
                };
                // Closed without a message: the working tree's check ended without handing
                // its memo over (it failed, or had nothing to render).
                let done = match handed_over(&done_rx, define) {
                    Some(done) if done.helm_runs == 0 => done,
                    _ => return (RefCheck::Prepared(Box::new(prepared)), prepare_time),
                };
                let theirs = whole_repo.then(|| repo.wait()).flatten();
                let clock = std::time::Instant::now();
                let keeping = Keeping {
                    files,
                    reuse: Some(&done.memo),
                    repo: theirs.as_ref(),
                    sources: Some(&done.sources),
                    results: Some(results),
                    store: done.store.as_ref(),
                    plan: Some(&done.plan),
                    root_checks: Some(root_checks),
                    ..KEEP
                };
                let before = prepared.and_then(|p| Side::finish(p, &keeping));
                (
                    RefCheck::Done(Box::new(before), clock.elapsed()),
                    prepare_time,
                )
            });
            let hand_over = move |rendering: super::handover::Rendering| {
                let _ = done_tx.send(rendering);
            };
            // One worker asked for (`-j 1`): REF's side after the working tree's, not beside.
            let one_worker = self.opts.jobs == Some(1);
            let keeping = Keeping {
                results: Some(results),
                ref_next: true,
                on_rendered: (!one_worker).then_some(&hand_over as _),
                repo_out: Some(repo),
                root_checks: Some(root_checks),
                ..KEEP
            };
            // However the check ends (a panic included), REF's side waits no longer.
            let ended = EndsHandoff(repo, root_checks);
            let after = Side::finish(prepared, &keeping).map(|a| (a, clock.elapsed()));
            drop(ended);
            // Closes the channel, should the memo not have been handed over.
            drop(hand_over);
            (after, joined(at_ref))
        });
        let (after, after_time) = after?;
        timings.push((
            "check (and render) the working tree, after its first phase".into(),
            after_time,
        ));
        after.phases(timings);
        timings.push((what.into(), prepare_time));
        Ok((after, at_ref, shares_graph))
    }

    /// Both checks at once, REF's in an export of its tree.
    /// `prepared`: the working tree's first phase.
    fn exported(
        &self,
        prepared: Prepared,
        why: &str,
        timings: &mut Timings,
    ) -> Result<Sides, CheckError> {
        // The two sides run at once, so each check gets half the cores: a pool of one thread
        // per core for each would put twice as many threads as cores to work (on 2 cores
        // that cost ~25% more CPU and wall time on the 200-app benchmark).
        let half = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
        // The working tree's check does not wait for REF's export.
        let (after, at_ref) = std::thread::scope(|scope| {
            let at_ref = scope.spawn(|| {
                let mut timings = Vec::new();
                self.export_and_check(Some(half), why, &mut timings)
                    .map(|side| (side, timings))
            });
            let clock = std::time::Instant::now();
            let prepared = prepared.with_jobs(self.opts.jobs.or(Some(half)));
            let after = Side::finish(prepared, &KEEP).map(|s| (s, clock.elapsed()));
            let at_ref = joined(at_ref);
            (after, at_ref)
        });
        let (after, after_time) = after?;
        let ((before, tree), ref_timings) = at_ref?;
        timings.extend(ref_timings);
        timings.push((
            "check (and render) the working tree, meanwhile".into(),
            after_time,
        ));
        Ok((before, after, Some(tree)))
    }

    /// REF's tree exported and checked (with `jobs` workers unless the options say); `why`
    /// is said in the timings.
    fn export_and_check(
        &self,
        jobs: Option<usize>,
        why: &str,
        timings: &mut Timings,
    ) -> Result<(Option<Side>, TempTree), CheckError> {
        let clock = std::time::Instant::now();
        let tree = export_tree(self.top, self.reference)?;
        timings.push((
            format!("export REF (git archive | tar -x): {why}"),
            clock.elapsed(),
        ));
        let clock = std::time::Instant::now();
        let ref_opts = options_at_ref(self.opts, self.paths, self.top, &tree.0);
        let ref_opts = CheckOptions {
            jobs: ref_opts.jobs.or(jobs),
            ..ref_opts
        };
        let mut before = (!ref_opts.paths.is_empty())
            .then(|| Side::check(&ref_opts, self.changed, &KEEP))
            .transpose()?;
        if let Some(side) = &mut before {
            side.rebase_messages(&tree.0, self.top);
        }
        timings.push((
            "check (and render) REF, after its export".into(),
            clock.elapsed(),
        ));
        Ok((before, tree))
    }
}

/// How root `id` differs; `None` when it renders the same on both sides.
fn root_diff(id: &str, before: Option<&Side>, after: &Side) -> Option<RootDiff> {
    fn render<'s>(side: Option<&'s Side>, id: &str) -> Result<Cow<'s, [Resource]>, String> {
        match side {
            Some(s) if s.is_root(id) => s.render(id),
            _ => Ok(Cow::Borrowed(&[])),
        }
    }
    // REF's side took the root's check from the working tree's: it renders the same.
    if before.is_some_and(|b| b.taken.contains(id)) {
        return None;
    }
    let (b, a) = (render(before, id), render(Some(after), id));
    let errors = SideErrors {
        before: b.as_ref().err().cloned(),
        after: a.as_ref().err().cloned(),
    };
    let objects = match (&b, &a) {
        (Ok(b), Ok(a)) => super::object_diff::compare_renders(b, a),
        _ => Vec::new(),
    };
    // An unchanged failure at both sides is not news of this change.
    if objects.is_empty() && (errors.is_empty() || errors.before == errors.after) {
        return None;
    }
    let node = after
        .graph
        .node(id)
        .or_else(|| before.and_then(|s| s.graph.node(id)));
    Some(RootDiff {
        root: id.to_owned(),
        environment: node.and_then(|n| n.environment.clone()),
        cluster: node.and_then(|n| n.cluster.clone()),
        objects,
        errors,
    })
}

/// The findings of both checks (each limited to what the change can affect, objects
/// included) compared by fingerprint. A finding on an object the change cannot affect is
/// the same on both sides, so leaving it out of both checks changes neither list.
fn findings_diff(before: Vec<Finding>, after: Vec<Finding>) -> FindingsDiff {
    // Each fingerprint (a hash) computed once.
    let printed = |fs: Vec<Finding>| -> Vec<(String, Finding)> {
        fs.into_iter().map(|f| (f.fingerprint(), f)).collect()
    };
    let (before, after) = (printed(before), printed(after));
    let set = |fs: &[(String, Finding)]| -> HashSet<String> {
        fs.iter().map(|(p, _)| p.clone()).collect()
    };
    let (had, has) = (set(&before), set(&after));
    let only = |fs: Vec<(String, Finding)>, other: &HashSet<String>| -> Vec<Finding> {
        let mut seen = HashSet::new();
        fs.into_iter()
            .filter(|(fp, _)| !other.contains(fp) && seen.insert(fp.clone()))
            .map(|(_, f)| f)
            .collect()
    };
    FindingsDiff {
        added: only(after, &had),
        resolved: only(before, &has),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::handover::{Rendering, RendersDone};

    fn done() -> Rendering {
        let root = std::path::Path::new("/");
        Rendering::Done(RendersDone {
            plan: Default::default(),
            memo: crate::render::Renderer::new(root).memo(),
            helm_runs: 0,
            sources: std::sync::Arc::new(crate::source::FileTable::new(root, 1 << 20)),
            store: None,
        })
    }

    #[test]
    fn the_memo_is_waited_for_until_handed_over_or_the_check_ends() {
        // Handed over while REF's thread waits yielding, after the last render began.
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(Rendering::OneLeft(None)).expect("send");
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(5));
            tx.send(done()).expect("send");
        });
        let mut told = false;
        assert!(handed_over(&rx, |_| told = true).is_some());
        assert!(told, "told when one render is left");
        sender.join().expect("sender");
        // Handed over at once (a single root), or never: the check ended without.
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(done()).expect("send");
        assert!(handed_over(&rx, |_| panic!("no render was left alone")).is_some());
        for one_left in [false, true] {
            let (tx, rx) = std::sync::mpsc::channel();
            if one_left {
                tx.send(Rendering::OneLeft(None)).expect("send");
            }
            drop(tx);
            assert!(handed_over(&rx, |_| ()).is_none());
        }
    }
}
