//! The CI integration files: `action.yml`, the example workflow, the GitLab CI template and
//! the pre-commit hook, validated against their published schemas (SchemaStore's, vendored
//! in `tests/data/schemas/`; actionlint itself cannot be installed from the package
//! registries CI reaches), with every shell step syntax-checked by `bash -n`.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap();
    let (docs, err) = kgate::yaml::parse_documents(
        &text,
        kgate::yaml::LoadLimits {
            schema: kgate::yaml::Schema::GoYamlV3,
            ..Default::default()
        },
    );
    assert!(err.is_none(), "{rel}: {err:?}");
    docs[0].root.to_json()
}

fn validate(rel: &str, schema: &str) -> serde_json::Value {
    let doc = yaml(rel);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/schemas").join(schema)).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{rel}:\n{}", errors.join("\n"));
    doc
}

fn bash_syntax(name: &str, script: &str) {
    let out = Command::new("bash")
        .args(["-n", "-c", script])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn action_yml_is_a_valid_composite_action() {
    let action = validate("action.yml", "github-action.json");
    assert_eq!(action["runs"]["using"], "composite");
    for input in [
        "paths",
        "config",
        "kube-version",
        "fail-on",
        "changed-since",
        "sarif",
    ] {
        assert!(action["inputs"][input].is_object(), "input {input}");
    }
    assert_eq!(
        action["inputs"]["changed-since"]["default"],
        "${{ github.event.pull_request.base.sha }}"
    );
    let steps = action["runs"]["steps"].as_array().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.contains(&"github/codeql-action/upload-sarif@v3"));
    let check = steps.iter().find(|s| s["id"] == "check").unwrap();
    let run = check["run"].as_str().unwrap();
    for flag in [
        "--format github",
        "sarif=",
        "markdown=",
        "GITHUB_STEP_SUMMARY",
        "--changed-since",
    ] {
        assert!(run.contains(flag), "the check step uses {flag}");
    }
    for (i, s) in steps.iter().enumerate() {
        if let Some(run) = s["run"].as_str() {
            bash_syntax(&format!("action.yml step {i}"), run);
        }
    }
    // The binary is downloaded (checksum verified by ci/install.sh); building from source is
    // the fallback only.
    assert!(action["inputs"]["version"].is_object());
    let install = steps.iter().find(|s| s["id"] == "install").unwrap();
    assert!(install["run"].as_str().unwrap().contains("ci/install.sh"));
    let build = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo install"))
        })
        .unwrap();
    assert!(
        build["if"]
            .as_str()
            .unwrap()
            .contains("steps.install.outputs.built == 'true'")
    );
}

#[test]
fn example_workflow_is_valid() {
    let wf = validate("examples/ci/github-workflow.yml", "github-workflow.json");
    let steps = wf["jobs"]["kgate"]["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["with"]["fetch-depth"], 0,
        "history for --changed-since"
    );
    assert!(steps.iter().any(|s| s["uses"] == "kgate/kgate@main"));
    assert_eq!(wf["permissions"]["security-events"], "write");
}

#[test]
fn pre_commit_hooks_are_valid_and_the_first_needs_no_toolchain() {
    let hooks = validate(".pre-commit-hooks.yaml", "pre-commit-hooks.json");
    let ids: Vec<&str> = hooks
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["kgate", "kgate-docker", "kgate-source"]);
    assert_eq!(hooks[0]["language"], "system");
    assert_eq!(hooks[1]["language"], "docker_image");
    for hook in hooks.as_array().unwrap() {
        assert_eq!(hook["stages"], serde_json::json!(["pre-push"]));
        assert!(hook["entry"].as_str().unwrap().contains("--changed-since"));
    }
}

