//! The evaluate stage: Rego policies run by `regorus` on each Kubernetes object.
//!
//! A rule is a Rego file with a METADATA block (id, title, description, severity,
//! remediation) whose package defines `deny`: a set of strings, or of objects
//! `{"msg": ..., "path": [...]}` where `path` names the offending field so kgate can point
//! at its source line. The engine is loaded once and cloned per worker thread.

mod budget;
mod compat;
mod compiled;
pub mod context;
pub mod findings;
pub mod gatekeeper;
mod gathers;
mod guard;
mod lazy;
mod metadata;
pub mod reads;
mod repo_rules;
mod results;
mod root_rules;
pub mod testing;
pub mod user;
pub mod value;

pub use compiled::ProgramCache;
pub use guard::in_guarded_evaluation;
pub use metadata::{MetadataError, RuleMetadata, is_rule_id, parse_metadata};

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;

use crate::model::rules::RuleInfo;

include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));

use gathers::{Gathers, add_gathers};

/// Wall-clock budget for evaluating all rules on one object: untrusted input must not be able
/// to hang the gate.
pub const EVAL_TIME_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy {path}: {message}")]
    Load { path: String, message: String },
    #[error("policy {path}: {source}")]
    Metadata {
        path: String,
        #[source]
        source: MetadataError,
    },
    #[error("policy {path}: rule id `{id}` does not match the file name `{stem}.rego`")]
    IdMismatch {
        path: String,
        id: String,
        stem: String,
    },
    #[error("policy {path}: rule id `{id}` is already defined by {other}")]
    DuplicateId {
        path: String,
        id: String,
        other: String,
    },
    #[error(
        "policy {path}: a rule file needs a `# METADATA` block with custom.id (files under lib/ are libraries)"
    )]
    MissingMetadata { path: String },
}

/// A Rego source file.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// Path used in messages, e.g. `policies/images/image-latest-tag.rego`.
    pub path: String,
    pub text: String,
}

/// One loaded rule.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    pub info: RuleInfo,
    /// The Rego rule evaluated per object, e.g. `data.kgate.rules.images.image_latest_tag.deny`.
    pub query: String,
    /// A root-scope rule whose findings on an object depend only on its namespace's objects
    /// (`custom.relatesWithin: namespace`): see [`Evaluator::evaluate_root`].
    pub namespace_local: bool,
}

pub use crate::model::{EvalError, Violation};
pub use results::RepoViolation;
use results::repo_violations_of;
pub(crate) use results::violations_of;

/// Whether a regorus error is a time or memory limit being hit (not a bug in the policy's
/// logic): such a rule is then not evaluated again in the run, so one policy that does not
/// terminate costs one timeout, not one per object.
fn hit_limit(e: &anyhow::Error) -> bool {
    // A rule whose evaluation panicked is stopped likewise: its engine is not trusted.
    e.downcast_ref::<guard::EnginePanic>().is_some()
        || e.chain().any(|c| {
            matches!(
                c.downcast_ref::<regorus::LimitError>(),
                Some(regorus::LimitError::TimeLimitExceeded { .. })
                    | Some(regorus::LimitError::MemoryLimitExceeded { .. })
            )
        })
        || {
            let m = e.to_string();
            m.contains("time limit") || m.contains("memory limit")
        }
}

/// Rules stopped after hitting a limit, shared by every evaluator of a run.
#[derive(Default)]
struct Tripped {
    any: std::sync::atomic::AtomicBool,
    rules: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Tripped {
    fn contains(&self, id: &str) -> bool {
        self.any.load(std::sync::atomic::Ordering::Relaxed)
            && self.rules.lock().map(|r| r.contains(id)).unwrap_or(false)
    }

    /// Records `rule` as stopped and returns the error to report for it.
    fn trip(&self, rule: &str, e: &anyhow::Error) -> EvalError {
        if let Ok(mut r) = self.rules.lock() {
            r.insert(rule.to_owned());
        }
        self.any.store(true, std::sync::atomic::Ordering::Relaxed);
        EvalError {
            rule: rule.to_owned(),
            message: format!(
                "{e}; the rule is not evaluated on the remaining objects of this run (see limits.policyTimeout and limits.policyMemory)"
            ),
        }
    }
}

/// All loaded policies, ready to be cloned into per-thread evaluators.
#[derive(Clone)]
pub struct PolicySet {
    /// The interpreter's engine, made when first needed when the programs were stored.
    engine: Arc<lazy::LazyEngine>,
    gathers: Arc<Gathers>,
    tripped: Arc<Tripped>,
    /// What some policy may read of the context and of objects.
    reads: Arc<reads::Reads>,
    rules: Arc<Vec<PolicyRule>>,
    /// Users' data files (conftest `--data`), beside `data.kgate`.
    user_data: Arc<serde_json::Map<String, serde_json::Value>>,
    /// The repository's Gatekeeper templates and constraints.
    gatekeeper: Option<Arc<gatekeeper::Gatekeeper>>,
    /// The gather rules compiled for the RVM, when no extension is needed (`compiled`).
    program: Option<Arc<regorus::rvm::program::Program>>,
    /// The root-scope rules' gathers, and compiled for the RVM (`root_rules`).
    root_gathers: Arc<root_rules::RootGathers>,
    root_program: Option<Arc<regorus::rvm::program::Program>>,
    /// The repository-scope rules' gather, and compiled for the RVM (`repo_rules`).
    repo_gather: String,
    repo_program: Option<Arc<regorus::rvm::program::Program>>,
    /// The time limit per object and the memory limit (`set_limits`).
    limits: (Duration, Option<u64>),
    /// What tells these policies from others: the BLAKE3 hash of every policy file's path
    /// and text and of the users' data (results stored across runs are keyed by it).
    fingerprint: [u8; 32],
}

fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.rego")
}

