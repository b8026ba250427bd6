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
