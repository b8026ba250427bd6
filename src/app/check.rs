//! `kgate check`: the whole pipeline, discover -> load -> evaluate -> gate, as a library call.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{Config, ConfigError, find_config};
use crate::discover::{self, DiscoverError, Discovery, SourceFile};
use crate::gate;
use crate::model::rules::{self, RuleInfo};
use crate::model::{Affected, CheckResult, Finding, Location, Severity, Summary};
use crate::policy::{Evaluator, PolicyError, PolicySet};
use crate::render::manifest::{self, Manifest};
use crate::validate::{KubeVersion, Validator, Validators};
use crate::yaml::Pos;

/// What to check and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Files or directories; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// An explicit config file; otherwise `.kgate.yaml` is searched upward from the first path.
    pub config: Option<PathBuf>,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    /// The Kubernetes version to validate against (`1.32`); overrides `kubeVersion`.
    pub kube_version: Option<String>,
    /// Unknown fields are findings, kinds without schema errors; or'ed with `strict:`.
    pub strict: bool,
    /// Check only what a change since this git revision can affect.
    pub changed_since: Option<String>,
    /// Updated as roots are checked, for a progress display.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// `(i, n)`: check only the i-th of n deterministic parts of the roots and files
    /// (1-based), for CI matrices; repository-wide findings go to part 1.
    pub shard: Option<(usize, usize)>,
}

/// How far a check is: roots to check and roots checked.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: std::sync::atomic::AtomicUsize,
    pub done: std::sync::atomic::AtomicUsize,
}

/// Which of `n` shards `key` (a root or file path) belongs to, 0-based: a hash of the path,
/// so adding a root does not move the others.
pub fn shard_of(key: &str, n: usize) -> usize {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % n.max(1) as u64) as usize
}