fn is_library(path: &str) -> bool {
    path.starts_with("lib/") || path.contains("/lib/")
}

/// The built-in policy files, `_test.rego` files included.
pub fn builtin_sources() -> Vec<PolicySource> {
    BUILTIN_POLICIES
        .iter()
        .map(|(path, text)| PolicySource {
            path: format!("policies/{path}"),
            text: (*text).to_owned(),
        })
        .collect()
}

impl PolicySet {
    /// Loads kgate's built-in rule library.
    pub fn builtin() -> Result<PolicySet, PolicyError> {
        PolicySet::load(&builtin_sources())
    }

    /// Loads rule and library files; `_test.rego` files are skipped (see [`testing`]).
    pub fn load(sources: &[PolicySource]) -> Result<PolicySet, PolicyError> {
        PolicySet::load_with_user(sources, &user::UserPolicies::default())
    }

    /// The built-in library and the users' own (conftest-style) policies.
    pub fn load_with_user(
        sources: &[PolicySource],
        user: &user::UserPolicies,
    ) -> Result<PolicySet, PolicyError> {
        PolicySet::load_cached(sources, user, None)
    }

    /// [`PolicySet::load_with_user`], taking the programs compiled for the VM from `cache`
    /// when a run before stored them for the same policies (compiling them was a third of
    /// loading the policies), and storing them there when not.
    pub fn load_cached(
        sources: &[PolicySource],
        user: &user::UserPolicies,
        cache: Option<&dyn ProgramCache>,
    ) -> Result<PolicySet, PolicyError> {
        PolicySet::load_programs(sources, user, cache, true)
    }

