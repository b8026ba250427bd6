//! `kgate check`: the whole pipeline as a library call. Settings are resolved once, then the
//! stages run in order: discover -> select -> render and evaluate roots and files ->
//! repository findings -> gate.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::model::rules::{self, RuleInfo};
use crate::model::{CheckResult, Summary};
use crate::policy::PolicySet;
use crate::policy::context::ContextSettings;
use crate::validate::Validators;

use super::objects::ObjectChecks;
use super::schedule::joined;
use super::settings::Settings;
pub use super::settings::{CheckError, CheckOptions, Progress};
use super::{handover, objects, repo, roots, select};

/// Every rule of this check: the engine's, the policies' and the Gatekeeper templates', with
/// which are disabled or not run.
struct Registry {
    all: Vec<RuleInfo>,
    by_id: BTreeMap<String, RuleInfo>,
    disabled: Vec<String>,
    /// Disabled rules and rules that check nothing without parameters none are set for (a
    /// rule for every kind would otherwise cost an evaluation of every object).
    not_run: Vec<String>,
}

impl Registry {
    fn new(config: &Config, policies: &PolicySet) -> Result<Registry, CheckError> {
        let mut all = rules::engine_rules();
        all.extend(policies.rules().iter().map(|r| r.info.clone()));
        all.extend(policies.gatekeeper_rules());
        repo::validate_rule_ids(config, &all)?;
        let disabled: Vec<String> = config
            .rules
            .disable
            .iter()
            .map(|d| d.value.clone())
            .collect();
        let needs_params = policies
            .rules()
            .iter()
            .filter(|r| r.info.needs_params && !config.rules.params.contains_key(&r.info.id))
            .map(|r| r.info.id.clone());
        let not_run = disabled.iter().cloned().chain(needs_params).collect();
        let by_id = all.iter().map(|r| (r.id.clone(), r.clone())).collect();
        Ok(Registry {
            all,
            by_id,
            disabled,
            not_run,
        })
    }

    /// The enabled rules with their effective severities, sorted by id (what reports list).
    fn enabled(self, config: &Config) -> Vec<RuleInfo> {
        let mut enabled: Vec<RuleInfo> = self
            .all
            .into_iter()
            .filter(|r| !self.disabled.contains(&r.id))
            .map(|mut r| {
                if let Some(s) = config.rules.severity.get(&r.id) {
                    r.severity = s.value;
                }
                r
            })
            .collect();
        enabled.sort_by(|a, b| a.id.cmp(&b.id));
        enabled
    }
}

/// Runs the whole pipeline.
pub fn check(opts: &CheckOptions) -> Result<CheckResult, CheckError> {
    check_keeping(opts, None).map(|(result, kept)| {
        roots::drop_aside(kept);
        result
    })
}

/// What a check rendered, for `kgate diff --since`: the rendered objects of the kustomization
/// roots the change can affect (kept only when asked: they are the whole rendered output),
/// and the repository graph they were selected with.
pub struct Kept {
    pub rendered: roots::Rendered,
    pub graph: crate::discover::graph::RepoGraph,
    /// The renderer's memo, for a check of the same paths at another revision.
    pub memo: Option<crate::render::Memo>,
    /// How many times Helm ran (Helm reads its files from disk, not from the file table).
    pub helm_runs: usize,
    /// The check's file table.
    pub sources: std::sync::Arc<crate::source::FileTable>,
    /// The repository-scope rules' input and results (none in a shard other than the first).
    pub repo: Option<RepoResults>,
    /// Every file discovery's walk listed (kept only when asked), before the selection.
    pub walked: Vec<std::path::PathBuf>,
    /// How many object and root evaluations results by content spared it.
    pub results_reused: (usize, usize),
    /// The render cache it used (its files' states are known).
    pub store: Option<std::sync::Arc<crate::render::RenderStore>>,
    /// The roots whose check it took from the other check's: they render as there.
    pub taken: std::collections::BTreeSet<String>,
}

