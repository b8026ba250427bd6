//! Charts deployed by GitOps entry points, end to end on scratch repositories: Flux's value
//! precedence (`valuesFrom` in order, `targetPath` entries among them, `values` last), Argo
//! CD's `fileParameters`, `forceString` and multi-source `$ref` value files. A repository
//! policy prints each rendered ConfigMap's data, so the tests see what Helm was given.

mod common;

use std::path::Path;

use common::write;

/// A chart whose Deployment reads `securityContext` (a block) and whose Service reads
/// `service.type`; its ConfigMap shows `conf` and the type of `flag`.
fn chart(r: &Path) {
    std::fs::create_dir_all(r.join(".git")).unwrap();
    write(
        r,
        "c/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        r,
        "c/values.yaml",
        "securityContext:\n  privileged: false\nservice:\n  type: ClusterIP\nconf: none\nflag: false\nresources:\n  limits: {cpu: 500m, memory: 256Mi}\n  requests: {cpu: 100m, memory: 128Mi}\n",
    );
    write(
        r,
        "c/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n        - name: c\n          image: reg.example.com/x:1.0\n          securityContext:\n            {{- toYaml .Values.securityContext | nindent 12 }}\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n",
    );
    write(
        r,
        "c/templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  type: {{ .Values.service.type }}\n  ports: [{port: 80}]\n",
    );
    write(
        r,
        "c/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  conf: {{ .Values.conf | quote }}\n  flag: {{ kindOf .Values.flag | quote }}\n",
    );
    write(
        r,
        "policy/show.rego",
        "package main\n\ndeny[msg] {\n\tinput.kind == \"ConfigMap\"\n\tmsg := sprintf(\"data %s\", [json.marshal(input.data)])\n}\n",
    );
}

/// (rule, path:line, roots, message) of every finding of `kgate check`.
fn findings(r: &Path) -> Vec<(String, String, Vec<String>, String)> {
    let Some(helm) = common::helm::helm() else {
        return Vec::new();
    };
    let out = common::bin()
        .args(["check", ".", "--format", "json"])
        .current_dir(r)
        .env("KGATE_HELM", helm)
        .output()
        .expect("kgate runs");
    common::findings(&out)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                format!(
                    "{}:{}",
                    f["location"]["path"].as_str().unwrap(),
                    f["location"]["line"]
                ),
                serde_json::from_value(f["roots"].clone()).unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn of<'a>(
    found: &'a [(String, String, Vec<String>, String)],
    rule: &str,
    root: &str,
) -> Vec<&'a (String, String, Vec<String>, String)> {
    found
        .iter()
        .filter(|f| f.0 == rule && f.2.iter().any(|r| r == root))
        .collect()
}

const FLUX_VALUES: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vals\n  namespace: flux-system\ndata:\n  values.yaml: |\n    securityContext:\n      privileged: true\n    service:\n      type: NodePort\n  type: LoadBalancer\n";

fn release(name: &str, values_from: &str, values: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  chart:\n    spec:\n      chart: ./c\n      sourceRef: {{kind: GitRepository, name: flux-system}}\n  valuesFrom:\n{values_from}{values}"
    )
}

