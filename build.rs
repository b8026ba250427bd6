//! Embeds every file under `policies/` into the binary, so the built-in rule library is the
//! directory itself: adding a rule is adding a file (no list to keep in sync).

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rego") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let policies = manifest_dir.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(&policies, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Built-in policy files: (path relative to `policies/`, content).\npub static BUILTIN_POLICIES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&policies)
            .expect("collected under policies/")
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("builtin_policies.rs"), code).expect("OUT_DIR is writable");
    println!("cargo:rustc-env=KGATE_COMMIT={}", commit(&manifest_dir));
}

/// The commit kgate is built from, for `kgate --version`: `KGATE_COMMIT` when the release
/// build sets it, else git's short hash, else `unknown` (a source archive without git).
fn commit(dir: &Path) -> String {
    println!("cargo:rerun-if-env-changed=KGATE_COMMIT");
    if let Ok(c) = std::env::var("KGATE_COMMIT") {
        return c;
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    // Build again when HEAD moves: HEAD itself (a checkout), and the branch it points to (a
    // commit); `--git-path` finds both in a worktree too.
    let mut watched = vec!["HEAD".to_owned()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
}