/// What `kgate diff --since REF` asks of a check besides keeping its renders: for REF's
/// side, checked in the working tree's paths, the files whose content differs at REF
/// (absolute paths, REF's content; every one exists on both sides) and the working tree's
/// render memo, whose builds that read none of them are reused.
pub struct Keeping<'a> {
    pub files: RefFiles<'a>,
    pub reuse: Option<&'a crate::render::Memo>,
    /// The working tree's repository-scope results, reused when REF's input is the same.
    pub repo: Option<&'a RepoResults>,
    /// The working tree's file table: what it read is not read again (`contents` override it).
    pub sources: Option<&'a std::sync::Arc<crate::source::FileTable>>,
    /// Policy results by content shared with the other side's check: objects and roots
    /// equal on both sides are evaluated once.
    pub results: Option<&'a roots::SharedResults>,
    /// The working tree's render cache: the states it took of files REF has the same are
    /// not taken again.
    pub store: Option<&'a std::sync::Arc<crate::render::RenderStore>>,
    /// Whether REF's side is checked next from this check's memo (the working tree's side
    /// checked in place): its render keeps the builds REF will ask for.
    pub ref_next: bool,
    /// Called when every root of this check is rendered, with its memo
    /// (`roots::RootSettings::on_rendered`).
    pub on_rendered: Option<&'a (dyn Fn(handover::Rendering) + Sync)>,
    /// Where this check's repository-scope results go as soon as they are made (for REF's
    /// side, which starts before this check ends).
    pub repo_out: Option<&'a RepoHandoff>,
    /// The other check's plan of its roots (`handover::RendersDone::plan`), taken when this
    /// check shares its discovery, graph and selection.
    pub plan: Option<&'a handover::RootsPlan>,
    /// The working tree's checks of its roots that are no base (`roots/taken.rs`): given
    /// with `ref_next`; taken, by REF's side sharing the working tree's graph, for the roots
    /// that render the same. Taken ones are waited for after the roots' checks, on the
    /// calling thread, which must be no worker of the pool.
    pub root_checks: Option<&'a handover::RootChecks>,
}

/// A check's repository-scope results, handed to another check that runs beside it: given
/// once made ([`RepoHandoff::publish`]), or never ([`RepoHandoff::end`], when the check is
/// over, with or without them).
#[derive(Default)]
pub struct RepoHandoff {
    slot: std::sync::Mutex<(Option<RepoResults>, bool)>,
    ready: std::sync::Condvar,
}

impl RepoHandoff {
    pub fn publish(&self, results: &RepoResults) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.0 = Some(results.clone());
        }
        self.ready.notify_all();
    }

    /// No results will come (after those given, if any).
    pub fn end(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.1 = true;
        }
        self.ready.notify_all();
    }

    /// The results, once given; `None` when the check ended without them.
    pub fn wait(&self) -> Option<RepoResults> {
        let mut slot = self.slot.lock().ok()?;
        while slot.0.is_none() && !slot.1 {
            slot = self.ready.wait(slot).ok()?;
        }
        slot.0.take()
    }
}

/// How another revision's tree differs from the working tree's, for a check of that
/// revision in the working tree's paths (`kgate diff --since`'s REF side).
#[derive(Debug, Clone, Copy, Default)]
pub struct RefFiles<'a> {
    /// Files whose content differs (absolute paths, the revision's content).
    pub contents: &'a [(std::path::PathBuf, std::sync::Arc<[u8]>)],
    /// Paths on disk that are not in the revision's tree (absolute; a directory stands for
    /// everything under it): the file table hides them (see `FileTable::hiding`).
    pub hidden: &'a [std::path::PathBuf],
    /// Files the revision has and the disk has not (absolute; their contents are among
    /// `contents`): the file table holds them (see `FileTable::with_present`).
    pub present: &'a [std::path::PathBuf],
}

/// The repository-scope rules' results, with the key of what they were computed from.
#[derive(Clone)]
pub struct RepoResults {
    /// What the results were computed from ([`repo::repo_results_key`]).
    pub key: [u8; 32],
    pub results: Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>>,
}

/// A check's first phase, which needs nothing of another check: the settings, the
/// policies, discovery, the graph and the selection (`kgate diff --since` prepares REF's
/// side while the working tree's check runs).
pub struct Prepared {
    opts: CheckOptions,
    s: Settings,
    policies: PolicySet,
    /// Whether the repository has policies of its own.
    user_sources: bool,
    version: crate::validate::KubeVersion,
    strict: bool,
    discovery: crate::discover::Discovery,
    graph: crate::discover::graph::RepoGraph,
    walked: Vec<std::path::PathBuf>,
    entries: Vec<crate::render::entry::EntryRender>,
    affected: Option<crate::model::Affected>,
    /// The files `contents` gave other contents than the disk's.
    differing: std::collections::BTreeSet<std::path::PathBuf>,
    /// Whether discovery, the graph and the selection are another check's (`Shared`): the
    /// repository rules' input is then that check's too.
    graph_shared: bool,
    /// The render cache, opened to load the policies (none for another check's policies).
    store: Option<std::sync::Arc<crate::render::RenderStore>>,
    /// The worker threads it walked with, for the jobs it was asked for then: its roots are
    /// rendered on them too, unless [`Prepared::with_jobs`] asked for another number.
    pool: Pool,
    /// Its definitions, when made ahead ([`Prepared::define`]).
    defined: Option<Definitions>,
    timings: Vec<(&'static str, std::time::Duration)>,
}

/// A thread pool and the `--jobs` it was made for (`None`: one worker per core).
#[derive(Clone)]
struct Pool {
    jobs: Option<usize>,
    threads: std::sync::Arc<rayon::ThreadPool>,
}

impl Pool {
    /// `jobs` worker threads (`None`: one per core).
    fn new(jobs: Option<usize>) -> Result<Pool, CheckError> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.unwrap_or(0))
            .build()
            .map_err(|e| CheckError::Threads(e.to_string()))?;
        Ok(Pool {
            jobs,
            threads: std::sync::Arc::new(threads),
        })
    }

    /// This pool when it was made for `jobs`, else a new one. A pool for the walk, another
    /// for the renders and a third for REF's side of `kgate diff --since` had up to six
    /// workers on two cores, each new one with an empty allocator heap (a diff's context
    /// switches: 374 -> 247, median of 41 runs; its wall time within the machine's noise).
    fn for_jobs(&self, jobs: Option<usize>) -> Result<Pool, CheckError> {
        match self.jobs == jobs {
            true => Ok(self.clone()),
            false => Pool::new(jobs),
        }
    }
}

