//! Field-level provenance end to end: in `tests/data/provenance`, values are set by a base, an
//! overlay's `images:` entry, a strategic-merge patch file, an inline JSON 6902 patch, a
//! component's inline patch, a replacement and an overlay of an overlay. Each line that sets
//! a defect carries `# expect: <rule> in <roots>`; `kgate check` must report exactly those
//! lines (at the value's column), seen through exactly those roots, and nothing else.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    common::fixture("provenance")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

type Expect = (String, String, u64, u64, Vec<String>);

/// (rule, path, line, column of the value, roots) from the `# expect:` markers.
fn expected() -> Vec<Expect> {
    let mut paths = Vec::new();
    files(&fixture(), &mut paths);
    let mut out = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(fixture())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (i, line) in std::fs::read_to_string(&p).unwrap().lines().enumerate() {
            let Some((code, marker)) = line.split_once("# expect: ") else {
                continue;
            };
            let (rule, roots) = marker.split_once(" in ").expect("marker names its roots");
            // The value starts after the key's `: ` (a list item's `- ` included).
            let column = code.find(": ").expect("marker on a `key: value` line") + 3;
            out.push((
                rule.to_owned(),
                rel.clone(),
                i as u64 + 1,
                column as u64,
                roots.split_whitespace().map(str::to_owned).collect(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn every_finding_points_at_the_line_that_set_the_value() {
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(fixture())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = expected();
    // Every finding of the rules the fixture marks (its workloads trip other rules too,
    // which are not about where values come from).
    let marked: Vec<&str> = want.iter().map(|w| w.0.as_str()).collect();
    let mut got: Vec<Expect> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| marked.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
                f["roots"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(want.len(), 6, "the fixture marks six lines");
    assert_eq!(got, want);
}
