//! Which files a pull request (or a local branch) changed: everything that differs between a
//! git revision and the working tree, committed, staged, unstaged or untracked, with both
//! sides of a rename. Read through the `git` binary, which every CI runner and developer
//! machine that has the repository also has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::source::relative;

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error("--changed-since needs a git repository, and {} is not in one: {message}", .dir.display())]
    NotARepository { dir: PathBuf, message: String },
    #[error("--changed-since {reference}: {message}")]
    BadReference { reference: String, message: String },
    #[error("cannot run git: {0}")]
    Git(String),
}

fn git(dir: &Path, args: &[&str]) -> Result<Result<Vec<u8>, String>, ChangesError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // A user's pager or colour settings must not reach the parser.
        .env("GIT_PAGER", "cat")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| ChangesError::Git(e.to_string()))?;
    if out.status.success() {
        Ok(Ok(out.stdout))
    } else {
        Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

/// Files changed since `reference`, relative to `scan_root` (`../` for files of the
/// repository outside it), sorted.
pub fn changed_since(scan_root: &Path, reference: &str) -> Result<BTreeSet<String>, ChangesError> {
    let top = match git(scan_root, &["rev-parse", "--show-toplevel"])? {
        Ok(out) => PathBuf::from(String::from_utf8_lossy(&out).trim()),
        Err(message) => {
            return Err(ChangesError::NotARepository {
                dir: scan_root.to_path_buf(),
                message,
            });
        }
    };
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    // `--end-of-options` keeps a reference that starts with `-` from being read as a flag.
    let verify = format!("{reference}^{{commit}}");
    if let Err(message) = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &verify,
        ],
    )? {
        let message = if message.is_empty() {
            "not a commit in this repository (in CI, fetch enough history: `fetch-depth: 0`)"
                .to_owned()
        } else {
            message
        };
        return Err(ChangesError::BadReference {
            reference: reference.to_owned(),
            message,
        });
    }
    let diff = git(
        &top,
        &[
            "diff",
            "--name-status",
            "-z",
            "-M",
            "--no-ext-diff",
            "--end-of-options",
            reference,
            "--",
        ],
    )?
    .map_err(|message| ChangesError::BadReference {
        reference: reference.to_owned(),
        message,
    })?;
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?
        .map_err(ChangesError::Git)?;
    let mut files = BTreeSet::new();
    let mut fields = diff.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(status) = fields.next() {
        // Renames and copies (`R100`, `C75`) name the old and the new path.
        let paths = if matches!(status.first(), Some(b'R' | b'C')) {
            2
        } else {
            1
        };
        for _ in 0..paths {
            if let Some(p) = fields.next() {
                files.insert(String::from_utf8_lossy(p).into_owned());
            }
        }
    }
    for p in untracked.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        files.insert(String::from_utf8_lossy(p).into_owned());
    }
    Ok(files
        .into_iter()
        .map(|p| relative(scan_root, &top.join(p)))
        .collect())
}