/// Errors that stop a check before it produces findings (usage and configuration errors).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("path does not exist: {}", .0.display())]
    PathNotFound(PathBuf),
    #[error("cannot resolve {}: {source}", path.display())]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error(transparent)]
    Changes(#[from] crate::app::changes::ChangesError),
    #[error(transparent)]
    KubeVersion(#[from] crate::validate::UnsupportedVersion),
}

/// Runs the whole pipeline.
pub fn check(opts: &CheckOptions) -> Result<CheckResult, CheckError> {
    let paths = resolve_paths(&opts.paths)?;
    let (config, found_config_dir) = load_config(opts, &paths)?;
    let root = scan_root(&paths, found_config_dir.as_deref());

    let config_dir = config
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .map_or_else(|| root.clone(), Path::to_path_buf);
    let user = crate::policy::user::UserPolicies::load(
        &crate::policy::user::UserPolicyConfig {
            dirs: config
                .policies
                .dirs
                .iter()
                .map(|d| config_dir.join(&d.value))
                .collect(),
            namespaces: config.policies.namespaces.clone(),
            data: config
                .policies
                .data
                .iter()
                .map(|d| config_dir.join(&d.value))
                .collect(),
        },
        &root,
    )?;
    let mut policies = PolicySet::load_with_user(&crate::policy::builtin_sources(), &user)?;
    policies.set_limits(config.limits.policy_timeout, config.limits.policy_memory);

    let version = match opts.kube_version.as_deref() {
        Some(v) => KubeVersion::parse(v)?,
        None => match &config.kube_version {
            Some(v) => KubeVersion::parse(&v.value)?,
            None => crate::validate::catalog::newest(),
        },
    };
    let strict = opts.strict || config.strict;

    let mut excludes: Vec<String> = config.exclude.iter().map(|e| e.value.clone()).collect();
    // The repository's policy and data files configure the gate; they are not manifests. A
    // policy directory counts only when it holds Rego (a `policy/` of Kyverno YAML is
    // checked as usual).
    for p in config.policies.dirs.iter().chain(&config.policies.data) {
        let rel = p.value.trim_start_matches("./").trim_end_matches('/');
        let is_data = config.policies.data.iter().any(|d| d.value == p.value);
        if rel.is_empty() || rel.starts_with("..") || (!is_data && user.sources.is_empty()) {
            continue;
        }
        excludes.push(format!("/{rel}"));
    }
    let mut discovery = discover::discover(&root, &paths, &excludes)?;
    let graph = crate::discover::graph::build(
        &root,
        &discovery,
        &crate::config::layout::Conventions::from_config(&config),
    );
    // Before --changed-since narrows the files: entry points and the ConfigMaps their
    // variables come from are read from the whole repository.
    let all_entries =
        crate::render::entry::entry_renders(&root, &discovery, &graph.gitops_documents);
    let affected = match &opts.changed_since {
        Some(reference) => {
            let changed = crate::app::changes::changed_since(&root, reference)?;
            let affected = select_affected(
                &root,
                &config,
                &config_dir,
                &schema_dirs_of(&config, &config_dir),
                &graph,
                changed,
            );
            if affected.everything.is_none() {
                let roots: std::collections::HashSet<&str> =
                    affected.roots.iter().map(String::as_str).collect();
                let files: std::collections::HashSet<&str> =
                    affected.files.iter().map(String::as_str).collect();
                discovery.kustomizations.retain(|k| {
                    discovery.components.contains(k)
                        || k.abs
                            .parent()
                            .is_some_and(|d| roots.contains(discover::relative(&root, d).as_str()))
                });
                discovery
                    .manifests
                    .retain(|m| files.contains(m.rel.as_str()));
            }
            Some(affected)
        }
        None => None,
    };
    if let Some((i, n)) = opts.shard {
        let mine = |rel: &str| shard_of(rel, n) == i - 1;
        discovery.kustomizations.retain(|k| {
            discovery.components.contains(k)
                || k.abs
                    .parent()
                    .is_some_and(|d| mine(&discover::relative(&root, d)))
        });
        discovery.manifests.retain(|m| mine(&m.rel));
    }
    // Findings about the repository as a whole are reported once, by the first shard.
    let whole_repo = opts.shard.is_none_or(|(i, _)| i == 1);
    // Entry points whose options change what they deploy (their own roots). With
    // --changed-since, those whose declaring file or deployed path a change touches.
    let mut entries = all_entries;
    if let Some((i, n)) = opts.shard {
        entries.retain(|e| shard_of(&e.id, n) == i - 1);
    }
    if let Some(a) = affected.as_ref().filter(|a| a.everything.is_none()) {
        let changed: std::collections::BTreeSet<String> = a.changed.iter().cloned().collect();
        entries.retain(|e| changed.contains(&e.file) || graph.touched(&e.path, &changed));
    }

    let disabled: Vec<String> = config
        .rules
        .disable
        .iter()
        .map(|d| d.value.clone())
        .collect();
    // Rules that check nothing without their parameters are not evaluated when none are set
    // (a rule for every kind would otherwise cost an evaluation of every object).
    let not_run: Vec<String> = disabled
        .iter()
        .cloned()
        .chain(
            policies
                .rules()
                .iter()
                .filter(|r| r.info.needs_params && !config.rules.params.contains_key(&r.info.id))
                .map(|r| r.info.id.clone()),
        )
        .collect();
    let max_size = config.limits.max_file_size;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| CheckError::Threads(e.to_string()))?;
    let schema_dirs: Vec<PathBuf> = config
        .schema_dirs
        .iter()
        .map(|d| config_dir.join(&d.value))
        .collect();
    let (mut crds, gatekeeper) =
        pool.install(|| repo_definitions(&discovery, &schema_dirs, max_size, &root));
    crds.extend(crate::policy::gatekeeper::constraint_crds(&gatekeeper));
    policies.set_gatekeeper(crate::policy::gatekeeper::Gatekeeper::load(&gatekeeper)?);
    let mut all_rules = rules::engine_rules();
    all_rules.extend(policies.rules().iter().map(|r| r.info.clone()));
    all_rules.extend(policies.gatekeeper_rules());
    validate_rule_ids(&config, &all_rules)?;
    let rules_by_id: std::collections::BTreeMap<String, RuleInfo> = all_rules
        .iter()
        .map(|r| (r.id.clone(), r.clone()))
        .collect();
    let repo_root = repo_root_of(&root);
    let mut per_name = Vec::new();
    for (name, v) in &config.kube_versions {
        per_name.push((name.clone(), KubeVersion::parse(&v.value)?));
    }
    let validators = Validators::new(version, strict, per_name, &crds);
    let context = crate::policy::context::ContextSettings::from_config(&config);
    let rendered = pool.install(|| {
        crate::app::roots::check_roots(
            &root,
            &repo_root,
            &discovery.kustomizations,
            &discovery.components,
            &policies,
            &crate::app::roots::RootSettings {
                rules: &rules_by_id,
                disabled: &not_run,
                context: &context,
                max_file_size: max_size,
                validators: &validators,
                progress: opts.progress.as_deref(),
                entries: &entries,
            },
        )
    });
    let plain_context = context.for_root(None);
    // Files rendered as part of a root are checked there, with their overlays applied.
    let plain: Vec<SourceFile> = discovery
        .manifests
        .iter()
        .filter(|m| !rendered.consumed.contains(&m.abs))
        .cloned()
        .collect();
    let per_file: Vec<(Vec<Finding>, usize)> = pool.install(|| {
        let evaluators = crate::policy::EvaluatorPool::new(&policies);
        plain
            .par_iter()
            .map(|file| {
                evaluators.with(|ev| {
                    check_file(
                        ev,
                        validators.default_validator(),
                        &plain_context,
                        file,
                        max_size,
                        &rules_by_id,
                        &not_run,
                    )
                })
            })
            .collect()
    });

    let mut findings = discovery_findings(&discovery);
    if whole_repo {
        findings.extend(dangling_findings(&graph, affected.as_ref()));
    }
    let app_globs: Vec<String> = config.layout.apps.iter().map(|a| a.value.clone()).collect();
    let repo = crate::app::repo_input::repo_input(&graph, &context.environments, &app_globs);
    let repo_results = if whole_repo {
        policies
            .evaluator()
            .evaluate_repo(&repo, &plain_context, |id| !not_run.iter().any(|d| d == id))
    } else {
        Vec::new()
    };
    findings.extend(repo_findings(repo_results, &rules_by_id, affected.as_ref()));
    findings.extend(rendered.findings);
    let mut summary = Summary {
        roots: rendered.roots,
        objects: rendered.objects,
        ..Summary::default()
    };
    for (f, objects) in per_file {
        findings.extend(f);
        summary.objects += objects;
    }
    let findings = gate::apply_rule_config(findings, &config);
    let (mut findings, suppressed) =
        crate::gate::suppress::apply(findings, &root, &config, crate::gate::suppress::today());
    findings.sort_by(Finding::report_order);
    findings.dedup();
    summary.count(&findings);

    let mut enabled: Vec<RuleInfo> = all_rules
        .into_iter()
        .filter(|r| !disabled.contains(&r.id))
        .map(|mut r| {
            if let Some(s) = config.rules.severity.get(&r.id) {
                r.severity = s.value;
            }
            r
        })
        .collect();
    enabled.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(CheckResult {
        root,
        findings,
        summary,
        rules: enabled,
        affected,
        suppressed,
    })
}

