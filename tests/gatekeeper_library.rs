//! The public gatekeeper-library as a test corpus: every case of every `suite.yaml` (the
//! library's own `gator verify` suites) is run through `kgate check` — template, constraint
//! and object (plus the case's inventory objects) in a scratch repository — and the verdict
//! is compared with the suite's assertions.
//!
//! `tests/data/gatekeeper-library/` vendors a representative subset (see its README); every
//! case there must pass except the documented `KNOWN_GAPS`. The ignored test
//! `whole_library` runs a full checkout: `KGATE_GATEKEEPER_LIBRARY=/path/to/gatekeeper-library
//! cargo test --test gatekeeper_library -- --ignored --nocapture`.

mod common;

use std::path::{Path, PathBuf};

/// Cases of the vendored subset kgate does not pass, with why. The test fails if one starts
/// passing, so the list stays true.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "general/horizontalpodautoscaler/horizontal-pod-autoscaler/example-allowed-hpa",
        HPA_GAP,
    ),
    (
        "general/horizontalpodautoscaler/horizontal-pod-autoscaler/example-disallowed-hpa-replicas",
        HPA_GAP,
    ),
    (
        "general/horizontalpodautoscaler/horizontal-pod-autoscaler/example-disallowed-hpa-replicaspread",
        HPA_GAP,
    ),
    (
        "general/horizontalpodautoscaler/horizontal-pod-autoscaler/example-disallowed-scaletarget",
        HPA_GAP,
    ),
    (
        "pod-security-policy/users/users-and-groups-together/example-allowed",
        "`not accept_value(rule, v, params.ranges)` with `params.ranges` undefined: OPA hoists the \
         reference out of the negation (the body fails, no violation), regorus negates the \
         undefined call (a violation)",
    ),
];

/// regorus reads a line starting with `(` as a call of the previous line's last term
/// (`input.parameters.minimumReplicaSpread\n(hpa.spec.maxReplicas - ...)`); OPA ends the
/// expression at the newline.
const HPA_GAP: &str = "regorus parses `x\\n(y)` as the call `x(y)`";

#[derive(Debug)]
struct Case {
    /// `<template dir>/<test name>/<case name>`.
    id: String,
    template: PathBuf,
    constraint: PathBuf,
    object: PathBuf,
    inventory: Vec<PathBuf>,
    /// (violations: None for "yes", Some(n) for a count; message substring).
    assertions: Vec<(Option<usize>, Option<String>)>,
}

fn load_yaml(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (docs, err) = kgate::yaml::parse_documents(&text, kgate::yaml::LoadLimits::default());
    assert!(err.is_none(), "{}: {err:?}", path.display());
    docs.iter()
        .map(|d| d.root.to_json())
        .filter(|v| !v.is_null())
        .collect()
}

fn cases(library: &Path) -> Vec<Case> {
    let mut suites = Vec::new();
    let mut stack = vec![library.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "suite.yaml") {
                suites.push(p);
            }
        }
    }
    suites.sort();
    let mut out = Vec::new();
    for suite in suites {
        let dir = suite.parent().unwrap();
        let rel_dir = dir.strip_prefix(library).unwrap().display().to_string();
        for doc in load_yaml(&suite) {
            for test in doc["tests"].as_array().into_iter().flatten() {
                let (Some(template), Some(constraint)) =
                    (test["template"].as_str(), test["constraint"].as_str())
                else {
                    continue;
                };
                for case in test["cases"].as_array().into_iter().flatten() {
                    let Some(object) = case["object"].as_str() else {
                        continue;
                    };
                    let assertions = case["assertions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let n = match &a["violations"] {
                                serde_json::Value::String(s) if s.trim() == "yes" => None,
                                serde_json::Value::String(s) if s.trim() == "no" => Some(0),
                                serde_json::Value::Bool(true) => None,
                                serde_json::Value::Bool(false) => Some(0),
                                serde_json::Value::Number(n) => n.as_u64().map(|n| n as usize),
                                // gator: an assertion without `violations` means "yes".
                                serde_json::Value::Null => None,
                                other => panic!("{}: violations: {other}", suite.display()),
                            };
                            (n, a["message"].as_str().map(str::to_owned))
                        })
                        .collect();
                    out.push(Case {
                        id: format!(
                            "{rel_dir}/{}/{}",
                            test["name"].as_str().unwrap_or("?"),
                            case["name"].as_str().unwrap_or("?")
                        ),
                        template: dir.join(template),
                        constraint: dir.join(constraint),
                        object: dir.join(object),
                        inventory: case["inventory"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|i| i.as_str())
                            .map(|i| dir.join(i))
                            .collect(),
                        assertions,
                    });
                }
            }
        }
    }
    out
}

