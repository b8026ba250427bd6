//! The repository's own conftest policies run unchanged (`tests/data/conftest`): `package
//! main` with `deny`, `violation` and prefixed `warn_*` rules, Rego v1 and v0 syntax, a data
//! file merged into `data`, evaluated on rendered objects; a broken user policy is a usage
//! error naming its file.

use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conftest")
}

#[test]
fn conftest_policies_run_on_every_rendered_object() {
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, String, String, String, Vec<String>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("main-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
                f["roots"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    got.sort();
    let base = "apps/web/base".to_owned();
    let prod = "apps/web/overlays/prod".to_owned();
    assert_eq!(
        got,
        vec![
            // The prod overlay relabels the team; data.teams (from policy-data/) lacks it.
            (
                "main-deny".into(),
                "error".into(),
                "apps/web/base/deployment.yaml".into(),
                "team platform is not a known team".into(),
                vec![prod.clone()]
            ),
            // Rego v0 syntax (`violation[{"msg": msg}] { ... }`), as older policies are written.
            (
                "main-violation".into(),
                "error".into(),
                "apps/web/base/service.yaml".into(),
                "Service web must not be a NodePort".into(),
                vec![base.clone(), prod]
            ),
            // warn_* rules are warnings; prod patches replicas to 3.
            (
                "main-warn-replicas".into(),
                "warning".into(),
                "apps/web/base/deployment.yaml".into(),
                "Deployment web runs a single replica".into(),
                vec![base]
            ),
        ]
    );
    // The policy and data directories are configuration, not manifests.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"]
                .as_str()
                .unwrap()
                .starts_with("policy")),
        "{report}"
    );
}

#[test]
fn a_broken_user_policy_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/bad.rego"),
        "package main\n\ndeny contains msg if {\n  msg := \n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: a:1}]}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("policy/bad.rego"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_policy_directory_without_rego_is_scanned_as_manifests() {
    // `policy/` is conftest's default, but repositories also keep Kyverno or other YAML
    // policies there: without Rego files it is not treated as kgate's policy directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: nginx}]}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "image-latest-tag" && f["location"]["path"] == "policy/pod.yaml"),
        "{report}"
    );
}
