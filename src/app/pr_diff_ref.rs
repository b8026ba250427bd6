//! REF's side of `kgate diff --since REF` without exporting REF's tree: when every change
//! since REF is the edit, addition or removal of a regular file (a rename is a removal and
//! an addition; no file retyped, no symlink or submodule at REF), REF's tree is the working
//! tree's paths with REF's file set. The check reads the edited and removed files' REF
//! contents from git (`git cat-file --batch`) through its file table, which also hides the
//! added files (the highest new directory holding one) and holds the removed ones
//! (`FileTable::hiding`, `FileTable::with_present`), and reuses every working-tree build none
//! of whose inputs (reads and existence probes) changed.
//!
//! Untracked files (ignored or not: `target/`, `node_modules/`, editor backups) are absent
//! at REF, hidden the same way; a wholly untracked directory that is not ignored (an
//! ApplicationSet directory generator may list it), an untracked ignore file, or one under
//! the configuration, policies, data or schema directories leaves REF's side to the export,
//! as do removals discovery's walk would not list as the table does (`removals_in_place`).
//! A read of a hidden path by REF's check (through a call that asks the disk whether it
//! exists) is decided after the checks and also leaves REF to the export.
//!
//! Files read outside the file table are left to the export (as are repositories with git
//! attributes or `core.autocrlf`, which `git archive` applies): the configuration, policies,
//! data and schema directories, hidden files (`.kgate.yaml`, `.gitignore`, `.helmignore`),
//! and (decided after the checks, `Kept::helm_runs`) anything Helm reads.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::changes::ChangesError;
use super::check::joined;
use super::settings::{CheckError, Settings};

fn git_error(message: impl Into<String>) -> CheckError {
    CheckError::Changes(ChangesError::Git(message.into()))
}

/// The output of `git -C top ARGS`.
fn git(top: &Path, args: &[&str]) -> Result<Vec<u8>, CheckError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .env("GIT_PAGER", "cat")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| git_error(e.to_string()))?;
    if !out.status.success() {
        return Err(git_error(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// A changed file: its path from the top level and its blob at REF.
#[derive(Debug, PartialEq)]
struct Edit {
    path: String,
    blob: String,
}

/// The changes since REF the working tree's paths can stand for: edited files and files
/// added since REF (which REF's check hides).
#[derive(Debug, Default, PartialEq)]
struct Changes {
    edits: Vec<Edit>,
    added: Vec<String>,
    /// Files removed since REF, with their blob there.
    removed: Vec<Edit>,
}

fn is_regular(mode: &str) -> bool {
    matches!(mode, "100644" | "100755")
}

/// The changes of `git diff --raw -z --no-renames` output (a rename is a removal and an
/// addition); `None` when any change is not an edit of a regular file that keeps its mode,
/// or the addition or removal of a regular file.
fn changes(raw: &[u8]) -> Option<Changes> {
    let mut out = Changes::default();
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(head) = fields.next() {
        // `:<old mode> <new mode> <old blob> <new blob> <status>`, then the path.
        let head = std::str::from_utf8(head).ok()?;
        let path = std::str::from_utf8(fields.next()?).ok()?.to_owned();
        let parts: Vec<&str> = head.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, blob, _, status] = parts[..] else {
            return None;
        };
        match status {
            "M" if old_mode == new_mode && is_regular(old_mode) => out.edits.push(Edit {
                path,
                blob: blob.to_owned(),
            }),
            "A" if is_regular(new_mode) => out.added.push(path),
            "D" if is_regular(old_mode) => out.removed.push(Edit {
                path,
                blob: blob.to_owned(),
            }),
            _ => return None,
        }
    }
    Some(out)
}

/// Whether the files removed since REF can be served in place: discovery's walk at REF
/// would list them as REF's file table says (none ignored by git's rules, no `.ignore`
/// file, which the walk honours and git does not), none is back on disk as an untracked
/// file, and none is in a Helm chart at REF (Helm reads the disk).
fn removals_in_place(
    top: &Path,
    changes: &Changes,
    tree: &[u8],
    hidden: &[PathBuf],
) -> Result<bool, CheckError> {
    let entries = || {
        tree.split(|b| *b == 0)
            .filter_map(|e| e.iter().position(|b| *b == b'\t').map(|t| &e[t + 1..]))
    };
    let is_named = |p: &[u8], name: &[u8]| p == name || p.ends_with(&[b"/", name].concat());
    if entries().any(|p| is_named(p, b".ignore")) {
        return Ok(false);
    }
    let chart_dirs: BTreeSet<String> = entries()
        .filter(|p| is_named(p, b"Chart.yaml"))
        .map(|p| {
            let p = String::from_utf8_lossy(p);
            p.rsplit_once('/')
                .map_or(String::new(), |(d, _)| d.to_owned())
        })
        .collect();
    let in_chart = |path: &str| {
        chart_dirs
            .iter()
            .any(|d| d.is_empty() || path.starts_with(&format!("{d}/")))
    };
    let back = |path: &str| {
        let abs = top.join(path);
        hidden.iter().any(|h| abs.starts_with(h))
    };
    if changes
        .removed
        .iter()
        .any(|e| in_chart(&e.path) || back(&e.path))
    {
        return Ok(false);
    }
    let paths: Vec<&str> = changes.removed.iter().map(|e| e.path.as_str()).collect();
    Ok(!any_ignored(top, &paths)?)
}

/// Whether git's ignore rules (without the user's global excludes, which discovery's walk
/// does not read either) match any of `paths`, tracked or not.
fn any_ignored(top: &Path, paths: &[&str]) -> Result<bool, CheckError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args([
            "-c",
            "core.excludesFile=/dev/null",
            "check-ignore",
            "--no-index",
            "-z",
            "--stdin",
        ])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| git_error(e.to_string()))?;
    let request: Vec<u8> = paths
        .iter()
        .flat_map(|p| [p.as_bytes(), b"\0"].concat())
        .collect();
    let mut stdin = child.stdin.take().ok_or_else(|| git_error("no stdin"))?;
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let out = child
        .wait_with_output()
        .map_err(|e| git_error(e.to_string()))?;
    let _ = writer.join();
    // Exit 0: some path is ignored; 1: none is; anything else is an error.
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(git_error("git check-ignore failed")),
    }
}