/// The configuration `opts` names, or the `.kgate.yaml` found upward from the first path
/// (with its canonical directory).
fn load_config(
    opts: &CheckOptions,
    paths: &[PathBuf],
) -> Result<(Config, Option<PathBuf>), CheckError> {
    Ok(match &opts.config {
        Some(p) => (Config::load(p)?, None),
        None => match find_config(&paths[0]) {
            Some(p) => {
                let dir = p.parent().map(Path::to_path_buf);
                (
                    Config::load(&p)?,
                    dir.and_then(|d| std::fs::canonicalize(d).ok()),
                )
            }
            None => (Config::default(), None),
        },
    })
}

/// The repository graph of what `kgate check` with `opts` would check (`kgate graph`).
pub fn repo_graph(opts: &CheckOptions) -> Result<crate::discover::graph::RepoGraph, CheckError> {
    Ok(open_repo(opts)?.2)
}

/// The scanned root, its configuration and its repository graph: what `kgate graph` and
/// `kgate diff` start from.
fn open_repo(
    opts: &CheckOptions,
) -> Result<(PathBuf, Config, crate::discover::graph::RepoGraph), CheckError> {
    let paths = resolve_paths(&opts.paths)?;
    let (config, found_config_dir) = load_config(opts, &paths)?;
    let root = scan_root(&paths, found_config_dir.as_deref());
    let excludes: Vec<String> = config.exclude.iter().map(|e| e.value.clone()).collect();
    let discovery = discover::discover(&root, &paths, &excludes)?;
    let graph = crate::discover::graph::build(
        &root,
        &discovery,
        &crate::config::layout::Conventions::from_config(&config),
    );
    Ok((root, config, graph))
}

/// The repository `root` is in (its nearest ancestor with `.git`), else `root`: nothing
/// outside it is read.
fn repo_root_of(root: &Path) -> PathBuf {
    root.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(root)
        .to_path_buf()
}

