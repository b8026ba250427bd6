//! Helpers the end-to-end tests share: running the `kgate` binary, reading its JSON report,
//! and writing scratch repositories.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (examples, `tests/data`, `benches`).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/data").join(name)
}

/// The `kgate` binary under test, for callers that set up the environment themselves.
/// GitHub Actions' variables are removed so reports do not depend on where tests run.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kgate"));
    for var in ["GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"] {
        c.env_remove(var);
    }
    // One render cache for the tests, in the target directory: the scratch repositories'
    // entries stay out of the user's cache, and every test that checks a repository twice
    // checks it through the cache the second time.
    c.env(
        "KGATE_CACHE_DIR",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/render-cache"),
    );
    // The Helm the tests find (`helm::helm`: also the project-local install) is the one kgate
    // runs: a plain `cargo test` after `ci/install-helm.sh` has no KGATE_HELM, and the tests
    // expecting Helm's renders got none.
    let local = helm::project_copy();
    if std::env::var_os("KGATE_HELM").is_none() && local.is_file() {
        c.env("KGATE_HELM", local);
    }
    c
}

/// `kgate ARGS` run in `dir`.
pub fn kgate(dir: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("kgate runs")
}

/// `kgate check . --format json EXTRA` run in `dir`, unparsed: for callers that expect a
/// usage error (no report) or want stderr.
pub fn check(dir: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["check", ".", "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("kgate runs")
}

/// The JSON report and exit code of `kgate check . --format json EXTRA` in `dir`; a run
/// without a report panics with kgate's stderr.
pub fn check_json(dir: &Path, extra: &[&str]) -> (serde_json::Value, Option<i32>) {
    let out = check(dir, extra);
    (report(&out), out.status.code())
}

/// The JSON report a run printed; a run without one panics with kgate's stderr.
pub fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The findings of the JSON report a run printed (see [`report`]).
pub fn findings(out: &Output) -> Vec<serde_json::Value> {
    match report(out)["findings"].take() {
        serde_json::Value::Array(findings) => findings,
        other => panic!("no findings array in the report: {other}"),
    }
}

/// Writes `text` to `root/rel`, creating its directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    write_bytes(root, rel, text.as_bytes());
}

/// `write` for contents that need not be UTF-8 (binary and malformed inputs).
pub fn write_bytes(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

pub mod helm;

/// Copies the directory `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// `git ARGS` in `dir` with a throwaway identity and no signing; its stdout. Panics with
/// git's stderr when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
