//! Argo CD Applications and Flux Kustomizations as render instructions: what the controller
//! would apply (their kustomize options, Flux's targetNamespace and postBuild variables) is
//! what kgate checks.

mod common;

use std::path::Path;

use common::write;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${REPLICAS}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
          env:
            - {name: CLUSTER, value: \"${CLUSTER}\"}
            - {name: REGION, value: \"${REGION:=eu}\"}
            - {name: TEAM, value: \"${TEAM}\"}
";

fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let (report, _) = common::check_json(dir, &[]);
    report["findings"].as_array().unwrap().clone()
}

#[test]
fn flux_variables_and_argo_options_are_applied_before_checking() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "apps/web/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(r, "apps/web/base/deployment.yaml", DEPLOYMENT);
    write(
        r,
        "flux/apps.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  path: ./apps/web/base\n  targetNamespace: web-prod\n  postBuild:\n    substitute:\n      REPLICAS: \"1\"\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n      - kind: Secret\n        name: cluster-secrets\n",
    );
    write(
        r,
        "flux/cluster-vars.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  CLUSTER: eu1\n",
    );
    write(
        r,
        "argocd/web.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\nspec:\n  source:\n    path: apps/web/base\n    kustomize:\n      namePrefix: canary-\n      images:\n        - registry.example.com/web=registry.example.com/web:latest\n",
    );
    let all = findings(r);
    let of = |rule: &str| -> Vec<&serde_json::Value> {
        all.iter().filter(|f| f["rule"] == rule).collect()
    };
    let flux = "Kustomization flux-system/web";
    let argo = "Application argocd/web";

    // ${TEAM} is defined nowhere: reported where it is written, for the Flux root only.
    let undefined = of("undefined-substitution-variable");
    let team: Vec<_> = undefined
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("${TEAM}"))
        .collect();
    assert_eq!(team.len(), 1, "{undefined:#?}");
    assert_eq!(team[0]["location"]["path"], "apps/web/base/deployment.yaml");
    assert_eq!(team[0]["location"]["line"], 17);
    assert_eq!(team[0]["roots"], serde_json::json!([flux]));
    // The missing Secret source, at the Kustomization.
    assert!(
        undefined
            .iter()
            .any(|f| f["location"]["path"] == "flux/apps.yaml"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("Secret cluster-secrets")),
        "{undefined:#?}"
    );
    // ${REPLICAS} becomes the number 1, in production namespace web-prod: one replica.
    assert!(
        !undefined
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("REPLICAS")
                || f["message"].as_str().unwrap().contains("CLUSTER")
                || f["message"].as_str().unwrap().contains("REGION")),
        "{undefined:#?}"
    );
    // The Argo CD image override makes the image `latest`, only in the Application's build,
    // pointed at the Application.
    let latest = of("image-latest-tag");
    assert_eq!(latest.len(), 1, "{latest:#?}");
    assert_eq!(latest[0]["roots"], serde_json::json!([argo]));
    assert_eq!(latest[0]["location"]["path"], "argocd/web.yaml");
    assert_eq!(latest[0]["object"]["name"], "canary-web");
}

#[test]
fn an_entry_point_that_does_not_build_is_a_render_error_at_the_entry_point() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "apps/web/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        r,
        "apps/web/base/deployment.yaml",
        &DEPLOYMENT.replace("${REPLICAS}", "2"),
    );
    write(
        r,
        "argocd/web.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\nspec:\n  source:\n    path: apps/web/base\n    kustomize:\n      replicas:\n        - name: nope\n          count: three\n",
    );
    let all = findings(r);
    let errors: Vec<_> = all.iter().filter(|f| f["rule"] == "render-error").collect();
    assert_eq!(errors.len(), 1, "{all:#?}");
    assert_eq!(errors[0]["location"]["path"], "argocd/web.yaml");
    assert_eq!(
        errors[0]["roots"],
        serde_json::json!(["Application argocd/web"])
    );
}

/// A Flux path without a kustomization: Flux generates one from the manifests below it.
#[test]
fn flux_paths_without_a_kustomization_are_built_from_their_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "infra/plain/deployment.yaml",
        &DEPLOYMENT
            .replace("${REPLICAS}", "2")
            .replace(":1.0", ":latest"),
    );
    write(
        r,
        "infra/plain/more/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n",
    );
    write(
        r,
        "flux/infra.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infra\n  namespace: flux-system\nspec:\n  path: ./infra/plain\n  targetNamespace: infra\n  postBuild:\n    substitute: {CLUSTER: eu1, TEAM: platform}\n",
    );
    let all = findings(r);
    assert!(!all.iter().any(|f| f["rule"] == "render-error"), "{all:#?}");
    let latest: Vec<_> = all
        .iter()
        .filter(|f| f["rule"] == "image-latest-tag")
        .collect();
    assert_eq!(latest.len(), 1, "{latest:#?}");
    assert_eq!(latest[0]["object"]["namespace"], "infra");
    assert!(
        latest[0]["roots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "Kustomization flux-system/infra")
    );
}
