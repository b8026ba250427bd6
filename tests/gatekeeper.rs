//! Gatekeeper ConstraintTemplates and Constraints from the repository
//! (`tests/data/gatekeeper`, templates as the gatekeeper-library ships them, Rego v0) run on
//! every object their `spec.match` selects, with `input.review.object` and
//! `input.parameters`; `enforcementAction` sets the severity; constraint parameters are
//! validated against the template's schema.

mod common;

use std::path::PathBuf;

fn fixture() -> PathBuf {
    common::fixture("gatekeeper")
}

fn check(dir: &std::path::Path) -> serde_json::Value {
    let out = common::check(dir, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn constraints_select_objects_and_report_their_templates_violations() {
    let report = check(&fixture());
    let got: Vec<(String, String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("k8s"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "k8sallowedrepos-repo-is-openpolicyagent".to_owned(),
                "warning".to_owned(),
                13,
                "container <app> has an invalid image repo <nginx:1.27>, allowed repos are [\"openpolicyagent/\"]".to_owned()
            ),
            (
                "k8srequiredlabels-must-have-owner".to_owned(),
                "error".to_owned(),
                13,
                "All namespaces and pods must have an `owner` label that points to your company username".to_owned()
            ),
        ],
        "only the `bad` pod violates; kube-system is excluded, `good` complies"
    );
    // The constraint kinds get schemas from their templates: no schema-missing for them.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "schema-missing"
                && f["location"]["path"] == "gatekeeper/constraints.yaml")
    );
}

#[test]
fn constraint_parameters_are_validated_and_unknown_kinds_refused() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |rel: &str| {
        std::fs::create_dir_all(dir.path().join(rel).parent().unwrap()).unwrap();
        std::fs::copy(fixture().join(rel), dir.path().join(rel)).unwrap();
    };
    copy("gatekeeper/k8sallowedrepos-template.yaml");
    std::fs::write(
        dir.path().join("gatekeeper/constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sAllowedRepos\nmetadata:\n  name: repos\nspec:\n  parameters:\n    repos: registry.example.com/\n",
    )
    .unwrap();
    let report = check(dir.path());
    let invalid: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-invalid")
        .collect();
    assert_eq!(invalid.len(), 1, "{report}");
    assert_eq!(invalid[0]["location"]["line"], 7);
    // A constraint whose template is not in the repository is the repository's content: one
    // finding on the constraint, and everything else still checked.
    std::fs::write(
        dir.path().join("gatekeeper/orphan.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let report = check(dir.path());
    let orphan: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "gatekeeper-invalid")
        .collect();
    assert_eq!(orphan.len(), 1, "{report}");
    assert_eq!(orphan[0]["location"]["path"], "gatekeeper/orphan.yaml");
    assert!(
        orphan[0]["message"]
            .as_str()
            .unwrap()
            .contains("K8sMissing"),
        "{}",
        orphan[0]["message"]
    );
}

/// A ConstraintTemplate whose Rego regorus does not compile (the gatekeeper-library holds one:
/// "else cannot be used with set rules") is one finding at the Rego line the engine names;
/// its constraints are named as not evaluated; other templates and all objects are checked.
#[test]
fn a_template_the_engine_cannot_compile_is_one_finding_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "gatekeeper/k8srequiredlabels-template.yaml",
        "gatekeeper/constraints.yaml",
        "gatekeeper/k8sallowedrepos-template.yaml",
    ] {
        std::fs::create_dir_all(dir.path().join(rel).parent().unwrap()).unwrap();
        std::fs::copy(fixture().join(rel), dir.path().join(rel)).unwrap();
    }
    common::write(
        dir.path(),
        "gatekeeper/broken-template.yaml",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: k8sbroken\nspec:\n  crd:\n    spec:\n      names:\n        kind: K8sBroken\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package k8sbroken\n\n        violation[{\"msg\": \"x\"}] {\n          input.review.object.kind == \"Pod\"\n        } else = {\"msg\": \"y\"} {\n          true\n        }\n",
    );
    common::write(
        dir.path(),
        "gatekeeper/broken-constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sBroken\nmetadata:\n  name: never\n",
    );
    common::write(
        dir.path(),
        "apps/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n",
    );
    let report = check(dir.path());
    let findings = report["findings"].as_array().unwrap();
    let broken: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "gatekeeper-invalid")
        .collect();
    assert_eq!(broken.len(), 1, "{report}");
    let message = broken[0]["message"].as_str().unwrap();
    assert_eq!(
        broken[0]["location"]["path"],
        "gatekeeper/broken-template.yaml"
    );
    assert!(
        message.contains("K8sBroken") && message.contains("K8sBroken/never"),
        "{message}"
    );
    // The Rego starts on line 13 of the file; the engine's complaint is its `else`, line 17.
    assert_eq!(broken[0]["location"]["line"], 17, "{message}");
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "k8srequiredlabels-must-have-owner"),
        "the other templates are still evaluated: {report}"
    );
}

