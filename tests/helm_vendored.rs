//! A public chart (the ZenML server chart vendored from PyPI, `tests/helm/zenml/`) deployed
//! per environment through three paths: Kustomize `helmCharts` (dev, prod), an Argo CD
//! Application (staging) and a Flux HelmRelease (qa), and on its own (the chart directory,
//! default values). Every root's objects, as kgate checks
//! them, equal what `kubectl kustomize --enable-helm` / `helm template` render from the same
//! inputs; a defect injected through prod's values is found in prod only, at its values line,
//! and a defect the Application's parameter injects at the parameter's line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::write;

const VALUES: &str = "zenml:\n  auth:\n    jwtSecretKey: not-a-real-key\n";

fn repo(r: &Path) {
    std::fs::create_dir(r.join(".git")).unwrap();
    common::copy_dir(
        &common::repo().join("tests/helm/zenml/input/charts/zenml"),
        &r.join("charts/zenml"),
    );
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("envs/{env}/kustomization.yaml"),
            &format!(
                "namespace: zenml-{env}\nhelmGlobals:\n  chartHome: ../../charts\nhelmCharts:\n  - name: zenml\n    releaseName: zenml\n    namespace: zenml-{env}\n    valuesFile: values.yaml\n"
            ),
        );
    }
    write(r, "envs/dev/values.yaml", VALUES);
    write(
        r,
        "envs/prod/values.yaml",
        &format!(
            "{VALUES}securityContext:\n  runAsNonRoot: true\n  runAsUser: 1000\n  privileged: true\n"
        ),
    );
    write(r, "envs/staging/values.yaml", VALUES);
    write(
        r,
        "argocd/staging.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: zenml-staging\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example.com/deploy.git\n    path: charts/zenml\n    helm:\n      valueFiles: [../../envs/staging/values.yaml]\n      parameters:\n        - name: zenml.service.type\n          value: LoadBalancer\n  destination: {namespace: zenml-staging}\n",
    );
    write(
        r,
        "flux/qa.yaml",
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: zenml\n  namespace: flux-system\nspec:\n  targetNamespace: zenml-qa\n  chart:\n    spec:\n      chart: ./charts/zenml\n      sourceRef: {kind: GitRepository, name: flux-system}\n  values:\n    zenml:\n      auth:\n        jwtSecretKey: not-a-real-key\n",
    );
    // Every object as kgate checks it, as a finding's message.
    write(
        r,
        "policy/show.rego",
        "package main\n\ndeny[msg] {\n\tmsg := json.marshal(input)\n}\n",
    );
}

/// JSON with every object's keys sorted.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<&String, String> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let fields: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// The objects of a YAML stream, as JSON texts (keys sorted).
fn objects(stream: &str) -> BTreeSet<String> {
    let (docs, err) = kgate::yaml::parse_documents(stream, kgate::yaml::LoadLimits::default());
    assert!(err.is_none(), "{err:?}");
    docs.iter()
        .map(|d| d.root.to_json())
        .filter(|o| o.is_object())
        .map(|o| canonical(&o))
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_vendored_public_chart_renders_per_environment_as_helm_does() {
    let Some(helm) = common::helm::helm() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    repo(r);
    let out = common::bin()
        .args(["check", ".", "--format", "json", "--kube-version", "1.32"])
        .current_dir(r)
        .env("KGATE_HELM", &helm)
        .output()
        .expect("kgate runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let findings = report["findings"].as_array().unwrap();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f["rule"] == "main-deny") {
        let object: serde_json::Value =
            serde_json::from_str(f["message"].as_str().unwrap()).unwrap();
        for root in f["roots"].as_array().unwrap() {
            seen.entry(root.as_str().unwrap().to_owned())
                .or_default()
                .insert(canonical(&object));
        }
    }
    let template = |release: &str, ns: &str, extra: &[&str]| {
        let mut cmd = Command::new(&helm);
        cmd.args(["template", release, "charts/zenml"])
            .args(if ns.is_empty() {
                vec![]
            } else {
                vec!["--namespace", ns]
            })
            .args(["--kube-version", "1.32", "--include-crds"])
            .args(extra)
            .current_dir(r);
        objects(&run(&mut cmd))
    };
    let staging = template(
        "zenml-staging",
        "zenml-staging",
        &[
            "-f",
            "envs/staging/values.yaml",
            "--set",
            "zenml.service.type=LoadBalancer",
        ],
    );
    assert_eq!(seen["Application argocd/zenml-staging"], staging);
    let values = r.join("qa-values.yaml");
    std::fs::write(&values, VALUES).unwrap();
    let qa = template(
        "zenml-qa-zenml",
        "zenml-qa",
        &["-f", values.to_str().unwrap()],
    );
    assert_eq!(seen["HelmRelease flux-system/zenml"], qa);
    // The chart directory on its own: its default values, released as `zenml`. Its Secret
    // holds a random key (the defaults set none) whose checksum the Deployment carries: the
    // two are compared by count only.
    let random = |objects: &BTreeSet<String>| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| {
                !o.contains("ZENML_SERVER_JWT_SECRET_KEY") && !o.contains("checksum/secret")
            })
            .cloned()
            .collect()
    };
    let alone = template("zenml", "", &[]);
    assert_eq!(random(&seen["charts/zenml"]), random(&alone));
    assert_eq!(seen["charts/zenml"].len(), alone.len());
    // Kustomize's path, where kubectl is installed.
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok()
    {
        for env in ["dev", "prod"] {
            let mut cmd = Command::new("kubectl");
            cmd.args(["kustomize", "--enable-helm", "--helm-command"])
                .arg(&helm)
                .arg(format!("envs/{env}"))
                .current_dir(r);
            let want = objects(&run(&mut cmd));
            assert_eq!(seen[&format!("envs/{env}")], want, "envs/{env}");
        }
    }
    let located = |rule: &str| -> Vec<(String, Vec<String>)> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    format!(
                        "{}:{}",
                        f["location"]["path"].as_str().unwrap(),
                        f["location"]["line"]
                    ),
                    serde_json::from_value(f["roots"].clone()).unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        located("privileged-container"),
        [(
            "envs/prod/values.yaml:7".to_owned(),
            vec!["envs/prod".to_owned()]
        )]
    );
    assert_eq!(
        located("service-type-exposed"),
        [(
            "argocd/staging.yaml:15".to_owned(),
            vec!["Application argocd/zenml-staging".to_owned()]
        )]
    );
}