    /// [`PolicySet::load_cached`]; without `embedded`, not taking the built-in library's
    /// programs from those this tree embeds (the test that checks them compiles them).
    fn load_programs(
        sources: &[PolicySource],
        user: &user::UserPolicies,
        cache: Option<&dyn ProgramCache>,
        embedded: bool,
    ) -> Result<PolicySet, PolicyError> {
        let data = serde_json::to_string(&user.data).unwrap_or_default();
        let fingerprint = crate::source::hash_parts(
            (sources.iter().chain(&user.sources))
                .flat_map(|s| [s.path.as_bytes(), s.text.as_bytes()])
                .chain([data.as_bytes()]),
        );
        let stored = cache.and_then(|c| compiled::stored_programs(c, &fingerprint));
        // Taken into the cache, which is read faster than they are decompressed.
        let stored = stored.or_else(|| {
            let programs = embedded
                .then(|| compiled::embedded_programs(&fingerprint))
                .flatten()?;
            if let Some(cache) = cache {
                compiled::store_programs(cache, &fingerprint, &programs);
            }
            Some(programs)
        });
        let sprintf =
            (sources.iter().chain(&user.sources)).any(|s| budget::needs_sprintf_guard(&s.text));
        // The repository's own policies only: the built-in ones are kgate's, and the
        // replacements cost a little on every call.
        let expanders = (user.sources.iter()).any(|s| budget::needs_expansion_guard(&s.text));
        // With all three programs in hand the interpreter is only a fallback: its modules
        // are listed, and parsed when first needed (`lazy`).
        let all_stored = stored
            .as_ref()
            .is_some_and(|(p, r, g)| p.is_some() && r.is_some() && g.is_some());
        let mut modules = match all_stored {
            true => lazy::Modules::later(sprintf, expanders),
            false => lazy::Modules::now(sprintf, expanders),
        };
        let mut rules: Vec<PolicyRule> = Vec::new();
        for src in sources.iter().filter(|s| !is_test_file(&s.path)) {
            if let Some(rule) = builtin_rule(&mut modules, src, &rules)? {
                rules.push(rule);
            }
        }
        for src in user.sources.iter().filter(|s| !is_test_file(&s.path)) {
            modules.add(src)?;
        }
        for r in user.rules() {
            if let Some(other) = rules.iter().find(|b| b.info.id == r.id) {
                return Err(PolicyError::DuplicateId {
                    path: r.source,
                    id: r.id,
                    other: other.info.source.clone(),
                });
            }
            rules.push(user_rule(r));
        }
        rules.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        let gathers = add_gathers(&mut modules, &rules)?;
        let root_gathers = root_rules::add_root_gathers(&mut modules, &rules)?;
        let repo_gather = repo_rules::add_repo_gather(&mut modules, &rules)?;
        // Programs are stored only after the same policies (same fingerprint, same build of
        // kgate) passed this analysis: with them, it would only be done again (~4 ms of CPU
        // beside the walk of every warm run). The embedded ones are the built-in library's,
        // which passed it when the test that checks them compiled them.
        // The analysed engine is what the programs are compiled from: each compile would
        // otherwise analyse every module again (three programs, three analyses).
        let analysed = match (&stored, modules.engine()) {
            (None, Some(engine)) => Some(analyse_modules(engine)?),
            _ => None,
        };
        let guarded = engine_guarded(sources, user);
        let scoped = |s: &&PolicySource| {
            rules
                .iter()
                .any(|r| r.info.source == s.path && (r.info.root_scope || r.info.repo_scope))
        };
        // `entries` compiled for the VM when the texts they may reach (all but those
        // `leave_out` names) call no builtin kgate extends.
        let compile = |leave_out: &dyn Fn(&&PolicySource) -> bool, entries: &[String]| {
            compiled::compilable(
                texts_of(sources, user)
                    .filter(|s| !leave_out(s))
                    .map(|s| s.text.as_str()),
                guarded,
            )
            .then(|| {
                analysed
                    .as_ref()
                    .and_then(|a| compiled::compile(a, entries))
            })
            .flatten()
        };
        // The root gathers reach the root-scope rules and what they import (not the object
        // or repository rules).
        let other_rule = |s: &&PolicySource| {
            rules
                .iter()
                .any(|r| r.info.source == s.path && !r.info.root_scope)
        };
        // The repository gather reaches the repository-scope rules and what they import.
        let not_repo_rule = |s: &&PolicySource| {
            rules
                .iter()
                .any(|r| r.info.source == s.path && !r.info.repo_scope)
        };
        let (program, root_program, repo_program) = match stored {
            Some(programs) => programs,
            None => {
                let programs = (
                    compile(&scoped, &gathers.all()),
                    compile(&other_rule, &root_gathers.entries()),
                    compile(&not_repo_rule, std::slice::from_ref(&repo_gather)),
                );
                if let Some(cache) = cache {
                    compiled::store_programs(cache, &fingerprint, &programs);
                }
                programs
            }
        };
        let reads = reads::Reads::of(
            sources.iter().filter(|s| !is_test_file(&s.path)),
            user.sources.iter().filter(|s| !is_test_file(&s.path)),
        );
        Ok(PolicySet {
            fingerprint,
            engine: Arc::new(modules.into_lazy()),
            tripped: Arc::default(),
            gathers: Arc::new(gathers),
            reads: Arc::new(reads),
            rules: Arc::new(rules),
            user_data: Arc::new(user.data.clone()),
            gatekeeper: None,
            program,
            root_gathers: Arc::new(root_gathers),
            root_program,
            repo_gather,
            repo_program,
            limits: (EVAL_TIME_LIMIT, None),
        })
    }

    /// The BLAKE3 hash of every policy file and of the users' data.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// Bounds every evaluation: `timeout` per object (per root for root-scope rules), and
    /// `memory` for the process while policies run. A rule that hits a limit is reported
    /// once as a `policy-error` and not evaluated again in the run.
    pub fn set_limits(&mut self, timeout: Duration, memory: u64) {
        self.limits = (timeout, Some(memory));
        Arc::make_mut(&mut self.engine).set_timeout(timeout);
        regorus::set_global_memory_limit(Some(memory));
    }

    /// Whether a policy may read the root path (`data.kgate.root`). When none does, an
    /// object's results depend only on the object and the rest of the context, so they are
    /// shared across roots and one prepared engine serves every root of an environment.
    pub fn reads_root(&self) -> bool {
        self.reads.root
    }

    /// What the policies may read (see [`reads::Reads`]): results are shared between objects
    /// and contexts that differ only in what none reads.
    pub fn reads(&self) -> &reads::Reads {
        &self.reads
    }

    /// A copy for another check (`kgate diff --since`'s REF side shares the working tree's
    /// loaded policies): the same rules, none of them stopped by the other check's limits.
    pub fn fresh_copy(&self) -> PolicySet {
        PolicySet {
            tripped: Arc::default(),
            ..self.clone()
        }
    }

    /// Adds the repository's Gatekeeper constraints to what every evaluator runs.
    pub fn set_gatekeeper(&mut self, g: gatekeeper::Gatekeeper) {
        self.gatekeeper = (!g.is_empty()).then(|| Arc::new(g));
    }

    /// The rules of the Gatekeeper constraints (one per constraint).
    pub fn gatekeeper_rules(&self) -> Vec<RuleInfo> {
        self.gatekeeper
            .as_ref()
            .map_or_else(Vec::new, |g| g.rules())
    }