#[test]
fn flux_merges_values_from_in_order_and_values_last() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    write(r, "flux/vals.yaml", FLUX_VALUES);
    let doc_then_target = "    - {kind: ConfigMap, name: vals}\n    - {kind: ConfigMap, name: vals, valuesKey: type, targetPath: service.type}\n    - {kind: ConfigMap, name: absent, optional: true}\n";
    // `values` sets the type back to ClusterIP: it wins over the targetPath.
    write(
        r,
        "flux/a.yaml",
        &release(
            "a",
            doc_then_target,
            "  values:\n    service:\n      type: ClusterIP\n",
        ),
    );
    // Without `values`, the targetPath (after the values document) wins over NodePort.
    write(r, "flux/b.yaml", &release("b", doc_then_target, ""));
    // A values source that is not in the repository and not optional.
    write(
        r,
        "flux/m.yaml",
        &release("m", "    - {kind: Secret, name: absent}\n", ""),
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let a = "HelmRelease flux-system/a";
    let b = "HelmRelease flux-system/b";
    assert!(
        of(&found, "service-type-exposed", a).is_empty(),
        "{found:#?}"
    );
    let exposed = of(&found, "service-type-exposed", b);
    assert_eq!(exposed.len(), 1, "{found:#?}");
    // At the ConfigMap line that holds the targetPath's value.
    assert_eq!(exposed[0].1, "flux/vals.yaml:12");
    assert!(exposed[0].3.contains("LoadBalancer"), "{}", exposed[0].3);
    // The values document inside the ConfigMap is located line by line.
    let privileged = of(&found, "privileged-container", a);
    assert_eq!(privileged.len(), 1, "{found:#?}");
    assert_eq!(privileged[0].1, "flux/vals.yaml:9");
    assert_eq!(privileged[0].2, [a.to_owned(), b.to_owned()]);
    // The optional missing source is skipped silently; the required one is an error.
    let errors: Vec<_> = found.iter().filter(|f| f.0 == "render-error").collect();
    assert_eq!(errors.len(), 1, "{found:#?}");
    assert_eq!(errors[0].1, "flux/m.yaml:7");
    assert!(errors[0].3.contains("Secret absent"), "{}", errors[0].3);
}

#[test]
fn argo_file_parameters_and_force_string() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    write(r, "c/files/app.conf", "listen 8080");
    write(
        r,
        "argocd/app.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://git.example.com/deploy.git\n    path: c\n    helm:\n      parameters:\n        - {name: flag, value: \"true\", forceString: true}\n      fileParameters:\n        - name: conf\n          path: files/app.conf\n  destination: {namespace: app}\n",
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let shown = of(&found, "main-deny", "Application argocd/app");
    assert_eq!(shown.len(), 1, "{found:#?}");
    assert_eq!(
        shown[0].3, r#"data {"conf":"listen 8080","flag":"string"}"#,
        "{found:#?}"
    );
    // The chart on its own: defaults.
    let shown = of(&found, "main-deny", "c");
    assert_eq!(shown[0].3, r#"data {"conf":"none","flag":"bool"}"#);
}

#[test]
fn a_multi_source_application_reads_value_files_through_its_ref_source() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    write(
        r,
        "envs/prod/values.yaml",
        "service:\n  type: LoadBalancer\n",
    );
    let app = |name: &str, chart_source: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  sources:\n{chart_source}      helm:\n        valueFiles:\n          - $values/envs/prod/values.yaml\n    - repoURL: https://git.example.com/deploy.git\n      targetRevision: main\n      ref: values\n  destination: {{namespace: {name}}}\n"
        )
    };
    write(
        r,
        "argocd/prod.yaml",
        &app(
            "prod",
            "    - repoURL: https://git.example.com/deploy.git\n      path: c\n",
        ),
    );
    // The chart from a chart repository: not rendered offline, and said so.
    write(
        r,
        "argocd/remote.yaml",
        &app(
            "remote",
            "    - repoURL: https://charts.example.com\n      chart: redis\n      targetRevision: 1.2.3\n",
        ),
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let exposed = of(&found, "service-type-exposed", "Application argocd/prod");
    assert_eq!(exposed.len(), 1, "{found:#?}");
    assert_eq!(exposed[0].1, "envs/prod/values.yaml:2");
    let remote = of(&found, "render-unavailable", "Application argocd/remote");
    assert_eq!(remote.len(), 1, "{found:#?}");
    assert!(
        remote[0]
            .3
            .contains("`redis` 1.2.3 from https://charts.example.com"),
        "{}",
        remote[0].3
    );
    // The values file is Helm values, not a manifest.
    assert!(!found.iter().any(|f| f.0 == "not-a-manifest"), "{found:#?}");
}

