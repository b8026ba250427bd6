//! Repo-structure conventions (`policies/structure/`, `custom.scope: repo`) on a small
//! repository that breaks each once, and a clean one that breaks none.

mod common;

use std::path::Path;
use std::process::Command;

use common::write;

const STRUCTURE_RULES: [&str; 8] = [
    "namespace-naming",
    "orphaned-root",
    "app-not-deployed",
    "cluster-environment-mismatch",
    "cluster-not-deployed",
    "missing-environment-overlay",
    "overlay-references-other-app",
    "unknown-environment-overlay",
];

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/{name}:1.0\n"
    )
}

/// web, api and batch apps with dev/prod overlays, two clusters and one Argo CD Application.
fn clean_repo(r: &Path) {
    write(r, ".kgate.yaml", "environments: [dev, prod]\n");
    for app in ["web", "api", "batch"] {
        write(
            r,
            &format!("apps/{app}/base/kustomization.yaml"),
            "resources: [deployment.yaml]\n",
        );
        write(
            r,
            &format!("apps/{app}/base/deployment.yaml"),
            &deployment(app),
        );
        for env in ["dev", "prod"] {
            write(
                r,
                &format!("apps/{app}/overlays/{env}/kustomization.yaml"),
                &format!("namespace: {app}-{env}\nresources:\n  - ../../base\n"),
            );
        }
    }
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("clusters/{env}-eu/kustomization.yaml"),
            &format!(
                "resources:\n  - ../../apps/web/overlays/{env}\n  - ../../apps/api/overlays/{env}\n  - ../../apps/batch/overlays/{env}\n"
            ),
        );
        write(
            r,
            &format!("argocd/{env}-eu.yaml"),
            &format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {env}-eu, namespace: argocd}}\nspec:\n  source:\n    path: clusters/{env}-eu\n"
            ),
        );
    }
}

fn structure_findings(r: &Path) -> Vec<(String, String, u64, String)> {
    let (report, _) = common::check_json(r, &[]);
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            STRUCTURE_RULES.contains(&f["rule"].as_str().unwrap()) || f["rule"] == "policy-error"
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_conventional_repository_has_no_structure_findings() {
    let tmp = tempfile::tempdir().unwrap();
    clean_repo(tmp.path());
    assert_eq!(structure_findings(tmp.path()), []);
}

#[test]
fn each_convention_broken_once() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    clean_repo(r);
    // api has no prod overlay, and a typo'd one instead.
    std::fs::remove_dir_all(r.join("apps/api/overlays/prod")).unwrap();
    write(
        r,
        "apps/api/overlays/prd/kustomization.yaml",
        "resources: [../../base]\n",
    );
    write(
        r,
        "clusters/prod-eu/kustomization.yaml",
        "resources:\n  - ../../apps/web/overlays/prod\n  - ../../apps/batch/overlays/dev\n",
    );
    // web's dev overlay builds on batch's base.
    write(
        r,
        "apps/web/overlays/dev/kustomization.yaml",
        "namespace: web-dev\nresources:\n  - ../../base\n  - ../../../batch/base\n",
    );
    // A new cluster no Application deploys, and an app no cluster includes.
    write(
        r,
        "clusters/dev-us/kustomization.yaml",
        "resources:\n  - ../../apps/web/overlays/dev\n",
    );
    write(
        r,
        "apps/jobs/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(r, "apps/jobs/base/deployment.yaml", &deployment("jobs"));
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("apps/jobs/overlays/{env}/kustomization.yaml"),
            "resources: [../../base]\n",
        );
    }
    let got = structure_findings(r);
    let want = [
        (
            "missing-environment-overlay",
            "apps/api",
            1,
            "app \"api\" has no overlay for environment \"prod\" (expected apps/api/overlays/prod)",
        ),
        (
            "unknown-environment-overlay",
            "apps/api/overlays/prd",
            1,
            "overlay apps/api/overlays/prd is for environment \"prd\", which is not one of the configured environments (dev, prod)",
        ),
        (
            "app-not-deployed",
            "apps/jobs",
            1,
            "app \"jobs\" is not included by any cluster (3 cluster directories)",
        ),
        (
            "overlay-references-other-app",
            "apps/web/overlays/dev/kustomization.yaml",
            4,
            "overlay apps/web/overlays/dev uses apps/batch/base, which belongs to app \"batch\"; overlays should use only their own app's base and shared components",
        ),
        (
            "cluster-not-deployed",
            "clusters/dev-us/kustomization.yaml",
            1,
            "no Argo CD or Flux entry point deploys clusters/dev-us",
        ),
        (
            "cluster-environment-mismatch",
            "clusters/prod-eu/kustomization.yaml",
            3,
            "cluster clusters/prod-eu (environment \"prod\") includes apps/batch/overlays/dev, an overlay of environment \"dev\"",
        ),
    ];
    let want: Vec<(String, String, u64, String)> = want
        .iter()
        .map(|(a, b, c, d)| ((*a).to_owned(), (*b).to_owned(), *c, (*d).to_owned()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn layout_apps_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(
        r,
        ".kgate.yaml",
        "environments: [dev, prod]\nlayout:\n  apps: [\"teams/*/*\"]\n",
    );
    write(
        r,
        "teams/pay/checkout/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        r,
        "teams/pay/checkout/base/deployment.yaml",
        &deployment("checkout"),
    );
    write(
        r,
        "teams/pay/checkout/overlays/dev/kustomization.yaml",
        "resources: [../../base]\n",
    );
    let got = structure_findings(r);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, "missing-environment-overlay");
    assert_eq!(got[0].1, "teams/pay/checkout");
}