/// The directories of REF's tree (from the top level), from `git ls-tree -r -z` output.
fn tree_dirs(tree: &[u8]) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for entry in tree.split(|b| *b == 0) {
        let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let path = String::from_utf8_lossy(&entry[tab + 1..]);
        let mut rest = path.as_ref();
        while let Some((dir, _)) = rest.rsplit_once('/') {
            if !dirs.insert(dir.to_owned()) {
                break;
            }
            rest = dir;
        }
    }
    dirs
}

/// Whether `path` (added since REF) is a kustomization file in a directory REF's tree has:
/// where the working tree has two, the renderer fails without reading either, so the
/// build's recorded reads would not keep REF from reusing that failure.
fn second_kustomization(top: &Path, path: &str, dirs: &BTreeSet<String>) -> bool {
    let names = crate::model::kinds::KUSTOMIZATION_FILE_NAMES;
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    names.contains(&name)
        && (dir.is_empty() || dirs.contains(dir))
        && names
            .iter()
            .any(|other| *other != name && top.join(dir).join(other).is_file())
}

/// The highest directory holding `path` (from the top level) that REF's tree has not.
fn new_dir(path: &str, dirs: &BTreeSet<String>) -> Option<String> {
    let mut new = None;
    let mut rest = path;
    while let Some((dir, _)) = rest.rsplit_once('/') {
        if dirs.contains(dir) {
            break;
        }
        new = Some(dir.to_owned());
        rest = dir;
    }
    new
}

/// The files and directories the stages read outside the file table: the configuration,
/// the policies, data and schema directories.
fn outside_table(settings: &Settings) -> Vec<PathBuf> {
    let policies = settings.user_policies();
    policies
        .dirs
        .into_iter()
        .chain(policies.data)
        .chain(settings.schema_dirs())
        .chain(settings.config.path.clone())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect()
}