#[test]
fn application_sets_generate_one_root_per_helm_application() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    write(r, "envs/dev/values.yaml", "service:\n  type: ClusterIP\n");
    write(
        r,
        "envs/prod/values.yaml",
        "service:\n  type: LoadBalancer\n",
    );
    write(r, "envs/prod/config.yaml", "flag: \"yes\"\n");
    let set = |name: &str, go: bool, generators: &str, app: &str, helm: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  goTemplate: {go}\n  generators:\n{generators}  template:\n    metadata:\n      name: '{app}'\n    spec:\n      source:\n        repoURL: https://git.example.com/deploy.git\n        path: c\n        helm:\n{helm}      destination: {{namespace: web}}\n"
        )
    };
    write(
        r,
        "argocd/list.yaml",
        &set(
            "list",
            false,
            "    - list:\n        elements:\n          - {env: dev}\n          - {env: prod}\n",
            "{{env}}-list",
            "          valueFiles: ['../envs/{{env}}/values.yaml']\n",
        ),
    );
    write(
        r,
        "argocd/dirs.yaml",
        &set(
            "dirs",
            true,
            "    - git:\n        repoURL: https://git.example.com/deploy.git\n        directories:\n          - path: 'envs/*'\n          - {path: envs/dev, exclude: true}\n",
            "{{ .path.basename }}-dirs",
            "          valueFiles: ['../{{ .path.path }}/values.yaml']\n",
        ),
    );
    write(
        r,
        "argocd/files.yaml",
        &set(
            "files",
            false,
            "    - git:\n        repoURL: https://git.example.com/deploy.git\n        files:\n          - path: 'envs/*/config.yaml'\n",
            "{{path.basename}}-files",
            "          parameters:\n            - {name: conf, value: '{{flag}}'}\n",
        ),
    );
    write(
        r,
        "argocd/clusters.yaml",
        &set(
            "clusters",
            false,
            "    - clusters: {}\n",
            "{{name}}-web",
            "          valueFiles: [values.yaml]\n",
        ),
    );
    // A Go template function kgate does not evaluate: a note, not a silent skip.
    write(
        r,
        "argocd/upper.yaml",
        &set(
            "upper",
            true,
            "    - list:\n        elements:\n          - {env: prod}\n",
            "{{ .env }}-upper",
            "          valueFiles: ['../envs/{{ .env | lower }}/values.yaml']\n",
        ),
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let note = of(&found, "render-unavailable", "ApplicationSet argocd/upper");
    assert_eq!(note.len(), 1, "{found:#?}");
    assert!(note[0].3.contains("prod-upper"), "{}", note[0].3);
    let exposed: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "service-type-exposed")
        .map(|f| (f.1.as_str(), f.2.clone()))
        .collect();
    // Released under each Application's name: two Services, one finding each.
    assert_eq!(
        exposed,
        [
            (
                "envs/prod/values.yaml:2",
                vec!["Application argocd/prod-dirs".to_owned()]
            ),
            (
                "envs/prod/values.yaml:2",
                vec!["Application argocd/prod-list".to_owned()]
            )
        ],
        "{found:#?}"
    );
    assert_eq!(
        of(&found, "main-deny", "Application argocd/dev-list").len(),
        1
    );
    let shown = of(&found, "main-deny", "Application argocd/prod-files");
    assert_eq!(shown.len(), 1, "{found:#?}");
    assert_eq!(shown[0].3, r#"data {"conf":"yes","flag":"bool"}"#);
    // envs/dev is excluded from the directories generator.
    assert!(of(&found, "main-deny", "Application argocd/dev-dirs").is_empty());
    let note = of(
        &found,
        "render-unavailable",
        "ApplicationSet argocd/clusters",
    );
    assert_eq!(note.len(), 1, "{found:#?}");
    assert!(note[0].3.contains("`clusters`"), "{}", note[0].3);
    assert_eq!(note[0].1, "argocd/clusters.yaml:7");
}

