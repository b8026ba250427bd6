//! Schema validation end to end on `tests/data/schema`: a CRD from the repository, a base,
//! an overlay patch breaking a field, a removed API, an unknown kind, and a typo that only
//! `--strict` reports; for the default version, `--strict` and `--kube-version 1.25`.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    common::fixture("schema")
}

/// (rule, severity, path, line, column) of a finding.
type Found = (String, String, String, u64, u64);

/// The exit code, every finding, and stderr.
fn run(args: &[&str]) -> (i32, Vec<Found>, String) {
    let out = common::check(&fixture(), args);
    let code = out.status.code().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if code == 2 {
        return (code, Vec::new(), stderr);
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The schema rules only: the fixture's workloads trip policy rules too.
    let schema_rules = [
        "schema-invalid",
        "schema-missing",
        "unknown-field",
        "deprecated-api",
        "removed-api",
        "cel-unevaluated",
    ];
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| schema_rules.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    (code, findings, stderr)
}

fn f(
    rule: &str,
    severity: &str,
    path: &str,
    line: u64,
    column: u64,
) -> (String, String, String, u64, u64) {
    (rule.into(), severity.into(), path.into(), line, column)
}

#[test]
fn default_version_finds_removed_apis_bad_fields_through_overlays_and_crds() {
    let (code, got, stderr) = run(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        got,
        vec![
            f("removed-api", "error", "apps/web/base/pdb.yaml", 1, 13),
            // The CRD in crds/ makes Widget validatable.
            f("schema-invalid", "error", "apps/web/base/widget.yaml", 6, 9),
            // Set by the prod overlay's patch: the finding points at the patch line.
            f(
                "schema-invalid",
                "error",
                "apps/web/overlays/prod/replicas.yaml",
                6,
                13
            ),
            f("schema-missing", "note", "manifests/gizmo.yaml", 1, 13),
            f("removed-api", "error", "manifests/hpa.yaml", 1, 13),
        ]
    );
}

#[test]
fn strict_mode_adds_unknown_fields_and_makes_missing_schemas_errors() {
    let (code, got, _) = run(&["--strict"]);
    assert_eq!(code, 1);
    assert!(got.contains(&f(
        "unknown-field",
        "error",
        "apps/web/base/deployment.yaml",
        18,
        25
    )));
    assert!(got.contains(&f("schema-missing", "error", "manifests/gizmo.yaml", 1, 13)));
    // The same typo through config instead of the flag.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kgate.yaml");
    std::fs::write(&config, "strict: true\n").unwrap();
    let (_, via_config, _) = run(&["--config", config.to_str().unwrap()]);
    assert_eq!(via_config, got);
}

#[test]
fn older_versions_only_deprecate_what_later_ones_remove() {
    let (_, got, _) = run(&["--kube-version", "1.25"]);
    assert!(got.contains(&f("deprecated-api", "warning", "manifests/hpa.yaml", 1, 13)));
    assert!(got.contains(&f("removed-api", "error", "apps/web/base/pdb.yaml", 1, 13)));
}

#[test]
fn environments_and_clusters_can_run_their_own_version() {
    // ValidatingAdmissionPolicy is admissionregistration.k8s.io/v1 from 1.30 on: prod on
    // 1.25 has no such kind, the base root (default version) has.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kgate.yaml");
    std::fs::write(&config, "kubeVersions:\n  prod: \"1.25\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json", "--config"])
        .arg(&config)
        .current_dir(fixture())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"] == "schema-missing" && f["location"]["path"] == "apps/web/base/admission.yaml"
        })
        .collect();
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(
        missing[0]["roots"],
        serde_json::json!(["apps/web/overlays/prod"])
    );
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("Kubernetes 1.25")
    );
}

#[test]
fn schema_dirs_add_crds_from_outside_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("crds")).unwrap();
    std::fs::write(
        dir.path().join("crds/gizmo.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.example.org\nspec:\n  group: example.org\n  names: {kind: Gizmo, plural: gizmos}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec: {type: object, required: [size]}\n",
    )
    .unwrap();
    let config = dir.path().join("kgate.yaml");
    std::fs::write(&config, "schemaDirs: [crds]\n").unwrap();
    let (_, got, _) = run(&["--config", config.to_str().unwrap()]);
    assert!(!got.iter().any(|f| f.0 == "schema-missing"), "{got:?}");
    assert!(
        got.contains(&f("schema-invalid", "error", "manifests/gizmo.yaml", 5, 1)),
        "{got:?}"
    );
}

#[test]
fn unsupported_versions_are_usage_errors_listing_the_supported_ones() {
    let (code, _, stderr) = run(&["--kube-version", "1.19"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unsupported Kubernetes version `1.19`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1.25") && stderr.contains("1.37"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kgate.yaml");
    std::fs::write(&config, "kubeVersion: \"1.12\"\n").unwrap();
    let (code, _, stderr) = run(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unsupported Kubernetes version `1.12`"),
        "{stderr}"
    );
    assert!(stderr.contains(":1:"), "names the config line: {stderr}");
}