/// What a check makes of the repository before rendering it: its thread pool (the one it
/// was prepared on, for the same jobs), the CRDs and Gatekeeper templates (with the
/// templates' problems), the rules and the validators. REF's side of `kgate diff --since`
/// makes them while it waits for the working tree's memo ([`Prepared::define`]): after the
/// hand-over they were 1-7 ms of its serial path (a fresh pool's threads started, traced);
/// any other check makes them in [`check_prepared`].
struct Definitions {
    pool: std::sync::Arc<rayon::ThreadPool>,
    crds: Vec<serde_json::Value>,
    gatekeeper_problems: Vec<crate::policy::gatekeeper::LoadProblem>,
    registry: Registry,
    validators: Validators,
    /// How often its render will ask for each build, counted for a check that reuses
    /// another's memo (`build_uses::expected_builds`).
    expected: Option<crate::source::PathMap<usize>>,
    took: std::time::Duration,
}

impl Prepared {
    /// Makes its definitions now rather than when it is checked, with the counts of the
    /// builds its render will ask for, as a check that reuses another's memo counts them.
    /// `counts`: the builds its render asks for, as another check of the same discovery,
    /// graph and selection counted them (used only when this check shares those).
    pub fn define(
        &mut self,
        counts: Option<crate::source::PathMap<usize>>,
    ) -> Result<(), CheckError> {
        if self.defined.is_none() {
            let mut defined = definitions(self)?;
            let counts = counts.filter(|_| self.graph_shared).unwrap_or_else(|| {
                let (k, c) = (&self.discovery.kustomizations, &self.discovery.components);
                let dirs = roots::root_dirs(k, c);
                super::build_uses::expected_builds(&self.graph, &self.s.root, &dirs, &self.entries)
            });
            defined.expected = Some(counts);
            self.defined = Some(defined);
        }
        Ok(())
    }
}

/// [`Definitions`] of `p`, its policies given the Gatekeeper templates.
fn definitions(p: &mut Prepared) -> Result<Definitions, CheckError> {
    let clock = std::time::Instant::now();
    let pool = p.pool.for_jobs(p.opts.jobs)?.threads;
    let s = &p.s;
    let (mut crds, gatekeeper) = pool
        .install(|| repo::repo_definitions(&p.discovery, &s.schema_dirs(), &s.sources, &s.root));
    crds.extend(crate::policy::gatekeeper::constraint_crds(&gatekeeper));
    let (gatekeeper, gatekeeper_problems) =
        crate::policy::gatekeeper::Gatekeeper::load(&gatekeeper);
    p.policies.set_gatekeeper(gatekeeper);
    let registry = Registry::new(&s.config, &p.policies)?;
    let took = clock.elapsed();
    let validators = Validators::new(p.version, p.strict, s.kube_versions_by_name()?, &crds);
    Ok(Definitions {
        pool,
        crds,
        gatekeeper_problems,
        registry,
        validators,
        expected: None,
        took,
    })
}

/// The first phase of the check of `opts`, with `files` read instead of the disk's (see
/// [`RefFiles`]); `keep`: the files discovery's walk listed are kept (for [`Kept::walked`]).
pub fn prepare(
    opts: &CheckOptions,
    files: RefFiles<'_>,
    keep: bool,
) -> Result<Prepared, CheckError> {
    prepare_from(opts, files, keep, None, None)
}

/// Where a check's changed files come from when its caller asks git itself (`kgate diff
/// --since` asks once for both sides): called beside the walk, as `--changed-since`'s own
/// question to git is.
pub type ChangedFiles<'a> = Box<
    dyn FnOnce() -> Result<std::collections::BTreeSet<String>, super::changes::ChangesError>
        + Send
        + 'a,
>;

/// [`prepare`], the changed files given by `changed` (instead of `opts`) once the walk
/// needs them.
pub fn prepare_changed(
    opts: &CheckOptions,
    files: RefFiles<'_>,
    keep: bool,
    changed: ChangedFiles<'_>,
) -> Result<Prepared, CheckError> {
    prepare_from(opts, files, keep, None, Some(changed))
}

