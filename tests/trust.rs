//! Findings users trust on real repositories (issue 18): no false alarms from bases.

mod common;

use std::path::Path;

use common::{check_json, write};

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: op\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n        - name: api\n          image: registry.example.com/api:1.0\n          envFrom:\n            - configMapRef:\n                name: api-config\n";

/// An operator's layout: `manifests/base/api` uses a ConfigMap that lives in the sibling base
/// `manifests/base/config`; the overlay deploys both.
fn operator_repo(r: &Path, overlay_extra: &str) {
    write(r, "manifests/base/api/deployment.yaml", DEPLOYMENT);
    write(
        r,
        "manifests/base/api/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        r,
        "manifests/base/config/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-config\n  namespace: op\ndata:\n  LOG: debug\n",
    );
    write(
        r,
        "manifests/base/config/kustomization.yaml",
        "resources: [configmap.yaml]\n",
    );
    write(
        r,
        "manifests/overlays/prod/kustomization.yaml",
        &format!("resources:\n  - ../../base/api\n  - ../../base/config\n{overlay_extra}"),
    );
}

fn missing_references(report: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "missing-referenced-object")
        .map(|f| {
            let roots = f["roots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            (f["location"]["path"].as_str().unwrap().to_owned(), roots)
        })
        .collect()
}

#[test]
fn rules_across_objects_run_on_deployed_roots_not_on_their_bases() {
    let dir = tempfile::tempdir().unwrap();
    operator_repo(dir.path(), "");
    let (report, _) = check_json(dir.path(), &[]);
    assert_eq!(missing_references(&report), vec![], "{report}");

    // The overlay really lacks the ConfigMap: one finding, on the overlay that deploys it.
    let dir = tempfile::tempdir().unwrap();
    operator_repo(dir.path(), "");
    write(
        dir.path(),
        "manifests/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base/api\n",
    );
    let (report, _) = check_json(dir.path(), &[]);
    assert_eq!(
        missing_references(&report),
        vec![(
            "manifests/base/api/deployment.yaml".to_owned(),
            vec!["manifests/overlays/prod".to_owned()]
        )],
        "{report}"
    );
}

/// Where every root that uses a base fails to render, the base is checked alone rather than
/// not at all: its finding stays (beside the overlay's render-error).
#[test]
fn a_base_whose_users_all_fail_to_render_is_checked_alone() {
    let dir = tempfile::tempdir().unwrap();
    operator_repo(dir.path(), "  - missing.yaml\n");
    let (report, _) = check_json(dir.path(), &[]);
    assert_eq!(
        missing_references(&report),
        vec![(
            "manifests/base/api/deployment.yaml".to_owned(),
            vec!["manifests/base/api".to_owned()]
        )],
        "{report}"
    );
}

/// The rules (and their findings) of `report`, sorted.
fn rules_of(report: &serde_json::Value) -> Vec<String> {
    let mut rules: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    rules.sort();
    rules
}

#[test]
fn explicit_nulls_reach_no_policy_as_null() {
    // A pod template whose `annotations:` has only a comment under it, and a default-deny
    // NetworkPolicy whose `matchLabels:` is empty: the API server stores neither field, so no
    // rule may fail on them (apparmor-unconfined and namespace-without-default-deny did:
    // `some .. in` and `count` reject null).
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: op\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: op\nspec:\n  podSelector:\n    matchLabels:\n  policyTypes: [Ingress, Egress]\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\n  namespace: op\nspec:\n  template:\n    metadata:\n      annotations:\n        # none yet\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: c\n          image: registry.example.com/c:1.0\n",
    );
    let (report, _) = check_json(r, &[]);
    let rules = rules_of(&report);
    assert!(!rules.iter().any(|r| r == "policy-error"), "{report}");
    assert!(
        !rules.iter().any(|r| r == "namespace-without-default-deny"),
        "{report}"
    );
}

/// A remote base (`github.com/...?ref=`, `https://...`) is never fetched: the root is a
/// `render-unavailable` note that names the remote reference, not a `render-error`, and the
/// repository's other roots are checked.
#[test]
fn remote_bases_are_a_note_naming_the_reference_not_a_render_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for (app, remote) in [
        ("gh", "github.com/org/repo//deploy?ref=v1.2.0"),
        ("web", "https://raw.example.com/org/repo/v1/install.yaml"),
    ] {
        write(
            r,
            &format!("apps/{app}/kustomization.yaml"),
            &format!("resources:\n  - {remote}\n"),
        );
    }
    write(r, "apps/local/deployment.yaml", DEPLOYMENT);
    write(
        r,
        "apps/local/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    let (report, _) = check_json(r, &[]);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        !findings.iter().any(|f| f["rule"] == "render-error"),
        "{report}"
    );
    let mut notes: Vec<(String, String, String)> = findings
        .iter()
        .filter(|f| f["rule"] == "render-unavailable")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    notes.sort();
    assert_eq!(notes.len(), 2, "{report}");
    assert_eq!(notes[0].1, "apps/gh/kustomization.yaml");
    assert!(
        notes[0]
            .2
            .contains("github.com/org/repo//deploy?ref=v1.2.0"),
        "{notes:?}"
    );
    assert_eq!(notes[1].1, "apps/web/kustomization.yaml");
    assert!(
        notes[1]
            .2
            .contains("https://raw.example.com/org/repo/v1/install.yaml"),
        "{notes:?}"
    );
    assert!(notes.iter().all(|n| n.0 == "note"), "{notes:?}");
    // The local root is still checked.
    assert!(
        findings
            .iter()
            .any(|f| f["location"]["path"] == "apps/local/deployment.yaml"),
        "{report}"
    );
}
