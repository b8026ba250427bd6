//! Hostile repositories: kgate runs on pull-request content, so a crafted repository must
//! not crash it, hang it, exhaust its memory, make it read outside the repository or print
//! what it read there. (Alias bombs, deep nesting, symlinks out of the repository and
//! oversized manifests and rendered files are in tests/cli.rs; runaway policies in
//! tests/conftest.rs.)

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::write;

const POD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";

/// An 8 GiB file that takes no disk (sparse): reading it whole would need 8 GiB of memory,
/// which the address-space cap below makes impossible, so a run that reads it whole aborts
/// ("memory allocation of ... failed").
fn huge(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let f = std::fs::File::create(p).unwrap();
    f.set_len(8 << 30).unwrap();
}

/// `kgate ARGS` in `dir` under a 1.5 GiB address-space cap.
fn capped(dir: &Path, args: &str) -> Output {
    Command::new("sh")
        .args(["-c", &format!("ulimit -v 1572864 && exec \"$0\" {args}")])
        .arg(env!("CARGO_BIN_EXE_kgate"))
        .env("RUST_BACKTRACE", "1")
        .env("KGATE_HELM", "/nonexistent/helm")
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Exited on its own (no signal) with one of kgate's codes, and said nothing of Rust.
fn orderly(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{what}: {:?}\n{stderr}",
        out.status
    );
    for bad in [
        "memory allocation",
        "backtrace",
        "panicked",
        "internal error",
    ] {
        assert!(!stderr.contains(bad), "{what}: {stderr}");
    }
    stderr
}

fn findings(out: &Output) -> Vec<(String, String)> {
    common::findings(out)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every reader of repository files other than manifests (discovery and the graph reading
/// kustomizations, entry points, Helm charts, suppressions, `kgate init`, the baseline)
/// reads through the bounded file table: an 8 GiB file in each of their places is a
/// `file-too-large` finding, and no command comes near reading it.
#[test]
fn no_command_reads_an_oversized_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "apps/web/deployment.yaml", POD);
    huge(root, "apps/web/kustomization.yaml");
    huge(root, "apps/api/base/kustomization.yaml");
    write(
        root,
        "apps/api/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\n",
    );
    huge(root, "argocd/application.yaml");
    huge(root, "charts/web/Chart.yaml");
    huge(root, "charts/web/values.yaml");
    write(root, "charts/web/templates/cm.yaml", POD);
    huge(root, "clusters/prod/flux-system/gotk-sync.yaml");
    huge(root, "baseline.json");

    let out = capped(root, "check . --format json");
    orderly(&out, "check");
    let f = findings(&out);
    for path in [
        "apps/web/kustomization.yaml",
        "apps/api/base/kustomization.yaml",
        "argocd/application.yaml",
        "clusters/prod/flux-system/gotk-sync.yaml",
    ] {
        // Manifests and entry points are `file-too-large`; a kustomization the graph
        // cannot read is `unreadable-file` (and its root a `render-error`).
        assert!(
            f.iter()
                .any(|(rule, p)| p == path
                    && (rule == "file-too-large" || rule == "unreadable-file")),
            "{path}: {f:?}"
        );
    }

    let out = capped(root, "check . --format json --baseline baseline.json");
    let stderr = orderly(&out, "check --baseline");
    assert!(stderr.contains("over the limit"), "{stderr}");

    for cmd in [
        "graph .",
        "graph . --format json",
        "render apps/web",
        "render apps/api/overlays/prod",
        "init --stdout",
    ] {
        orderly(&capped(root, cmd), cmd);
    }
}

/// `.kgate.yaml` and the repository's policies and data files are read with the same bound.
#[test]
fn oversized_configuration_and_policies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "cm.yaml", POD);
    huge(root, ".kgate.yaml");
    let out = capped(root, "check . --format json");
    let stderr = orderly(&out, "config");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("over the limit"), "{stderr}");

    write(root, ".kgate.yaml", "policies:\n  data: [data]\n");
    huge(root, "policy/huge.rego");
    let out = capped(root, "check . --format json");
    let stderr = orderly(&out, "policy");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("policy/huge.rego"), "{stderr}");
    assert!(stderr.contains("limits.maxFileSize"), "{stderr}");
    orderly(&capped(root, "policy test policy"), "policy test");

    std::fs::remove_file(root.join("policy/huge.rego")).unwrap();
    huge(root, "data/huge.json");
    let out = capped(root, "check . --format json");
    let stderr = orderly(&out, "data");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("data/huge.json"), "{stderr}");
}