/// Environments and clusters from configured path patterns reach the rules: a prod
/// environment under `deploy/<app>/<env>` gets the production rules, and a cluster under
/// `fleet/<env>/<cluster>` is matched against its environment's overlays.
#[test]
fn environment_and_cluster_path_patterns_are_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(
        r,
        ".kgate.yaml",
        "environments: [dev, prod]\nlayout:\n  apps: [\"deploy/*\"]\n  environmentPaths: [\"deploy/*/{env}\"]\n  clusterPaths: [\"fleet/{env}/{cluster}\"]\n",
    );
    write(
        r,
        "deploy/web/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(r, "deploy/web/base/deployment.yaml", &deployment("web"));
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("deploy/web/{env}/kustomization.yaml"),
            "resources: [../base]\n",
        );
    }
    write(
        r,
        "fleet/prod/eu1/kustomization.yaml",
        "resources:\n  - ../../../deploy/web/dev\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(r)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert!(
        !rules
            .iter()
            .any(|(r, _)| *r == "missing-environment-overlay"),
        "deploy/web/<env> are the overlays: {rules:#?}"
    );
    // One replica in prod: the prod overlay is production.
    assert!(
        rules
            .iter()
            .any(|(r, m)| *r == "single-replica-in-production" && m.contains("web")),
        "{rules:#?}"
    );
    assert!(
        rules
            .iter()
            .any(|(r, m)| *r == "cluster-environment-mismatch"
                && m.contains(
                    "cluster fleet/prod/eu1 (environment \"prod\") includes deploy/web/dev"
                )),
        "{rules:#?}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", "."])
        .current_dir(r)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    write(
        r,
        ".kgate.yaml",
        "layout:\n  environmentPaths: [\"deploy/{team}\"]\n",
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", "."])
        .current_dir(r)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown placeholder"));
}

#[test]
fn orphaned_roots_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    clean_repo(r);
    // A cluster nothing deploys is already `cluster-not-deployed`; an overlay no cluster
    // lists is orphaned once the config says overlays must be deployed.
    write(
        r,
        "apps/web/overlays/canary/kustomization.yaml",
        "resources: [../../base]\n",
    );
    write(
        r,
        ".kgate.yaml",
        "environments: [dev, prod, canary]\nrules:\n  params:\n    orphaned-root: {paths: [\"apps/*/overlays/*\"]}\n",
    );
    let got: Vec<(String, String)> = structure_findings(r)
        .into_iter()
        .filter(|f| f.0 == "orphaned-root")
        .map(|f| (f.1, f.3))
        .collect();
    assert_eq!(
        got,
        [(
            "apps/web/overlays/canary/kustomization.yaml".to_owned(),
            "apps/web/overlays/canary is used by no kustomization, cluster or entry point, so nothing deploys it".to_owned()
        )]
    );
}

