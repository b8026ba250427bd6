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
    let mut all = kgate::model::rules::engine_rules();
    all.extend(set.rules().iter().map(|r| r.info.clone()));
    let want = kgate::model::rules::markdown(&all);
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

/// kustomize accepts one object under two API versions (its ids include the version); the
/// cluster sees one object, so `duplicate-resource-id` reports the second at its name.
#[test]
fn duplicate_ids_across_api_versions_are_found_in_rendered_roots() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("kustomization.yaml"),
        "resources: [a.yaml, b.yaml]\n",
    )
    .unwrap();
    let deployment = |version: &str| {
        format!("apiVersion: {version}\nkind: Deployment\nmetadata:\n  name: web\nspec: {{}}\n")
    };
    std::fs::write(app.join("a.yaml"), deployment("apps/v1")).unwrap();
    std::fs::write(app.join("b.yaml"), deployment("apps/v1beta2")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "duplicate-resource-id" || f["rule"] == "render-error")
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(
            "app/b.yaml".to_owned(),
            4,
            "Deployment \"web\" is defined twice in this root (apps/v1beta2, and object #1 as apps/v1)"
                .to_owned()
        )]
    );
}
