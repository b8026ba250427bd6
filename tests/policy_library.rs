//! Meta-tests over the built-in rule library, in the manner of kube-linter's
//! `builtin_checks_test.go`: every rule is documented, tested, and its tests pass.

use kgate::policy::testing::{TestOutcome, run_tests};
use kgate::policy::{PolicySet, builtin_sources};

#[test]
fn every_builtin_rego_test_passes() {
    let results = run_tests(&builtin_sources()).expect("policies load");
    assert!(
        results.len() >= 20,
        "expected the built-in tests, got {}",
        results.len()
    );
    let failures: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != TestOutcome::Pass)
        .map(|r| format!("{}::{} -> {:?}", r.file, r.name, r.outcome))
        .collect();
    assert!(
        failures.is_empty(),
        "failing policy tests:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_test_file_with_passing_and_failing_cases() {
    let set = PolicySet::builtin().expect("built-in policies load");
    let sources = builtin_sources();
    let results = run_tests(&sources).expect("policies load");
    for rule in set.rules() {
        let test_path = rule.info.source.replace(".rego", "_test.rego");
        let test = sources
            .iter()
            .find(|s| s.path == test_path)
            .unwrap_or_else(|| panic!("{} has no {test_path}", rule.info.id));
        assert!(
            test.text
                .contains(&format!("{}.deny", rule.info.id.replace('-', "_"))),
            "{test_path} does not exercise the rule's deny set"
        );
        let names: Vec<&str> = results
            .iter()
            .filter(|r| r.file == test_path)
            .map(|r| r.name.as_str())
            .collect();
        assert!(
            names.iter().any(|n| n.ends_with("_fires"))
                && names.iter().any(|n| n.ends_with("_passes")),
            "{test_path} needs cases that fire (test_*_fires) and that pass (test_*_passes): {names:?}"
        );
    }
}

#[test]
fn every_rule_is_fully_documented() {
    let set = PolicySet::builtin().expect("built-in policies load");
    assert!(set.rules().len() >= 3);
    for rule in set.rules() {
        let i = &rule.info;
        assert!(i.title.len() >= 10, "{}: title too short", i.id);
        assert!(
            i.description.len() >= 80,
            "{}: description must say why it matters and give an example",
            i.id
        );
        assert!(
            i.remediation.ends_with('.'),
            "{}: remediation must be a full sentence",
            i.id
        );
        let area = i.source.split('/').nth(1).unwrap_or_default();
        assert!(
            !area.is_empty() && area != "lib",
            "{}: rules live in policies/<area>/",
            i.id
        );
    }
}

#[test]
fn docs_rules_md_is_current() {
    let set = PolicySet::builtin().expect("built-in policies load");
    let mut all = kgate::rules::engine_rules();
    all.extend(set.rules().iter().map(|r| r.info.clone()));
    let want = kgate::rules::markdown(&all);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: run `cargo run -- policy list --format markdown > docs/rules.md`"
    );
    // Every rule is in the reference (ids are the slugs findings use).
    for r in &all {
        assert!(want.contains(&format!("\n## {}\n", r.id)), "{}", r.id);
    }
}
