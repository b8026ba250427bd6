//! End to end on a generated GitOps monorepo: kgate must find exactly the defects the
//! generator injected for the rules that exist today (its answer key, `expected.json`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

const RULES: [&str; 9] = [
    "image-latest-tag",
    "image-untrusted-registry",
    "missing-environment-overlay",
    "missing-resource-limits",
    "namespace-without-default-deny",
    "plaintext-secret",
    "privileged-container",
    "render-error",
    "schema-invalid",
];

#[test]
fn generated_monorepo_findings_match_the_answer_key() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_monorepo.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&repo)
        // Seed 2 injects render errors too (overlays listing a missing file).
        .args(["--apps", "60", "--seed", "2"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs benches/gen_monorepo.py");
    assert!(status.success());

    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", "--format", "json"])
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| RULES.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                // A missing overlay is reported at the app directory (the overlay does not
                // exist) with the path it should have in the message; the key names that path.
                if f["rule"] == "missing-environment-overlay" {
                    let (app, expected) = f["message"]
                        .as_str()
                        .unwrap()
                        .rsplit_once("(expected ")
                        .unwrap();
                    assert!(app.contains('"'));
                    assert!(expected.starts_with(f["location"]["path"].as_str().unwrap()));
                    expected.trim_end_matches(')').to_owned()
                } else {
                    f["location"]["path"].as_str().unwrap().to_owned()
                },
                // Render errors concern a root, not an object (the key's object is "").
                match f["object"].as_object() {
                    Some(o) => format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        o["name"].as_str().unwrap_or("")
                    ),
                    None => String::new(),
                },
            )
        })
        .collect();

    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("expected.json")).unwrap())
            .unwrap();
    let expected: BTreeSet<(String, String, String)> = key["defects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| RULES.contains(&d["kind"].as_str().unwrap()))
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["path"].as_str().unwrap().to_owned(),
                d["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(!expected.is_empty());
    // The key names some defects by directory (`infrastructure/prod` for a namespace without
    // default-deny): a finding in a file under it matches.
    let got: BTreeSet<(String, String, String)> = got
        .into_iter()
        .map(|(rule, path, object)| {
            let dir = expected
                .iter()
                .find(|(r, p, o)| *r == rule && *o == object && path.starts_with(&format!("{p}/")))
                .map(|(_, p, _)| p.clone());
            (rule, dir.unwrap_or(path), object)
        })
        .collect();
    assert_eq!(got, expected);
}

/// `kgate check ARGS REPO --format json --timings` with the render cache in `cache` (`None`:
/// `--no-cache`): the report and the cache line of stderr.
fn check_cached(
    repo: &std::path::Path,
    cache: Option<&std::path::Path>,
    args: &[&str],
) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kgate"));
    cmd.args(["check", "--format", "json", "--timings"])
        .args(args)
        .arg(repo);
    match cache {
        Some(dir) => cmd.arg("--cache-dir").arg(dir),
        None => cmd.arg("--no-cache"),
    };
    let out = cmd.current_dir(repo).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let cache_line = stderr
        .lines()
        .find(|l| l.starts_with("render cache:"))
        .unwrap_or("")
        .to_owned();
    (String::from_utf8(out.stdout).unwrap(), cache_line)
}

/// The render cache changes how long a check takes, never what it reports: cold, warm and
/// uncached checks of a generated monorepo agree, before and after a base and an overlay
/// change, and the warm check after the change rebuilds only what reads the changed files.
#[test]
fn the_render_cache_reports_what_an_uncached_check_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let cache = tmp.path().join("cache");
    let status = Command::new("python3")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_monorepo.py"))
        .arg(&repo)
        .args(["--apps", "20", "--seed", "2"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs benches/gen_monorepo.py");
    assert!(status.success());
    let (uncached, line) = check_cached(&repo, None, &[]);
    assert_eq!(line, "", "no cache, no cache line");
    // A cold check stores its builds (and may take one back later in the run); a warm one
    // takes back every build that did not fail.
    let (cold, line) = check_cached(&repo, Some(&cache), &[]);
    let (cold_reused, cold_built) = counts(&line);
    assert!(cold_built > 0, "{line}");
    let (warm, line) = check_cached(&repo, Some(&cache), &[]);
    let (warm_reused, warm_built) = counts(&line);
    assert!(
        warm_reused > cold_reused && warm_built < cold_built,
        "{line}"
    );
    assert_eq!(cold, uncached);
    assert_eq!(warm, uncached);

    // A base's container loses its limits; an overlay changes its replicas.
    let base = repo.join("apps/svc-0003/base/deployment.yaml");
    let text = std::fs::read_to_string(&base).unwrap();
    let edited = text.replacen("limits:", "requests_moved:", 1);
    assert_ne!(text, edited, "the generated base has limits");
    std::fs::write(&base, edited).unwrap();
    let overlay = repo.join("apps/svc-0004/overlays/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&overlay).unwrap();
    std::fs::write(
        &overlay,
        format!("{text}replicas:\n- name: svc-0004\n  count: 7\n"),
    )
    .unwrap();
    let (uncached, _) = check_cached(&repo, None, &[]);
    let (warm, line) = check_cached(&repo, Some(&cache), &[]);
    assert_eq!(warm, uncached);
    assert_ne!(warm, cold, "the edits change the report");
    let (reused, built) = counts(&line);
    assert!(reused > 0 && built < cold_built, "{line}");

    // An app loses its staging overlay: the graph changes, and with it the repository rules'
    // input, whose stored results no longer apply (`missing-environment-overlay`).
    std::fs::remove_dir_all(repo.join("apps/svc-0005/overlays/staging")).unwrap();
    let (uncached, _) = check_cached(&repo, None, &[]);
    let (warm_after_removal, _) = check_cached(&repo, Some(&cache), &[]);
    assert_eq!(warm_after_removal, uncached);
    assert!(uncached.contains("apps/svc-0005/overlays/staging"));
    assert_ne!(warm_after_removal, warm);

    // No cluster lists an app's overlays any more: the clusters' kustomizations are scanned
    // again (their scans are kept by text), and the graph deploys the app nowhere.
    let mut unlisted = 0;
    for cluster in std::fs::read_dir(repo.join("clusters")).unwrap() {
        let file = cluster.unwrap().path().join("kustomization.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        let kept: Vec<&str> = (text.lines())
            .filter(|l| !l.contains("apps/svc-0002/overlays/"))
            .collect();
        unlisted += text.lines().count() - kept.len();
        std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    }
    assert!(unlisted > 0, "a cluster listed the overlay");
    let (uncached, _) = check_cached(&repo, None, &[]);
    let (warm_after_unlisting, _) = check_cached(&repo, Some(&cache), &[]);
    assert_eq!(warm_after_unlisting, uncached);
    assert!(uncached.contains("\"app-not-deployed\""), "{uncached}");
}

/// `(reused, built)` of a `render cache: R builds reused, B built (S stored)` line.
fn counts(line: &str) -> (usize, usize) {
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [
            "render",
            "cache:",
            reused,
            "builds",
            "reused",
            built,
            "built",
            ..,
        ] => (reused.parse().unwrap(), built.parse().unwrap()),
        _ => panic!("not a cache line: {line}"),
    }
}