    /// A private evaluator for one worker thread.
    pub fn evaluator(&self) -> Evaluator {
        Evaluator {
            base: self.engine.clone(),
            gathers: Arc::clone(&self.gathers),
            tripped: Arc::clone(&self.tripped),
            engines: Vec::new(),
            reads: Arc::clone(&self.reads),
            rules: Arc::clone(&self.rules),
            user_data: Arc::clone(&self.user_data),
            gatekeeper: self
                .gatekeeper
                .as_ref()
                .map(|g| (Arc::clone(g), g.engines())),
            vm: (self.program.as_ref())
                .map(|p| compiled::Vm::new(Arc::clone(p), self.limits.0, self.limits.1)),
            root_gathers: Arc::clone(&self.root_gathers),
            root_vm: (self.root_program.as_ref())
                .map(|p| compiled::Vm::new(Arc::clone(p), self.limits.0, self.limits.1)),
            repo: (self.repo_program.as_ref()).map(|p| (Arc::clone(p), self.repo_gather.clone())),
            limits: self.limits,
        }
    }
}

/// Evaluators shared by worker threads: each task borrows one and gives it back, so the
/// engines an evaluator prepared (one per context) are reused by later tasks. (rayon's
/// `map_init` would create an evaluator for every split of the work.)
pub struct EvaluatorPool<'a> {
    policies: &'a PolicySet,
    free: std::sync::Mutex<Vec<Evaluator>>,
}

impl<'a> EvaluatorPool<'a> {
    pub fn new(policies: &'a PolicySet) -> EvaluatorPool<'a> {
        EvaluatorPool {
            policies,
            free: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with an evaluator of the pool.
    pub fn with<R>(&self, f: impl FnOnce(&mut Evaluator) -> R) -> R {
        let taken = self.free.lock().ok().and_then(|mut free| free.pop());
        let mut ev = taken.unwrap_or_else(|| self.policies.evaluator());
        let out = f(&mut ev);
        if let Ok(mut free) = self.free.lock() {
            free.push(ev);
        }
        out
    }
}

/// Adds one built-in file to `modules`: the rule it defines, checked against its file name
/// and the `rules` loaded so far, or `None` for a library file.
fn builtin_rule(
    modules: &mut lazy::Modules,
    src: &PolicySource,
    rules: &[PolicyRule],
) -> Result<Option<PolicyRule>, PolicyError> {
    let package = modules.add(src)?;
    let meta = parse_metadata(&src.text).map_err(|source| PolicyError::Metadata {
        path: src.path.clone(),
        source,
    })?;
    let Some(meta) = meta else {
        let rel = src.path.strip_prefix("policies/").unwrap_or(&src.path);
        if is_library(rel) {
            return Ok(None);
        }
        return Err(PolicyError::MissingMetadata {
            path: src.path.clone(),
        });
    };
    let stem = std::path::Path::new(&src.path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem != meta.id {
        return Err(PolicyError::IdMismatch {
            path: src.path.clone(),
            id: meta.id,
            stem,
        });
    }
    if let Some(other) = rules.iter().find(|r| r.info.id == meta.id) {
        return Err(PolicyError::DuplicateId {
            path: src.path.clone(),
            id: meta.id,
            other: other.info.source.clone(),
        });
    }
    Ok(Some(PolicyRule {
        info: RuleInfo {
            id: meta.id,
            title: meta.title,
            description: meta.description,
            severity: meta.severity,
            remediation: meta.remediation,
            source: src.path.clone(),
            kinds: meta.kinds,
            root_scope: meta.root_scope,
            repo_scope: meta.repo_scope,
            needs_params: meta.needs_params,
            sensitive: meta.sensitive,
        },
        query: format!("{package}.deny"),
        namespace_local: meta.namespace_local,
    }))
}

/// The rule for one of the repository's own (conftest-style) `deny` rules.
fn user_rule(r: user::UserRule) -> PolicyRule {
    PolicyRule {
        info: RuleInfo {
            title: format!("conftest rule `{}`", r.query),
            description: format!(
                "A rule of the repository's own policies (`{}`, in `{}`), run on every object as conftest runs it.",
                r.query, r.source
            ),
            severity: r.severity,
            remediation: "See the message; the rule is defined in the repository's policy files."
                .to_owned(),
            source: r.source,
            kinds: Vec::new(),
            root_scope: false,
            repo_scope: false,
            needs_params: false,
            sensitive: false,
            id: r.id,
        },
        query: r.query,
        namespace_local: false,
    }
}

/// Analyses every module added to `engine`, reporting the first invalid one with its file.
/// Returns a copy of `engine` with its modules analysed (regorus keeps that until a module
/// or the data changes).
fn analyse_modules(engine: &regorus::Engine) -> Result<regorus::Engine, PolicyError> {
    // regorus analyses modules when first evaluating, not when adding them: analyse now,
    // so that an invalid policy is a usage error at load (with its file and line), not a
    // `policy-error` on every object.
    // (Evaluating the query `true` prepares every module but evaluates no rule.)
    let mut analysed = engine.clone();
    if let Err(e) = analysed.eval_query("true".to_owned(), false) {
        let message = e.to_string();
        let path = message
            .lines()
            .find_map(|l| l.trim().strip_prefix("--> "))
            .and_then(|at| at.split(':').next())
            .unwrap_or("policies")
            .to_owned();
        return Err(PolicyError::Load { path, message });
    }
    Ok(analysed)
}

/// Adds one Rego file, turning regorus' `anyhow` error into kgate's own. Rego v1 first;
/// a file that only parses as Rego v0 (`deny[msg] { ... }` without `if`, as older conftest
/// policies are written) is accepted as v0, as OPA and conftest accept it.
pub(crate) fn add_policy(
    engine: &mut regorus::Engine,
    src: &PolicySource,
) -> Result<String, PolicyError> {
    guard::check_nesting(&src.text).map_err(|message| PolicyError::Load {
        path: src.path.clone(),
        message,
    })?;
    match engine.add_policy(src.path.clone(), src.text.clone()) {
        Ok(package) => Ok(package),
        Err(v1_error) => {
            engine.set_rego_v0(true);
            let v0 = engine.add_policy(src.path.clone(), src.text.clone());
            engine.set_rego_v0(false);
            v0.map_err(|v0_error| {
                // A file that needs v0 (`if`/`contains` missing) is reported with the v0
                // parser's complaint, which is about the actual problem.
                let v1 = v1_error.to_string();
                let message = if v1.contains("keyword is required") {
                    v0_error.to_string()
                } else {
                    v1
                };
                PolicyError::Load {
                    path: src.path.clone(),
                    message,
                }
            })
        }
    }
}

pub(crate) fn new_engine() -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(timer_config(EVAL_TIME_LIMIT));
    budget::install(&mut engine);
    // Only fails when a name is registered twice, which a fresh engine rules out.
    let _ = compat::add_deprecated_builtins(&mut engine);
    engine
}

/// `data`: the users' data files and `data.kgate` (`key`, the context).
fn context_data(
    user_data: &serde_json::Map<String, serde_json::Value>,
    key: serde_json::Value,
) -> serde_json::Value {
    let mut data = user_data.clone();
    data.insert("kgate".to_owned(), key);
    serde_json::Value::Object(data)
}

/// The policy files (not the tests) of the library and of the repository.
fn texts_of<'a>(
    sources: &'a [PolicySource],
    user: &'a user::UserPolicies,
) -> impl Iterator<Item = &'a PolicySource> {
    sources
        .iter()
        .chain(&user.sources)
        .filter(|s| !is_test_file(&s.path))
}

/// Whether `engine` has the checked `sprintf` or the sized expanders (see `budget`).
fn engine_guarded(sources: &[PolicySource], user: &user::UserPolicies) -> bool {
    let all = || sources.iter().chain(&user.sources);
    all().any(|s| budget::needs_sprintf_guard(&s.text))
        || user
            .sources
            .iter()
            .any(|s| budget::needs_expansion_guard(&s.text))
}

fn timer_config(limit: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
    }
}

