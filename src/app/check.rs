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
use super::settings::Settings;
pub use super::settings::{CheckError, CheckOptions, Progress};
use super::{objects, repo, roots, select};

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
    check_keeping(opts, None).map(|(result, _)| result)
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
    /// Its policy results by content (`None` with Gatekeeper constraints).
    pub results: Option<roots::ResultsMemo>,
}

/// What `kgate diff --since REF` asks of a check besides keeping its renders: for REF's
/// side, checked in the working tree's paths, the files whose content differs at REF
/// (absolute paths, REF's content; every one exists on both sides) and the working tree's
/// render memo, whose builds that read none of them are reused.
pub struct Keeping<'a> {
    pub contents: &'a [(std::path::PathBuf, std::sync::Arc<[u8]>)],
    pub reuse: Option<&'a crate::render::Memo>,
    /// The working tree's repository-scope results, reused when REF's input is the same.
    pub repo: Option<&'a RepoResults>,
    /// The working tree's file table: what it read is not read again (`contents` override it).
    pub sources: Option<&'a crate::source::FileTable>,
    /// The working tree's policy results by content: REF's objects and roots equal to the
    /// working tree's are not evaluated again.
    pub results: Option<&'a roots::ResultsMemo>,
}

/// The repository-scope rules' input and results.
pub struct RepoResults {
    pub input: serde_json::Value,
    pub results: Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>>,
}

/// A check's first phase, which needs nothing of another check: the settings, the
/// policies, discovery, the graph and the selection (`kgate diff --since` prepares REF's
/// side while the working tree's check runs).
pub struct Prepared {
    opts: CheckOptions,
    /// The check's threads (`--jobs`), from the walk on.
    pool: rayon::ThreadPool,
    s: Settings,
    policies: PolicySet,
    version: crate::validate::KubeVersion,
    strict: bool,
    discovery: crate::discover::Discovery,
    graph: crate::discover::graph::RepoGraph,
    walked: Vec<std::path::PathBuf>,
    entries: Vec<crate::render::entry::EntryRender>,
    affected: Option<crate::model::Affected>,
    /// The files `contents` gave other contents than the disk's.
    differing: std::collections::BTreeSet<std::path::PathBuf>,
    timings: Vec<(&'static str, std::time::Duration)>,
}

/// The first phase of the check of `opts`, with `contents` read instead of the disk's
/// (absolute paths; see [`Keeping::contents`]); `keep`: the files discovery's walk listed
/// are kept (for [`Kept::walked`]).
pub fn prepare(
    opts: &CheckOptions,
    contents: &[(std::path::PathBuf, std::sync::Arc<[u8]>)],
    keep: bool,
) -> Result<Prepared, CheckError> {
    let clock = std::time::Instant::now();
    let s = Settings::resolve(opts)?;
    for (path, bytes) in contents {
        s.sources.preload(path, bytes.clone());
    }
    let differing = contents.iter().map(|(p, _)| s.sources.path(p)).collect();
    let config = &s.config;
    let user = crate::policy::user::UserPolicies::load(&s.user_policies(), &s.root)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| CheckError::Threads(e.to_string()))?;
    let version = s.kube_version(opts.kube_version.as_deref())?;
    let strict = opts.strict || config.strict;
    // Compiling the policies and asking git what changed wait on nothing the walk does: they
    // run beside it (together about a third of a `--changed-since` run's start).
    let (policies, since, walk) = std::thread::scope(|scope| {
        let policies =
            scope.spawn(|| PolicySet::load_with_user(&crate::policy::builtin_sources(), &user));
        let since = scope.spawn(|| select::changed_since(opts, &s));
        let walk = pool.install(|| walk(&s, &user, keep));
        (joined(policies), joined(since), walk)
    });
    let mut policies = policies?;
    policies.set_limits(config.limits.policy_timeout, config.limits.policy_memory);
    let (mut discovery, graph, walked, entries) = walk?;
    let (affected, entries) = select::select(opts, &s, &graph, &mut discovery, entries, since)?;
    Ok(Prepared {
        opts: opts.clone(),
        pool,
        s,
        policies,
        version,
        strict,
        discovery,
        graph,
        walked,
        entries,
        affected,
        differing,
        timings: vec![("load policies, discover, graph, select", clock.elapsed())],
    })
}