/// The Ingresses `UNIQUE_INGRESS_HOST` reports.
fn conflicting(report: &serde_json::Value) -> Vec<&str> {
    (report["findings"].as_array().unwrap().iter())
        .filter(|f| f["rule"] == "k8suniqueingresshost-unique-ingress-host")
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect()
}

/// A referential template (it reads `data.inventory`): an Ingress host used by another Ingress.
const UNIQUE_INGRESS_HOST: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8suniqueingresshost
spec:
  crd:
    spec:
      names:
        kind: K8sUniqueIngressHost
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8suniqueingresshost

        identical(obj, review) {
          obj.metadata.name == review.object.metadata.name
        }

        violation[{"msg": msg}] {
          input.review.kind.kind == "Ingress"
          host := input.review.object.spec.rules[_].host
          other := data.inventory.namespace[_][_]["Ingress"][name]
          other.spec.rules[_].host == host
          not identical(other, input.review)
          msg := sprintf("ingress host conflicts with an existing ingress <%v>", [host])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueIngressHost
metadata:
  name: unique-ingress-host
spec:
  match:
    kinds:
      - apiGroups: ["networking.k8s.io"]
        kinds: ["Ingress"]
"#;

#[test]
fn referential_templates_see_the_root_as_inventory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.yaml"), UNIQUE_INGRESS_HOST).unwrap();
    let ingress = |name: &str, host: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\nspec:\n  rules:\n  - host: {host}\n"
        )
    };
    std::fs::write(
        dir.path().join("ingresses.yaml"),
        format!(
            "{}---\n{}---\n{}",
            ingress("a", "shop.example.com"),
            ingress("b", "shop.example.com"),
            ingress("c", "docs.example.com")
        ),
    )
    .unwrap();
    let report = check(dir.path());
    assert_eq!(conflicting(&report), ["a", "b"], "{report}");
}

/// Gatekeeper compiles each template apart: two templates may ship different versions of the
/// same `lib.*` package (the library's seccomp and seccompv2 do) and each sees its own.
/// Newer templates carry their Rego in `code[]` (engine `Rego`) beside a CEL version.
#[test]
fn templates_keep_their_own_libs() {
    let dir = tempfile::tempdir().unwrap();
    let template = |kind: &str, word: &str, code: bool| {
        let rego = format!(
            "package {lower}\n\nimport data.lib.words.word\n\nviolation[{{\"msg\": msg}}] {{\n  msg := sprintf(\"%v %v\", [word, input.review.object.metadata.name])\n}}\n",
            lower = kind.to_ascii_lowercase()
        );
        let lib = format!("package lib.words\n\nword := \"{word}\"\n");
        let indent = |text: &str, n: usize| {
            text.lines()
                .map(|l| format!("{}{l}\n", " ".repeat(n)))
                .collect::<String>()
        };
        let target = if code {
            format!(
                "      code:\n      - engine: K8sNativeValidation\n        source:\n          validations:\n          - expression: \"true\"\n      - engine: Rego\n        source:\n          rego: |\n{}          libs:\n          - |\n{}",
                indent(&rego, 12),
                indent(&lib, 14)
            )
        } else {
            format!(
                "      rego: |\n{}      libs:\n      - |\n{}",
                indent(&rego, 8),
                indent(&lib, 10)
            )
        };
        format!(
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {lower}\nspec:\n  crd:\n    spec:\n      names:\n        kind: {kind}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n{target}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: {kind}\nmetadata:\n  name: all\nspec:\n  match:\n    kinds:\n    - apiGroups: [\"\"]\n      kinds: [\"ConfigMap\"]\n",
            lower = kind.to_ascii_lowercase()
        )
    };
    std::fs::write(dir.path().join("a.yaml"), template("KA", "alpha", false)).unwrap();
    std::fs::write(dir.path().join("b.yaml"), template("KB", "beta", true)).unwrap();
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    )
    .unwrap();
    let report = check(dir.path());
    let mut got: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with('k') || f["rule"] == "policy-error")
        .map(|f| (f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("ka-all", "alpha cm"), ("kb-all", "beta cm")],
        "{report}"
    );
}