/// Whether a file at `path` (from the top level) is one the stages read outside the file
/// table, or a hidden one (ignore files, the configuration), which the export must handle.
fn read_outside_table(top: &Path, path: &str, outside: &[PathBuf]) -> bool {
    if path.split('/').any(|c| c.starts_with('.')) {
        return true;
    }
    let abs = top.join(path);
    outside.iter().any(|o| abs.starts_with(o))
}

/// Whether an untracked `path` (from the top level, a directory ending in `/`) changes what
/// is read outside the file table: an ignore file the walk honours (none in a hidden
/// directory, which the walk skips), or a path holding or under a directory read outside it.
fn untracked_matters(top: &Path, path: &str, outside: &[PathBuf]) -> bool {
    let path = path.trim_end_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    let (name, dirs) = parts.split_last().unwrap_or((&"", &[]));
    let ignore_file = matches!(
        *name,
        ".gitignore" | ".ignore" | ".kgate.yaml" | ".kgate.yml"
    );
    if ignore_file && !dirs.iter().any(|d| d.starts_with('.')) {
        return true;
    }
    let abs = top.join(path);
    outside
        .iter()
        .any(|o| abs.starts_with(o) || o.starts_with(&abs))
}

/// The work tree's untracked paths (`--ignored` ones or the others), from the top level,
/// a wholly untracked directory as one path ending in `/`.
fn untracked(top: &Path, ignored: bool) -> Result<Vec<String>, CheckError> {
    let mut args = vec![
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        "--directory",
    ];
    if ignored {
        args.push("--ignored");
    }
    let out = git(top, &args)?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect())
}

/// The untracked paths (absolute), `None` when one of them leaves REF's side to the export.
fn absent(top: &Path, outside: &[PathBuf]) -> Result<Option<Vec<PathBuf>>, CheckError> {
    let others = untracked(top, false)?;
    // Not ignored, a wholly untracked directory (even empty) may be walked as a whole.
    if others.iter().any(|p| p.ends_with('/')) {
        return Ok(None);
    }
    let mut paths = others;
    paths.extend(untracked(top, true)?);
    if paths.iter().any(|p| untracked_matters(top, p, outside)) {
        return Ok(None);
    }
    Ok(Some(
        paths
            .iter()
            .map(|p| top.join(p.trim_end_matches('/')))
            .collect(),
    ))
}

/// Whether git converts files as it writes them out here (`core.autocrlf`, or attributes in
/// `.git/info/attributes`), which `git archive` applies and a blob does not have.
fn converts_line_ends(top: &Path) -> Result<bool, CheckError> {
    let autocrlf = git(
        top,
        &["config", "--default", "false", "--get", "core.autocrlf"],
    )?;
    let info = git(top, &["rev-parse", "--git-path", "info/attributes"])?;
    let info = top.join(String::from_utf8_lossy(&info).trim());
    Ok(String::from_utf8_lossy(&autocrlf).trim() != "false" || info.is_file())
}

/// The contents of `blobs` (`git cat-file --batch`), in order.
fn blobs(top: &Path, blobs: &[&str]) -> Result<Vec<Arc<[u8]>>, CheckError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| git_error(e.to_string()))?;
    let request: String = blobs.iter().map(|b| format!("{b}\n")).collect();
    let mut stdin = child.stdin.take().ok_or_else(|| git_error("no stdin"))?;
    // Written from a thread: git answers while it reads, and a full pipe must not block us.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let stdout = child.stdout.take().ok_or_else(|| git_error("no stdout"))?;
    let mut reader = BufReader::new(stdout);
    let mut out = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| git_error(e.to_string()))?;
        // `<object> blob <size>`
        let size = match header.split_whitespace().collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse::<usize>().ok(),
            _ => None,
        }
        .ok_or_else(|| git_error(format!("git cat-file {blob}: {}", header.trim())))?;
        let mut content = vec![0; size + 1];
        reader
            .read_exact(&mut content)
            .map_err(|e| git_error(e.to_string()))?;
        content.pop();
        out.push(Arc::from(content));
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(out)
}

/// Files (absolute paths) with their content at REF.
pub(super) type Contents = Vec<(PathBuf, Arc<[u8]>)>;