/// What a check of another revision in the same paths takes from a prepared check instead
/// of making it again (see [`Prepared::shared`]).
pub struct Shared {
    policies: PolicySet,
    /// Its file table: what it read is not read again.
    sources: std::sync::Arc<crate::source::FileTable>,
    user_sources: bool,
    /// Discovery (narrowed), the graph, the files the walk listed, the entry points and the
    /// selection, when the other revision's files cannot change them.
    selection: Option<Selection>,
    /// Its worker threads: a check beside it works on them rather than on threads of its own.
    pool: Pool,
}

struct Selection {
    discovery: crate::discover::Discovery,
    graph: crate::discover::graph::RepoGraph,
    walked: Vec<std::path::PathBuf>,
    entries: Vec<crate::render::entry::EntryRender>,
    affected: Option<crate::model::Affected>,
}

impl Shared {
    /// Whether it holds the discovery, graph and selection too.
    pub fn has_selection(&self) -> bool {
        self.selection.is_some()
    }
}

impl Prepared {
    /// The worker threads it was prepared on (its check's too, unless
    /// [`Prepared::with_jobs`] asked for another number).
    pub fn threads(&self) -> std::sync::Arc<rayon::ThreadPool> {
        self.pool.threads.clone()
    }

    /// The rest of its check on `jobs` worker threads (`None`: every core).
    pub fn with_jobs(mut self, jobs: Option<usize>) -> Prepared {
        self.opts.jobs = jobs;
        self
    }

    /// What the check of another revision whose files differ from these by `files` can take
    /// from this one: its policies (the caller vouches that the configuration and the
    /// policies are the same at both), and its discovery, graph and selection when `files`
    /// cannot change them: no hidden path the walk listed, no removed file, no kustomization or chart file
    /// among the differing ones, no entry point on either side (an edited file could hold
    /// one, or a variable source of one). Needs the walked files ([`prepare`]'s `keep`).
    pub fn shared(&self, files: RefFiles<'_>) -> Shared {
        let listed_hidden = files
            .hidden
            .iter()
            .any(|h| self.walked.iter().any(|w| w.starts_with(h)));
        let discovered = |p: &std::path::Path| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            crate::discover::KUSTOMIZATION_FILE_NAMES.contains(&name) || name == "Chart.yaml"
        };
        let gitops = |b: &[u8]| {
            let has = |w: &[u8]| b.windows(w.len()).any(|x| x == w);
            has(b"argoproj.io") || has(b"toolkit.fluxcd.io")
        };
        let same = !listed_hidden
            && files.present.is_empty()
            && self.graph.gitops_documents.is_empty()
            && !files
                .contents
                .iter()
                .any(|(p, b)| discovered(p) || gitops(b));
        Shared {
            policies: self.policies.fresh_copy(),
            sources: self.s.sources.clone(),
            user_sources: self.user_sources,
            pool: self.pool.clone(),
            selection: same.then(|| Selection {
                discovery: self.discovery.clone(),
                graph: self.graph.clone(),
                walked: self.walked.clone(),
                entries: self.entries.clone(),
                affected: self.affected.clone(),
            }),
        }
    }
}

/// [`prepare`], taking what `shared` holds from another check instead of making it.
pub fn prepare_from(
    opts: &CheckOptions,
    files: RefFiles<'_>,
    keep: bool,
    shared: Option<Shared>,
    changed: Option<ChangedFiles<'_>>,
) -> Result<Prepared, CheckError> {
    let clock = std::time::Instant::now();
    let mut s = Settings::resolve(opts)?;
    if !files.hidden.is_empty() || !files.present.is_empty() {
        let table = crate::source::FileTable::new(&s.root, s.config.limits.max_file_size)
            .hiding(files.hidden.iter().cloned())
            .with_present(files.present.iter().cloned());
        s.sources = std::sync::Arc::new(table);
    }
    for (path, bytes) in files.contents {
        s.sources.preload(path, bytes.clone());
    }
    // The other check's reads, except what `files` preloaded or hides.
    if let Some(shared) = &shared {
        s.sources.seed_from(&shared.sources);
    }
    // A removed file's directories too: a build that found one missing depends on it.
    let differing = files
        .contents
        .iter()
        .map(|(p, _)| s.sources.path(p))
        .chain(files.hidden.iter().cloned())
        .chain(s.sources.present_dirs())
        .collect();
    // A bad flag is reported before the repository is walked.
    let version = s.kube_version(opts.kube_version.as_deref())?;
    if shared.is_none() {
        // A bad setting is reported where the validators are made.
        let by_name = s.kube_versions_by_name().unwrap_or_default();
        crate::validate::load_schemas_beside(
            std::iter::once(version).chain(by_name.into_iter().map(|(_, v)| v)),
        );
    }
    let pool = match &shared {
        Some(shared) => shared.pool.for_jobs(opts.jobs)?,
        None => Pool::new(opts.jobs)?,
    };
    let graph_shared = shared.as_ref().is_some_and(Shared::has_selection);
    let mut store = None;
    let mut parts = Vec::new();
    let (policies, user_sources, selection) = match shared {
        Some(Shared {
            policies,
            user_sources,
            selection: Some(selection),
            ..
        }) => (policies, user_sources, selection),
        Some(Shared {
            policies,
            user_sources,
            selection: None,
            ..
        }) => {
            let (_, selection, took) = walk_beside(
                opts,
                &s,
                &pool.threads,
                (user_sources, keep),
                None,
                changed,
                || (),
            );
            parts = took;
            (policies, user_sources, selection?)
        }
        None => {
            let config = &s.config;
            let user = crate::policy::user::UserPolicies::load(&s.user_policies(), &s.root)?;
            let user_sources = !user.sources.is_empty();
            store = open_store(opts, &s);
            let programs = store.as_deref().map(StoredPrograms);
            let walk_store = store.as_deref();
            let ((policies, load_took), selection, took) = walk_beside(
                opts,
                &s,
                &pool.threads,
                (user_sources, keep),
                walk_store,
                changed,
                || {
                    let cache = programs
                        .as_ref()
                        .map(|p| p as &dyn crate::policy::ProgramCache);
                    PolicySet::load_cached(&crate::policy::builtin_sources(), &user, cache)
                },
            );
            parts = std::iter::once(("  policies, beside the walk", load_took))
                .chain(took)
                .collect();
            let mut policies = policies?;
            policies.set_limits(config.limits.policy_timeout, config.limits.policy_memory);
            (policies, user_sources, selection?)
        }
    };
    let strict = opts.strict || s.config.strict;
    Ok(Prepared {
        opts: opts.clone(),
        s,
        policies,
        user_sources,
        version,
        strict,
        discovery: selection.discovery,
        graph: selection.graph,
        walked: selection.walked,
        entries: selection.entries,
        affected: selection.affected,
        differing,
        graph_shared,
        store,
        pool,
        defined: None,
        timings: std::iter::once(("load policies, discover, graph, select", clock.elapsed()))
            .chain(parts)
            .collect(),
    })
}