/// A template that calls `external_data` asks a Gatekeeper provider (an image signature
/// service, a registry) at admission time: offline it cannot be evaluated. That is one note
/// on the template naming its constraints, not a `policy-error` on every object it selects.
#[test]
fn a_template_calling_external_data_is_one_note_not_an_error_per_object() {
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        "gatekeeper/template.yaml",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: k8sexternaldata\nspec:\n  crd:\n    spec:\n      names:\n        kind: K8sExternalData\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package k8sexternaldata\n\n        violation[{\"msg\": msg}] {\n          images := [img | img = input.review.object.spec.containers[_].image]\n          response := external_data({\"provider\": \"my-provider\", \"keys\": images})\n          count(response.errors) > 0\n          msg := sprintf(\"invalid response: %v\", [response])\n        }\n",
    );
    common::write(
        dir.path(),
        "gatekeeper/constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sExternalData\nmetadata:\n  name: signed\nspec:\n  match:\n    kinds:\n    - apiGroups: [\"\"]\n      kinds: [\"Pod\"]\n",
    );
    for name in ["a", "b"] {
        common::write(
            dir.path(),
            &format!("apps/{name}.yaml"),
            &format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  labels:\n    app: {name}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n"
            ),
        );
    }
    let (report, _) = common::check_json(dir.path(), &[]);
    let findings = report["findings"].as_array().unwrap();
    let about: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| {
            f["rule"] == "policy-error"
                || f["rule"] == "gatekeeper-invalid"
                || f["rule"].as_str().unwrap().starts_with("k8sexternaldata")
        })
        .collect();
    assert_eq!(about.len(), 1, "{report}");
    let note = about[0];
    assert_eq!(note["rule"], "gatekeeper-invalid");
    assert_eq!(note["severity"], "note");
    assert_eq!(note["location"]["path"], "gatekeeper/template.yaml");
    // The call is on line 17 of the file (the Rego starts on line 13).
    assert_eq!(note["location"]["line"], 17, "{note}");
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains("external_data")
            && message.contains("K8sExternalData")
            && message.contains("K8sExternalData/signed"),
        "{message}"
    );
}

/// With `--changed-since`, only the changed Ingress is reported, but the inventory it is
/// checked against is still its whole root: the Ingress it conflicts with lives in another
/// namespace, unchanged (objects of unaffected namespaces are otherwise left out).
#[test]
fn referential_templates_see_the_whole_root_under_changed_since() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    common::write(r, "gatekeeper/template.yaml", UNIQUE_INGRESS_HOST);
    let ingress = |name: &str, namespace: &str, host: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  rules:\n  - host: {host}\n"
        )
    };
    common::write(r, "site/a.yaml", &ingress("a", "x", "docs.example.com"));
    common::write(r, "site/b.yaml", &ingress("b", "y", "shop.example.com"));
    common::write(
        r,
        "site/kustomization.yaml",
        "resources: [a.yaml, b.yaml]\n",
    );
    common::git(r, &["init", "-q"]);
    common::git(r, &["add", "-A"]);
    common::git(r, &["commit", "-qm", "init"]);
    common::write(r, "site/a.yaml", &ingress("a", "x", "shop.example.com"));
    let out = common::check(r, &["--changed-since", "HEAD"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(conflicting(&report), ["a"], "{report}");
}
