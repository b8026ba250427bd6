//! Which files a pull request (or a local branch) changed: everything that differs between a
//! git revision and the working tree, committed, staged, unstaged or untracked, with both
//! sides of a rename. Read through the `git` binary, which every CI runner and developer
//! machine that has the repository also has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::schedule::joined;
use crate::source::relative;

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error("{flag} needs a git repository, and {} is not in one: {message}", .dir.display())]
    NotARepository {
        flag: &'static str,
        dir: PathBuf,
        message: String,
    },
    #[error("{flag} {reference}: {message}")]
    BadReference {
        flag: &'static str,
        reference: String,
        message: String,
    },
    #[error("cannot run git: {0}")]
    Git(String),
}

/// The flag that names the revision, as `check` takes it.
const CHANGED_SINCE: &str = "--changed-since";

impl ChangesError {
    /// The error as a command whose flag `flag` named the revision tells it (`kgate diff
    /// --since`).
    pub fn named(self, flag: &'static str) -> ChangesError {
        match self {
            ChangesError::NotARepository { dir, message, .. } => {
                ChangesError::NotARepository { flag, dir, message }
            }
            ChangesError::BadReference {
                reference, message, ..
            } => ChangesError::BadReference {
                flag,
                reference,
                message,
            },
            other => other,
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<Result<Vec<u8>, String>, ChangesError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // A user's pager or colour settings must not reach the parser.
        .env("GIT_PAGER", "cat")
        // `:/` is the top level, not a file called so.
        .env("GIT_LITERAL_PATHSPECS", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| ChangesError::Git(e.to_string()))?;
    if out.status.success() {
        Ok(Ok(out.stdout))
    } else {
        Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

/// What git says of the working tree against a revision (see [`since`]).
#[derive(Debug)]
pub(super) struct Since {
    /// The top level (canonical).
    pub top: PathBuf,
    /// The changed files, relative to the scanned root (`../` for files outside it), sorted.
    pub files: BTreeSet<String>,
    /// `git diff --raw -z --no-renames --no-abbrev REF --` (a rename is a removal and an
    /// addition).
    pub raw: Vec<u8>,
    /// The untracked paths that are not ignored, from the top level: with `directories`
    /// (see [`since`]), a wholly untracked directory as one path ending in `/` (`git ls-files
    /// --others --directory`), else file by file.
    pub untracked: Vec<String>,
    /// Git's `info/attributes` file (`rev-parse --git-path`), existing or not.
    pub info_attributes: PathBuf,
    /// REF's commit as git resolved it (its object id), when the first question told it.
    pub commit: Option<String>,
}

/// Files changed since `reference`, relative to `scan_root` (`../` for files of the
/// repository outside it), sorted.
pub fn changed_since(scan_root: &Path, reference: &str) -> Result<BTreeSet<String>, ChangesError> {
    since(scan_root, reference, false).map(|s| s.files)
}

/// NUL-separated fields, without empty ones.
pub(super) fn fields(out: &[u8]) -> impl Iterator<Item = &[u8]> {
    out.split(|b| *b == 0).filter(|f| !f.is_empty())
}

/// What changed since `reference`, and what the diff's REF side asks of git besides.
///
/// One `rev-parse` finds the top level, the attributes file and whether `reference` is a
/// commit, and the changes and the untracked paths are asked meanwhile (each git process
/// costs its start, 5-20 ms, more than its work). A failed `rev-parse` is asked again one
/// question at a time, which words the error. `directories`: list the untracked paths as the diff's
/// REF side needs them, a wholly untracked directory as one path (its files are then
/// asked too, for the changed files).
pub(super) fn since(
    scan_root: &Path,
    reference: &str,
    directories: bool,
) -> Result<Since, ChangesError> {
    let verify = format!("{reference}^{{commit}}");
    let args = [
        "rev-parse",
        "--show-toplevel",
        "--git-path",
        "info/attributes",
        "--verify",
        "--quiet",
        "--end-of-options",
        &verify,
    ];
    let (answer, raw, listed) = std::thread::scope(|scope| {
        let raw = scope.spawn(|| raw_diff(scan_root, reference));
        let listed = scope.spawn(|| list_untracked(scan_root, directories));
        let answer = git(scan_root, &args);
        (answer, joined(raw), joined(listed))
    });
    let answer = answer?.ok();
    let text = answer.as_deref().map(String::from_utf8_lossy);
    let lines: Vec<&str> = text.as_deref().map_or(Vec::new(), |t| t.lines().collect());
    let (top, info_attributes, raw, listed, commit) = match lines[..] {
        [top, info, commit] => {
            let top = PathBuf::from(top);
            let top = std::fs::canonicalize(&top).unwrap_or(top);
            let commit = Some(commit.to_owned());
            (top, scan_root.join(info), raw?, listed?, commit)
        }
        _ => {
            let (top, info) = top_step_by_step(scan_root, reference)?;
            let (raw, listed) = (
                raw_diff(&top, reference)?,
                list_untracked(&top, directories)?,
            );
            (top, info, raw, listed, None)
        }
    };
    let untracked: Vec<String> = fields(&listed)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    // A wholly untracked directory's files, one by one.
    let untracked_files = if directories && untracked.iter().any(|p| p.ends_with('/')) {
        fields(&list_untracked(&top, false)?)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    } else {
        untracked.clone()
    };
    let files = changed_paths(&raw)
        .chain(untracked_files)
        .map(|p| relative(scan_root, &top.join(p)))
        .collect();
    Ok(Since {
        top,
        files,
        raw,
        untracked,
        info_attributes,
        commit,
    })
}

/// The paths of `git diff --raw -z --no-renames` output: `:<modes> <blobs> <status>`, then
/// the path, for each.
fn changed_paths(raw: &[u8]) -> impl Iterator<Item = String> + '_ {
    fields(raw)
        .skip(1)
        .step_by(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// `git diff --raw` against `reference` (a reference git cannot read is the user's error),
/// paths from the top level wherever `dir` is in the work tree.
fn raw_diff(dir: &Path, reference: &str) -> Result<Vec<u8>, ChangesError> {
    let args = [
        "-c",
        "diff.relative=false",
        "diff",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--no-ext-diff",
        "--end-of-options",
        reference,
        "--",
    ];
    git(dir, &args)?.map_err(|message| ChangesError::BadReference {
        flag: CHANGED_SINCE,
        reference: reference.to_owned(),
        message,
    })
}

/// The untracked paths that are not ignored, a wholly untracked directory as one path ending
/// in `/` when `directories`: the whole work tree's, from the top level, wherever `dir` is
/// in it.
fn list_untracked(dir: &Path, directories: bool) -> Result<Vec<u8>, ChangesError> {
    let mut args = vec![
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        "--full-name",
    ];
    if directories {
        args.push("--directory");
    }
    args.extend(["--", ":/"]);
    git(dir, &args)?.map_err(ChangesError::Git)
}

/// The top level and git's `info/attributes` file, asked one question at a time: the
/// error of the first that fails.
fn top_step_by_step(scan_root: &Path, reference: &str) -> Result<(PathBuf, PathBuf), ChangesError> {
    let top = match git(scan_root, &["rev-parse", "--show-toplevel"])? {
        Ok(out) => PathBuf::from(String::from_utf8_lossy(&out).trim()),
        Err(message) => {
            return Err(ChangesError::NotARepository {
                flag: CHANGED_SINCE,
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
            flag: CHANGED_SINCE,
            reference: reference.to_owned(),
            message,
        });
    }
    let info =
        git(&top, &["rev-parse", "--git-path", "info/attributes"])?.map_err(ChangesError::Git)?;
    let info = top.join(String::from_utf8_lossy(&info).trim());
    Ok((top, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.email=a@b", "-c", "user.name=a"])
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn one_listing_serves_the_changed_files_and_the_diffs_untracked_paths() {
        let repo = tempfile::tempdir().expect("temp dir");
        let top = repo.path();
        let write = |path: &str, text: &str| {
            let path = top.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write("apps/a/kustomization.yaml", "resources: [cm.yaml]\n");
        write("apps/a/cm.yaml", "kind: ConfigMap\n");
        write("apps/a/old.yaml", "kind: Secret\n");
        write(".gitignore", "*.bak\n");
        run(top, &["init", "-q"]);
        run(top, &["add", "-A"]);
        run(top, &["commit", "-qm", "init"]);
        write("apps/a/cm.yaml", "kind: ConfigMap\nmetadata: {}\n");
        run(top, &["mv", "apps/a/old.yaml", "apps/a/new.yaml"]);
        write("apps/a/loose.yaml", "kind: Service\n");
        write("apps/b/base/kustomization.yaml", "resources: []\n");
        write("apps/b/base/svc.yaml", "kind: Service\n");
        write("apps/a/cm.yaml.bak", "ignored\n");
        write("notes.yaml", "kind: ConfigMap\n");
        write("docs/old.yaml", "kind: ConfigMap\n");
        // Asked from `apps`, git must still answer for the whole work tree, from its top.
        run(top, &["config", "diff.relative", "true"]);

        let listing = since(&top.join("apps"), "HEAD", true).expect("since");
        let files: Vec<&str> = listing.files.iter().map(String::as_str).collect();
        assert_eq!(
            files,
            [
                "../docs/old.yaml",
                "../notes.yaml",
                "a/cm.yaml",
                "a/loose.yaml",
                "a/new.yaml",
                "a/old.yaml",
                "b/base/kustomization.yaml",
                "b/base/svc.yaml",
            ]
        );
        assert_eq!(
            listing.untracked,
            ["apps/a/loose.yaml", "apps/b/", "docs/", "notes.yaml"]
        );
        let files_only = since(&top.join("apps"), "HEAD", false).expect("since");
        assert_eq!(files_only.files, listing.files);
        let expected = [
            "apps/a/loose.yaml",
            "apps/b/base/kustomization.yaml",
            "apps/b/base/svc.yaml",
            "docs/old.yaml",
            "notes.yaml",
        ];
        assert_eq!(files_only.untracked, expected);
        assert_eq!(listing.top, std::fs::canonicalize(top).expect("top"));
        assert_eq!(
            std::fs::canonicalize(listing.info_attributes.parent().expect("info")).ok(),
            std::fs::canonicalize(top.join(".git/info")).ok()
        );

        let wrong = since(&top.join("apps"), "no-such-ref", true).expect_err("bad reference");
        assert!(
            matches!(wrong, ChangesError::BadReference { .. }),
            "{wrong}"
        );
        let outside = tempfile::tempdir().expect("temp dir");
        let wrong = since(outside.path(), "HEAD", true).expect_err("not a repository");
        assert!(
            matches!(wrong, ChangesError::NotARepository { .. }),
            "{wrong}"
        );
    }
}