#[test]
fn diff_reports_drift_between_environments_beyond_allowed_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    clean_repo(r);
    // web's prod overlay changes the image tag and replicas (allowed), and an env var and a
    // label (drift); api's overlays only change allowed fields.
    write(
        r,
        "apps/web/overlays/prod/kustomization.yaml",
        "namespace: web-prod\nresources:\n  - ../../base\nimages:\n  - name: registry.example.com/web\n    newTag: \"2.0\"\nreplicas:\n  - name: web\n    count: 4\nlabels:\n  - pairs: {tier: gold}\npatches:\n  - target: {kind: Deployment}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/env\n        value: [{name: MODE, value: fast}]\n",
    );
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
            .args(args)
            .current_dir(r)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["diff", "--env", "dev,prod"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.starts_with("apps/web (dev, prod)\n  Deployment/web\n"),
        "{out}"
    );
    assert!(
        out.contains("    /metadata/labels/tier: dev=(absent)  prod=\"gold\"\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "    /spec/template/spec/containers/0/env/0/value: dev=(absent)  prod=\"fast\"\n"
        ),
        "{out}"
    );
    assert!(
        !out.contains("replicas") && !out.contains("image"),
        "allowed fields: {out}"
    );
    assert!(!out.contains("apps/api"), "{out}");
    assert!(
        out.ends_with("kgate diff: 1 of 3 apps drift between environments\n"),
        "{out}"
    );

    // Allowing the label (everywhere it is set) and the env leaves no drift for web.
    let (code, out, _) = run(&[
        "diff",
        "--env",
        "dev,prod",
        "web",
        "--allow",
        "/metadata/labels/tier",
        "--allow",
        "/spec/template/metadata/labels/tier",
        "--allow",
        "/spec/selector/matchLabels/tier",
        "--allow",
        "/spec/template/spec/containers/*/env",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["apps"].as_array().unwrap().len(), 1);
    assert_eq!(doc["apps"][0]["objects"], serde_json::json!([]), "{out}");
    assert_eq!(code, Some(0));

    let (code, _, err) = run(&["diff", "--env", "prod"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("at least two environments"), "{err}");
}

#[test]
fn namespaces_follow_the_configured_convention_per_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    clean_repo(r);
    write(
        r,
        ".kgate.yaml",
        "environments: [dev, prod]\nrules:\n  params:\n    namespace-naming: {pattern: \"^[a-z]+-{env}$\"}\n",
    );
    assert_eq!(structure_findings(r), []);
    write(
        r,
        "apps/api/overlays/prod/kustomization.yaml",
        "namespace: api-dev\nresources:\n  - ../../base\n",
    );
    let got: Vec<(String, String, u64)> = structure_findings(r)
        .into_iter()
        .filter(|f| f.0 == "namespace-naming")
        .map(|f| (f.1, f.3, f.2))
        .collect();
    assert_eq!(
        got,
        [(
            "apps/api/overlays/prod/kustomization.yaml".to_owned(),
            "namespace \"api-dev\" does not match the convention ^[a-z]+-prod$ for environment \"prod\"".to_owned(),
            1
        )]
    );
}

/// Flux's reference layout (flux2-kustomize-helm-example): `apps/base/<app>`, environment
/// bundles `apps/<env>`, and clusters whose Flux Kustomizations deploy them; each cluster
/// directory is deployed by its bootstrap `flux-system` Kustomization (a directory without a
/// kustomization of its own, so Flux builds every kustomization below it).
fn flux_repo(r: &Path, envs: &[&str]) {
    common::write(
        r,
        "apps/base/podinfo/kustomization.yaml",
        "resources: [configmap.yaml]\n",
    );
    common::write(
        r,
        "apps/base/podinfo/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\n  namespace: podinfo\n",
    );
    let flux_ks = |name: &str, path: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: {path}\n  prune: true\n"
        )
    };
    for env in envs {
        common::write(
            r,
            &format!("apps/{env}/kustomization.yaml"),
            "resources:\n  - ../base/podinfo\n",
        );
        common::write(
            r,
            &format!("clusters/{env}/apps.yaml"),
            &flux_ks("apps", &format!("./apps/{env}")),
        );
        common::write(
            r,
            &format!("clusters/{env}/flux-system/kustomization.yaml"),
            "resources: [gotk-sync.yaml]\n",
        );
        common::write(
            r,
            &format!("clusters/{env}/flux-system/gotk-sync.yaml"),
            &flux_ks("flux-system", &format!("./clusters/{env}")),
        );
    }
}

#[test]
fn the_flux_reference_layout_has_no_structure_findings() {
    let tmp = tempfile::tempdir().unwrap();
    flux_repo(tmp.path(), &["staging", "production"]);
    assert_eq!(structure_findings(tmp.path()), []);
}

#[test]
fn a_flux_bootstrap_directory_deploys_its_cluster_before_bootstrap_writes_gotk_sync() {
    // fluxcd/flux2-monitoring-example commits gotk-sync.yaml as a placeholder comment: the
    // cluster is deployed by `flux bootstrap`, not by an entry point in the repository.
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    flux_repo(r, &["staging"]);
    common::write(
        r,
        "clusters/staging/flux-system/gotk-sync.yaml",
        "# This file will be generated automatically by flux bootstrap.\n",
    );
    assert_eq!(structure_findings(r), []);
}

#[test]
fn in_the_flux_layout_an_app_no_cluster_deploys_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    flux_repo(r, &["production"]);
    // A second app in apps/base that no environment bundle includes.
    common::write(
        r,
        "apps/base/orphan/kustomization.yaml",
        "resources: [configmap.yaml]\n",
    );
    common::write(
        r,
        "apps/base/orphan/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orphan\n  namespace: orphan\n",
    );
    let found: Vec<(String, String)> = structure_findings(r)
        .into_iter()
        .map(|(rule, path, _, message)| (rule, format!("{path}: {message}")))
        .collect();
    assert_eq!(
        found.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["app-not-deployed"],
        "{found:?}"
    );
    assert!(found[0].1.contains("\"orphan\""), "{found:?}");
}