/// The render cache of `opts` (none without a cache directory, or when it cannot be opened).
fn open_store(
    opts: &CheckOptions,
    s: &Settings,
) -> Option<std::sync::Arc<crate::render::RenderStore>> {
    (opts.cache_dir.as_ref())
        .and_then(|dir| crate::render::RenderStore::open(dir, &s.repo_root).ok())
        .map(std::sync::Arc::new)
}

/// The policies' compiled programs in the render cache, as one named value.
struct StoredPrograms<'a>(&'a crate::render::RenderStore);

impl crate::policy::ProgramCache for StoredPrograms<'_> {
    fn get(&self, key: &[u8; 32]) -> Option<Vec<u8>> {
        self.0.get("policy-programs", key)
    }

    fn put(&self, key: &[u8; 32], bytes: &[u8]) {
        self.0.put("policy-programs", key, bytes);
    }
}

/// A value and how long making it took (for `--timings`).
type Took<T> = (T, std::time::Duration);

/// Discovery, the graph, the entry points and the selection of `opts` (on `pool`), with
/// `load` (compiling the policies) and git's answer to `--changed-since` beside them: they
/// wait on nothing the walk does (together about a third of a `--changed-since` run's start).
/// Also how long `load` and each other part took (`--timings`: they overlap, so they add
/// up to more than the phase).
fn walk_beside<T: Send>(
    opts: &CheckOptions,
    s: &Settings,
    pool: &rayon::ThreadPool,
    (user_sources, keep): (bool, bool),
    store: Option<&crate::render::RenderStore>,
    changed: Option<ChangedFiles<'_>>,
    load: impl FnOnce() -> T + Send,
) -> (
    Took<T>,
    Result<Selection, CheckError>,
    Vec<Took<&'static str>>,
) {
    fn timed<R>(f: impl FnOnce() -> R) -> (R, std::time::Duration) {
        let clock = std::time::Instant::now();
        let r = f();
        (r, clock.elapsed())
    }
    std::thread::scope(|scope| {
        let loaded = scope.spawn(|| timed(load));
        let since = scope.spawn(|| {
            timed(|| match changed {
                Some(changed) => Some(changed()),
                None => select::changed_since(opts, s),
            })
        });
        let (walked, walk_took) = timed(|| pool.install(|| walk(s, user_sources, keep, store)));
        let loaded = joined(loaded);
        let (since, since_took) = joined(since);
        let mut took = vec![(
            "  walk, kustomization scans, graph, entry points",
            walk_took,
        )];
        if since.is_some() {
            took.push(("  git, for the changed files, beside the walk", since_took));
        }
        let select_clock = std::time::Instant::now();
        let selection = walked.and_then(|(mut discovery, graph, walked, entries)| {
            let (affected, entries) =
                select::select(opts, s, &graph, &mut discovery, entries, since)?;
            Ok(Selection {
                discovery,
                graph,
                walked,
                entries,
                affected,
            })
        });
        took.push(("  select", select_clock.elapsed()));
        (loaded, selection, took)
    })
}

