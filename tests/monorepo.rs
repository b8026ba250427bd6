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
