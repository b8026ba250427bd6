//! The object rules compiled for regorus' register VM (RVM): the per-kind gather rules run
//! about three times faster there than in regorus' tree-walking interpreter, with the same
//! results (measured on the 200-app monorepo; see benches/RESULTS.md, session 7).
//!
//! The RVM calls regorus' own builtins only, not the extensions kgate installs on an engine
//! (`budget`, `compat`): a policy set in which an object rule or a library may call one of
//! them is not compiled, and runs in the interpreter as before. Any error or panic of the VM
//! falls back to the interpreter too, which reports it rule by rule as it always did. A rule
//! body that errors (`1 / 0`, a type error, a failing builtin) is such an error only with the
//! vendored regorus (`vendor/regorus.patch`) and strict builtin errors, which `Vm::new` sets:
//! upstream's VM makes that rule undefined, and a broken rule would pass.

use std::io::Read;
use std::num::{NonZeroU32, NonZeroU64};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::utils::limits::ExecutionTimerConfig;

/// Calls that name a builtin kgate replaces or adds with an extension of the interpreter.
const EXTENDED: [&str; 9] = [
    "numbers.range",
    "re_match(",
    "any(",
    "all(",
    "set_diff(",
    "cast_array(",
    "cast_set(",
    "sprintf(",
    "concat(",
];

/// Whether no text in `texts` (the object rules and libraries the gathers reach) may call
/// a builtin that kgate extends. `guarded`: the engine has the checked `sprintf` or the
/// sized expanders installed (then `sprintf` and `concat` must not be called either).
pub(super) fn compilable<'a>(mut texts: impl Iterator<Item = &'a str>, guarded: bool) -> bool {
    let names = if guarded {
        &EXTENDED[..]
    } else {
        &EXTENDED[..EXTENDED.len() - 2]
    };
    texts.all(|t| !names.iter().any(|n| calls(t, n)) && !defines_keyed_set(t))
}