/// The repository's `.kgate.yaml` cannot point its policies or data files outside the
/// repository: data is visible to the policies, which can print it in a finding.
#[cfg(unix)]
#[test]
fn policies_and_data_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "token.json",
        "{\"token\": \"s3cr3t-value\"}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "cm.yaml", POD);
    write(
        root,
        "policy/leak.rego",
        "package main\n\ndeny contains msg if {\n\tmsg := sprintf(\"%v\", [data.token])\n}\n",
    );
    let leaks = |out: &Output| {
        String::from_utf8_lossy(&out.stdout).contains("s3cr3t")
            || String::from_utf8_lossy(&out.stderr).contains("s3cr3t")
    };
    // By absolute path, by `..`, and through a symlink in the repository.
    let absolute = outside.path().join("token.json");
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    for data in [
        absolute.display().to_string(),
        "../".repeat(20) + absolute.strip_prefix("/").unwrap().to_str().unwrap(),
        "linked".to_owned(),
        "linked/token.json".to_owned(),
    ] {
        write(
            root,
            ".kgate.yaml",
            &format!("policies:\n  data: [\"{data}\"]\n"),
        );
        let out = common::check(root, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!leaks(&out), "{data}: {stderr}");
        if data != "linked" {
            // A symlinked directory is not followed, so it adds nothing; the others are
            // named and refused.
            assert_eq!(out.status.code(), Some(2), "{data}: {stderr}");
            assert!(stderr.contains("outside"), "{data}: {stderr}");
        }
    }
    // The same for policies: a policy directory outside the repository is not loaded.
    write(
        outside.path(),
        "p/x.rego",
        "package main\n\ndeny contains \"outside\" if true\n",
    );
    let dirs = outside.path().join("p").display().to_string();
    write(
        root,
        ".kgate.yaml",
        &format!("policies:\n  dirs: [\"{dirs}\"]\n"),
    );
    let out = common::check(root, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside"));
}

/// `schemaDirs` cannot point outside the repository either (by absolute path, `..` or a
/// symlinked directory), and a symlinked file inside a schema directory that leads out of
/// it is not read: its CRD would otherwise silence `schema-missing`.
#[cfg(unix)]
#[test]
fn schema_dirs_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.example.org\nspec:\n  group: example.org\n  names: {kind: Gizmo, plural: gizmos}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object}\n";
    write(outside.path(), "crds/gizmo.yaml", crd);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "gizmo.yaml",
        "apiVersion: example.org/v1\nkind: Gizmo\nmetadata: {name: g}\n",
    );
    let abs = outside.path().join("crds");
    std::os::unix::fs::symlink(&abs, root.join("linked")).unwrap();
    for entry in [
        abs.display().to_string(),
        "../".repeat(20) + abs.strip_prefix("/").unwrap().to_str().unwrap(),
        "linked".to_owned(),
        "missing".to_owned(),
    ] {
        write(root, ".kgate.yaml", &format!("schemaDirs: [\"{entry}\"]\n"));
        let out = common::check(root, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{entry}: {stderr}");
        assert!(stderr.contains(".kgate.yaml"), "{entry}: {stderr}");
        let why = if entry == "missing" {
            "cannot be read"
        } else {
            "outside"
        };
        assert!(stderr.contains(why), "{entry}: {stderr}");
    }
    // A directory inside the repository whose file is a symlink to the outside CRD.
    std::fs::create_dir(root.join("crds")).unwrap();
    std::os::unix::fs::symlink(abs.join("gizmo.yaml"), root.join("crds/gizmo.yaml")).unwrap();
    write(
        root,
        ".kgate.yaml",
        "schemaDirs: [crds]\nexclude: [linked, crds]\n",
    );
    let (report, _) = common::check_json(root, &[]);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "schema-missing"),
        "{report}"
    );
}

/// A symlink loop in the policy directory does not recurse until the stack overflows.
#[cfg(unix)]
#[test]
fn a_symlink_loop_among_policies_terminates() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "cm.yaml", POD);
    write(
        root,
        "policy/ok.rego",
        "package main\n\ndeny contains \"ok\" if false\n",
    );
    std::os::unix::fs::symlink("..", root.join("policy/loop")).unwrap();
    std::os::unix::fs::symlink(".", root.join("policy/self")).unwrap();
    let out = capped(root, "check . --format json");
    orderly(&out, "check");
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&out));
    orderly(&capped(root, "policy test policy"), "policy test");
}