/// Evaluates rules on objects; one per thread.
pub struct Evaluator {
    /// The loaded policies, not yet prepared for any `data`.
    base: Arc<lazy::LazyEngine>,
    gathers: Arc<Gathers>,
    tripped: Arc<Tripped>,
    /// Engines prepared for a `data.kgate` each (the key), most recently created last.
    /// Changing regorus' `data` makes it re-analyse every module (~2.5 ms for the built-in
    /// library), and roots alternate between a handful of contexts (dev, staging, prod...),
    /// so each context keeps its own prepared engine.
    engines: Vec<(serde_json::Value, regorus::Engine)>,
    reads: Arc<reads::Reads>,
    rules: Arc<Vec<PolicyRule>>,
    user_data: Arc<serde_json::Map<String, serde_json::Value>>,
    gatekeeper: Option<(Arc<gatekeeper::Gatekeeper>, gatekeeper::Engines)>,
    vm: Option<compiled::Vm>,
    root_gathers: Arc<root_rules::RootGathers>,
    root_vm: Option<compiled::Vm>,
    /// The repository-scope rules' program and gather (a VM is made when they run, once).
    repo: Option<(Arc<regorus::rvm::program::Program>, String)>,
    limits: (Duration, Option<u64>),
}

/// Prepared engines kept per evaluator: more distinct contexts than this (many clusters with
/// their own parameters) evict the oldest.
const PREPARED_ENGINES: usize = 16;