/// Where the render cache keeps the files' hashes by their stat (`source::Digests`).
const DIGESTS: &str = "file-digests";

fn digests_key() -> [u8; 32] {
    crate::source::hash_parts([DIGESTS.as_bytes()])
}

/// The repository's discovery (with the kustomization scans `store` kept), its graph, the
/// walked files (with `keep`) and the entry points' renders.
fn walk(
    s: &Settings,
    user_sources: bool,
    keep: bool,
    store: Option<&crate::render::RenderStore>,
) -> Result<
    (
        crate::discover::Discovery,
        crate::discover::graph::RepoGraph,
        Vec<std::path::PathBuf>,
        Vec<crate::render::entry::EntryRender>,
    ),
    CheckError,
> {
    const SCANS: &str = "kustomization-scans";
    let scans_key = crate::source::hash_parts([SCANS.as_bytes()]);
    if let Some(st) = store {
        let bytes = st.get(DIGESTS, &digests_key()).unwrap_or_default();
        (s.sources).with_digests(std::sync::Arc::new(crate::source::Digests::from_bytes(
            &bytes,
        )));
    }
    let scanned = store.map(|st| {
        crate::discover::Scanned::from_bytes(&st.get(SCANS, &scans_key).unwrap_or_default())
    });
    let discovery = s.discover_with(&s.excludes(user_sources), scanned.as_ref())?;
    if let (Some(st), Some(bytes)) = (store, scanned.and_then(|s| s.to_bytes())) {
        st.put(SCANS, &scans_key, &bytes);
    }
    let graph = s.graph(&discovery);
    let walked = if keep {
        walked_files(&discovery)
    } else {
        Vec::new()
    };
    // Before --changed-since narrows the files: entry points and the ConfigMaps their
    // variables come from are read from the whole repository.
    let entries = crate::render::entry::entry_renders(
        &s.root,
        &s.sources,
        &discovery.variable_sources(),
        &graph.gitops_documents,
    );
    Ok((discovery, graph, walked, entries))
}

/// The pipeline, handing back with `keep` the rendered objects of the affected roots
/// (`opts.changed_files` or `changed_since` set), so a caller comparing renders does not
/// render them again.
pub fn check_keeping(
    opts: &CheckOptions,
    keeping: Option<&Keeping<'_>>,
) -> Result<(CheckResult, Kept), CheckError> {
    let files = keeping.map_or(RefFiles::default(), |k| k.files);
    check_prepared(prepare(opts, files, keeping.is_some())?, keeping)
}

