//! The CI report formats (GitLab Code Quality, JUnit, Markdown summary, SARIF fingerprints)
//! and baselines: golden outputs, schema and well-formedness checks, and fingerprints that
//! survive edits above a finding.

mod common;

use std::path::Path;
use std::process::Command;

use common::{repo, write};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn kgate_in(dir: &Path, args: &[&str]) -> Run {
    let out = common::bin()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn kgate(args: &[&str]) -> Run {
    kgate_in(&repo(), args)
}

#[test]
fn gitlab_code_quality_matches_gitlabs_documented_format() {
    let r = kgate(&["check", "examples/defective", "--format", "gitlab"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/schemas/gitlab-code-quality.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let issues = report.as_array().unwrap();
    assert_eq!(issues.len(), 15);
    let mut fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    fingerprints.sort();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    insta::assert_snapshot!("gitlab_defective", r.stdout);

    let clean = kgate(&["check", "examples/clean", "--format", "gitlab"]);
    assert_eq!(clean.code, Some(0));
    assert_eq!(clean.stdout, "[]\n");
}

/// Well-formed XML with the element structure test reporters read.
fn junit_shape(xml: &str) -> (usize, usize) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failures) = (0, 0);
    let mut depth: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match (depth.last().map(String::as_str), name.as_str()) {
                    (None, "testsuites") | (Some("testsuites"), "testsuite") => {}
                    (Some("testsuite"), "testcase") => cases += 1,
                    (Some("testcase"), "failure") => failures += 1,
                    (Some("testcase"), "system-out") => {}
                    (parent, child) => panic!("<{child}> inside {parent:?}"),
                }
                depth.push(name);
            }
            Ok(quick_xml::events::Event::Empty(e)) => {
                if e.name().as_ref() == b"testcase" {
                    cases += 1;
                }
            }
            Ok(quick_xml::events::Event::End(_)) => {
                depth.pop();
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert!(depth.is_empty());
    (cases, failures)
}

#[test]
fn junit_is_well_formed_and_fails_only_what_fails_the_gate() {
    let r = kgate(&["check", "examples/defective", "--format", "junit"]);
    assert_eq!(r.code, Some(1));
    // 15 findings: 9 errors fail, 6 warnings pass under the default --fail-on error.
    assert_eq!(junit_shape(&r.stdout), (15, 9));
    insta::assert_snapshot!("junit_defective", r.stdout);
    let strict = kgate(&[
        "check",
        "examples/defective",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(junit_shape(&strict.stdout), (15, 15));
    let clean = kgate(&["check", "examples/clean", "--format", "junit"]);
    assert_eq!(junit_shape(&clean.stdout), (1, 0));
}

#[test]
fn markdown_summary() {
    let r = kgate(&["check", "examples/defective", "--format", "markdown"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout
            .starts_with("## kgate\n\n:x: **Gate failed**: 9 findings at or above error\n")
    );
    insta::assert_snapshot!("markdown_defective", r.stdout);
    let clean = kgate(&["check", "examples/clean", "--format", "markdown"]);
    assert!(clean.stdout.contains(":white_check_mark: **Gate passed**"));
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: nginx:latest\n";

fn fingerprints(dir: &Path) -> Vec<(String, u64, String)> {
    let sarif: serde_json::Value =
        serde_json::from_str(&kgate_in(dir, &["check", ".", "--format", "sarif"]).stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "kgate/");
    assert!(run["originalUriBaseIds"]["SRCROOT"].is_object());
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uriBaseId"], "SRCROOT");
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                loc["region"]["startLine"].as_u64().unwrap(),
                r["partialFingerprints"]["kgateFingerprint/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_survive_lines_added_above_a_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(r, "pod.yaml", POD);
    let before = fingerprints(r);
    write(r, "pod.yaml", &format!("# a comment\n# and another\n{POD}"));
    let after = fingerprints(r);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, &b.2), (&a.0, &a.2), "same rule and fingerprint");
    }
    assert!(
        before.iter().zip(&after).any(|(b, a)| a.1 == b.1 + 2),
        "lines moved"
    );
}

#[test]
fn baselines_keep_old_findings_out_of_the_gate_but_not_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(r, "pod.yaml", POD);
    let w = kgate_in(r, &["check", ".", "--write-baseline", "baseline.json"]);
    assert_eq!(w.code, Some(0), "{}", w.stderr);
    assert!(
        w.stderr.contains("to the baseline baseline.json"),
        "{}",
        w.stderr
    );
    let text = std::fs::read_to_string(r.join("baseline.json")).unwrap();
    assert!(text.starts_with("{\"version\": 1, \"findings\": [\n  {\"fingerprint\":"));

    // Old findings, even moved down, no longer fail the gate.
    write(r, "pod.yaml", &format!("# moved\n{POD}"));
    let run = kgate_in(
        r,
        &[
            "check",
            ".",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["errors"], 0);

    // A new finding fails it; the fixed one's entry is stale.
    let fixed = POD.replace("nginx:latest", "nginx:1.27");
    let new = fixed.replace("name: p", "name: q").replace(
        "name: app",
        "name: app\n      securityContext: {privileged: true}",
    );
    write(r, "pod.yaml", &format!("{fixed}---\n{new}"));
    let run = kgate_in(
        r,
        &[
            "check",
            ".",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"privileged-container"), "{rules:?}");
    let stale: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "baseline-stale")
        .collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["location"]["path"], "baseline.json");
    assert!(
        stale[0]["message"]
            .as_str()
            .unwrap()
            .contains("image-latest-tag in pod.yaml")
    );

    // An unreadable or invalid baseline is a usage error naming the file.
    let missing = kgate_in(r, &["check", ".", "--baseline", "nope.json"]);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing.stderr.contains("cannot read baseline nope.json"),
        "{}",
        missing.stderr
    );
    write(
        r,
        "bad.json",
        "{\"version\": 1, \"findings\": [\n  {\"fingerprint\": 3}\n]}\n",
    );
    let bad = kgate_in(r, &["check", ".", "--baseline", "bad.json"]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("baseline bad.json:2:"),
        "{}",
        bad.stderr
    );
}