impl Evaluator {
    /// Runs every rule for which `enabled(id)` holds on `object`, with `context` as
    /// `data.kgate`. Violations and per-rule failures are returned in rule order.
    ///
    /// Changing `data` makes regorus re-analyse every module (about 0.2 ms for the built-in
    /// library), so the context is only replaced when it differs from the previous object's:
    /// it describes the root (environment, cluster), which many objects share.
    pub fn evaluate(
        &mut self,
        object: serde_json::Value,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<Violation, EvalError>> {
        self.evaluate_value(&object, || value::rego_value(&object), context, enabled)
    }

    /// [`Evaluator::evaluate`] of `object`, with `input` giving it converted
    /// ([`value::rego_value`]) when a rule applies.
    pub fn evaluate_value(
        &mut self,
        object: &serde_json::Value,
        input: impl FnOnce() -> regorus::Value,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<Violation, EvalError>> {
        let mut out = Vec::new();
        if let Some((g, engine)) = &mut self.gatekeeper {
            out.extend(g.evaluate(engine, object, &enabled));
        }
        // Objects no enabled rule applies to cost nothing, not even a context switch.
        let kind = object
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_owned();
        let kind = kind.as_str();
        let tripped = Arc::clone(&self.tripped);
        let enabled = |id: &str| enabled(id) && !tripped.contains(id);
        let for_kind = |r: &PolicyRule| {
            r.info.is_object_rule()
                && (r.info.kinds.is_empty() || r.info.kinds.iter().any(|k| k == kind))
        };
        if !self
            .rules
            .iter()
            .any(|r| for_kind(r) && enabled(&r.info.id))
        {
            return out;
        }
        // A stopped rule is part of the kind's gather rule: go rule by rule instead.
        let gathered = !self
            .rules
            .iter()
            .any(|r| for_kind(r) && tripped.contains(&r.info.id));
        let rules = Arc::clone(&self.rules);
        let gather = self.gathers.for_kind(kind).to_owned();
        let input = input();
        let compiled = match (&mut self.vm, gathered) {
            (Some(vm), true) => {
                let key = self.reads.context_key(context);
                let data = || context_data(&self.user_data, key.clone());
                vm.run(&key, data, &input, &gather)
            }
            _ => None,
        };
        // The interpreter's engine is prepared only when the VM gave no results.
        let gathered_violations = |results: &regorus::Value, out: &mut Vec<_>| {
            for rule in rules.iter().filter(|r| enabled(&r.info.id)) {
                let key = regorus::Value::from(rule.info.id.as_str());
                if let Some(value) = results.as_object().ok().and_then(|m| m.get(&key)) {
                    out.extend(violations_of(&rule.info.id, value));
                }
            }
        };
        if let Some(all @ regorus::Value::Object(_)) = &compiled {
            gathered_violations(all, &mut out);
            return out;
        }
        let mut engine = match self.engine_for(context) {
            Ok(engine) => engine,
            Err(e) => {
                out.push(Err(e));
                return out;
            }
        };
        engine.set_input(input.clone());
        let all = match compiled {
            Some(all) => Some(all),
            None if gathered => guard::eval_rule(engine, gather).ok(),
            None => None,
        };
        match all {
            Some(all @ regorus::Value::Object(_)) => gathered_violations(&all, &mut out),
            // Undefined (no rule produced a set) or an error somewhere: evaluate rule by rule
            // so that an error is attributed to the rule that raised it.
            _ => {
                for rule in rules.iter() {
                    if !for_kind(rule) || !enabled(&rule.info.id) {
                        continue;
                    }
                    // After a panic (the gather's or a rule's), a fresh engine.
                    if guard::poisoned() {
                        engine = match self.engine_for(context) {
                            Ok(engine) => engine,
                            Err(e) => {
                                out.push(Err(e));
                                return out;
                            }
                        };
                        engine.set_input(input.clone());
                    }
                    match guard::eval_rule(engine, rule.query.clone()) {
                        Ok(value) => out.extend(violations_of(&rule.info.id, &value)),
                        Err(e) if hit_limit(&e) => out.push(Err(tripped.trip(&rule.info.id, &e))),
                        Err(e) => out.push(Err(EvalError {
                            rule: rule.info.id.clone(),
                            message: e.to_string(),
                        })),
                    }
                }
            }
        }
        out
    }

    /// The engine prepared with `context` as `data.kgate` (beside the users' data files),
    /// created on first use. Without policies that read the root, the root path is left out
    /// of `data.kgate` so that all roots of one environment share an engine.
    fn engine_for(
        &mut self,
        context: &serde_json::Value,
    ) -> Result<&mut regorus::Engine, EvalError> {
        if guard::take_poisoned() {
            self.engines.clear();
        }
        let key = self.reads.context_key(context);
        let index = match self.engines.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let mut engine = (self.base.get())
                    .map_err(|message| EvalError {
                        rule: "kgate".to_owned(),
                        message: message.to_owned(),
                    })?
                    .clone();
                engine
                    .add_data(regorus::Value::from(context_data(
                        &self.user_data,
                        key.clone(),
                    )))
                    .map_err(|e| EvalError {
                        rule: "kgate".to_owned(),
                        message: e.to_string(),
                    })?;
                if self.engines.len() == PREPARED_ENGINES {
                    self.engines.remove(0);
                }
                self.engines.push((key, engine));
                self.engines.len() - 1
            }
        };
        Ok(&mut self.engines[index].1)
    }

    /// Sets the objects Gatekeeper's referential templates see as `data.inventory` (the
    /// root being checked). Does nothing without Gatekeeper constraints.
    pub fn set_inventory(&mut self, objects: &[serde_json::Value]) {
        if let Some((_, engines)) = &mut self.gatekeeper {
            engines.set_inventory(objects);
        }
    }