/// The rest of the pipeline after [`prepare`] (whose `contents` `keeping` repeats).
pub fn check_prepared(
    prepared: Prepared,
    keeping: Option<&Keeping<'_>>,
) -> Result<(CheckResult, Kept), CheckError> {
    let mut prepared = prepared;
    let defined = match prepared.defined.take() {
        Some(defined) => defined,
        None => definitions(&mut prepared)?,
    };
    let Prepared {
        opts,
        s,
        policies,
        user_sources: _,
        version,
        strict: _,
        discovery,
        graph,
        walked,
        entries,
        affected,
        differing,
        graph_shared,
        store,
        pool: _,
        defined: _,
        mut timings,
    } = prepared;
    let Definitions {
        pool,
        crds,
        gatekeeper_problems,
        registry,
        validators,
        expected,
        took,
    } = defined;
    timings.push(("CRDs and Gatekeeper templates", took));
    let mut differing = differing;
    let opts = &opts;
    let config = &s.config;
    // What another check read is not read again; `contents` were preloaded and stay.
    if let Some(base) = keeping.and_then(|k| k.sources) {
        s.sources.seed_from(base);
        // Its builds that read a file under a hidden directory are not reused either.
        if s.sources.hides_any() {
            differing.extend(base.paths().into_iter().filter(|p| s.sources.is_hidden(p)));
        }
    }
    let mut clock = std::time::Instant::now();
    let mut lap = |what: &'static str, timings: &mut Vec<_>| {
        timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let reuse = keeping.and_then(|k| k.reuse).map(|memo| (memo, &differing));
    // The render cache across runs (none for an exported tree: `cache_dir` is unset there).
    // REF's side checked in place opens its own: its file table serves REF's contents, so its
    // entries are checked against REF's files. One that cannot be opened leaves it uncached.
    let store = store.or_else(|| open_store(opts, &s));
    // The working tree's states of the files REF has the same (its file table serves them).
    if let (Some(store), Some(theirs)) = (&store, keeping.and_then(|k| k.store)) {
        store.seed_states(theirs, differing.iter().cloned().collect());
    }
    // The affected roots and the selected entry points (checked as roots of their own).
    let keep: Option<std::collections::BTreeSet<String>> =
        affected.as_ref().filter(|_| keeping.is_some()).map(|a| {
            (a.roots.iter().cloned())
                .chain(entries.iter().map(|e| e.id.clone()))
                .collect()
        });
    // Findings about the repository as a whole are reported once, by the first shard.
    let whole_repo = opts.shard.is_none_or(|(i, _)| i == 1);

    let context = ContextSettings::from_config(config);
    let plan = match keeping.and_then(|k| k.plan).filter(|_| graph_shared) {
        Some(theirs) => theirs.clone(),
        None => handover::RootsPlan {
            bases: std::sync::Arc::new(graph.bases()),
            scope: (affected.as_ref())
                .filter(|a| a.everything.is_none())
                .map(|a| {
                    let reached = a.changed.iter().chain(&a.seen_at_links).cloned().collect();
                    super::object_scope::ObjectScope::new(&graph, &reached).known()
                }),
            order: Default::default(),
        },
    };
    let scope = (plan.scope.clone()).map(|k| super::object_scope::ObjectScope::sharing(&graph, k));
    let checks = ObjectChecks {
        rules: &registry.by_id,
        disabled: &registry.not_run,
        sources: &s.sources,
    };

    // The repository rules need only the graph: they run beside the roots, on the pool's
    // other thread while it has no root to take (they were a serial tenth of a check).
    let repo_scope = || {
        let results = whole_repo.then(|| {
            // The same graph and configuration: the same input (REF checked in place).
            let theirs = keeping.and_then(|k| k.repo);
            if let Some(same) = theirs.filter(|_| graph_shared) {
                return same.clone();
            }
            let key =
                repo::repo_results_key(&policies, &graph, config, &context, &registry.not_run);
            let results = match theirs.filter(|r| r.key == key) {
                Some(same) => same.results.clone(),
                None => repo::stored_repo_results(
                    store.as_deref(),
                    &policies,
                    &key,
                    || repo::repo_scope_input(&graph, config, &context),
                    &context,
                    &registry.not_run,
                ),
            };
            RepoResults { key, results }
        });
        if let (Some(r), Some(to)) = (&results, keeping.and_then(|k| k.repo_out)) {
            to.publish(r);
        }
        results
    };
    // REF's side takes the working tree's checks only with its graph, plan and scope, and
    // the same definitions to validate against (its own are made from REF's files).
    let root_checks = keeping
        .filter(|k| k.ref_next || graph_shared)
        .filter(|k| {
            k.ref_next
                || k.sources.is_some_and(|theirs| {
                    let dirs = s.schema_dirs();
                    !repo::definitions_may_differ(&differing, &s.sources, theirs, &dirs)
                })
        })
        .and_then(|k| k.root_checks);
    let (rendered, repo_scope) = pool.install(|| {
        rayon::join(
            || {
                roots::check_roots(
                    &s.root,
                    &s.repo_root,
                    &discovery.kustomizations,
                    &discovery.components,
                    &policies,
                    &roots::RootSettings {
                        checks: &checks,
                        context: &context,
                        validators: &validators,
                        progress: opts.progress.as_deref(),
                        entries: &entries,
                        plan: &plan,
                        graph: &graph,
                        expected: std::sync::Mutex::new(expected),
                        charts: &discovery.charts,
                        helm: &s.helm(version, &crds),
                        missing_helm: config.helm.missing_severity,
                        scope: scope.as_ref(),
                        keep: keep.as_ref(),
                        reuse,
                        ref_next: keeping.is_some_and(|k| k.ref_next),
                        on_rendered: keeping.and_then(|k| k.on_rendered),
                        results: keeping.and_then(|k| k.results),
                        store: store.clone(),
                        root_checks,
                    },
                )
            },
            repo_scope,
        )
    });
    lap(
        "render and evaluate roots, repository rules beside",
        &mut timings,
    );
    let plain_context = context.for_root(None);
    // Files rendered as part of a root are checked there, with their overlays applied.
    let plain: Vec<_> = discovery
        .manifests
        .iter()
        .filter(|m| !rendered.consumed.contains(&m.abs))
        .cloned()
        .collect();
    let (file_findings, file_objects) = pool.install(|| {
        objects::check_files(
            &plain,
            &policies,
            validators.default_validator(),
            &plain_context,
            &checks,
        )
    });

    lap("plain files", &mut timings);
    let mut rendered = rendered;
    if !rendered.taken.is_empty() {
        let theirs = root_checks.and_then(|c| c.wait_for(&rendered.taken));
        let theirs = theirs.ok_or_else(|| {
            let roots: Vec<&str> = rendered.taken.iter().map(String::as_str).collect();
            CheckError::Handover(roots.join(", "))
        })?;
        let mut findings = std::mem::take(&mut rendered.findings);
        for checked in theirs {
            findings.extend(checked.findings);
            rendered.objects += checked.objects;
            rendered.evaluated += checked.affected;
        }
        // Merged again: the taken findings are seen through roots this check did not render.
        rendered.findings = roots::merge_across_roots(findings);
        lap(
            "the working tree's checks of the roots rendering the same",
            &mut timings,
        );
    }
    let mut affected = affected;
    if let Some(a) = &mut affected {
        a.objects = rendered.objects;
        a.objects_affected = rendered.evaluated;
    }
    let mut findings = repo::discovery_findings(&discovery);
    let mut repo_results = None;
    if whole_repo {
        findings.extend(repo::dangling_findings(&graph, affected.as_ref()));
        findings.extend(repo::gatekeeper_findings(
            gatekeeper_problems,
            affected.as_ref(),
        ));
    }
    if let Some(RepoResults { key, results }) = repo_scope {
        findings.extend(repo::repo_findings(
            results.clone(),
            &registry.by_id,
            affected.as_ref(),
        ));
        repo_results = keeping.map(|_| RepoResults { key, results });
    }
    findings.extend(rendered.findings);
    findings.extend(file_findings);
    lap("repository findings", &mut timings);
    let (findings, suppressed) = crate::gate::apply(findings, &s.root, &s.sources, config);
    lap("gate (suppressions, order)", &mut timings);
    let mut summary = Summary {
        roots: rendered.roots,
        objects: rendered.objects + file_objects,
        ..Summary::default()
    };
    summary.count(&findings);
    let result = CheckResult {
        repo_prefix: s.repo_prefix(),
        root: s.root.clone(),
        findings,
        summary,
        rules: registry.enabled(config),
        affected,
        suppressed,
        sources: s.sources.clone(),
        timings,
        render_cache: store.as_ref().map(|st| st.stats()),
    };
    // What this run learnt of the files' hashes, for the next one.
    if let (Some(st), Some(bytes)) = (
        &store,
        (s.sources.digest_index()).and_then(|d| d.to_bytes()),
    ) {
        st.put(DIGESTS, &digests_key(), &bytes);
    }
    let kept = Kept {
        rendered: rendered.rendered,
        graph,
        memo: rendered.memo,
        helm_runs: rendered.helm_runs,
        sources: s.sources.clone(),
        repo: repo_results,
        walked,
        results_reused: rendered.results_reused,
        store,
        taken: rendered.taken,
    };
    // The policies, schemas and discovery are freed on a thread of their own, as the roots'
    // builds are: the report need not wait for it.
    roots::drop_aside((policies, validators, discovery, entries));
    Ok((result, kept))
}