/// `kgate diff`: environment drift of the apps under `opts.paths` (or those named in
/// `only`), across `environments` (default: the configured ones).
pub fn drift(
    opts: &CheckOptions,
    environments: &[String],
    only: &[String],
    allow: &[String],
) -> Result<(Vec<String>, Vec<crate::app::drift::AppDrift>), CheckError> {
    let (root, config, graph) = open_repo(opts)?;
    let envs: Vec<String> = if environments.is_empty() {
        config
            .environments
            .iter()
            .map(|e| e.value.clone())
            .collect()
    } else {
        environments.to_vec()
    };
    let app_globs: Vec<String> = config.layout.apps.iter().map(|a| a.value.clone()).collect();
    let repo = crate::app::repo_input::repo_input(&graph, &envs, &app_globs);
    let repo_root = repo_root_of(&root);
    let drifts = crate::app::drift::diff(&repo_root, &root, &repo["apps"], &envs, only, allow);
    Ok((envs, drifts))
}

/// What `kgate init` writes for the repository at `path`: a commented configuration.
pub fn init_config(path: &Path) -> Result<String, CheckError> {
    let paths = resolve_paths(&[path.to_path_buf()])?;
    let root = paths[0].clone();
    let discovery = discover::discover(&root, &paths, &[])?;
    let graph = crate::discover::graph::build(
        &root,
        &discovery,
        &crate::config::layout::Conventions::defaults(&[]),
    );
    let detected = crate::app::init::detect(&root, &discovery, &graph);
    Ok(crate::app::init::config_text(
        &detected,
        &crate::validate::catalog::newest().to_string(),
    ))
}

fn schema_dirs_of(config: &Config, config_dir: &Path) -> Vec<PathBuf> {
    config
        .schema_dirs
        .iter()
        .map(|d| config_dir.join(&d.value))
        .collect()
}

