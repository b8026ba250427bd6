//! Shared by the benchmarks: builds a monorepo with the team's generator.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `benches/gen_monorepo.py OUT --apps N --seed 11`, outside any timed loop.
pub fn generate(apps: usize, out: &Path) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_monorepo.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(out)
        .args(["--apps", &apps.to_string(), "--seed", "11"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the monorepo generator");
    assert!(status.success(), "gen_monorepo.py failed");
}

/// Every kustomization directory that is not a Component.
#[allow(dead_code)] // not every benchmark uses it
pub fn roots(repo: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![repo.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "kustomization.yaml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                if !text.contains("kind: Component") {
                    out.push(dir.clone());
                }
            }
        }
    }
    out.sort();
    out
}