/// Runs one case; `Err` says why it does not give the expected verdict.
fn run(case: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    std::fs::copy(&case.template, r.join("template.yaml")).unwrap();
    std::fs::copy(&case.constraint, r.join("constraint.yaml")).unwrap();
    // The object first, then the inventory, in one file: a file's objects are the
    // `data.inventory` referential templates see.
    let object = load_yaml(&case.object);
    let Some(target) = object.first().cloned() else {
        return Err("the case's object file is empty".to_owned());
    };
    let mut docs = object;
    for i in &case.inventory {
        docs.extend(load_yaml(i));
    }
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap())
        .collect();
    std::fs::write(r.join("objects.yaml"), text.join("\n---\n")).unwrap();
    let constraint = load_yaml(&case.constraint);
    let rule = format!(
        "{}-{}",
        constraint[0]["kind"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase(),
        constraint[0]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase()
    );
    let out = common::check(r, &[]);
    let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(r) => r,
        Err(_) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "kgate exited {:?}: {}",
                out.status.code(),
                stderr.trim()
            ));
        }
    };
    let same = |a: &serde_json::Value, b: &serde_json::Value| {
        a.as_str().unwrap_or("") == b.as_str().unwrap_or("")
    };
    let findings: Vec<&serde_json::Value> = report["findings"].as_array().unwrap().iter().collect();
    if let Some(e) = findings.iter().find(|f| {
        f["rule"] == "policy-error"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("`{rule}`")))
    }) {
        return Err(format!(
            "policy error: {}",
            e["message"].as_str().unwrap_or("")
        ));
    }
    let violations: Vec<&str> = findings
        .iter()
        .filter(|f| f["rule"] == rule.as_str())
        .filter(|f| {
            let o = &f["object"];
            same(&o["kind"], &target["kind"])
                && same(&o["name"], &target["metadata"]["name"])
                && same(&o["namespace"], &target["metadata"]["namespace"])
        })
        .map(|f| f["message"].as_str().unwrap_or(""))
        .collect();
    for (n, message) in &case.assertions {
        let matching = violations
            .iter()
            .filter(|m| {
                message.as_ref().is_none_or(|want| {
                    regex::Regex::new(want).map_or(m.contains(want.as_str()), |re| re.is_match(m))
                })
            })
            .count();
        let ok = match n {
            None => matching > 0,
            Some(n) => matching == *n,
        };
        if !ok {
            return Err(format!(
                "expected {} violation(s){}, got {matching}: {violations:?}",
                n.map_or("some".to_owned(), |n| n.to_string()),
                message
                    .as_ref()
                    .map(|m| format!(" matching `{m}`"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Every case, a few kgate processes at a time (each is mostly start-up).
fn run_all(cases: &[Case]) -> Vec<Result<(), String>> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let chunk = cases.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(run).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a case runner panicked"))
            .collect()
    })
}

fn vendored() -> PathBuf {
    common::fixture("gatekeeper-library/library")
}

#[test]
fn vendored_library_cases_give_the_suites_verdicts() {
    let cases = cases(&vendored());
    assert!(cases.len() >= 60, "only {} cases vendored", cases.len());
    let mut failures = Vec::new();
    let mut gaps_passing = Vec::new();
    for (case, result) in cases.iter().zip(run_all(&cases)) {
        let gap = KNOWN_GAPS.iter().find(|(id, _)| *id == case.id);
        match (result, gap) {
            (Ok(()), Some(_)) => gaps_passing.push(case.id.clone()),
            (Err(e), None) => failures.push(format!("{}: {e}", case.id)),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        gaps_passing.is_empty(),
        "known gaps now pass, remove them: {gaps_passing:?}"
    );
}

#[test]
#[ignore = "needs a gatekeeper-library checkout in KGATE_GATEKEEPER_LIBRARY"]
fn whole_library() {
    let root =
        PathBuf::from(std::env::var("KGATE_GATEKEEPER_LIBRARY").expect("KGATE_GATEKEEPER_LIBRARY"));
    let cases = cases(&root.join("library"));
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(run_all(&cases)) {
        if let Err(e) = result {
            failures.push(format!("{}: {e}", case.id));
        }
    }
    println!(
        "{} of {} samples give the expected verdict",
        cases.len() - failures.len(),
        cases.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
}