    /// Evaluates each enabled rule `scoped` selects, one by one, on `input`: the rule's
    /// `deny`, or why it failed (a rule that hits a limit is stopped for the run).
    fn run_scoped(
        &mut self,
        scoped: impl Fn(&RuleInfo) -> bool,
        input: &regorus::Value,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<(String, Result<regorus::Value, EvalError>)> {
        let tripped = Arc::clone(&self.tripped);
        let enabled = |id: &str| enabled(id) && !tripped.contains(id);
        let rules = Arc::clone(&self.rules);
        let selected: Vec<&PolicyRule> = rules
            .iter()
            .filter(|r| scoped(&r.info) && enabled(&r.info.id))
            .collect();
        if selected.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(selected.len());
        let mut engine = None;
        for rule in selected {
            // A fresh engine at first, and after a rule's evaluation panicked.
            if engine.is_none() || guard::poisoned() {
                match self.engine_for(context) {
                    Ok(e) => {
                        e.set_input(input.clone());
                        engine = Some(e);
                    }
                    Err(e) => {
                        out.push((e.rule.clone(), Err(e)));
                        return out;
                    }
                }
            }
            let Some(engine) = engine.as_deref_mut() else {
                break;
            };
            let id = rule.info.id.clone();
            let result = guard::eval_rule(engine, rule.query.clone()).map_err(|e| {
                if hit_limit(&e) {
                    tripped.trip(&id, &e)
                } else {
                    EvalError {
                        rule: id.clone(),
                        message: e.to_string(),
                    }
                }
            });
            out.push((id, result));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::PathSegment;

    #[test]
    fn builtin_policies_load_with_metadata() {
        let set = PolicySet::builtin().unwrap();
        let ids: Vec<&str> = set.rules().iter().map(|r| r.info.id.as_str()).collect();
        for id in [
            "image-latest-tag",
            "missing-resource-limits",
            "privileged-container",
            "namespace-without-default-deny",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "rules are kept in id order");
        assert!(
            set.rules()
                .iter()
                .any(|r| r.info.id == "namespace-without-default-deny" && r.info.root_scope)
        );
    }

    #[test]
    fn evaluates_and_returns_paths() {
        let set = PolicySet::builtin().unwrap();
        let mut ev = set.evaluator();
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "nginx",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        let only_latest = |id: &str| id == "image-latest-tag";
        let out = ev.evaluate(obj.clone(), &serde_json::json!({}), only_latest);
        assert_eq!(out.len(), 1, "{out:?}");
        let v = out[0].clone().unwrap();
        assert_eq!(v.rule, "image-latest-tag");
        assert_eq!(
            v.path.unwrap(),
            vec![
                PathSegment::Key("spec".into()),
                PathSegment::Key("containers".into()),
                PathSegment::Index(0),
                PathSegment::Key("image".into())
            ]
        );
        let none = ev.evaluate(obj, &serde_json::json!({}), |id| {
            id != "image-latest-tag" && id.starts_with("image-")
        });
        assert!(none.is_empty(), "{none:?}");
    }

    fn user_rule(body: &str) -> Vec<PolicySource> {
        vec![PolicySource {
            path: "policies/custom/my-rule.rego".into(),
            text: format!(
                "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: my-rule\n#   severity: error\n#   remediation: R\npackage custom.my_rule\n{body}\n"
            ),
        }]
    }

    #[test]
    fn string_violations_and_pointer_paths() {
        let set = PolicySet::load(&user_rule(
            "deny contains \"plain message\" if input.kind == \"X\"\ndeny contains {\"msg\": \"m\", \"path\": \"/metadata/name\"} if input.kind == \"X\"",
        ))
        .unwrap();
        let out = set.evaluator().evaluate(
            serde_json::json!({"kind": "X"}),
            &serde_json::json!({}),
            |_| true,
        );
        assert_eq!(out.len(), 2);
        assert!(out.iter().any(|v| v.as_ref().unwrap().path.is_none()));
    }

    #[test]
    fn one_evaluation_gathers_every_rule() {
        // If the gather rule does not evaluate, every object falls back to one evaluation
        // per rule: correct, but an order of magnitude slower.
        let set = PolicySet::builtin().unwrap();
        let mut ev = set.evaluator();
        let context = serde_json::json!({});
        let engine = ev.engine_for(&context).unwrap();
        engine.set_input(regorus::Value::from(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "nginx"}]}})));
        let results = engine
            .eval_rule(set.gathers.for_kind("Pod").to_owned())
            .expect("the gather rule evaluates");
        let regorus::Value::Object(map) = results else {
            panic!("results is an object, got {results:?}");
        };
        let pod_rules = set
            .rules()
            .iter()
            .filter(|r| r.info.is_object_rule())
            .filter(|r| r.info.kinds.is_empty() || r.info.kinds.iter().any(|k| k == "Pod"))
            .count();
        assert!(pod_rules > 20);
        assert_eq!(map.len(), pod_rules);
        // A kind no rule names gets only the rules for every kind (none built in).
        assert_eq!(set.gathers.for_kind("Widget"), set.gathers.any_kind);
    }

    #[test]
    fn rules_that_need_parameters_say_so() {
        let set = PolicySet::builtin().unwrap();
        let needs: Vec<&str> = set
            .rules()
            .iter()
            .filter(|r| r.info.needs_params)
            .map(|r| r.info.id.as_str())
            .collect();
        assert_eq!(needs, ["namespace-naming", "orphaned-root"]);
    }

    #[test]
    fn policies_that_may_read_the_root_are_detected() {
        let reads_root = |text: &str| reads::reads_context_field(text, "root");
        assert!(!reads_root(
            "x := data.kgate.environment\ny := data.kgate.params.a"
        ));
        assert!(reads_root("r := data.kgate.root"));
        assert!(reads_root("import data.kgate\nr := kgate.root"));
        assert!(reads_root("ctx := data.kgate\n"));
        assert!(reads_root("r := data.kgate[\"root\"]"));
        assert!(!PolicySet::builtin().unwrap().reads_root());
    }

    #[test]
    fn contexts_keep_their_prepared_engines_and_the_root_only_when_read() {
        let ctx = |root: &str, env: &str| serde_json::json!({"root": root, "environment": env});
        let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        let rule = |body: &str| PolicySet::load(&user_rule(body)).unwrap();
        let env_only = rule("deny contains data.kgate.environment if true");
        let mut in_vm = env_only.evaluator();
        // The interpreter's (below, without the VM).
        let mut ev = env_only.evaluator();
        ev.vm = None;
        for root in ["a/overlays/dev", "b/overlays/dev", "a/overlays/prod"] {
            let env = root.rsplit('/').next().unwrap();
            for ev in [&mut in_vm, &mut ev] {
                let out = ev.evaluate(pod.clone(), &ctx(root, env), |_| true);
                assert_eq!(out[0].as_ref().unwrap().message, env);
            }
        }
        // Two roots of one environment share a prepared engine; the VM's results need none.
        assert_eq!(ev.engines.len(), 2);
        assert!(in_vm.vm.is_some() && in_vm.engines.is_empty());

        let root_reader = rule("deny contains data.kgate.root if true");
        assert!(root_reader.reads_root());
        let mut ev = root_reader.evaluator();
        for root in ["a/overlays/dev", "b/overlays/dev"] {
            let out = ev.evaluate(pod.clone(), &ctx(root, "dev"), |_| true);
            assert_eq!(out[0].as_ref().unwrap().message, root);
        }
    }

    #[test]
    fn rules_scoped_by_kind_skip_other_objects() {
        let mut src = user_rule("deny contains \"always\" if true");
        src[0].text = src[0]
            .text
            .replace("# custom:\n", "# custom:\n#   kinds: [Pod]\n");
        let set = PolicySet::load(&src).unwrap();
        assert_eq!(set.rules()[0].info.kinds, ["Pod"]);
        let mut ev = set.evaluator();
        let ctx = serde_json::json!({});
        assert_eq!(
            ev.evaluate(serde_json::json!({"kind": "Pod"}), &ctx, |_| true)
                .len(),
            1
        );
        assert!(
            ev.evaluate(serde_json::json!({"kind": "Service"}), &ctx, |_| true)
                .is_empty()
        );
    }

    #[test]
    fn runtime_errors_are_reported_not_panics() {
        let set = PolicySet::load(&user_rule(
            "deny contains msg if { x := 1 / 0; msg := sprintf(\"%v\", [x]) }",
        ))
        .unwrap();
        let out = set
            .evaluator()
            .evaluate(serde_json::json!({}), &serde_json::json!({}), |_| true);
        // regorus reports division by zero as an evaluation error: it must come back as data.
        assert!(
            matches!(&out[..], [Err(EvalError { rule, .. })] if rule == "my-rule"),
            "{out:?}"
        );
        let set = PolicySet::load(&user_rule("deny := 3")).unwrap();
        let out = set
            .evaluator()
            .evaluate(serde_json::json!({}), &serde_json::json!({}), |_| true);
        assert!(matches!(&out[..], [Err(_)]), "{out:?}");
    }

    #[test]
    fn analysis_errors_are_load_errors_naming_the_file() {
        let src = user_rule("deny contains x if {\n\t[x, y] := [1, z]\n\tz := y\n}");
        match PolicySet::load(&src) {
            Err(PolicyError::Load { path, message }) => {
                assert_eq!(path, "policies/custom/my-rule.rego", "{message}");
            }
            Err(e) => panic!("expected a load error, got {e}"),
            Ok(_) => panic!("expected a load error"),
        }
    }

    #[test]
    fn load_errors_name_the_file() {
        let e = PolicySet::load(&user_rule("deny contains x if {"))
            .err()
            .unwrap();
        assert!(
            matches!(e, PolicyError::Load { ref path, .. } if path == "policies/custom/my-rule.rego")
        );
        let mut src = user_rule("");
        src[0].path = "policies/custom/other-name.rego".into();
        assert!(matches!(
            PolicySet::load(&src).err().unwrap(),
            PolicyError::IdMismatch { .. }
        ));
    }
}