/// No code outside the file table reads a file whole: every other read goes through the
/// table (`FileTable`) or `source::read_text_bounded`, so the bound on repository content
/// holds by construction. The few exceptions read what is not repository content.
#[test]
fn files_are_read_only_through_the_bounded_readers() {
    let allowed: &[(&str, &str)] = &[
        // The table itself and the bounded reader.
        ("src/source/table.rs", "File::open"),
        // /proc and /sys, for the default policy memory.
        ("src/config/limits.rs", "fs::read_to_string"),
        // A chart's files streamed into a hash, 64 KiB at a time.
        ("src/render/helm/mod.rs", "File::open"),
        // The render cache's entries (kgate's own), header ahead of body, within `MAX_ENTRY`.
        ("src/render/kustomize/store.rs", "File::open"),
        // SARIF files named on the command line, written by kgate.
        ("src/cli/merge_sarif.rs", "fs::read_to_string"),
    ];
    let mut used = vec![false; allowed.len()];
    let mut offenders = Vec::new();
    let mut stack = vec![common::repo().join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(common::repo())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            // Rust sources only (the embedded policy programs are bytes).
            if !rel.ends_with(".rs") || rel.ends_with("/tests.rs") || rel.contains("/tests/") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                // Tests may read what they wrote (an inline test module ends the file).
                if line.trim_start().starts_with("mod tests {") {
                    break;
                }
                for call in [
                    "fs::read(",
                    "fs::read_to_string(",
                    "File::open(",
                    "io::read_to_string(",
                ] {
                    if !line.contains(call) {
                        continue;
                    }
                    match allowed
                        .iter()
                        .position(|(f, c)| *f == rel && call.starts_with(c))
                    {
                        Some(i) => used[i] = true,
                        None => offenders.push(format!("{rel}:{}: {}", n + 1, line.trim())),
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "unbounded reads:\n{}",
        offenders.join("\n")
    );
    let stale: Vec<_> = allowed
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| a)
        .collect();
    assert!(stale.is_empty(), "no longer needed, remove: {stale:?}");
}

/// A policy that made the Rego engine panic (regorus 0.14 `expect`s the digits of a
/// `sprintf` width to be ASCII) is a `policy-error` on each object; the run goes on, with
/// the other rules on every object, and says nothing on stderr. It ended the whole check with exit 2. (kgate
/// now checks `sprintf`'s format before regorus sees it; a panic elsewhere in regorus is
/// caught the same way: `policy::guard`.)
#[test]
fn a_policy_that_panics_the_engine_is_a_policy_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut objects = String::new();
    for i in 0..5 {
        objects.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  a: b\n"
        ));
    }
    write(root, "cms.yaml", &objects);
    write(
        root,
        "policy/panics.rego",
        "package main\n\ndeny contains msg if {\n\tmsg := sprintf(\"%\u{663}d\", [1])\n}\n",
    );
    write(
        root,
        "policy/fine.rego",
        "package other\n\ndeny contains \"every object\" if input.kind == \"ConfigMap\"\n",
    );
    write(
        root,
        ".kgate.yaml",
        "policies:\n  namespaces: [main, other]\n",
    );
    let out = common::check(root, &[]);
    let stderr = orderly(&out, "check");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&out);
    let count = |rule: &str| f.iter().filter(|(r, _)| r == rule).count();
    assert_eq!(
        (count("policy-error"), count("other-deny")),
        (5, 5),
        "{f:?}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.to_string().contains("sprintf"), "{report}");
}

/// A policy of nested brackets is refused at load: regorus' parser takes exponential time
/// in their depth (`x := [[[...]]]` 25 deep did not finish in a minute), before any time
/// limit applies.
#[test]
fn deeply_nested_policies_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "cm.yaml", POD);
    let n = 40;
    write(
        root,
        "policy/deep.rego",
        &format!(
            "package main\n\nx := {}1{}\n",
            "{\"a\": [".repeat(n),
            "]}".repeat(n)
        ),
    );
    let started = std::time::Instant::now();
    let out = common::check(root, &[]);
    let stderr = orderly(&out, "check");
    assert!(started.elapsed().as_secs() < 30);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("policy/deep.rego"), "{stderr}");
    assert!(stderr.contains("nest deeper"), "{stderr}");
}
