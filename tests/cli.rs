//! End-to-end tests of the `kgate` binary: exit codes, every output format (insta
//! snapshots), the JSON contract, SARIF schema validity and every bad input we know of.

mod common;

use std::path::{Path, PathBuf};

use common::{repo, write_bytes as write};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn kgate_in(dir: &Path, args: &[&str]) -> Run {
    let out = common::bin()
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("kgate runs");
    Run {
        code: out
            .status
            .code()
            .expect("kgate exits normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn kgate(args: &[&str]) -> Run {
    kgate_in(&repo(), args)
}

fn assert_no_panic(r: &Run) {
    for needle in [
        "panicked",
        "RUST_BACKTRACE",
        "internal error",
        "stack backtrace",
    ] {
        assert!(
            !r.stderr.contains(needle),
            "stderr shows a panic:\n{}",
            r.stderr
        );
    }
}

fn json_of(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", r.stdout))
}

/// (rule, path, line, column) of every finding.
fn locations(report: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn loc(rule: &str, path: &str, line: u64, column: u64) -> (String, String, u64, u64) {
    (rule.to_owned(), path.to_owned(), line, column)
}

// ---- the examples -------------------------------------------------------------------

#[test]
fn defective_example_reports_every_injected_defect_at_its_line() {
    let r = kgate(&["check", "examples/defective", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_no_panic(&r);
    let report = json_of(&r);
    assert_eq!(
        locations(&report),
        vec![
            loc("required-labels", "apps/web/base/deployment.yaml", 6, 3),
            loc("image-latest-tag", "apps/web/base/deployment.yaml", 21, 18),
            loc("required-labels", "apps/worker/base/cronjob.yaml", 3, 1),
            loc("image-latest-tag", "apps/worker/base/cronjob.yaml", 16, 22),
            loc("required-labels", "apps/worker/base/deployment.yaml", 3, 1),
            loc(
                "missing-resource-limits",
                "apps/worker/base/deployment.yaml",
                18,
                11
            ),
            loc(
                "missing-resource-requests",
                "apps/worker/base/deployment.yaml",
                18,
                11
            ),
            loc(
                "missing-resource-limits",
                "apps/worker/base/deployment.yaml",
                30,
                13
            ),
            // Set by the overlay's `images:` entry: the finding points there, once per
            // container that uses the image.
            loc(
                "image-latest-tag",
                "apps/worker/overlays/prod/kustomization.yaml",
                12,
                13
            ),
            loc(
                "image-latest-tag",
                "apps/worker/overlays/prod/kustomization.yaml",
                12,
                13
            ),
            loc(
                "parse-error",
                "infrastructure/legacy/worker-settings.yaml",
                10,
                3
            ),
            loc(
                "required-labels",
                "infrastructure/logging/daemonset.yaml",
                3,
                1
            ),
            loc(
                "privilege-escalation-allowed",
                "infrastructure/logging/daemonset.yaml",
                19,
                11
            ),
            loc(
                "privileged-container",
                "infrastructure/logging/daemonset.yaml",
                21,
                25
            ),
            loc(
                "host-path-volume",
                "infrastructure/logging/daemonset.yaml",
                37,
                11
            ),
        ]
    );
    // A base defect seen through the base and its overlay is one finding with both roots.
    let first = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap()
    };
    let limits = first("missing-resource-limits");
    assert_eq!(
        limits["roots"],
        serde_json::json!(["apps/worker/base", "apps/worker/overlays/prod"])
    );
    // The overlay pins nginx, so the web base's `latest` shows up in the base root only.
    assert_eq!(
        first("image-latest-tag")["roots"],
        serde_json::json!(["apps/web/base"])
    );
    // Every injected defect is marked in its file with a `# Defect:` comment on the line
    // above the reported one (or above the list item, for a container without resources).
    for (_, path, line, _) in locations(&report) {
        let text = std::fs::read_to_string(repo().join("examples/defective").join(&path)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let above = &lines[..(line as usize - 1)];
        assert!(
            above.iter().rev().take(2).any(|l| l.contains("# Defect:")),
            "{path}:{line} is not an injected defect"
        );
    }
    let total_defects: usize = ["apps", "infrastructure"]
        .iter()
        .flat_map(|d| walk(&repo().join("examples/defective").join(d)))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .matches("# Defect:")
                .count()
        })
        .sum();
    assert_eq!(total_defects, 13, "every defect in the example is reported");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn clean_example_passes() {
    let r = kgate(&["check", "examples/clean"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0 findings"), "{}", r.stdout);
    assert!(r.stdout.contains("gate passed"));
    let j = json_of(&kgate(&["check", "examples/clean", "--format", "json"]));
    assert_eq!(j["summary"]["objects"], 20);
    assert_eq!(j["summary"]["roots"], 5);
    assert_eq!(j["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn human_output_snapshot() {
    let r = kgate(&["check", "examples/defective"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("human_defective", r.stdout);
}

#[test]
fn json_output_snapshot() {
    let r = kgate(&["check", "examples/defective", "--format", "json"]);
    insta::assert_snapshot!("json_defective", r.stdout);
}

#[test]
fn sarif_output_snapshot() {
    let r = kgate(&["check", "examples/defective", "--format", "sarif"]);
    insta::assert_snapshot!("sarif_defective", r.stdout);
}

#[test]
fn github_output_snapshot() {
    let r = kgate(&["check", "examples/defective", "--format", "github"]);
    insta::assert_snapshot!("github_defective", r.stdout);
}

#[test]
fn json_matches_the_design_contract() {
    let j = json_of(&kgate(&["check", "examples/defective", "--format", "json"]));
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(j["version"], 1);
    assert_eq!(keys(&j), ["version", "findings", "summary"]);
    assert_eq!(
        keys(&j["summary"]),
        [
            "roots", "objects", "findings", "errors", "warnings", "notes"
        ]
    );
    for f in j["findings"].as_array().unwrap() {
        assert_eq!(
            keys(f),
            [
                "rule", "severity", "message", "help", "location", "object", "pointer", "roots"
            ]
        );
        assert_eq!(keys(&f["location"]), ["path", "line", "column"]);
        assert!(["error", "warning", "note"].contains(&f["severity"].as_str().unwrap()));
        assert!(f["roots"].is_array());
        if !f["object"].is_null() {
            assert_eq!(
                keys(&f["object"]),
                ["apiVersion", "kind", "namespace", "name"]
            );
            assert!(f["pointer"].as_str().unwrap().starts_with('/'));
        }
        assert!(!f["location"]["path"].as_str().unwrap().contains('\\'));
    }
    let s = &j["summary"];
    assert_eq!(s["roots"], 6);
    assert_eq!(s["findings"], 15);
    assert_eq!(s["errors"], 9);
    assert_eq!(s["warnings"], 6);
    assert_eq!(s["objects"], 22);
}

#[test]
fn sarif_validates_against_the_official_schema() {
    // The official schema's `language` patterns have a stray `]` that only ECMA-262's
    // lenient Annex B accepts (a known erratum); use the pattern they intend.
    let raw = std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json")).unwrap();
    let erratum = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(raw.matches(erratum).count(), 2);
    let fixed = raw.replace(erratum, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: serde_json::Value = serde_json::from_str(&fixed).unwrap();
    let validator = jsonschema::options()
        .build(&schema)
        .expect("SARIF schema compiles");
    for example in ["examples/defective", "examples/clean"] {
        let sarif = json_of(&kgate(&["check", example, "--format", "sarif"]));
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{example}: SARIF is invalid:\n{}",
            errors.join("\n")
        );
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "rules sorted by id");
        for rule in rules {
            assert!(rule["shortDescription"]["text"].is_string());
            assert!(rule["help"]["text"].is_string());
            assert!(rule["defaultConfiguration"]["level"].is_string());
        }
        for result in run["results"].as_array().unwrap() {
            let idx = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], result["ruleId"]);
            let loc = &result["locations"][0]["physicalLocation"];
            assert!(
                !loc["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .starts_with('/')
            );
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
            assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
        }
    }
}

// ---- gate and configuration ---------------------------------------------------------

/// A hardened Pod whose one defect is the `latest` tag (line 8).
const LATEST_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app.kubernetes.io/name: p, app.kubernetes.io/instance: p, app.kubernetes.io/version: \"1\", app.kubernetes.io/component: web, app.kubernetes.io/part-of: shop, app.kubernetes.io/managed-by: kgate-tests}}\n# every recommended label, so that image-latest-tag is the only finding\nspec:\n  containers:\n    - name: app\n      image: nginx:latest\n      resources:\n        requests: {cpu: 100m, memory: 64Mi}\n        limits: {cpu: 100m, memory: 64Mi}\n      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}\n      livenessProbe: {tcpSocket: {port: 80}}\n      readinessProbe: {tcpSocket: {port: 80}}\n  securityContext: {runAsNonRoot: true, runAsUser: 10001}\n  serviceAccountName: p\n  automountServiceAccountToken: false\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: p\n";

/// A scratch repository (with `.git` so config search stops there).
fn scratch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    tmp
}

#[test]
fn fail_on_and_severity_overrides_set_the_exit_code() {
    let tmp = scratch();
    write(tmp.path(), "pod.yaml", LATEST_POD.as_bytes());
    write(
        tmp.path(),
        ".kgate.yaml",
        b"rules:\n  severity:\n    image-latest-tag: warning\n",
    );
    let r = kgate_in(tmp.path(), &["check"]);
    assert_eq!(
        r.code, 0,
        "a warning passes the default --fail-on error\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 warning"));
    let r = kgate_in(tmp.path(), &["check", "--fail-on", "warning"]);
    assert_eq!(r.code, 1);
    let r = kgate_in(
        tmp.path(),
        &["check", "--fail-on", "note", "--format", "json"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(json_of(&r)["findings"][0]["severity"], "warning");
}

#[test]
fn disabled_rules_do_not_report() {
    let tmp = scratch();
    write(tmp.path(), "pod.yaml", LATEST_POD.as_bytes());
    write(
        tmp.path(),
        ".kgate.yaml",
        b"rules:\n  disable: [image-latest-tag]\n",
    );
    let r = kgate_in(tmp.path(), &["check", "--format", "sarif"]);
    assert_eq!(r.code, 0);
    let sarif = json_of(&r);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().all(|r| r["id"] != "image-latest-tag"));
}

#[test]
fn excludes_and_gitignore_are_honoured() {
    let tmp = scratch();
    write(tmp.path(), "apps/pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), "vendor/pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), "build/pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), ".gitignore", b"build/\n");
    write(tmp.path(), ".kgate.yaml", b"exclude: [vendor/]\n");
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    let paths: Vec<String> = locations(&j).into_iter().map(|l| l.1).collect();
    assert_eq!(paths, ["apps/pod.yaml"]);
}

#[test]
fn output_file_and_per_format_files() {
    let tmp = scratch();
    write(tmp.path(), "pod.yaml", LATEST_POD.as_bytes());
    let r = kgate_in(
        tmp.path(),
        &[
            "check",
            "--format",
            "sarif=out.sarif",
            "--format",
            "json",
            "--output",
            "out.json",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out.json")).unwrap())
            .unwrap();
    assert_eq!(json["summary"]["findings"], 1);
    let r = kgate_in(
        tmp.path(),
        &["check", "--format", "json", "--format", "sarif"],
    );
    assert_eq!(r.code, 2, "two formats on stdout is a usage error");
    assert!(r.stderr.contains("same standard output"));
}

#[test]
fn explicit_file_paths_are_relative_to_their_directory() {
    let tmp = scratch();
    write(tmp.path(), "a/pod.yaml", LATEST_POD.as_bytes());
    let j = json_of(&kgate_in(
        tmp.path(),
        &["check", "a/pod.yaml", "--format", "json"],
    ));
    assert_eq!(
        locations(&j),
        vec![loc("image-latest-tag", "pod.yaml", 8, 14)]
    );
}

// ---- bad input: each gives a clear message and the documented exit code --------------

#[test]
fn nonexistent_path_is_a_usage_error() {
    let r = kgate(&["check", "no/such/dir"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("path does not exist: no/such/dir"),
        "{}",
        r.stderr
    );
    assert_no_panic(&r);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let r = kgate(&["check", "--frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--frobnicate"), "{}", r.stderr);
    let r = kgate(&["check", "--format", "xml", "examples/clean"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown format `xml`"), "{}", r.stderr);
    let r = kgate(&["check", "--fail-on", "fatal", "examples/clean"]);
    assert_eq!(r.code, 2);
    let r = kgate(&["frobnicate"]);
    assert_eq!(r.code, 2);
    let r = kgate(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("check"));
}

#[test]
fn malformed_config_names_file_key_and_line() {
    let tmp = scratch();
    write(tmp.path(), "pod.yaml", LATEST_POD.as_bytes());
    write(
        tmp.path(),
        ".kgate.yaml",
        b"kubeVersion: \"1.32\"\nrules:\n  disabel: [x]\n",
    );
    let r = kgate_in(tmp.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(".kgate.yaml:3:3: unknown key `disabel` in rules"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `disable`?"), "{}", r.stderr);
    assert_no_panic(&r);

    write(
        tmp.path(),
        ".kgate.yaml",
        b"rules:\n  disable: [image-lastest-tag]\n",
    );
    let r = kgate_in(tmp.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(":2:13: unknown rule `image-lastest-tag`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `image-latest-tag`?"),
        "{}",
        r.stderr
    );

    write(tmp.path(), ".kgate.yaml", b"exclude: [a\n");
    let r = kgate_in(tmp.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("YAML syntax error"), "{}", r.stderr);

    let r = kgate_in(tmp.path(), &["check", "--config", "missing.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read config file missing.yaml"),
        "{}",
        r.stderr
    );
}

/// Checks one scratch file and returns (exit code, findings as (rule, line, message)).
fn check_file(name: &str, bytes: &[u8]) -> (i32, Vec<(String, u64, String)>) {
    let tmp = scratch();
    write(tmp.path(), name, bytes);
    let r = kgate_in(tmp.path(), &["check", "--format", "json"]);
    assert_no_panic(&r);
    let j = json_of(&r);
    let findings = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (r.code, findings)
}

#[test]
fn binary_file_is_a_finding() {
    let (code, f) = check_file("logo.yaml", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].0.as_str(), f[0].1), ("parse-error", 1));
    assert!(f[0].2.contains("binary"));
}

#[test]
fn invalid_utf8_is_a_finding_with_its_line() {
    let (code, f) = check_file(
        "cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: caf\xE9\n",
    );
    assert_eq!(code, 1);
    assert_eq!((f[0].0.as_str(), f[0].1), ("parse-error", 4));
    assert!(f[0].2.contains("not valid UTF-8"), "{}", f[0].2);
}

#[test]
fn yaml_syntax_error_is_a_finding_with_its_line() {
    let (code, f) = check_file(
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b\nspec: {}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "parse-error");
    assert!((5..=6).contains(&f[0].1), "line {}", f[0].1);
    assert!(f[0].2.starts_with("YAML syntax error"));
}

#[test]
fn earlier_documents_are_still_checked_after_a_syntax_error() {
    let mut text = LATEST_POD.to_owned();
    text.push_str("---\nkind: [\n");
    let (_, f) = check_file("pods.yaml", text.as_bytes());
    let rules: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(rules, ["image-latest-tag", "parse-error"]);
}

#[test]
fn empty_file_is_a_note_and_passes() {
    let (code, f) = check_file("empty.yaml", b"");
    assert_eq!(code, 0);
    assert_eq!(
        f,
        vec![(
            "empty-manifest".to_owned(),
            1,
            "file holds no YAML documents".to_owned()
        )]
    );
}

#[test]
fn fifty_megabyte_manifest_is_refused_with_a_finding() {
    let tmp = scratch();
    let mut big = Vec::with_capacity(50 * 1024 * 1024 + 100);
    big.extend_from_slice(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    let mut i = 0;
    while big.len() < 50 * 1024 * 1024 {
        big.extend_from_slice(format!("  key{i}: \"{}\"\n", "x".repeat(100)).as_bytes());
        i += 1;
    }
    write(tmp.path(), "big.yaml", &big);
    let r = kgate_in(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let j = json_of(&r);
    assert_eq!(locations(&j), vec![loc("file-too-large", "big.yaml", 1, 1)]);
    assert!(
        j["findings"][0]["help"]
            .as_str()
            .unwrap()
            .contains("limits.maxFileSize")
    );
}

#[test]
fn size_limit_is_configurable() {
    let tmp = scratch();
    write(tmp.path(), "pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), ".kgate.yaml", b"limits:\n  maxFileSize: 100B\n");
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    assert_eq!(locations(&j), vec![loc("file-too-large", "pod.yaml", 1, 1)]);
    write(tmp.path(), ".kgate.yaml", b"limits:\n  maxFileSize: 1KiB\n");
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    assert_eq!(
        locations(&j),
        vec![loc("image-latest-tag", "pod.yaml", 8, 14)]
    );
}

#[test]
fn alias_bombs_and_deep_nesting_do_not_hang_or_crash() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        prev = name;
    }
    let (code, f) = check_file("bomb.yaml", text.as_bytes());
    assert_eq!(code, 1);
    assert!(f[0].2.contains("alias expansion"), "{f:?}");
    let deep = "[".repeat(100_000);
    let (code, f) = check_file("deep.yaml", deep.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(f[0].0, "parse-error");
}

#[test]
fn non_kubernetes_yaml_is_a_note_and_a_helm_chart_is_never_silent() {
    let tmp = scratch();
    write(
        tmp.path(),
        "values.yaml",
        b"replicaCount: 2\nimage: {tag: latest}\n",
    );
    write(
        tmp.path(),
        "chart/Chart.yaml",
        b"apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        tmp.path(),
        "chart/templates/d.yaml",
        b"{{- if .Values.x }}\nkind: {{ .Values.kind }}\n",
    );
    // Without Helm the chart is an error that says how to install it; with Helm its broken
    // template is a render error. Either way the values file is only a note.
    let out = common::bin()
        .args(["check", "--format", "json"])
        .current_dir(tmp.path())
        .env("KGATE_HELM", "/nonexistent/helm")
        .env("PATH", "")
        .output()
        .expect("kgate runs");
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        locations(&j),
        vec![
            loc("render-unavailable", "chart/Chart.yaml", 1, 1),
            loc("not-a-manifest", "values.yaml", 1, 1),
        ]
    );
    assert_eq!(j["findings"][0]["severity"], "error");
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_outside_symlinks_are_findings() {
    let tmp = scratch();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.yaml", LATEST_POD.as_bytes());
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        tmp.path().join("link.yaml"),
    )
    .unwrap();
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    assert_eq!(
        locations(&j),
        vec![loc("unreadable-file", "link.yaml", 1, 1)]
    );
    assert!(
        j["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("outside")
    );
}

// ---- policy subcommands ---------------------------------------------------------------

#[test]
fn policy_list_and_test() {
    let r = kgate(&["policy", "list"]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!("policy_list", r.stdout);
    let r = kgate(&["policy", "test"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains(" 0 failed"));

    let tmp = scratch();
    write(tmp.path(), "p/a.rego", b"package a\nallow if input.ok\n");
    write(tmp.path(), "p/a_test.rego", b"package a_test\nimport data.a\ntest_ok if a.allow with input as {\"ok\": true}\ntest_broken if a.allow with input as {\"ok\": false}\n");
    let r = kgate_in(tmp.path(), &["policy", "test", "p"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("FAIL p/a_test.rego::test_broken"),
        "{}",
        r.stdout
    );
    write(tmp.path(), "q/bad.rego", b"package q\nallow if {\n");
    let r = kgate_in(tmp.path(), &["policy", "test", "q"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("q/bad.rego"), "{}", r.stderr);
}

// ---- kustomizations before rendering ---------------------------------------------------

#[test]
fn patch_files_are_not_checked_as_standalone_manifests() {
    let tmp = scratch();
    write(tmp.path(), "app/base/pod.yaml", LATEST_POD.as_bytes());
    write(
        tmp.path(),
        "app/base/kustomization.yaml",
        b"resources: [pod.yaml]\n",
    );
    // A strategic-merge patch: a partial Pod whose container has no limits of its own.
    write(
        tmp.path(),
        "app/overlays/prod/patch.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      env: [{name: A, value: b}]\n",
    );
    write(
        tmp.path(),
        "app/overlays/prod/kustomization.yaml",
        b"resources: [../../base]\npatches:\n  - path: patch.yaml\n",
    );
    let r = kgate_in(tmp.path(), &["check", "--format", "json"]);
    let j = json_of(&r);
    assert_eq!(
        locations(&j),
        vec![loc("image-latest-tag", "app/base/pod.yaml", 8, 14)]
    );
    // The patch is applied to the base Pod in the overlay root; it is never checked alone.
    assert_eq!(
        j["findings"][0]["roots"],
        serde_json::json!(["app/base", "app/overlays/prod"])
    );
}

#[test]
fn broken_kustomization_is_a_finding() {
    let tmp = scratch();
    write(
        tmp.path(),
        "app/kustomization.yaml",
        b"resources:\n  - a.yaml\npatches: [\n",
    );
    let r = kgate_in(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let j = json_of(&r);
    let l = locations(&j);
    assert_eq!(l.len(), 1);
    assert_eq!(
        (l[0].0.as_str(), l[0].1.as_str()),
        ("render-error", "app/kustomization.yaml")
    );
    assert_eq!(j["findings"][0]["roots"], serde_json::json!(["app"]));
}

#[test]
fn output_is_identical_across_thread_counts() {
    let one = kgate(&[
        "check",
        "examples/defective",
        "--format",
        "sarif",
        "-j",
        "1",
    ]);
    let two = kgate(&[
        "check",
        "examples/defective",
        "--format",
        "sarif",
        "-j",
        "2",
    ]);
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn several_paths_are_relative_to_their_common_directory() {
    let tmp = scratch();
    write(tmp.path(), "a/pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), "b/pod.yaml", LATEST_POD.as_bytes());
    let j = json_of(&kgate_in(
        tmp.path(),
        &["check", "a", "b/pod.yaml", "--format", "json"],
    ));
    let paths: Vec<String> = locations(&j).into_iter().map(|l| l.1).collect();
    assert_eq!(paths, ["a/pod.yaml", "b/pod.yaml"]);
}

// ---- kgate render ----------------------------------------------------------------------

#[test]
fn render_prints_the_stream_like_kubectl() {
    let r = kgate(&["render", "examples/defective/apps/worker/overlays/prod"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("render_worker_prod", r.stdout);
}

#[test]
fn render_errors_name_the_kustomization_line() {
    let tmp = scratch();
    write(
        tmp.path(),
        "app/kustomization.yaml",
        b"resources:\n  - missing.yaml\n",
    );
    let r = kgate_in(tmp.path(), &["render", "app"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("kustomization.yaml:2:5"), "{}", r.stderr);
    assert!(r.stderr.contains("missing.yaml"), "{}", r.stderr);
    assert_no_panic(&r);
    write(
        tmp.path(),
        "remote/kustomization.yaml",
        b"resources:\n  - github.com/org/repo//deploy?ref=v1\n",
    );
    let r = kgate_in(tmp.path(), &["render", "remote"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not fetched"), "{}", r.stderr);
    let r = kgate_in(tmp.path(), &["render", "nowhere"]);
    assert_eq!(r.code, 2);
}

/// An overlay's `../../base` is inside the repository whether or not it is a git
/// repository: the root is the `.kgate.yaml` directory, else the git top level, else the
/// current directory (kubectl renders these too).
#[test]
fn render_finds_the_repository_root_outside_git() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(
        !tmp.path().ancestors().any(|d| d.join(".git").exists()),
        "the scratch directory must not be inside a git repository"
    );
    write(
        tmp.path(),
        "apps/web/base/kustomization.yaml",
        b"resources:\n  - cm.yaml\n",
    );
    write(
        tmp.path(),
        "apps/web/base/cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
    );
    write(
        tmp.path(),
        "apps/web/overlays/dev/kustomization.yaml",
        b"namePrefix: dev-\nresources:\n  - ../../base\n",
    );
    // From the repository's top directory (no .kgate.yaml, no git): the current directory.
    let r = kgate_in(tmp.path(), &["render", "apps/web/overlays/dev"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name: dev-web"), "{}", r.stdout);
    // From elsewhere, with a .kgate.yaml at the top: its directory.
    write(tmp.path(), ".kgate.yaml", b"environments: [dev]\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let overlay = tmp.path().join("apps/web/overlays/dev");
    let overlay = overlay.to_str().expect("UTF-8 temp path");
    let r = kgate_in(elsewhere.path(), &["render", overlay]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name: dev-web"), "{}", r.stdout);
    // Without either, the overlay alone is the root and its base is outside it.
    std::fs::remove_file(tmp.path().join(".kgate.yaml")).unwrap();
    let r = kgate_in(elsewhere.path(), &["render", overlay]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not in or below") || r.stderr.contains("outside"),
        "{}",
        r.stderr
    );
}

#[cfg(unix)]
#[test]
fn render_refuses_symlinks_out_of_the_repository() {
    let tmp = scratch();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "pod.yaml", LATEST_POD.as_bytes());
    write(
        tmp.path(),
        "app/kustomization.yaml",
        b"resources:\n  - pod.yaml\n",
    );
    std::os::unix::fs::symlink(
        outside.path().join("pod.yaml"),
        tmp.path().join("app/pod.yaml"),
    )
    .unwrap();
    let r = kgate_in(tmp.path(), &["render", "app"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not in or below"), "{}", r.stderr);
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    assert_eq!(j["findings"][0]["rule"], "render-error");
}

#[test]
fn helm_charts_in_kustomizations_are_a_note_not_an_error() {
    let tmp = scratch();
    write(
        tmp.path(),
        "app/kustomization.yaml",
        b"helmCharts:\n  - name: redis\n    repo: https://charts.example.com\n    version: 1.0.0\n",
    );
    let r = kgate_in(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let j = json_of(&r);
    assert_eq!(
        locations(&j),
        vec![loc("render-unavailable", "app/kustomization.yaml", 2, 5)]
    );
    assert_eq!(j["findings"][0]["severity"], "note");
    assert!(
        j["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("needs the network"),
        "{j}"
    );
}

#[test]
fn rendered_files_obey_the_size_limit() {
    let tmp = scratch();
    write(
        tmp.path(),
        "app/kustomization.yaml",
        b"resources:\n  - pod.yaml\n",
    );
    write(tmp.path(), "app/pod.yaml", LATEST_POD.as_bytes());
    write(tmp.path(), ".kgate.yaml", b"limits:\n  maxFileSize: 100B\n");
    let j = json_of(&kgate_in(tmp.path(), &["check", "--format", "json"]));
    // The root cannot render, and the file itself is reported where it is.
    assert_eq!(
        locations(&j),
        vec![
            loc("render-error", "app/kustomization.yaml", 2, 5),
            loc("file-too-large", "app/pod.yaml", 1, 1)
        ]
    );
    assert!(
        j["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limits.maxFileSize")
    );
}

#[test]
fn render_provenance_names_the_origin_of_every_value() {
    let r = kgate(&[
        "render",
        "--provenance",
        "--root",
        "examples/defective",
        "examples/defective/apps/worker/overlays/prod",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The image comes from the overlay's `images:` entry, the replicas from its `replicas:`
    // field, the rest from the base files.
    assert!(
        r.stdout.contains("image: registry.example.com/platform/worker:latest  # apps/worker/overlays/prod/kustomization.yaml:12"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("replicas: 4  # apps/worker/overlays/prod/kustomization.yaml:6"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("name: wait-for-queue  # apps/worker/base/deployment.yaml:18"),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!("render_worker_prod_provenance", r.stdout);
}

/// A credential in a Deployment's env is not a Secret object: its finding hides the source
/// lines because the rule is marked `custom.sensitive` (policies/secrets/credential-in-env.rego).
#[test]
fn credential_snippets_are_not_shown_by_the_human_report() {
    let dir = scratch();
    write(
        dir.path(),
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n      env:\n        - name: DB_PASSWORD\n          value: s3cr3t-v4lue\n",
    );
    let r = kgate_in(dir.path(), &["check", ".", "--color", "never"]);
    assert!(r.stdout.contains("credential-in-env"), "{}", r.stdout);
    assert!(r.stdout.contains("pod.yaml"), "{}", r.stdout);
    assert!(!r.stdout.contains("s3cr3t-v4lue"), "{}", r.stdout);
}

#[test]
fn secret_values_are_never_printed_in_any_format() {
    let dir = scratch();
    write(
        dir.path(),
        "secret.yaml",
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: 987654321\n  user: hunter2hunter2\n",
    );
    for format in ["human", "json", "sarif", "github"] {
        let r = kgate_in(
            dir.path(),
            &["check", ".", "--format", format, "--color", "never"],
        );
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            r.stdout.contains("secret.yaml"),
            "{format}: the Secret has a finding:\n{}",
            r.stdout
        );
        for value in ["987654321", "hunter2hunter2"] {
            assert!(
                !r.stdout.contains(value) && !r.stderr.contains(value),
                "{format} prints a secret value:\n{}",
                r.stdout
            );
        }
    }
}

/// The render cache's default place: `~/.cache/kgate` (here `$XDG_CACHE_HOME/kgate`), and
/// none in CI unless `KGATE_CACHE_DIR` names one; `--no-cache` bypasses it.
#[test]
fn the_render_cache_defaults_to_the_users_cache_and_is_off_in_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let example = repo().join("examples/clean");
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = common::bin();
        c.env_remove("KGATE_CACHE_DIR").env_remove("CI");
        c.env("XDG_CACHE_HOME", tmp.path().join("xdg"));
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c
            .args(["check", "--format", "json", "--timings"])
            .args(extra)
            .arg(&example)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        stderr.lines().any(|l| l.starts_with("render cache:"))
    };
    assert!(!run(&[("CI", "true")], &[]));
    assert!(!tmp.path().join("xdg/kgate").exists());
    assert!(!run(&[], &["--no-cache"]));
    assert!(!tmp.path().join("xdg/kgate").exists());
    assert!(run(&[], &[]));
    assert!(tmp.path().join("xdg/kgate/CACHEDIR.TAG").is_file());
    let own = tmp.path().join("own");
    let own_str = own.to_str().unwrap();
    assert!(run(&[("CI", "true"), ("KGATE_CACHE_DIR", own_str)], &[]));
    assert!(own.join("CACHEDIR.TAG").is_file());
}

#[test]
fn two_roots_listing_a_directory_without_a_kustomization_each_get_their_own_line() {
    let tmp = scratch();
    write(tmp.path(), "shared/README.md", b"not a kustomization\n");
    write(
        tmp.path(),
        "a/kustomization.yaml",
        b"resources:\n  - ../shared\n",
    );
    write(
        tmp.path(),
        "b/kustomization.yaml",
        b"namePrefix: b-\nresources:\n  - ../shared\n",
    );
    // One worker, then the default: the order the roots render in must not matter.
    for jobs in ["1", "2"] {
        let j = json_of(&kgate_in(
            tmp.path(),
            &["check", "--format", "json", "--jobs", jobs, "--no-cache"],
        ));
        assert_eq!(
            locations(&j),
            vec![
                loc("render-error", "a/kustomization.yaml", 2, 5),
                loc("render-error", "b/kustomization.yaml", 3, 5)
            ],
            "--jobs {jobs}"
        );
    }
}

/// `--timings` lists the parts of the first phase under it (they overlap: the policies and
/// git's answer are made beside the walk), and git's only when it was asked.
#[test]
fn timings_list_the_parts_of_the_first_phase() {
    let out = common::bin()
        .args(["check", "--format", "json", "--timings", "--no-cache"])
        .arg(repo().join("examples/clean"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = |label: &str| {
        stderr
            .lines()
            .position(|l| l.split_once(" ms ").map(|(_, rest)| rest.trim()) == Some(label))
    };
    let phase = at("load policies, discover, graph, select").expect("the first phase");
    for part in [
        "policies, beside the walk",
        "walk, kustomization scans, graph, entry points",
        "select",
    ] {
        assert!(at(part).is_some_and(|i| i > phase), "{part}:\n{stderr}");
    }
    assert_eq!(at("git, for the changed files, beside the walk"), None);
}