/// How REF's tree differs from the working tree's paths.
#[derive(Debug, Default)]
pub(super) struct AtRef {
    /// REF's content of every edited file.
    pub contents: Contents,
    /// The paths on disk REF's tree has not (absolute; a directory stands for everything
    /// under it): files and directories added since REF, untracked files.
    pub hidden: Vec<PathBuf>,
    /// The files removed since REF (absolute), their REF contents among `contents`.
    pub present: Vec<PathBuf>,
    /// Whether a file was added or removed since REF (an ApplicationSet generator lists
    /// directories and files without the file table: with entry points, REF's tree is
    /// exported).
    pub added_or_removed: bool,
}

impl AtRef {
    /// Whether REF's set of files differs from the disk's (added, removed or untracked
    /// paths): entry points that list directories (a Flux Kustomization without a
    /// kustomization file, an ApplicationSet generator) read the disk's set, not REF's.
    pub fn file_set_differs(&self) -> bool {
        self.added_or_removed || !self.hidden.is_empty() || !self.present.is_empty()
    }
}

/// The outputs of the git calls `ref_contents` makes at once.
struct GitState {
    absent: Option<Vec<PathBuf>>,
    tree: Vec<u8>,
    converts: bool,
    raw: Vec<u8>,
}

/// The untracked paths, REF's tree, whether git converts line ends and the changes since
/// `reference`: independent git calls, at once (each costs a process start, ~10-20 ms, more
/// than its work).
fn git_state(top: &Path, reference: &str, outside: &[PathBuf]) -> Result<GitState, CheckError> {
    let (absent, tree, converts, raw) = std::thread::scope(|scope| {
        let absent = scope.spawn(|| absent(top, outside));
        let tree = scope.spawn(|| {
            let args = ["ls-tree", "-r", "-z", "--full-tree", "--end-of-options"];
            git(top, &[&args[..], &[reference]].concat())
        });
        let converts = scope.spawn(|| converts_line_ends(top));
        let raw = git(
            top,
            &[
                "diff",
                "--raw",
                "-z",
                "--no-renames",
                "--no-abbrev",
                "--no-ext-diff",
                "--end-of-options",
                reference,
                "--",
            ],
        );
        (joined(absent), joined(tree), joined(converts), raw)
    });
    Ok(GitState {
        absent: absent?,
        tree: tree?,
        converts: converts?,
        raw: raw?,
    })
}

