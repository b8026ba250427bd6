//! Helm charts end to end: a chart deployed per environment through kustomize `helmCharts`
//! and an Argo CD Application (tests/data/helm), each chart directory a root of its own, and
//! the paths where Helm is missing, a dependency is not vendored, or a template fails.

mod common;

use std::path::Path;

use common::write;

/// `kgate check . --format json` in `dir` with `helm` as Helm (or none).
fn check(dir: &Path, helm: Option<&Path>) -> serde_json::Value {
    let mut cmd = common::bin();
    cmd.args(["check", ".", "--format", "json"])
        .current_dir(dir);
    match helm {
        Some(h) => cmd.env("KGATE_HELM", h),
        None => cmd.env("KGATE_HELM", "/nonexistent/helm").env("PATH", ""),
    };
    common::report(&cmd.output().expect("kgate runs"))
}

/// (rule, path:line, roots) of every finding.
fn summary(report: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                format!(
                    "{}:{}",
                    f["location"]["path"].as_str().unwrap(),
                    f["location"]["line"]
                ),
                f["roots"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_defect_injected_through_values_is_found_in_its_environment_only() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let report = check(&common::fixture("helm"), Some(&helm));
    let found = summary(&report);
    // envs/prod/values.yaml sets privileged: true (the template writes the block with
    // toYaml): found in envs/prod only, at the values line.
    let privileged: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "privileged-container")
        .collect();
    assert_eq!(
        privileged,
        [&(
            "privileged-container".to_owned(),
            "envs/prod/values.yaml:3".to_owned(),
            vec!["envs/prod".to_owned()]
        )],
        "{found:#?}"
    );
    // envs/dev's valuesInline makes the Service a NodePort: at the kustomization's line.
    assert!(found.contains(&(
        "service-type-exposed".to_owned(),
        "envs/dev/kustomization.yaml:10".to_owned(),
        vec!["envs/dev".to_owned()]
    )));
    // A template defect (no ServiceAccount) is one finding through the chart root and every
    // environment, at the template line.
    assert!(found.contains(&(
        "default-service-account".to_owned(),
        "charts/web/templates/deployment.yaml:16".to_owned(),
        vec![
            "Application argocd/web-staging".into(),
            "HelmRelease flux-system/web".into(),
            "charts/web".into(),
            "envs/dev".into(),
            "envs/prod".into()
        ]
    )));
    // The Argo CD Application's value file (image tag latest) and parameter (a LoadBalancer)
    // show up in its root only: the parameter at its line in the Application, the tag at the
    // template line (two values on one line: kgate cannot tell which one decided).
    let app = vec!["Application argocd/web-staging".to_owned()];
    assert!(found.contains(&(
        "image-latest-tag".to_owned(),
        "charts/web/templates/deployment.yaml:19".to_owned(),
        app.clone()
    )));
    assert!(found.contains(&(
        "service-type-exposed".to_owned(),
        "argocd/web-staging.yaml:20".to_owned(),
        app
    )));
    // Values files are Helm values, not "not a manifest".
    assert!(!found.iter().any(|f| f.0 == "not-a-manifest"), "{found:#?}");
    // The Flux HelmRelease from the repository's own GitRepository: its `values` make the
    // Service a LoadBalancer (at that line), released as `<targetNamespace>-<name>`; the one
    // from a HelmRepository needs the network and is a note naming the chart.
    assert!(found.contains(&(
        "service-type-exposed".to_owned(),
        "flux/web-qa.yaml:20".to_owned(),
        vec!["HelmRelease flux-system/web".to_owned()]
    )));
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|m| m.contains("\"web-qa-web-web\"")));
    assert!(found.contains(&(
        "render-unavailable".to_owned(),
        "flux/redis.yaml:7".to_owned(),
        vec!["HelmRelease flux-system/redis".to_owned()]
    )));
    // Three chart roots, the Application and two HelmReleases; the entry points' own
    // objects and the values ConfigMap are plain manifests.
    assert_eq!(report["summary"]["roots"], 6);
    assert_eq!(report["summary"]["objects"], 14);
}