#[test]
fn a_helm_release_gets_the_post_build_variables_of_the_kustomization_that_applies_it() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    write(
        r,
        "clusters/prod.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: ./clusters/prod/apps\n  sourceRef: {kind: GitRepository, name: flux-system}\n  postBuild:\n    substitute:\n      svc_type: NodePort\n    substituteFrom:\n      - {kind: ConfigMap, name: cluster-vars}\n",
    );
    write(
        r,
        "clusters/vars.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  priv: \"true\"\n",
    );
    write(
        r,
        "clusters/prod/apps/web.yaml",
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  chart:\n    spec:\n      chart: ./c\n      sourceRef: {kind: GitRepository, name: flux-system}\n  values:\n    service:\n      type: ${svc_type}\n    securityContext:\n      privileged: ${priv:=false}\n    conf: ${missing:=fallback}\n",
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let root = "HelmRelease flux-system/web";
    let exposed = of(&found, "service-type-exposed", root);
    assert_eq!(exposed.len(), 1, "{found:#?}");
    assert_eq!(exposed[0].1, "clusters/prod/apps/web.yaml:13");
    let privileged = of(&found, "privileged-container", root);
    assert_eq!(privileged.len(), 1, "{found:#?}");
    assert_eq!(privileged[0].1, "clusters/prod/apps/web.yaml:15");
    let shown = of(&found, "main-deny", root);
    assert_eq!(shown[0].3, r#"data {"conf":"fallback","flag":"bool"}"#);
}

/// `--changed-since`: an Application whose `$values` file changed is checked, though neither
/// its own file nor its chart changed.
#[test]
fn a_changed_value_file_selects_the_applications_that_read_it() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    std::fs::remove_dir(r.join(".git")).unwrap();
    write(r, "envs/prod/values.yaml", "service:\n  type: ClusterIP\n");
    write(
        r,
        "argocd/prod.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: prod\n  namespace: argocd\nspec:\n  sources:\n    - repoURL: https://git.example.com/deploy.git\n      path: c\n      helm:\n        valueFiles: [$values/envs/prod/values.yaml]\n    - {repoURL: https://git.example.com/deploy.git, ref: values}\n  destination: {namespace: prod}\n",
    );
    common::git(r, &["init", "-q"]);
    common::git(r, &["add", "-A"]);
    common::git(r, &["commit", "-qm", "init"]);
    write(r, "envs/prod/values.yaml", "service:\n  type: NodePort\n");
    let out = common::bin()
        .args(["check", ".", "--format", "json", "--changed-since", "HEAD"])
        .current_dir(r)
        .env("KGATE_HELM", helm)
        .output()
        .expect("kgate runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let exposed: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "service-type-exposed")
        .collect();
    assert_eq!(exposed.len(), 1, "{report:#}");
    assert_eq!(exposed[0]["location"]["path"], "envs/prod/values.yaml");
}

/// A values file that removes a chart default (`limits: null`): the finding about the
/// missing field points at that line, in that environment only.
#[test]
fn a_default_removed_by_values_is_found_at_the_null() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    chart(r);
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("envs/{env}/kustomization.yaml"),
            "helmGlobals:\n  chartHome: ../..\nhelmCharts:\n  - name: c\n    releaseName: c\n    valuesFile: values.yaml\n",
        );
    }
    write(r, "envs/dev/values.yaml", "conf: dev\n");
    write(
        r,
        "envs/prod/values.yaml",
        "conf: prod\nresources:\n  limits: null\n",
    );
    let found = findings(r);
    if found.is_empty() {
        return;
    }
    let limits: Vec<_> = found
        .iter()
        .filter(|f| f.0 == "missing-resource-limits")
        .map(|f| (f.1.as_str(), f.2.clone()))
        .collect();
    assert_eq!(
        limits,
        [("envs/prod/values.yaml:3", vec!["envs/prod".to_owned()])],
        "{found:#?}"
    );
}