/// Whether `text` may define a multi-value rule with a key (`s[k] contains v`), which
/// regorus' VM (0.14.1) evaluates to nothing where the interpreter gives the values.
fn defines_keyed_set(text: &str) -> bool {
    text.lines().any(|line| {
        let Some((head, _)) = line.split_once(" contains ") else {
            return false;
        };
        let head = head.trim_end();
        let name = head.split('[').next().unwrap_or("");
        !name.is_empty()
            && name.len() < head.len()
            && head.ends_with(']')
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

/// Whether `text` names `name` as a whole (`drops_all(` is not `all(`).
fn calls(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

/// Compiles the gather rules `entries` (rule paths, the first one any) into one program;
/// `None` (the interpreter, then) when this regorus' VM would hide a rule's error.
pub(super) fn compile(engine: &regorus::Engine, entries: &[String]) -> Option<Arc<Program>> {
    if !vm_reports_body_errors() {
        return None;
    }
    compile_unchecked(engine, entries)
}

fn compile_unchecked(engine: &regorus::Engine, entries: &[String]) -> Option<Arc<Program>> {
    let first = entries.first()?;
    let mut engine = engine.clone();
    let policy = engine
        .compile_with_entrypoint(&first.as_str().into())
        .ok()?;
    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
    Compiler::compile_from_policy(&policy, &entries).ok()
}

/// Where programs compiled in a run before are kept (kgate's render cache), by the
/// fingerprint of the policies they were compiled from.
pub trait ProgramCache: Sync {
    fn get(&self, key: &[u8; 32]) -> Option<Vec<u8>>;
    fn put(&self, key: &[u8; 32], bytes: &[u8]);
}

/// The object rules', the root rules' and the repository rules' programs (`None`: that set
/// runs in the interpreter).
pub(super) type Programs = (
    Option<Arc<Program>>,
    Option<Arc<Program>>,
    Option<Arc<Program>>,
);

/// The [`Programs`] `cache` holds for `fingerprint`. Anything it cannot give back whole is a
/// miss: the programs are compiled again.
pub(super) fn stored_programs(
    cache: &dyn ProgramCache,
    fingerprint: &[u8; 32],
) -> Option<Programs> {
    programs_from(&cache.get(fingerprint)?)
}

/// The programs [`programs_bytes`] wrote.
fn programs_from(bytes: &[u8]) -> Option<Programs> {
    let (program, rest) = take_program(bytes)?;
    let (root_program, rest) = take_program(rest)?;
    let (repo_program, rest) = take_program(rest)?;
    rest.is_empty()
        .then_some((program, root_program, repo_program))
}

/// One program as [`programs_bytes`] wrote it: a presence byte, then the length and the
/// bytes of regorus' binary serialization.
fn take_program(bytes: &[u8]) -> Option<(Option<Arc<Program>>, &[u8])> {
    match bytes.split_first()? {
        (0, rest) => Some((None, rest)),
        (1, rest) => {
            let (len, rest) = rest.split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
            let (program, rest) = (rest.get(..len)?, rest.get(len..)?);
            match Program::deserialize_binary(program).ok()? {
                regorus::rvm::program::DeserializationResult::Complete(p) => {
                    Some((Some(Arc::new(p)), rest))
                }
                regorus::rvm::program::DeserializationResult::Partial(_) => None,
            }
        }
        _ => None,
    }
}

/// Keeps `programs` in `cache` for `fingerprint`; a program that cannot be serialized is
/// not kept (the next run compiles it again).
pub(super) fn store_programs(
    cache: &dyn ProgramCache,
    fingerprint: &[u8; 32],
    programs: &Programs,
) {
    if let Some(bytes) = programs_bytes(programs) {
        cache.put(fingerprint, &bytes);
    }
}

/// `programs` serialized, each program as [`take_program`] reads it back.
fn programs_bytes((program, root_program, repo_program): &Programs) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    for p in [program, root_program, repo_program] {
        match p {
            None => bytes.push(0),
            Some(p) => {
                let binary = p.serialize_binary().ok()?;
                let len = u32::try_from(binary.len()).ok()?;
                bytes.push(1);
                bytes.extend_from_slice(&len.to_le_bytes());
                bytes.extend_from_slice(&binary);
            }
        }
    }
    Some(bytes)
}

/// The built-in library's programs as this source tree compiles them, so that a run without
/// a cache (a CI runner's first) does not compile them: the fingerprint of the policies they
/// were compiled from (32 bytes), then [`programs_bytes`] compressed with gzip. Written by
/// `KGATE_BLESS_PROGRAMS=1 cargo test --lib embedded_programs`; the test fails when they
/// are not the programs the tree compiles.
const EMBEDDED: &[u8] = include_bytes!("builtin-programs.bin");

/// The embedded programs, when they were compiled from the policies of `fingerprint` (the
/// built-in library alone, as this tree has it) and this build's VM is the one they were
/// compiled for (see [`vm_reports_body_errors`]).
pub(super) fn embedded_programs(fingerprint: &[u8; 32]) -> Option<Programs> {
    let (of, compressed) = EMBEDDED.split_first_chunk::<32>()?;
    if of != fingerprint || !vm_reports_body_errors() {
        return None;
    }
    programs_from(&gunzip(compressed)?)
}

/// The bytes gzip `compressed` holds.
fn gunzip(compressed: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Whether the VM this binary links reports a rule body's error (a division by zero) rather
/// than making the rule undefined: true with the vendored, patched regorus; false if kgate is
/// ever built against upstream's (a `[patch]` is not honoured by every way of building a
/// crate), and then no rule runs in the VM. Checked once per process, on a one-rule program.
pub(super) fn vm_reports_body_errors() -> bool {
    static REPORTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REPORTS.get_or_init(|| {
        let probe = || -> Option<bool> {
            let mut engine = regorus::Engine::new();
            engine
                .add_policy(
                    "probe.rego".to_owned(),
                    "package probe\nx := input.a / input.b\n".to_owned(),
                )
                .ok()?;
            let program = compile_unchecked(&engine, &["data.probe.x".to_owned()])?;
            let mut vm = Vm::new(program, Duration::from_secs(5), None);
            let key = serde_json::Value::Null;
            let mut divide = |b: i64| {
                let input = regorus::Value::from(serde_json::json!({"a": 1, "b": b}));
                vm.run(&key, || serde_json::json!({}), &input, "data.probe.x")
            };
            // The VM runs the rule (1 / 1), and fails on its error (1 / 0).
            let runs = divide(1) == Some(regorus::Value::from(1_i64));
            Some(runs && divide(0).is_none())
        };
        probe().unwrap_or(false)
    })
}

/// A VM of one evaluator, with the context key of the `data` it was last given.
pub(super) struct Vm {
    vm: RegoVM,
    data: Option<serde_json::Value>,
}

impl Vm {
    pub(super) fn new(program: Arc<Program>, timeout: Duration, memory: Option<u64>) -> Vm {
        let mut vm = RegoVM::new();
        vm.load_program(program);
        // A rule body that errors is an error, as in the interpreter (strict by default):
        // with vendor/regorus.patch the VM then fails, and the interpreter reports it.
        vm.set_strict_builtin_errors(true);
        // The time and memory limits bound a run, as in the interpreter. regorus' default
        // instruction limit (25,000) would send every large root (a cluster's thousand
        // objects) back to the interpreter.
        vm.set_max_instructions(usize::MAX);
        vm.set_execution_timer_config(Some(ExecutionTimerConfig {
            limit: timeout,
            check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
        }));
        vm.set_memory_budget_config(
            memory
                .and_then(NonZeroU64::new)
                .map(|limit| regorus::MemoryBudgetConfig { limit }),
        );
        Vm { vm, data: None }
    }

    /// Evaluates the rule `entry` on `input` with `data` (the users' data files and
    /// `data.kgate`, made from the context `key` when it changed); `None` when the VM fails
    /// or panics.
    pub(super) fn run(
        &mut self,
        key: &serde_json::Value,
        data: impl FnOnce() -> serde_json::Value,
        input: &regorus::Value,
        entry: &str,
    ) -> Option<regorus::Value> {
        if self.data.as_ref() != Some(key) {
            self.data = None;
            self.vm.set_data(super::value::rego_value(&data())).ok()?;
            self.data = Some(key.clone());
        }
        self.vm.set_input(input.clone());
        match catch_unwind(AssertUnwindSafe(|| {
            self.vm.execute_entry_point_by_name(entry)
        })) {
            Ok(Ok(value)) => Some(value),
            Ok(Err(_)) => None,
            Err(_) => {
                // After a panic the VM's state is not trusted: the next run sets it again.
                self.data = None;
                None
            }
        }
    }
}

impl super::Evaluator {
    /// The `deny` of each enabled rule `scoped` selects, by id from the gather rule `entry`
    /// run in `vm` on `input` (with `data.kgate` for `context`); `None` when one of the rules
    /// `scoped` selects was stopped (the gather holds it: the interpreter runs the others),
    /// the VM fails, or the gather leaves a rule out.
    pub(super) fn run_gather(
        &self,
        vm: &mut Vm,
        (entry, input): (&str, &regorus::Value),
        context: &serde_json::Value,
        scoped: impl Fn(&crate::model::rules::RuleInfo) -> bool,
        enabled: impl Fn(&str) -> bool,
    ) -> Option<Vec<(String, Result<regorus::Value, super::EvalError>)>> {
        let selected = self.rules.iter().filter(|r| scoped(&r.info));
        if selected.clone().any(|r| self.tripped.contains(&r.info.id)) {
            return None;
        }
        let key = self.reads.context_key(context);
        let data = || super::context_data(&self.user_data, key.clone());
        let Some(regorus::Value::Object(results)) = vm.run(&key, data, input, entry) else {
            return None;
        };
        selected
            .filter(|r| enabled(&r.info.id))
            .map(|r| {
                let value = results.get(&regorus::Value::from(r.info.id.as_str()))?;
                Some((r.info.id.clone(), Ok(value.clone())))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{PolicySet, PolicySource};
    use serde_json::json;

    /// The vendored regorus' VM reports a body's error: the probe that keeps an unpatched
    /// regorus out of the VM path lets this one in.
    #[test]
    fn the_linked_vm_reports_body_errors() {
        assert!(super::vm_reports_body_errors());
    }

    /// The library is imported under an alias (`import data.kgate.lib.kubernetes as k8s`):
    /// the vendored compiler makes `k8s.containers` the rule call `data.kgate.lib.kubernetes
    /// .containers` (vendor/regorus.patch). Upstream's looked the whole package up as a virtual
    /// document on every use, evaluating and assembling all its rules: 10% of a check.
    #[test]
    fn aliased_library_imports_compile_to_rule_calls() {
        let set = PolicySet::builtin().expect("built-in policies");
        for program in [&set.program, &set.root_program] {
            let program = program.as_ref().expect("the built-in rules compile");
            let lookups = &program.instruction_data.virtual_data_document_lookup_params;
            assert!(
                lookups.is_empty(),
                "{} whole-document lookups",
                lookups.len()
            );
        }
    }

    fn objects() -> Vec<serde_json::Value> {
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                        "containers": [{"name": "a", "image": "nginx:latest",
                            "securityContext": {"privileged": true}}],
                        "initContainers": [{"name": "i", "image": "busybox"}]}}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"type": "NodePort", "selector": {"app": "web"}}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "nginx@sha256:0d17"}]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        ]
    }

    #[test]
    fn the_builtin_library_runs_compiled_with_the_interpreters_results() {
        let set = PolicySet::builtin().expect("built-in policies");
        assert!(set.program.is_some(), "the built-in object rules compile");
        let mut compiled = set.evaluator();
        let mut interpreted = set.evaluator();
        interpreted.vm = None;
        for context in [
            json!({"environment": "prod", "production": true, "requireDigest": true,
                "allowedRegistries": ["registry.example.com"], "params": {}}),
            json!({"environment": "dev", "production": false, "params": {}}),
        ] {
            for object in objects() {
                let kind = object["kind"].as_str().unwrap_or("").to_owned();
                let gather = set.gathers.for_kind(&kind).to_owned();
                let vm = compiled.vm.as_mut().expect("a VM");
                let input = regorus::Value::from(object.clone());
                let data = || json!({"kgate": context.clone()});
                assert!(
                    vm.run(&context, data, &input, &gather).is_some(),
                    "{kind} runs in the VM"
                );
                let a = compiled.evaluate(object.clone(), &context, |_| true);
                let b = interpreted.evaluate(object, &context, |_| true);
                assert_eq!(a, b, "{kind}");
                if kind == "Deployment" {
                    assert!(a.len() > 5, "{a:?}");
                }
            }
        }
    }

    /// A cache in memory, counting what is stored in it.
    #[derive(Default)]
    struct MemoryCache(std::sync::Mutex<(Option<Vec<u8>>, usize)>);

    impl super::ProgramCache for MemoryCache {
        fn get(&self, _key: &[u8; 32]) -> Option<Vec<u8>> {
            self.0.lock().expect("lock").0.clone()
        }

        fn put(&self, _key: &[u8; 32], bytes: &[u8]) {
            let mut stored = self.0.lock().expect("lock");
            *stored = (Some(bytes.to_vec()), stored.1 + 1);
        }
    }

    /// The embedded programs are those this tree compiles for the built-in library, and a
    /// load of the library takes them instead of compiling. `KGATE_BLESS_PROGRAMS=1` writes
    /// them when they are not (a policy or regorus changed).
    #[test]
    fn embedded_programs_are_those_this_tree_compiles() {
        let (sources, user) = (crate::policy::builtin_sources(), Default::default());
        let cache = MemoryCache::default();
        let compiled = PolicySet::load_programs(&sources, &user, Some(&cache), false)
            .expect("built-in policies");
        let fresh = cache.0.lock().expect("lock").0.clone().expect("stored");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/policy/builtin-programs.bin"
        );
        if std::env::var_os("KGATE_BLESS_PROGRAMS").is_some() {
            let mut gz = flate2::write::GzEncoder::new(
                compiled.fingerprint.to_vec(),
                flate2::Compression::best(),
            );
            std::io::Write::write_all(&mut gz, &fresh).expect("compresses");
            std::fs::write(path, gz.finish().expect("compresses")).expect("writes");
            return;
        }
        let (of, compressed) = (super::EMBEDDED.split_first_chunk::<32>())
            .expect("builtin-programs.bin holds a fingerprint (KGATE_BLESS_PROGRAMS=1 writes it)");
        assert_eq!(
            of, &compiled.fingerprint,
            "the embedded programs are of other policies: KGATE_BLESS_PROGRAMS=1 cargo test --lib embedded_programs"
        );
        let embedded = super::gunzip(compressed).expect("decompresses");
        assert!(
            embedded == fresh,
            "the embedded programs are not those this tree compiles: KGATE_BLESS_PROGRAMS=1 cargo test --lib embedded_programs"
        );
        // Taken by a load (into its cache, too), not compiled again.
        let taken = MemoryCache::default();
        let set = PolicySet::load_cached(&sources, &user, Some(&taken)).expect("loads");
        assert_eq!(taken.0.lock().expect("lock").0.as_ref(), Some(&fresh));
        assert!(set.program.is_some() && set.root_program.is_some() && set.repo_program.is_some());
        // Another library's programs are compiled.
        let mut other = sources.clone();
        other[0].text.push_str("\n# changed\n");
        let fingerprint = PolicySet::load(&other).expect("loads").fingerprint;
        assert!(super::embedded_programs(&fingerprint).is_none());
        assert!(super::embedded_programs(&compiled.fingerprint).is_some());
    }

    /// The programs are compiled from the engine the load analysed: the same programs, byte
    /// for byte, as compiling from the engine as the policies were added to it.
    #[test]
    fn programs_from_the_analysed_engine_are_the_same() {
        let set = PolicySet::builtin().expect("built-in policies");
        let bytes = |p: &Option<std::sync::Arc<super::Program>>| {
            p.as_ref()
                .map(|p| p.serialize_binary().expect("serializes"))
        };
        let engine = set.engine.get().expect("made");
        let fresh = |entries: &[String]| bytes(&super::compile(engine, entries));
        assert!(set.program.is_some() && set.root_program.is_some() && set.repo_program.is_some());
        assert_eq!(bytes(&set.program), fresh(&set.gathers.all()));
        assert_eq!(bytes(&set.root_program), fresh(&set.root_gathers.entries()));
        assert_eq!(
            bytes(&set.repo_program),
            fresh(std::slice::from_ref(&set.repo_gather))
        );
    }

    #[test]
    fn stored_programs_are_taken_back_and_give_the_same_findings() {
        let cache = MemoryCache::default();
        let (sources, user) = (crate::policy::builtin_sources(), Default::default());
        let load = || PolicySet::load_cached(&sources, &user, Some(&cache)).expect("loads");
        let stores = || cache.0.lock().expect("lock").1;
        let compiled = load();
        assert_eq!(stores(), 1);
        let taken_back = load();
        assert_eq!(stores(), 1, "taken back, not compiled and stored again");
        assert!(taken_back.program.is_some() && taken_back.root_program.is_some());
        let context = json!({"environment": "prod", "production": true, "params": {}});
        for object in objects() {
            let findings =
                |set: &PolicySet| set.evaluator().evaluate(object.clone(), &context, |_| true);
            assert_eq!(findings(&compiled), findings(&taken_back), "{object}");
        }
        // A damaged entry is a miss: the programs are compiled and stored again.
        if let Some(bytes) = &mut cache.0.lock().expect("lock").0 {
            bytes.truncate(bytes.len() / 2);
        }
        assert!(load().program.is_some());
        assert_eq!(stores(), 2);
    }

    /// One custom object rule (`my-rule`) made of `body`.
    fn custom(body: &str) -> Vec<PolicySource> {
        vec![PolicySource {
            path: "policies/custom/my-rule.rego".into(),
            text: format!(
                "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: my-rule\n#   severity: error\n#   remediation: R\npackage custom.my_rule\n{body}\n"
            ),
        }]
    }

    /// Loads `body`, checks that it is compiled, and returns what the VM alone gives for
    /// `object` (`None`: it failed, the interpreter takes over) and what the evaluator reports.
    fn run_compiled(
        body: &str,
        object: &serde_json::Value,
    ) -> (
        Option<regorus::Value>,
        Vec<Result<super::super::Violation, super::super::EvalError>>,
    ) {
        let set = PolicySet::load(&custom(body)).expect("loads");
        assert!(set.program.is_some(), "compiled: {body}");
        let mut evaluator = set.evaluator();
        let gather = set.gathers.for_kind("X").to_owned();
        let vm = evaluator.vm.as_mut().expect("a VM");
        let context = json!({});
        let input = regorus::Value::from(object.clone());
        let alone = vm.run(&context, || json!({"kgate": {}}), &input, &gather);
        let out = evaluator.evaluate(object.clone(), &context, |_| true);
        (alone, out)
    }

    /// Bodies that fail at run time, directly and in a helper function the rule calls.
    const ERRORS: [&str; 8] = [
        // Division by zero.
        "deny contains \"m\" if { 10 / input.spec.replicas > 1 }",
        "f(x) := y if { y := 10 / x }\ndeny contains \"m\" if { f(input.spec.replicas) > 1 }",
        // A string used as a number.
        "deny contains \"m\" if { input.metadata.name + 1 > 1 }",
        "f(x) := y if { y := x * 2 }\ndeny contains \"m\" if { f(input.metadata.name) > 1 }",
        // A builtin given an argument of the wrong type.
        "deny contains \"m\" if { startswith(input.spec.replicas, \"a\") }",
        "f(x) if { startswith(x, \"a\") }\ndeny contains \"m\" if { f(input.spec.replicas) }",
        // A builtin that fails on its (well-typed) argument.
        "deny contains \"m\" if { to_number(input.metadata.name) > 1 }",
        "f(x) := n if { n := to_number(x) }\ndeny contains \"m\" if { f(input.metadata.name) > 1 }",
    ];

    #[test]
    fn a_rule_body_that_errors_is_a_policy_error_not_a_pass() {
        let object = json!({"kind": "X", "metadata": {"name": "web"}, "spec": {"replicas": 0}});
        let mut wrong = Vec::new();
        for body in ERRORS {
            let (alone, out) = run_compiled(body, &object);
            // The VM fails (vendor/regorus.patch) rather than making the rule undefined, and
            // the interpreter reports the rule's error.
            if alone.is_some() || !matches!(&out[..], [Err(e)] if e.rule == "my-rule") {
                wrong.push(format!("{body}: the VM gave {alone:?}, reported {out:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn body_errors_leave_the_suspendable_vm_too() {
        // kgate runs the VM to completion; the patch covers regorus' other execution path.
        use regorus::rvm::vm::{ExecutionMode, RegoVM};
        let run = |body: &str, object: &serde_json::Value| {
            let set = PolicySet::load(&custom(body)).expect("loads");
            let program = set.program.clone().expect("compiled");
            let mut vm = RegoVM::new();
            vm.load_program(program);
            vm.set_strict_builtin_errors(true);
            vm.set_execution_mode(ExecutionMode::Suspendable);
            vm.set_data(regorus::Value::from(json!({"kgate": {}})))
                .expect("data");
            vm.set_input(regorus::Value::from(object.clone()));
            vm.execute_entry_point_by_name(set.gathers.for_kind("X"))
        };
        let object = json!({"kind": "X", "metadata": {"name": "web"}, "spec": {"replicas": 0}});
        let swallowed: Vec<_> = ERRORS
            .iter()
            .filter(|body| run(body, &object).is_ok())
            .collect();
        assert!(swallowed.is_empty(), "{swallowed:#?}");
        let fine = run("deny contains \"m\" if { input.kind == \"Y\" }", &object);
        assert!(fine.is_ok(), "{fine:?}");
    }

    #[test]
    fn failed_conditions_stay_in_the_vm() {
        let object = json!({"kind": "X", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
        let bodies = [
            "deny contains \"m\" if { input.kind == \"Y\" }",
            "deny contains \"m\" if { not input.metadata.name }",
            "deny contains \"m\" if { some c in input.spec.containers; c.privileged }",
            "deny contains \"m\" if { every k, _ in input.metadata { k == \"labels\" } }",
            "f(x) := y if { x > 5; y := x }\ndeny contains \"m\" if { f(input.spec.replicas) }",
            "deny contains \"m\" if { 10 / input.spec.replicas > 7 }",
            "deny contains \"m\" if { input.metadata.name[0] == \"w\" }",
            "deny contains \"m\" if { [n | n := input.spec[_]; n > 3][0] }",
        ];
        for body in bodies {
            let (alone, out) = run_compiled(body, &object);
            assert!(alone.is_some(), "{body}: fell back to the interpreter");
            assert!(out.is_empty(), "{body}: {out:?}");
        }
    }

    #[test]
    fn mixed_type_comparisons_fall_back_with_the_interpreters_order() {
        // With strict errors the VM refuses `<` between a number and a string; the
        // interpreter orders them (numbers first), and its result is the one reported.
        let object = json!({"kind": "X", "spec": {"replicas": 2}});
        let (alone, out) = run_compiled(
            "deny contains \"m\" if { input.spec.replicas < \"1\" }",
            &object,
        );
        assert!(alone.is_none(), "{alone:?}");
        assert!(matches!(&out[..], [Ok(v)] if v.message == "m"), "{out:?}");
    }

    #[test]
    fn keyed_multi_value_rules_are_detected() {
        assert!(super::defines_keyed_set(
            "s[k] contains v if { k := 1; v := 2 }"
        ));
        assert!(super::defines_keyed_set("x\nlabels[ns] contains l if {"));
        assert!(!super::defines_keyed_set("deny contains msg if {"));
        assert!(!super::defines_keyed_set(
            "\tsome x in s[\"a\"]\n\tcontains(x, \"y\")"
        ));
        assert!(!super::defines_keyed_set("deny[msg] {"));
    }

    #[test]
    fn only_whole_names_count_as_calls() {
        assert!(super::calls("x := all([true])", "all("));
        assert!(super::calls("every(x) if all(y)", "all("));
        assert!(!super::calls("not drops_all(c)", "all("));
        assert!(!super::calls("x := strings.any(c)", "any("));
    }

    #[test]
    fn policies_calling_an_extended_builtin_stay_in_the_interpreter() {
        let rule = |body: &str| {
            vec![PolicySource {
                path: "policies/custom/my-rule.rego".into(),
                text: format!(
                    "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: my-rule\n#   severity: error\n#   remediation: R\npackage custom.my_rule\n{body}\n"
                ),
            }]
        };
        let set = PolicySet::load(&rule(
            "deny contains \"m\" if re_match(\"^a\", input.metadata.name)",
        ))
        .expect("loads");
        assert!(set.program.is_none());
        let out = set.evaluator().evaluate(
            json!({"kind": "X", "metadata": {"name": "ab"}}),
            &json!({}),
            |_| true,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        let set =
            PolicySet::load(&rule("deny contains \"m\" if input.kind == \"X\"")).expect("loads");
        assert!(set.program.is_some());
        let out = set
            .evaluator()
            .evaluate(json!({"kind": "X"}), &json!({}), |_| true);
        assert_eq!(out.len(), 1, "{out:?}");
    }
}