/// The release workflow is a valid workflow, its shell steps parse, and it packages what
/// `ci/install.sh` expects: `kgate-<target>.tar.xz` (or `.zip`) and `<archive>.sha256`.
#[test]
fn release_workflow_is_valid_and_matches_the_install_script() {
    let wf = validate(".github/workflows/release.yml", "github-workflow.json");
    let targets: Vec<&str> = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    for t in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&t), "{t}");
    }
    let mut runs = Vec::new();
    for job in wf["jobs"].as_object().unwrap().values() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(run) = step["run"].as_str() {
                bash_syntax(step["name"].as_str().unwrap_or("step"), run);
                runs.push(run);
            }
        }
    }
    let all = runs.join("\n");
    assert!(all.contains("kgate-${{ matrix.target }}"));
    assert!(all.contains(".tar.xz") && all.contains(".sha256"));
    let install = std::fs::read_to_string(repo().join("ci/install.sh")).unwrap();
    assert!(install.contains("archive=\"kgate-$target.tar.xz\""));
    assert!(install.contains("$archive.sha256"));
    let out = Command::new("sh")
        .args(["-n", "ci/install.sh"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The container image: a build stage, and a final stage with kgate, Helm and git that
/// does not run as root.
#[test]
fn dockerfile_ships_kgate_helm_and_git_as_non_root() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let stages = text.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(stages, 2, "multi-stage");
    let last = &text[text.rfind("\nFROM ").unwrap()..];
    assert!(last.contains("apk add --no-cache git"), "{last}");
    assert!(last.contains("/out/kgate /out/helm"), "{last}");
    let user = last
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER in the final stage");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "{user}"
    );
    assert!(last.contains("ENTRYPOINT [\"kgate\"]"));
    assert!(text.contains("ci/install-helm.sh"));
}

#[test]
fn gitlab_template_runs_on_merge_requests_and_publishes_both_reports() {
    let t = yaml("ci/gitlab/kgate.gitlab-ci.yml");
    let job = &t["kgate"];
    assert_eq!(
        job["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    assert_eq!(job["artifacts"]["reports"]["junit"], "kgate-junit.xml");
    assert_eq!(job["artifacts"]["when"], "always");
    let rules: Vec<&str> = job["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["if"].as_str().unwrap())
        .collect();
    assert!(rules.iter().any(|r| r.contains("merge_request_event")));
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let all = script.join("\n");
    assert!(all.contains("--changed-since $CI_MERGE_REQUEST_DIFF_BASE_SHA"));
    assert!(all.contains("--format gitlab=gl-code-quality-report.json"));
    assert!(all.contains("--format junit=kgate-junit.xml"));
    // The image brings kgate: no Rust toolchain, nothing compiled.
    assert!(!all.contains("cargo"), "{all}");
    assert!(
        job["image"]["name"]
            .as_str()
            .unwrap()
            .contains("KGATE_IMAGE")
    );
    for (i, s) in script.iter().enumerate() {
        bash_syntax(&format!("gitlab script {i}"), s);
    }
}

#[test]
fn the_rendered_diff_comment_is_opt_in_on_both_hosts() {
    let action = validate("action.yml", "github-action.json");
    assert_eq!(action["inputs"]["comment"]["default"], "false");
    let steps = action["runs"]["steps"].as_array().unwrap();
    let comment = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("diff --since"))
        })
        .expect("a step runs kgate diff --since");
    assert!(
        comment["if"]
            .as_str()
            .unwrap()
            .contains("inputs.comment == 'true'")
    );
    let run = comment["run"].as_str().unwrap();
    for needle in [
        "--format markdown",
        "<!-- kgate-diff -->",
        "PATCH",
        "POST",
        "exit 0",
    ] {
        assert!(run.contains(needle), "the comment step has {needle}");
    }
    let t = yaml("ci/gitlab/kgate.gitlab-ci.yml");
    assert_eq!(t["variables"]["KGATE_MR_NOTE"], "false");
    let script = t["kgate"]["script"].as_array().unwrap();
    let all: Vec<&str> = script.iter().filter_map(|s| s.as_str()).collect();
    let all = all.join("\n");
    assert!(all.contains("diff --since \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\" --format markdown"));
    assert!(all.contains("merge_requests/$CI_MERGE_REQUEST_IID/notes"));
}
