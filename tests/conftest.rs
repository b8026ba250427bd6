//! The repository's own conftest policies run unchanged (`tests/data/conftest`): `package
//! main` with `deny`, `violation` and prefixed `warn_*` rules, Rego v1 and v0 syntax, a data
//! file merged into `data`, evaluated on rendered objects; a broken user policy is a usage
//! error naming its file.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    common::fixture("conftest")
}

#[test]
fn conftest_policies_run_on_every_rendered_object() {
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, String, String, String, Vec<String>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("main-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
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
    let base = "apps/web/base".to_owned();
    let prod = "apps/web/overlays/prod".to_owned();
    assert_eq!(
        got,
        vec![
            // The prod overlay relabels the team; data.teams (from policy-data/) lacks it.
            (
                "main-deny".into(),
                "error".into(),
                "apps/web/base/deployment.yaml".into(),
                "team platform is not a known team".into(),
                vec![prod.clone()]
            ),
            // Rego v0 syntax (`violation[{"msg": msg}] { ... }`), as older policies are written.
            (
                "main-violation".into(),
                "error".into(),
                "apps/web/base/service.yaml".into(),
                "Service web must not be a NodePort".into(),
                vec![base.clone(), prod]
            ),
            // warn_* rules are warnings; prod patches replicas to 3.
            (
                "main-warn-replicas".into(),
                "warning".into(),
                "apps/web/base/deployment.yaml".into(),
                "Deployment web runs a single replica".into(),
                vec![base]
            ),
        ]
    );
    // The policy and data directories are configuration, not manifests.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["path"]
                .as_str()
                .unwrap()
                .starts_with("policy")),
        "{report}"
    );
}

#[test]
fn a_broken_user_policy_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/bad.rego"),
        "package main\n\ndeny contains msg if {\n  msg := \n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: a:1}]}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("policy/bad.rego"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_policy_directory_without_rego_is_scanned_as_manifests() {
    // `policy/` is conftest's default, but repositories also keep Kyverno or other YAML
    // policies there: without Rego files it is not treated as kgate's policy directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: nginx}]}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "image-latest-tag" && f["location"]["path"] == "policy/pod.yaml"),
        "{report}"
    );
}

/// A policy that does not finish in time or allocates without bound must not hang the gate
/// or take the machine down: it is stopped, reported once as a `policy-error` naming the
/// limit, and not evaluated on the other objects.
#[test]
fn runaway_policies_are_stopped_and_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("policy")).unwrap();
    std::fs::write(
        root.join(".kgate.yaml"),
        "limits:\n  policyTimeout: 300ms\n  policyMemory: 256MiB\n",
    )
    .unwrap();
    std::fs::write(
        root.join("policy/slow.rego"),
        "package main\n\n# Ten billion iterations.\ndeny contains \"slow\" if {\n\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("policy/greedy.rego"),
        "package main\n\n# Thirty million numbers: ~700 MB.\nviolation contains \"greedy\" if {\n\tcount(numbers.range(1, 30000000)) > 0\n}\n",
    )
    .unwrap();
    let mut manifests = String::new();
    for i in 0..20 {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  a: b\n"
        ));
    }
    std::fs::write(root.join("configmaps.yaml"), manifests).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
        .args(["check", ".", "--format", "json", "--jobs", "1"])
        .args(["--config", ".kgate.yaml"])
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "policy-error")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("`main-deny`") && m.contains("time")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|m| m.contains("`main-violation`") && m.contains("memory")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .all(|m| m.contains("not evaluated on the remaining objects"))
    );
}

/// Repository policies that build huge arrays, with no `limits.policyMemory`, under a
/// 2 GiB address-space cap: the default policy memory (an eighth of what the process may
/// use) stops each as a `policy-error`, and the report is complete; never an abort, never
/// a backtrace (RUST_BACKTRACE is set, as many CI images set it). `numbers.range(1,
/// 200000000)` asks for 4.8 GB in one allocation: regorus' own builtin made it before any
/// limit check, and the allocator's refusal aborted the process every time.
#[test]
fn a_greedy_policy_under_an_address_space_cap_is_a_policy_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::write(
        root,
        "policy/greedy.rego",
        "package main\n\n# Thirty million numbers, then an array of them: ~1.5 GB.\ndeny contains \"greedy\" if {\n\txs := [x | some x in numbers.range(1, 30000000)]\n\tcount(xs) > 0\n}\n",
    );
    common::write(
        root,
        "policy/huge.rego",
        "package huge\n\n# 4.8 GB in one allocation.\ndeny contains \"huge\" if {\n\tcount(numbers.range(1, 200000000)) > 0\n}\n",
    );
    common::write(
        root,
        "policy/grows.rego",
        "package grows\n\n# Ten billion pairs, built a hundred thousand between two checks.\ndeny contains \"grows\" if {\n\tcount([[x, y] | some x in numbers.range(1, 100000); some y in numbers.range_step(1, 100000, 1)]) > 0\n}\n",
    );
    common::write(
        root,
        "policy/pads.rego",
        "package pads\n\n# Two billion spaces in one allocation.\ndeny contains msg if {\n\tmsg := sprintf(\"%2000000000d\", [1])\n}\n",
    );
    // Outputs far larger than the memory their arguments take, made in one builtin call:
    // 100,000 references to one 100 kB string joined (10 GB), a 100 kB string with
    // itself put between every character (10 GB), 2^40 bytes of JSON from forty nested
    // pairs of references.
    let s = "s := concat(\"\", [\"x\" | some _ in numbers.range(1, 100000)])\n";
    common::write(
        root,
        "policy/joins.rego",
        &format!(
            "package joins\n\n{s}deny contains \"joins\" if {{\n\tcount(concat(\",\", [s | some _ in numbers.range(1, 100000)])) > 0\n}}\n"
        ),
    );
    common::write(
        root,
        "policy/replaces.rego",
        &format!(
            "package replaces\n\n{s}deny contains \"replaces\" if {{\n\tcount(replace(s, \"\", s)) > 0\n}}\n"
        ),
    );
    let nested: String = (1..=40)
        .map(|i| format!("x{i} := [x{}, x{}]\n", i - 1, i - 1))
        .collect();
    common::write(
        root,
        "policy/marshals.rego",
        &format!(
            "package marshals\n\nx0 := [\"abcdefgh\"]\n{nested}deny contains \"marshals\" if {{\n\tcount(json.marshal(x40)) > 0\n}}\n"
        ),
    );
    common::write(
        root,
        ".kgate.yaml",
        "policies:\n  namespaces: [main, huge, grows, pads, joins, replaces, marshals]\nlimits:\n  policyTimeout: 10m\n",
    );
    common::write(
        root,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
    );
    // Only memory may stop them (policyTimeout: the old 4 GiB default let them grow until the
    // allocator aborted).
    for _ in 0..3 {
        let out = Command::new("sh")
            .args([
                "-c",
                "ulimit -v 2097152 && exec \"$0\" check . --format json",
            ])
            .arg(env!("CARGO_BIN_EXE_kgate"))
            .env("RUST_BACKTRACE", "1")
            .current_dir(root)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
        assert!(!stderr.contains("backtrace"), "{stderr}");
        assert!(!stderr.contains("memory allocation"), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "policy-error")
            .map(|f| f["message"].as_str().unwrap())
            .collect();
        assert_eq!(errors.len(), 7, "{report}");
        assert!(
            errors.iter().all(|e| e.contains("memory limit")),
            "{errors:#?}"
        );
        assert_eq!(report["summary"]["objects"], 1, "{report}");
    }
}