/// REF's content of every file edited since `reference` (absolute paths under `top`) and
/// the paths REF's tree has not, or `None` when REF's side must be checked in an export of
/// its tree.
pub(super) fn ref_contents(
    top: &Path,
    reference: &str,
    settings: &Settings,
) -> Result<Option<AtRef>, CheckError> {
    let outside = outside_table(settings);
    let state = git_state(top, reference, &outside)?;
    let Some(mut hidden) = state.absent else {
        return Ok(None);
    };
    // Symlinks and submodules; attributes (export-ignore, eol conversion, filters such as
    // LFS) make the export differ from the blobs.
    let special = state.tree.split(|b| *b == 0).any(|e| {
        e.starts_with(b"120000 ")
            || e.starts_with(b"160000 ")
            || e.ends_with(b"\t.gitattributes")
            || e.ends_with(b"/.gitattributes")
    });
    if special || state.converts {
        return Ok(None);
    }
    let Some(changes) = changes(&state.raw) else {
        return Ok(None);
    };
    let paths = changes
        .edits
        .iter()
        .chain(&changes.removed)
        .map(|e| &e.path);
    if paths
        .chain(&changes.added)
        .any(|p| read_outside_table(top, p, &outside))
    {
        return Ok(None);
    }
    let dirs = tree_dirs(&state.tree);
    if changes
        .added
        .iter()
        .any(|p| second_kustomization(top, p, &dirs))
    {
        return Ok(None);
    }
    // A file added in a directory REF has not: the directory is hidden as a whole.
    for path in &changes.added {
        let new = new_dir(path, &dirs);
        hidden.push(top.join(new.as_deref().unwrap_or(path)));
    }
    if !changes.removed.is_empty() && !removals_in_place(top, &changes, &state.tree, &hidden)? {
        return Ok(None);
    }
    let read = changes.edits.iter().chain(&changes.removed);
    let ids: Vec<&str> = read.clone().map(|e| e.blob.as_str()).collect();
    let contents = blobs(top, &ids)?;
    let contents = read
        .zip(contents)
        .map(|(e, c)| (top.join(&e.path), c))
        .collect();
    Ok(Some(AtRef {
        contents,
        hidden,
        present: changes.removed.iter().map(|e| top.join(&e.path)).collect(),
        added_or_removed: !changes.added.is_empty() || !changes.removed.is_empty(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_edits_and_additions_of_regular_files_qualify() {
        let blob = "a".repeat(40);
        let zero = "0".repeat(40);
        let raw = |old: &str, new: &str, status: &str| {
            format!(":{old} {new} {blob} {zero} {status}\0apps/a.yaml\0").into_bytes()
        };
        let edit = Edit {
            path: "apps/a.yaml".to_owned(),
            blob: blob.clone(),
        };
        assert_eq!(
            changes(&raw("100644", "100644", "M")),
            Some(Changes {
                edits: vec![edit],
                ..Changes::default()
            })
        );
        assert_eq!(
            changes(&raw("000000", "100755", "A")),
            Some(Changes {
                added: vec!["apps/a.yaml".to_owned()],
                ..Changes::default()
            })
        );
        assert_eq!(changes(&raw("100755", "100644", "M")), None);
        assert_eq!(
            changes(&raw("100644", "000000", "D")),
            Some(Changes {
                removed: vec![Edit {
                    path: "apps/a.yaml".to_owned(),
                    blob: blob.clone()
                }],
                ..Changes::default()
            })
        );
        assert_eq!(changes(&raw("120000", "000000", "D")), None);
        assert_eq!(changes(&raw("000000", "120000", "A")), None);
        assert_eq!(changes(&raw("120000", "120000", "M")), None);
        assert_eq!(changes(b""), Some(Changes::default()));
    }

    #[test]
    fn an_added_file_hides_the_highest_directory_ref_has_not() {
        let tree = b"100644 blob x\tapps/a/base/kustomization.yaml\x00100644 blob y\ttop.yaml\0";
        let dirs = tree_dirs(tree);
        assert_eq!(
            dirs.iter().collect::<Vec<_>>(),
            ["apps", "apps/a", "apps/a/base"]
        );
        assert_eq!(new_dir("apps/a/base/pdb.yaml", &dirs), None);
        assert_eq!(
            new_dir("apps/b/overlays/prod/k.yaml", &dirs).as_deref(),
            Some("apps/b")
        );
        assert_eq!(new_dir("new.yaml", &dirs), None);
        let top = tempfile::tempdir().expect("temp dir");
        for dir in ["apps/a/base", "apps/b"] {
            std::fs::create_dir_all(top.path().join(dir)).expect("mkdir");
            std::fs::write(top.path().join(dir).join("kustomization.yaml"), "").expect("write");
        }
        let second = |p: &str| second_kustomization(top.path(), p, &dirs);
        assert!(second("apps/a/base/kustomization.yml"));
        assert!(!second("Kustomization"));
        assert!(!second("apps/b/kustomization.yml"));
        assert!(!second("apps/a/base/pdb.yaml"));
    }

    #[test]
    fn untracked_paths_that_change_reads_outside_the_table() {
        let top = Path::new("/repo");
        let outside = vec![
            PathBuf::from("/repo/policies"),
            PathBuf::from("/repo/schemas/k8s"),
        ];
        assert!(untracked_matters(top, ".gitignore", &outside));
        assert!(untracked_matters(top, "apps/.ignore", &outside));
        assert!(!untracked_matters(top, ".idea/.gitignore", &outside));
        assert!(!untracked_matters(top, ".idea/", &outside));
        assert!(untracked_matters(top, "policies/extra.rego", &outside));
        assert!(untracked_matters(top, "schemas/", &outside));
        assert!(!untracked_matters(top, "target/", &outside));
    }
}