#[test]
fn without_helm_each_chart_root_is_an_error_saying_how_to_install_it() {
    let report = check(&common::fixture("helm"), None);
    let mut found = summary(&report);
    // The chart from a HelmRepository is a note that it needs the network, Helm or not.
    found.retain(|f| f.1 != "flux/redis.yaml:7");
    assert_eq!(
        found,
        [
            (
                "render-unavailable".to_owned(),
                "argocd/web-staging.yaml:7".to_owned(),
                vec!["Application argocd/web-staging".to_owned()]
            ),
            (
                "render-unavailable".to_owned(),
                "charts/web/Chart.yaml:1".to_owned(),
                vec!["charts/web".to_owned()]
            ),
            (
                "render-unavailable".to_owned(),
                "envs/dev/kustomization.yaml:5".to_owned(),
                vec!["envs/dev".to_owned()]
            ),
            (
                "render-unavailable".to_owned(),
                "envs/prod/kustomization.yaml:5".to_owned(),
                vec!["envs/prod".to_owned()]
            ),
            (
                "render-unavailable".to_owned(),
                "flux/web-qa.yaml:7".to_owned(),
                vec!["HelmRelease flux-system/web".to_owned()]
            ),
        ]
    );
    for f in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] != "flux/redis.yaml")
    {
        assert_eq!(f["severity"], "error");
        assert!(
            f["help"].as_str().unwrap().contains("ci/install-helm.sh"),
            "{f}"
        );
    }
}

#[test]
fn the_severity_without_helm_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(r, ".kgate.yaml", "helm:\n  missingSeverity: warning\n");
    write(
        r,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        r,
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    let report = check(r, None);
    assert_eq!(report["findings"][0]["rule"], "render-unavailable");
    assert_eq!(report["findings"][0]["severity"], "warning");
}

#[test]
fn a_dependency_not_vendored_and_a_failing_template_are_render_errors() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "deps/Chart.yaml",
        "apiVersion: v2\nname: deps\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: https://charts.example.com\n",
    );
    write(
        r,
        "deps/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n",
    );
    write(
        r,
        "broken/Chart.yaml",
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    );
    write(
        r,
        "broken/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: {{ required \"x is required\" .Values.x }}\n",
    );
    let report = check(r, Some(&helm));
    let found = summary(&report);
    assert_eq!(
        found
            .iter()
            .map(|f| (f.0.as_str(), f.1.as_str()))
            .collect::<Vec<_>>(),
        [
            ("render-error", "broken/templates/cm.yaml:6"),
            ("render-error", "deps/Chart.yaml:1"),
        ],
        "{report:#}"
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("x is required"),
        "helm's stderr: {}",
        messages[0]
    );
    assert!(
        messages[1].contains("`redis`") && messages[1].contains("helm dependency build"),
        "{}",
        messages[1]
    );
}

#[test]
fn a_vendored_dependency_renders_offline() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: https://charts.example.com\n",
    );
    write(
        r,
        "app/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
    );
    write(
        r,
        "app/charts/lib/Chart.yaml",
        "apiVersion: v2\nname: lib\nversion: 0.1.0\n",
    );
    write(
        r,
        "app/charts/lib/templates/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: lib}\nautomountServiceAccountToken: true\n",
    );
    let report = check(r, Some(&helm));
    assert!(
        !summary(&report).iter().any(|f| f.0.starts_with("render")),
        "{report:#}"
    );
    // The subchart is part of its parent's root, not a root of its own.
    assert_eq!(report["summary"]["roots"], 1);
    assert_eq!(report["summary"]["objects"], 2);
}

/// A library chart (`type: library`: templates for other charts) renders no objects and is
/// no error, with Helm or without it (`helm template` refuses to install one); the chart
/// using it, vendored, renders the library's template.
#[test]
fn a_library_chart_is_no_render_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    let library = "apiVersion: v2\nname: common\nversion: 0.1.0\ntype: library\n";
    let helper = "{{- define \"common.image\" -}}nginx:latest{{- end -}}\n";
    write(r, "charts/common/Chart.yaml", library);
    write(r, "charts/common/templates/_image.tpl", helper);
    write(
        r,
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: common\n    version: 0.1.0\n    repository: file://../common\n",
    );
    write(r, "charts/app/charts/common/Chart.yaml", library);
    write(r, "charts/app/charts/common/templates/_image.tpl", helper);
    write(
        r,
        "charts/app/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n    - name: app\n      image: {{ include \"common.image\" . }}\n",
    );
    let without = check(r, None);
    let roots: Vec<Vec<String>> = summary(&without).into_iter().map(|f| f.2).collect();
    assert_eq!(roots, [["charts/app"]], "{without:#}");
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let report = check(r, Some(&helm));
    let findings = summary(&report);
    assert!(
        !findings.iter().any(|f| f.0.starts_with("render")),
        "{report:#}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "image-latest-tag" && f.2 == ["charts/app"]),
        "{report:#}"
    );
    assert_eq!(report["summary"]["roots"], 2);
}