/// The repository's discovery, its graph, the walked files (with `keep`) and the entry
/// points' renders.
fn walk(
    s: &Settings,
    user: &crate::policy::user::UserPolicies,
    keep: bool,
) -> Result<
    (
        crate::discover::Discovery,
        crate::discover::graph::RepoGraph,
        Vec<std::path::PathBuf>,
        Vec<crate::render::entry::EntryRender>,
    ),
    CheckError,
> {
    let discovery = s.discover(&s.excludes(!user.sources.is_empty()))?;
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

/// A scoped thread's result; its panic goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The pipeline, handing back with `keep` the rendered objects of the affected roots
/// (`opts.changed_files` or `changed_since` set), so a caller comparing renders does not
/// render them again.
pub fn check_keeping(
    opts: &CheckOptions,
    keeping: Option<&Keeping<'_>>,
) -> Result<(CheckResult, Kept), CheckError> {
    let contents = keeping.map_or(&[][..], |k| k.contents);
    check_prepared(prepare(opts, contents, keeping.is_some())?, keeping)
}

/// The rest of the pipeline after [`prepare`] (whose `contents` `keeping` repeats).
pub fn check_prepared(
    prepared: Prepared,
    keeping: Option<&Keeping<'_>>,
) -> Result<(CheckResult, Kept), CheckError> {
    let Prepared {
        opts,
        pool,
        s,
        mut policies,
        version,
        strict,
        discovery,
        graph,
        walked,
        entries,
        affected,
        differing,
        mut timings,
    } = prepared;
    let opts = &opts;
    let config = &s.config;
    // What another check read is not read again; `contents` were preloaded and stay.
    if let Some(base) = keeping.and_then(|k| k.sources) {
        s.sources.seed_from(base);
    }
    let mut clock = std::time::Instant::now();
    let mut lap = |what: &'static str, timings: &mut Vec<_>| {
        timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let reuse = keeping.and_then(|k| k.reuse).map(|memo| (memo, &differing));
    let keep: Option<std::collections::BTreeSet<String>> = affected
        .as_ref()
        .filter(|_| keeping.is_some())
        .map(|a| a.roots.iter().cloned().collect());
    // Findings about the repository as a whole are reported once, by the first shard.
    let whole_repo = opts.shard.is_none_or(|(i, _)| i == 1);

    let (mut crds, gatekeeper) =
        pool.install(|| repo::repo_definitions(&discovery, &s.schema_dirs(), &s.sources, &s.root));
    crds.extend(crate::policy::gatekeeper::constraint_crds(&gatekeeper));
    let (gatekeeper, gatekeeper_problems) =
        crate::policy::gatekeeper::Gatekeeper::load(&gatekeeper);
    policies.set_gatekeeper(gatekeeper);
    let registry = Registry::new(config, &policies)?;
    lap("CRDs and Gatekeeper templates", &mut timings);
    let validators = Validators::new(version, strict, s.kube_versions_by_name()?, &crds);
    let context = ContextSettings::from_config(config);
    let scope = affected
        .as_ref()
        .filter(|a| a.everything.is_none())
        .map(|a| {
            super::object_scope::ObjectScope::new(&graph, &a.changed.iter().cloned().collect())
        });
    let checks = ObjectChecks {
        rules: &registry.by_id,
        disabled: &registry.not_run,
        sources: &s.sources,
    };

    // The repository rules need only the graph: they run beside the roots, on the pool's
    // other thread while it has no root to take (they were a serial tenth of a check).
    let repo_scope = || {
        whole_repo.then(|| {
            let input = repo::repo_scope_input(&graph, config, &context);
            let results = match keeping.and_then(|k| k.repo).filter(|r| r.input == input) {
                Some(same) => same.results.clone(),
                None => repo::repo_scope_results(&policies, &input, &context, &registry.not_run),
            };
            RepoResults { input, results }
        })
    };
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
                        bases: &graph.bases(),
                        charts: &discovery.charts,
                        helm: &s.helm(version, &crds),
                        missing_helm: config.helm.missing_severity,
                        scope: scope.as_ref(),
                        keep: keep.as_ref(),
                        reuse,
                        results: keeping.and_then(|k| k.results),
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
    if let Some(RepoResults { input, results }) = repo_scope {
        findings.extend(repo::repo_findings(
            results.clone(),
            &registry.by_id,
            affected.as_ref(),
        ));
        repo_results = keeping.map(|_| RepoResults { input, results });
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
    };
    let kept = Kept {
        rendered: rendered.rendered,
        graph,
        memo: rendered.memo,
        helm_runs: rendered.helm_runs,
        sources: s.sources.clone(),
        repo: repo_results,
        walked,
        results: rendered.results,
    };
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
