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
fn pre_commit_hook_is_valid() {
    let hooks = validate(".pre-commit-hooks.yaml", "pre-commit-hooks.json");
    let hook = &hooks[0];
    assert_eq!(hook["id"], "kgate");
    assert_eq!(hook["stages"], serde_json::json!(["pre-push"]));
    assert!(hook["entry"].as_str().unwrap().contains("--changed-since"));
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