#[test]
fn kgate_render_inflates_helm_charts_as_kubectl_does() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let case = common::repo().join("tests/helm/values-inline-over-file");
    let out = common::bin()
        .args(["render", "input"])
        .current_dir(&case)
        .env("KGATE_HELM", &helm)
        .output()
        .expect("kgate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read_to_string(case.join("expected.yaml")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    // A chart directory renders with its default values.
    let out = common::bin()
        .args(["render", "charts/web"])
        .current_dir(common::fixture("helm"))
        .env("KGATE_HELM", &helm)
        .output()
        .expect("kgate runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("name: web-web") && text.contains("replicas: 1"),
        "{text}"
    );
}

/// SARIF on chart output: a field the values decided is at the values line, with the
/// template line that wrote it as its related location; a field the template decided is at
/// the template line with no related location.
#[test]
fn sarif_gives_the_template_line_as_the_related_location_of_a_values_line() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let out = common::bin()
        .args(["check", ".", "--format", "sarif"])
        .current_dir(common::fixture("helm"))
        .env("KGATE_HELM", &helm)
        .output()
        .expect("kgate runs");
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    // Locations only: messages and help belong to the rules' own tests.
    let results: Vec<serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::json!({
                "ruleId": r["ruleId"],
                "location": r["locations"][0]["physicalLocation"],
                "relatedLocations": r["relatedLocations"],
                "roots": r["properties"]["roots"],
            })
        })
        .collect();
    insta::assert_json_snapshot!("helm_sarif_locations", results);
}

/// The helm fixture in a git repository of its own, committed.
fn committed_fixture() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&common::fixture("helm"), tmp.path());
    common::git(tmp.path(), &["init", "-q"]);
    common::git(tmp.path(), &["add", "-A"]);
    common::git(tmp.path(), &["commit", "-q", "-m", "fixture"]);
    tmp
}

/// `kgate check . --format json ARGS` in `dir` with `helm`.
fn check_with(dir: &Path, helm: &Path, args: &[&str]) -> serde_json::Value {
    let out = common::bin()
        .args(["check", ".", "--format", "json"])
        .args(args)
        .current_dir(dir)
        .env("KGATE_HELM", helm)
        .output()
        .expect("kgate runs");
    common::report(&out)
}

/// Whether any finding names `root` among its roots.
fn names_root(report: &serde_json::Value, root: &str) -> bool {
    summary(report)
        .iter()
        .any(|f| f.2.iter().any(|r| r == root))
}

/// A chart directory is a root of its own: `--changed-since` renders it (a Helm process)
/// only when the change reaches it, as it does kustomization roots.
#[test]
fn changed_since_renders_a_chart_only_when_the_change_reaches_it() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let tmp = committed_fixture();
    let r = tmp.path();
    // envs/prod's values reach envs/prod only, not the chart.
    write(
        r,
        "envs/prod/values.yaml",
        &std::fs::read_to_string(r.join("envs/prod/values.yaml"))
            .unwrap()
            .replace("replicaCount: 2", "replicaCount: 3"),
    );
    let report = check_with(r, &helm, &["--changed-since", "HEAD"]);
    assert_eq!(report["summary"]["roots"], 1, "{report:#}");
    assert!(!names_root(&report, "charts/web"), "{report:#}");
    // A template reaches the chart root (and every root deploying it).
    common::git(r, &["checkout", "-q", "--", "."]);
    write(
        r,
        "charts/web/templates/service.yaml",
        &format!(
            "{}\n",
            std::fs::read_to_string(r.join("charts/web/templates/service.yaml")).unwrap()
        ),
    );
    let report = check_with(r, &helm, &["--changed-since", "HEAD"]);
    assert!(names_root(&report, "charts/web"), "{report:#}");
}

/// `--shard i/n` splits chart roots as it does kustomization roots: each is checked by one
/// shard, not by all of them.
#[test]
fn each_chart_root_is_checked_by_one_shard() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let dir = common::fixture("helm");
    let whole = check_with(&dir, &helm, &[]);
    let mut roots = 0;
    let mut with_chart = 0;
    for i in 1..=3 {
        let part = check_with(&dir, &helm, &["--shard", &format!("{i}/3")]);
        roots += part["summary"]["roots"].as_u64().unwrap();
        with_chart += usize::from(names_root(&part, "charts/web"));
    }
    assert_eq!(Some(roots), whole["summary"]["roots"].as_u64());
    assert!(names_root(&whole, "charts/web"));
    assert_eq!(with_chart, 1);
}