fn rules_and_lines(dir: &Path) -> Vec<(String, String, u64)> {
    let run = kgate_in(dir, &["check", ".", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .filter(|(rule, _, _)| {
            [
                "image-latest-tag",
                "privileged-container",
                "invalid-suppression",
                "expired-suppression",
            ]
            .contains(&rule.as_str())
        })
        .collect()
}

#[test]
fn inline_annotation_and_config_suppressions() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    // On the line, on the line above, and for the whole document.
    write(r, "a.yaml", &POD.replace("image: nginx:latest", "image: nginx:latest # kgate:ignore image-latest-tag -- pinned by digest at deploy time"));
    write(r, "b.yaml", &POD.replace("      image: nginx:latest", "      # kgate:ignore image-latest-tag -- mirror of upstream\n      image: nginx:latest"));
    write(
        r,
        "c.yaml",
        &format!("# kgate:ignore all -- vendored chart output\n{POD}"),
    );
    // Without a reason nothing is suppressed.
    write(
        r,
        "d.yaml",
        &POD.replace(
            "image: nginx:latest",
            "image: nginx:latest # kgate:ignore image-latest-tag",
        ),
    );
    // kube-linter's annotation form, on the rendered object.
    write(r, "e.yaml", &POD.replace("  name: p\n", "  name: e\n  annotations:\n    ignore-check.kgate.io/image-latest-tag: \"load test image\"\n"));
    write(
        r,
        "f.yaml",
        &POD.replace(
            "  name: p\n",
            "  name: f\n  annotations:\n    ignore-check.kgate.io/image-latest-tag: \"\"\n",
        ),
    );
    assert_eq!(
        rules_and_lines(r),
        [
            ("invalid-suppression".to_owned(), "d.yaml".to_owned(), 8),
            ("image-latest-tag".to_owned(), "d.yaml".to_owned(), 8),
            ("invalid-suppression".to_owned(), "f.yaml".to_owned(), 1),
            ("image-latest-tag".to_owned(), "f.yaml".to_owned(), 10),
        ]
    );

    // The configuration: by rule and path glob, with a reason; expired ones report again.
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(r, "legacy/a.yaml", POD);
    write(r, "apps/b.yaml", POD);
    write(r, "old/c.yaml", POD);
    write(
        r,
        ".kgate.yaml",
        "suppressions:\n  - rule: image-latest-tag\n    paths: [\"legacy/**\"]\n    reason: retired next quarter\n    expires: \"2999-01-01\"\n  - rule: image-latest-tag\n    paths: [\"old/**\"]\n    reason: was temporary\n    expires: \"2001-01-01\"\n  - rule: privileged-container\n",
    );
    assert_eq!(
        rules_and_lines(r),
        [
            (
                "expired-suppression".to_owned(),
                ".kgate.yaml".to_owned(),
                6
            ),
            (
                "invalid-suppression".to_owned(),
                ".kgate.yaml".to_owned(),
                10
            ),
            ("image-latest-tag".to_owned(), "apps/b.yaml".to_owned(), 8),
            ("image-latest-tag".to_owned(), "old/c.yaml".to_owned(), 8),
        ]
    );
    // SARIF lists the suppressed finding with its justification.
    let sarif: serde_json::Value =
        serde_json::from_str(&kgate_in(r, &["check", ".", "--format", "sarif"]).stdout).unwrap();
    let suppressed: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "retired next quarter"
    );
}