/// Every file `discovery` listed, whatever it classified it as.
fn walked_files(discovery: &crate::discover::Discovery) -> Vec<std::path::PathBuf> {
    let d = discovery;
    [
        &d.manifests,
        &d.kustomizations,
        &d.charts,
        &d.partials,
        &d.not_deployed,
        &d.components,
    ]
    .into_iter()
    .flatten()
    .map(|f| f.abs.clone())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(key: u8) -> RepoResults {
        RepoResults {
            key: [key; 32],
            results: Vec::new(),
        }
    }

    /// A check prepared beside another (REF's side of `kgate diff --since`) works on that
    /// check's threads, and so do its renders, unless another number of workers is asked
    /// for (the export's halves): then it has threads of its own.
    #[test]
    fn a_check_beside_another_works_on_its_threads_for_the_same_jobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        )
        .expect("write");
        let opts = CheckOptions {
            paths: vec![dir.path().to_owned()],
            jobs: Some(2),
            ..CheckOptions::default()
        };
        let first = prepare(&opts, RefFiles::default(), true).expect("prepared");
        let beside = prepare_from(
            &opts,
            RefFiles::default(),
            false,
            Some(first.shared(RefFiles::default())),
            None,
        )
        .expect("prepared beside");
        let same = |a: &Pool, b: &Pool| std::sync::Arc::ptr_eq(&a.threads, &b.threads);
        assert!(same(&first.pool, &beside.pool));
        assert!(same(
            &first.pool,
            &first.pool.for_jobs(Some(2)).expect("pool")
        ));
        let other = first.pool.for_jobs(Some(1)).expect("pool");
        assert!(!same(&first.pool, &other));
        assert_eq!(other.threads.current_num_threads(), 1);
        let mut alone = prepare(&opts, RefFiles::default(), false).expect("prepared");
        assert!(!same(&first.pool, &alone.pool));
        alone.define(None).expect("defined");
        let defined = alone.defined.as_ref().expect("definitions");
        assert!(std::sync::Arc::ptr_eq(&alone.pool.threads, &defined.pool));
    }

    /// REF's side waits for the working tree's repository results only until they are given
    /// or the working tree's check is over: never forever.
    #[test]
    fn a_handoff_gives_what_was_published_or_nothing_once_ended() {
        let given = RepoHandoff::default();
        let got = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| given.wait().map(|r| r.key));
            std::thread::sleep(std::time::Duration::from_millis(20));
            given.publish(&results(7));
            given.end();
            waiter.join().expect("waiter")
        });
        assert_eq!(got, Some([7; 32]));
        let ended = RepoHandoff::default();
        let got = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| ended.wait().map(|r| r.key));
            std::thread::sleep(std::time::Duration::from_millis(20));
            ended.end();
            waiter.join().expect("waiter")
        });
        assert_eq!(got, None);
    }
}