/// The roots and plain files a change can affect. A change to the configuration, a policy or
/// data file, or a schema directory changes how everything is checked.
fn select_affected(
    root: &Path,
    config: &Config,
    config_dir: &Path,
    schema_dirs: &[PathBuf],
    graph: &crate::discover::graph::RepoGraph,
    changed: std::collections::BTreeSet<String>,
) -> Affected {
    let rel_dir = |d: &Path| {
        let r = discover::relative(root, &crate::discover::normalize(d));
        format!("{}/", r.trim_end_matches('/'))
    };
    let mut gate_inputs: Vec<(String, &'static str)> = Vec::new();
    if let Some(p) = &config.path {
        gate_inputs.push((discover::relative(root, p), "the configuration"));
    }
    for d in config.policies.dirs.iter().chain(&config.policies.data) {
        gate_inputs.push((rel_dir(&config_dir.join(&d.value)), "the policies"));
    }
    for d in schema_dirs {
        gate_inputs.push((rel_dir(d), "the schemas"));
    }
    let everything = changed.iter().find_map(|c| {
        gate_inputs.iter().find_map(|(input, what)| {
            let hit = if input.ends_with('/') {
                c.starts_with(input.as_str())
            } else {
                c == input
            };
            hit.then(|| format!("{c} changes {what}"))
        })
    });
    let roots = graph.affected_roots(&changed).into_iter().collect();
    Affected {
        files: changed.iter().cloned().collect(),
        changed: changed.into_iter().collect(),
        everything,
        roots,
    }
}

/// Findings of the repository-scope rules. With `--changed-since`, only those about a changed
/// file or a directory holding one (a structure problem elsewhere is not this change's).
fn repo_findings(
    results: Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>>,
    rules: &std::collections::BTreeMap<String, RuleInfo>,
    affected: Option<&Affected>,
) -> Vec<Finding> {
    let relevant = |file: &str| {
        affected.is_none_or(|a| {
            a.everything.is_some()
                || a.changed
                    .iter()
                    .any(|c| crate::discover::graph::at_or_under(c, file))
        })
    };
    results
        .into_iter()
        .filter_map(|r| match r {
            Ok(v) => {
                if !relevant(&v.file) {
                    return None;
                }
                let info = rules.get(&v.rule);
                let pos = Pos {
                    line: v.line.unwrap_or(1).max(1),
                    column: 1,
                };
                Some(Finding {
                    severity: info.map_or(Severity::Error, |i| i.severity),
                    help: info.map(|i| i.remediation.clone()).unwrap_or_default(),
                    rule: v.rule,
                    message: v.message,
                    location: Location::new(v.file, pos),
                    object: None,
                    pointer: None,
                    roots: Vec::new(),
                })
            }
            Err(e) => Some(Finding {
                rule: rules::POLICY_ERROR.to_owned(),
                severity: Severity::Error,
                message: format!(
                    "repository rule `{}` could not be evaluated: {}",
                    e.rule, e.message
                ),
                help: "Fix the policy; the repository layout was not fully checked.".to_owned(),
                location: Location::new(
                    rules
                        .get(&e.rule)
                        .map_or_else(|| e.rule.clone(), |i| i.source.clone()),
                    Pos { line: 1, column: 1 },
                ),
                object: None,
                pointer: None,
                roots: Vec::new(),
            }),
        })
        .collect()
}

/// `dangling-reference` findings for entry points deploying missing paths (with
/// `--changed-since`, only those declared in changed files).
fn dangling_findings(
    graph: &crate::discover::graph::RepoGraph,
    affected: Option<&Affected>,
) -> Vec<Finding> {
    graph
        .dangling()
        .into_iter()
        .filter(|d| {
            affected.is_none_or(|a| a.everything.is_some() || a.changed.contains(&d.edge.file))
        })
        .map(|d| Finding {
            rule: rules::DANGLING_REFERENCE.to_owned(),
            severity: Severity::Error,
            message: d.what,
            help: "Point the entry point at the directory that exists, or remove it.".to_owned(),
            location: Location::new(
                d.edge.file.clone(),
                Pos {
                    line: d.edge.line,
                    column: d.edge.column,
                },
            ),
            object: None,
            pointer: None,
            roots: Vec::new(),
        })
        .collect()
}

fn resolve_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CheckError> {
    let given: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    given
        .iter()
        .map(|p| {
            if !p.exists() && p.symlink_metadata().is_err() {
                return Err(CheckError::PathNotFound(p.clone()));
            }
            std::fs::canonicalize(p).map_err(|source| CheckError::Path {
                path: p.clone(),
                source,
            })
        })
        .collect()
}

/// The directory findings are relative to: the config's directory when one was found above
/// the paths, else the paths' common ancestor (a file's parent for a single file).
fn scan_root(paths: &[PathBuf], config_dir: Option<&Path>) -> PathBuf {
    let dir_of = |p: &PathBuf| -> PathBuf {
        if p.is_dir() {
            p.clone()
        } else {
            p.parent().map_or_else(|| p.clone(), Path::to_path_buf)
        }
    };
    let mut root = config_dir.map_or_else(|| dir_of(&paths[0]), Path::to_path_buf);
    for p in paths {
        let d = dir_of(p);
        while !d.starts_with(&root) {
            match root.parent() {
                Some(parent) => root = parent.to_path_buf(),
                None => break,
            }
        }
    }
    root
}

fn validate_rule_ids(config: &Config, rules: &[RuleInfo]) -> Result<(), ConfigError> {
    let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for id in &config.rules.disable {
        if !known.contains(&id.value.as_str()) {
            return Err(config.unknown_rule_error(id, &known));
        }
    }
    for (id, globs) in &config.rules.disable_in {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: globs.first().map(|g| g.pos).unwrap_or_default(),
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    for (id, p) in &config.rules.params {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: p.pos,
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    for (id, sev) in &config.rules.severity {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: sev.pos,
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    Ok(())
}

fn discovery_findings(d: &Discovery) -> Vec<Finding> {
    let start = Pos { line: 1, column: 1 };
    let mut out: Vec<Finding> = d
        .problems
        .iter()
        .map(|p| Finding {
            rule: rules::UNREADABLE_FILE.to_owned(),
            severity: Severity::Error,
            message: p.message.clone(),
            help: "Make the path readable inside the repository, or exclude it with `exclude:` in .kgate.yaml.".to_owned(),
            location: Location::new(p.rel.clone(), start),
            object: None,
            pointer: None,
            roots: Vec::new(),
        })
        .collect();
    // Kustomization files that do not parse are reported by rendering (`render-error`).
    out.extend(d.charts.iter().map(|c| Finding {
        rule: rules::RENDER_UNAVAILABLE.to_owned(),
        severity: Severity::Note,
        message: "Helm chart: kgate does not render Helm charts yet, so its templates were not checked".to_owned(),
        help: "Render the chart (`helm template`) and check the output with `kgate check` until chart rendering lands.".to_owned(),
        location: Location::new(c.rel.clone(), start),
        object: None,
        pointer: None,
        roots: Vec::new(),
    }));
    out
}

/// Every CustomResourceDefinition in the repository's manifests and in the configured
/// schema directories, and every Gatekeeper ConstraintTemplate and Constraint (with its
/// path relative to `root`).
fn repo_definitions(
    discovery: &Discovery,
    schema_dirs: &[PathBuf],
    max_size: u64,
    root: &Path,
) -> (Vec<serde_json::Value>, Vec<(String, serde_json::Value)>) {
    let mut files: Vec<PathBuf> = discovery.manifests.iter().map(|m| m.abs.clone()).collect();
    for dir in schema_dirs {
        for entry in ignore::WalkBuilder::new(dir).build().flatten() {
            let p = entry.path();
            if p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                files.push(p.to_path_buf());
            }
        }
    }
    let found: Vec<(bool, String, serde_json::Value)> = files
        .par_iter()
        .flat_map_iter(|path| {
            let text = match std::fs::metadata(path) {
                Ok(m) if m.len() <= max_size => std::fs::read_to_string(path).unwrap_or_default(),
                _ => String::new(),
            };
            if !text.contains("CustomResourceDefinition") && !text.contains("gatekeeper.sh/") {
                return Vec::new();
            }
            let rel = discover::relative(root, path);
            let (docs, _) = crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
            docs.into_iter()
                .map(|d| d.root.to_json())
                .filter_map(|j| {
                    let kind = j.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                    let api = j.get("apiVersion").and_then(|k| k.as_str()).unwrap_or("");
                    if kind == "CustomResourceDefinition" {
                        Some((true, rel.clone(), j))
                    } else if api.starts_with("templates.gatekeeper.sh/")
                        || api.starts_with("constraints.gatekeeper.sh/")
                    {
                        Some((false, rel.clone(), j))
                    } else {
                        None
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut crds = Vec::new();
    let mut gatekeeper = Vec::new();
    for (is_crd, rel, j) in found {
        if is_crd {
            crds.push(j);
        } else {
            gatekeeper.push((rel, j));
        }
    }
    (crds, gatekeeper)
}

/// Schema problems of one object, for `evaluate::findings` beside the policy results.
pub fn schema_results(
    validator: &Validator,
    object: &serde_json::Value,
    disabled: &[String],
) -> Vec<Result<crate::policy::Violation, crate::policy::EvalError>> {
    validator
        .check(object)
        .into_iter()
        .filter(|v| !disabled.contains(&v.rule))
        .map(Ok)
        .collect()
}

/// Under `--strict` a kind without schema is an error, not a note.
pub fn strict_severity(findings: &mut [Finding], strict: bool) {
    if strict {
        for f in findings
            .iter_mut()
            .filter(|f| f.rule == rules::SCHEMA_MISSING)
        {
            f.severity = Severity::Error;
        }
    }
}

fn check_file(
    ev: &mut Evaluator,
    validator: &Validator,
    context: &serde_json::Value,
    file: &SourceFile,
    max_size: u64,
    rules: &std::collections::BTreeMap<String, RuleInfo>,
    disabled: &[String],
) -> (Vec<Finding>, usize) {
    let loaded = manifest::load_file(file, max_size);
    let mut findings = loaded.findings;
    let inventory: Vec<serde_json::Value> =
        loaded.objects.iter().map(|o| o.node.to_json()).collect();
    ev.set_inventory(&inventory);
    for object in &loaded.objects {
        findings.extend(evaluate_object(
            ev, validator, context, object, rules, disabled,
        ));
    }
    (findings, loaded.objects.len())
}

/// Plain manifests: every node is in the object's own file.
struct FileLocator<'a>(&'a str);

impl crate::policy::findings::Locator for FileLocator<'_> {
    fn location(&self, _: crate::yaml::FileId, pos: Pos, end: Option<Pos>) -> Location {
        let loc = Location::new(self.0, pos);
        match end {
            Some(e) => loc.with_end(e),
            None => loc,
        }
    }
}

fn evaluate_object(
    ev: &mut Evaluator,
    validator: &Validator,
    context: &serde_json::Value,
    object: &Manifest,
    rules: &std::collections::BTreeMap<String, RuleInfo>,
    disabled: &[String],
) -> Vec<Finding> {
    let input = object.node.to_json();
    let mut results = schema_results(validator, &input, disabled);
    results.extend(ev.evaluate(input, context, |id| !disabled.iter().any(|d| d == id)));
    let mut findings = crate::policy::findings::findings(
        results,
        &object.node,
        &object.id,
        &[],
        rules,
        &FileLocator(&object.file),
    );
    strict_severity(&mut findings, validator.strict());
    findings
}