fn result_set(sarif: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            format!(
                "{} {}:{}:{} {} {} {}",
                r["ruleId"],
                loc["artifactLocation"]["uri"],
                loc["region"]["startLine"],
                loc["region"]["startColumn"],
                r["partialFingerprints"]["kgateFingerprint/v1"],
                r["properties"]["roots"],
                r["ruleIndex"]
            )
        })
        .collect();
    out.sort();
    out
}

/// The union of `--shard i/3` runs, merged with `kgate merge-sarif`, is the whole run.
#[test]
fn shards_merge_into_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let repo_dir = tmp.path().join("repo");
    let status = Command::new("python3")
        .arg(repo().join("benches/gen_monorepo.py"))
        .arg(&repo_dir)
        .args(["--apps", "10", "--seed", "3"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let whole = kgate_in(&repo_dir, &["check", ".", "--format", "sarif=whole.sarif"]);
    assert_eq!(whole.code, Some(1), "{}", whole.stderr);
    let mut roots = 0;
    for i in 1..=3 {
        let part = kgate_in(
            &repo_dir,
            &[
                "check",
                ".",
                "--shard",
                &format!("{i}/3"),
                "--format",
                &format!("sarif=part{i}.sarif"),
                "--format",
                "json",
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&part.stdout).unwrap();
        roots += report["summary"]["roots"].as_u64().unwrap();
    }
    let all: serde_json::Value =
        serde_json::from_str(&kgate_in(&repo_dir, &["check", ".", "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(
        Some(roots),
        all["summary"]["roots"].as_u64(),
        "every root in exactly one shard"
    );
    let merged = kgate_in(
        &repo_dir,
        &[
            "merge-sarif",
            "part1.sarif",
            "part2.sarif",
            "part3.sarif",
            "-o",
            "merged.sarif",
        ],
    );
    assert_eq!(merged.code, Some(0), "{}", merged.stderr);
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo_dir.join(f)).unwrap()).unwrap()
    };
    assert_eq!(
        result_set(&read("merged.sarif")),
        result_set(&read("whole.sarif"))
    );

    let bad = kgate_in(&repo_dir, &["check", ".", "--shard", "4/3"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("expected I/N"), "{}", bad.stderr);
    let bad = kgate_in(&repo_dir, &["merge-sarif", "nope.sarif"]);
    assert_eq!(bad.code, Some(2));
}

/// Code hosts resolve paths from the top of the git repository: checking a subdirectory
/// (no `.kgate.yaml`) must still put SARIF, GitLab and GitHub paths there, while JSON keeps
/// paths relative to the scanned root (the contract) and the markdown summary links to the
/// file at the commit.
#[test]
fn code_host_formats_use_paths_from_the_git_top_level() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(
        dir.path(),
        "apps/web/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: app\n      image: nginx:latest\n",
    );
    let sub = dir.path().join("apps/web");
    let sarif: serde_json::Value =
        serde_json::from_str(&kgate_in(&sub, &["check", ".", "--format", "sarif"]).stdout).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!uris.is_empty());
    assert!(uris.iter().all(|u| *u == "apps/web/pod.yaml"), "{uris:?}");
    let gitlab: serde_json::Value =
        serde_json::from_str(&kgate_in(&sub, &["check", ".", "--format", "gitlab"]).stdout)
            .unwrap();
    assert_eq!(gitlab[0]["location"]["path"], "apps/web/pod.yaml");
    let github = kgate_in(&sub, &["check", ".", "--format", "github"]).stdout;
    assert!(github.contains("file=apps/web/pod.yaml,"), "{github}");
    let json: serde_json::Value =
        serde_json::from_str(&kgate_in(&sub, &["check", ".", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["findings"][0]["location"]["path"], "pod.yaml");
    let markdown = common::bin()
        .args(["check", ".", "--format", "markdown"])
        .current_dir(&sub)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "org/repo")
        .env("GITHUB_SHA", "abc123")
        .output()
        .unwrap();
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        markdown.contains("](https://github.com/org/repo/blob/abc123/apps/web/pod.yaml#L"),
        "{markdown}"
    );
}
