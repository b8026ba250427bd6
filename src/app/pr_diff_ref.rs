//! REF's side of `kgate diff --since REF` without exporting REF's tree: when every change
//! since REF is the edit, addition or removal of a regular file (a rename is a removal and
//! an addition; no file retyped, no symlink changed, no submodule at REF), REF's tree is the
//! working tree's paths with REF's file set. The check reads the edited and removed files'
//! REF contents from git (`git cat-file --batch`) through its file table, which also hides
//! the added files (the highest new directory holding one) and holds the removed ones
//! (`FileTable::hiding`, `FileTable::with_present`), and reuses every working-tree build none
//! of whose inputs (reads and existence probes) changed.
//!
//! Git attributes: every file the change did not touch is on disk as checkout wrote it, so
//! only the changed files' REF contents must be what REF's checkout writes. Their checkout
//! attributes are asked of git (`git check-attr`, which reads the working tree's
//! `.gitattributes`: those are REF's, since a changed, added or untracked `.gitattributes`
//! leaves REF to the export) when any may apply (a `.gitattributes` in REF's tree,
//! `.git/info/attributes`, the user's attributes file, `core.autocrlf`); a file checkout
//! converts (line ends, `ident`, `working-tree-encoding`) is read through git's own
//! conversion (`git cat-file --filters`), and one with a `filter` (Git LFS and the like run
//! a program) leaves REF to the export. `export-ignore` and `export-subst` apply to
//! `git archive` only: the export leaves out or rewrites files REF's commit has, the
//! in-place check reads them as checkout writes them (no spurious removal), so there the
//! in-place check is the one that is right.
//!
//! Symbolic links in REF's tree (unchanged, as the changes checked) keep the check in place
//! when each is a link on disk whose target, lexically and resolved, neither is an edited
//! file nor holds one (a read through it would miss REF's content, keyed by the file's own
//! path), and the file set is the disk's (no added, removed or untracked file: the file
//! table then resolves paths lexically, as links do not); else, and for submodules, REF's
//! tree is exported.
//!
//! Untracked files and directories git does not ignore (a scratch directory, editor
//! backups) are absent at REF, hidden the same way (entry points that list directories list
//! them through the file table); an untracked ignore or attributes file, or one under the
//! configuration, policies, data or schema directories leaves REF's side to the export, as
//! do removals discovery's walk would not list as the table does (`removals_in_place`). A
//! read of a hidden path by REF's check (through a call that asks the disk whether it
//! exists) is decided after the checks and also leaves REF to the export.
//!
//! Ignored files (`target/`, `node_modules/`, local overrides) are not listed: git's
//! listing walked the whole work tree again (~12 ms of CPU on 2,400 files). Instead REF's
//! tree's paths (`RefPaths`) tell them: a file either check read, hashed or found on disk
//! (the walk's finds included) that REF's tree has not, and that is not added or untracked,
//! is an ignored one, and leaves REF to the export after the checks; an ignore file
//! (`.gitignore`, `.ignore`) on disk in a directory of REF's tree, or an attributes file
//! over a changed file, that REF's tree has not leaves it to the export from the start, as
//! does an ignored path under the directories read outside the file table (git lists those
//! alone). With symbolic links in REF's tree, every ignored path is listed and hidden, as
//! the table then resolves paths as the disk does.
//!
//! Files read outside the file table are left to the export: the configuration, policies,
//! data and schema directories, hidden files (`.kgate.yaml`, `.gitignore`, `.helmignore`,
//! `.gitattributes`), and (decided after the checks, `Kept::helm_runs`) anything Helm reads.
//! Every export says why in `--timings`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::changes::{ChangesError, Since, fields};
use super::ref_paths::RefPaths;
use super::schedule::joined;
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
    let mut fields = fields(raw);
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

/// `git -C top ARGS` (with `env`) given `paths` NUL-separated on its standard input.
fn git_with_paths(
    top: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    paths: &[&str],
) -> Result<std::process::Output, CheckError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git_error(e.to_string()))?;
    let request: Vec<u8> = paths
        .iter()
        .flat_map(|p| [p.as_bytes(), b"\0"].concat())
        .collect();
    let mut stdin = child.stdin.take().ok_or_else(|| git_error("no stdin"))?;
    // Written from a thread: git answers while it reads, and a full pipe must not block us.
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let out = child
        .wait_with_output()
        .map_err(|e| git_error(e.to_string()));
    let _ = writer.join();
    out
}

/// Whether git's ignore rules (without the user's global excludes, which discovery's walk
/// does not read either) match any of `paths`, tracked or not.
fn any_ignored(top: &Path, paths: &[&str]) -> Result<bool, CheckError> {
    let args = [
        "-c",
        "core.excludesFile=/dev/null",
        "check-ignore",
        "--no-index",
        "-z",
        "--stdin",
    ];
    let out = git_with_paths(top, &args, &[("GIT_CONFIG_NOSYSTEM", "1")], paths)?;
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
    // Attributes REF's tree has not: git's conversions of REF's files would follow them.
    if *name == ".gitattributes" {
        return true;
    }
    let abs = top.join(path);
    outside
        .iter()
        .any(|o| abs.starts_with(o) || o.starts_with(&abs))
}

/// The work tree's ignored untracked paths under `pathspecs` (git's, from the top level),
/// from the top level wherever `dir` is in the work tree, a wholly untracked directory as
/// one path ending in `/` (the others are [`Since::untracked`]).
fn ignored(dir: &Path, pathspecs: &[String]) -> Result<Vec<String>, CheckError> {
    let mut args = vec![
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        "--directory",
        "--ignored",
        "--full-name",
        "--",
    ];
    args.extend(pathspecs.iter().map(String::as_str));
    let out = git(dir, &args)?;
    Ok(fields(&out)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect())
}

/// The answers of REF's side's git questions that need nothing of [`Since`]'s: asked
/// beside its own (each git process costs its start, 5-20 ms, more than its work, and a
/// round of them waited for the one before).
pub(super) struct Beside {
    /// `git config`'s checkout settings ([`checkout_settings`]).
    settings: Result<Option<Vec<u8>>, CheckError>,
}

/// [`Beside`]'s questions, asked in `dir` (anywhere in the work tree).
pub(super) fn beside(dir: &Path) -> Beside {
    Beside {
        settings: checkout_settings(dir),
    }
}

/// The untracked paths (absolute), `None` when one of them leaves REF's side to the export.
/// `others`: the untracked paths that are not ignored; `ignored`: those that are.
fn absent(
    top: &Path,
    others: &[String],
    ignored: Vec<String>,
    outside: &[PathBuf],
) -> Result<Option<Vec<PathBuf>>, CheckError> {
    // A wholly untracked directory (`dir/`, even empty) is hidden as a whole: what lists
    // directories lists them through the file table, and a file REF has under it (removed
    // since) leaves REF to the export (`removals_in_place`).
    let mut paths = others.to_vec();
    paths.extend(ignored);
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

/// What decides how git converts a file as checkout writes it, besides the attributes:
/// `core.autocrlf`, `core.eol`, and whether attributes come from outside the tree
/// (`.git/info/attributes`, the user's attributes file).
#[derive(Debug, Default, PartialEq)]
struct CheckoutConfig {
    autocrlf: String,
    eol: String,
    attributes_outside_tree: bool,
}

/// The output of `git -C top ARGS` run as checkout and `git archive` run (the system
/// configuration read), `None` when it exits with 1 (`git config`: no such key).
fn git_as_checkout(top: &Path, args: &[&str]) -> Result<Option<Vec<u8>>, CheckError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .output()
        .map_err(|e| git_error(e.to_string()))?;
    match out.status.code() {
        Some(0) => Ok(Some(out.stdout)),
        Some(1) if out.stderr.is_empty() => Ok(None),
        _ => Err(git_error(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// `git config`'s `core.autocrlf`, `core.eol` and `core.attributesFile`, asked in `dir`
/// (anywhere in the work tree), as [`checkout_config`] takes them.
fn checkout_settings(dir: &Path) -> Result<Option<Vec<u8>>, CheckError> {
    let pattern = "^core\\.(autocrlf|eol|attributesfile)$";
    git_as_checkout(dir, &["config", "-z", "--get-regexp", pattern])
}

/// `core.autocrlf`, `core.eol` and where else than the tree attributes come from, from
/// [`checkout_settings`]'s answer `out` (`info`: git's `info/attributes` file).
fn checkout_config(out: Option<Vec<u8>>, info: &Path) -> CheckoutConfig {
    let mut config = CheckoutConfig::default();
    let mut attributes_file = false;
    // `key\nvalue\0` for each.
    for entry in out.unwrap_or_default().split(|b| *b == 0) {
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
        match key {
            "core.autocrlf" => config.autocrlf = value.to_ascii_lowercase(),
            "core.eol" => config.eol = value.to_ascii_lowercase(),
            "core.attributesfile" => attributes_file = true,
            _ => {}
        }
    }
    let user_file = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .is_some_and(|d| d.join("git/attributes").is_file());
    config.attributes_outside_tree = attributes_file || user_file || info.is_file();
    config
}

/// The checkout attributes of a path: `(name, value)` for each that is not unspecified.
type Attributes = Vec<(String, String)>;

/// The attributes that change what checkout writes.
const CHECKOUT_ATTRIBUTES: [&str; 6] = [
    "text",
    "eol",
    "crlf",
    "ident",
    "working-tree-encoding",
    "filter",
];

/// The checkout attributes of each of `paths` (`git check-attr`, which reads the working
/// tree's `.gitattributes` files, REF's when none of them changed), in order.
fn attributes(top: &Path, paths: &[&str]) -> Result<Vec<Attributes>, CheckError> {
    let args = [
        &["check-attr", "-z", "--stdin"][..],
        &CHECKOUT_ATTRIBUTES[..],
    ]
    .concat();
    let out = git_with_paths(top, &args, &[], paths)?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr);
        return Err(git_error(format!("git check-attr: {}", message.trim())));
    }
    // `path\0attribute\0value\0` for each path and attribute.
    let mut by_path: std::collections::HashMap<String, Attributes> = Default::default();
    let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    for triple in fields.chunks_exact(3) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let value = text(triple[2]);
        let attrs = by_path.entry(text(triple[0])).or_default();
        if value != "unspecified" {
            attrs.push((text(triple[1]), value));
        }
    }
    Ok(paths
        .iter()
        .map(|p| by_path.remove(*p).unwrap_or_default())
        .collect())
}

/// Whether a path with `attrs` has an external filter (Git LFS and the like: a program that
/// may need the network, which only the export runs).
fn has_filter(attrs: &Attributes) -> bool {
    attrs.iter().any(|(n, v)| n == "filter" && v != "unset")
}

/// Whether checkout writes a blob with `attrs` as it is: no `ident`, no encoding, and no
/// line-end conversion (binary, `eol=lf`, or text without CRLF asked for on this system).
/// Anything else is converted by git itself (`git cat-file --filters`).
fn checkout_is_blob(attrs: &Attributes, config: &CheckoutConfig) -> bool {
    let value = |name: &str| {
        attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if value("ident").is_some_and(|v| v != "unset") || value("working-tree-encoding").is_some() {
        return false;
    }
    if value("text") == Some("unset") || value("crlf") == Some("unset") {
        return true;
    }
    match (value("eol"), value("crlf")) {
        (Some("lf"), _) | (None, Some("input")) => return true,
        (Some(_), _) => return false,
        (None, _) => {}
    }
    let native_crlf = cfg!(windows) && matches!(config.eol.as_str(), "" | "native");
    let text = value("text").is_some() || value("crlf").is_some();
    let crlf_for_text = config.eol == "crlf" || native_crlf;
    let autocrlf = matches!(config.autocrlf.as_str(), "true" | "yes" | "on" | "1");
    !(autocrlf || (text && crlf_for_text))
}

/// The content checkout writes for `blob` at `path` (`git cat-file --filters`: line ends,
/// `ident`, `working-tree-encoding`, as the working tree's attributes and configuration
/// say). One process each: with `--batch`, git 2.47 announces the blob's size, not the
/// converted content's, so the answers cannot be told apart.
fn filtered(top: &Path, blob: &str, path: &str) -> Result<Arc<[u8]>, CheckError> {
    let path_arg = format!("--path={path}");
    let out = git_as_checkout(top, &["cat-file", "--filters", &path_arg, blob])?
        .ok_or_else(|| git_error(format!("git cat-file --filters {path}")))?;
    Ok(Arc::from(out))
}

/// REF's contents of `files` as REF's checkout writes them, in order; `None` when one has an
/// external filter. `attributed`: whether any attributes or `core.autocrlf` may apply (else
/// every blob is written as it is, read at once with `git cat-file --batch`).
fn checkout_contents(
    top: &Path,
    files: &[&Edit],
    attributed: Option<&CheckoutConfig>,
) -> Result<Option<Vec<Arc<[u8]>>>, CheckError> {
    let ids: Vec<&str> = files.iter().map(|e| e.blob.as_str()).collect();
    if files.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let Some(config) = attributed else {
        return blobs(top, &ids).map(Some);
    };
    let paths: Vec<&str> = files.iter().map(|e| e.path.as_str()).collect();
    let attrs = attributes(top, &paths)?;
    if attrs.iter().any(has_filter) {
        return Ok(None);
    }
    let mut contents = blobs(top, &ids)?;
    let converted: Vec<usize> = (0..files.len())
        .filter(|i| !checkout_is_blob(&attrs[*i], config))
        .collect();
    // A few processes at once: each is mostly its start.
    for chunk in converted.chunks(4) {
        let done = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|i| scope.spawn(|| filtered(top, &files[*i].blob, &files[*i].path)))
                .collect();
            handles.into_iter().map(joined).collect::<Vec<_>>()
        });
        for (i, content) in chunk.iter().zip(done) {
            contents[*i] = content?;
        }
    }
    Ok(Some(contents))
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
    /// REF's tree's paths, when ignored files are not among `hidden` (no symbolic link in
    /// REF's tree): what the checks touched is checked against them afterwards.
    pub paths: Option<RefPaths>,
}

/// What git says of REF's side besides the changes.
struct GitState {
    tree: Vec<u8>,
    config: CheckoutConfig,
}

/// REF's tree and git's checkout configuration, from the answers asked beside `since`'s
/// ([`Beside`]) and REF's tree (kept in the render cache).
fn git_state(
    since: &Since,
    beside: Beside,
    reference: &str,
    cache: Option<&Path>,
    repo_root: &Path,
) -> Result<GitState, CheckError> {
    let top = since.top.as_path();
    let config = checkout_config(beside.settings?, &since.info_attributes);
    let tree = ref_tree(top, since.commit.as_deref(), reference, cache, repo_root)?;
    Ok(GitState { tree, config })
}

/// The ignored untracked paths REF's side must know of, in git's listing: with symbolic
/// links in REF's tree, all of them (the file table then resolves paths as the disk does,
/// so the file set it stands for must be said whole); else only those under the paths read
/// outside the file table (`outside`), which REF's check would read as the working tree's.
/// The others are found by what the checks touched ([`RefPaths::any_stray`]): the whole listing
/// walked the work tree again, ~12 ms of git's CPU on a 2,400-file tree beside the walk.
fn ignored_to_know(
    top: &Path,
    links: bool,
    outside: &[PathBuf],
) -> Result<Vec<String>, CheckError> {
    if links {
        return ignored(top, &[":/".to_owned()]);
    }
    let pathspecs: Vec<String> = (outside.iter())
        .filter_map(|o| o.strip_prefix(top).ok())
        .map(|rel| format!(":(top,literal){}", rel.to_string_lossy()))
        .collect();
    if pathspecs.is_empty() {
        return Ok(Vec::new());
    }
    ignored(top, &pathspecs)
}

/// REF's tree, recursively (`git ls-tree -r -z`). A commit names its tree for good, so the
/// listing of a commit git resolved is kept in the render cache under its object id (listing
/// a 3,000-file tree is ~20 ms of git's CPU beside the working tree's first phase, on every
/// `kgate diff --since` against the same REF).
fn ref_tree(
    top: &Path,
    commit: Option<&str>,
    reference: &str,
    cache: Option<&Path>,
    repo_root: &Path,
) -> Result<Vec<u8>, CheckError> {
    let args = ["ls-tree", "-r", "-z", "--full-tree", "--end-of-options"];
    let Some((commit, cache)) = commit.zip(cache) else {
        return git(top, &[&args[..], &[reference]].concat());
    };
    let stored = crate::render::StoredValue::new(cache, repo_root, "ref-tree");
    // The top level too: the listing's paths are from it.
    let key = crate::source::hash_parts([commit.as_bytes(), top.as_os_str().as_encoded_bytes()]);
    if let Some(tree) = stored.get(&key) {
        return Ok(tree);
    }
    let tree = git(top, &[&args[..], &[commit]].concat())?;
    stored.put(&key, &tree);
    Ok(tree)
}

/// What REF's side asks of REF's tree listing (`git ls-tree -r -z` output), gathered in
/// one pass over it (a pass per question was ~2 ms of the diff's first phase on a
/// 2,400-file tree).
#[derive(Debug, Default, PartialEq)]
struct TreeFacts {
    /// Whether it has a submodule (mode `160000`).
    submodule: bool,
    /// Its symbolic links (mode `120000`), from the top level.
    links: Vec<String>,
    /// The directories holding a `Chart.yaml` (`""` for the top).
    charts: Vec<String>,
    /// Whether it has a `.gitattributes` file.
    attributes: bool,
}

impl TreeFacts {
    fn of(tree: &[u8]) -> TreeFacts {
        let mut facts = TreeFacts::default();
        for entry in tree.split(|b| *b == 0) {
            let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
                continue;
            };
            let (mode, path) = (entry.split(|b| *b == b' ').next(), &entry[tab + 1..]);
            match mode {
                Some(b"160000") => facts.submodule = true,
                Some(b"120000") => facts.links.push(String::from_utf8_lossy(path).into_owned()),
                _ => {}
            }
            let (dir, name) = match path.iter().rposition(|b| *b == b'/') {
                Some(slash) => (&path[..slash], &path[slash + 1..]),
                None => (&b""[..], path),
            };
            match name {
                b"Chart.yaml" => facts.charts.push(String::from_utf8_lossy(dir).into_owned()),
                b".gitattributes" => facts.attributes = true,
                _ => {}
            }
        }
        facts
    }
}

/// Whether `path` is inside the directory `dir` (`""`: the top).
fn in_dir(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Whether REF's symbolic links (`links`, from the top level; unchanged since REF, as
/// `changes` checked) leave the working tree's paths standing for REF's checkout: each is
/// a link on disk whose target, lexically and resolved, is neither an edited file nor a
/// directory holding one (a read through it would miss REF's content, keyed by the file's
/// own path). With added, removed or untracked files the file table resolves paths
/// lexically (`FileTable::canonicalize`), as symbolic links do not: not in place then.
fn links_in_place(top: &Path, links: &[String], edits: &[Edit], file_set_differs: bool) -> bool {
    if links.is_empty() {
        return true;
    }
    if file_set_differs {
        return false;
    }
    let edited: Vec<PathBuf> = edits.iter().map(|e| top.join(&e.path)).collect();
    let touches = |target: &Path| {
        edited
            .iter()
            .any(|p| p.starts_with(target) || target.starts_with(p))
    };
    links.iter().all(|link| {
        let path = top.join(link);
        let Ok(target) = std::fs::read_link(&path) else {
            return false;
        };
        let dir = path.parent().unwrap_or(top);
        let lexical = crate::source::lexical(&dir.join(target));
        let Ok(resolved) = std::fs::canonicalize(&path) else {
            return false;
        };
        !touches(&lexical) && !touches(&resolved)
    })
}

/// How REF's side of the diff is checked.
pub(super) enum RefTree {
    /// In the working tree's paths.
    InPlace(AtRef),
    /// In an export of REF's tree, for this reason.
    Export(&'static str),
}

/// REF's content of every file edited since `reference` (absolute paths under `top`) and
/// the paths REF's tree has not, or why REF's side must be checked in an export of its
/// tree.
pub(super) fn ref_contents(
    since: &Since,
    beside: Beside,
    reference: &str,
    settings: &Settings,
    cache: Option<&Path>,
) -> Result<RefTree, CheckError> {
    use RefTree::Export;
    let top = since.top.as_path();
    let outside = outside_table(settings);
    let state = git_state(since, beside, reference, cache, &settings.repo_root)?;
    let facts = TreeFacts::of(&state.tree);
    let has_links = !facts.links.is_empty();
    let ignored = ignored_to_know(top, has_links, &outside)?;
    let Some(mut hidden) = absent(top, &since.untracked, ignored, &outside)? else {
        return Ok(Export(
            "an untracked path REF's tree would list or read differently",
        ));
    };
    let ref_paths = (!has_links).then(|| RefPaths::of(top, &state.tree));
    if ref_paths
        .as_ref()
        .is_some_and(RefPaths::ignore_file_ref_lacks)
    {
        return Ok(Export(
            "an ignored ignore file in a directory of REF's tree",
        ));
    }
    if facts.submodule {
        return Ok(Export("a submodule in REF's tree"));
    }
    let Some(changes) = changes(&since.raw) else {
        return Ok(Export(
            "a change other than a regular file's edit, addition or removal",
        ));
    };
    // Helm reads the disk, and a change inside a chart renders it (the chart root, and every
    // root inflating it): known only after the working tree's check, the export would then
    // run after it instead of beside it (1.2x the time, median, on the 31 real-repository
    // changes where Helm ran). A change elsewhere does not render the chart.
    let charts = &facts.charts;
    if changes
        .edits
        .iter()
        .chain(&changes.removed)
        .map(|e| &e.path)
        .chain(&changes.added)
        .any(|p| charts.iter().any(|c| in_dir(p, c)))
    {
        return Ok(Export("a change inside a Helm chart (Helm reads the disk)"));
    }
    let paths = changes
        .edits
        .iter()
        .chain(&changes.removed)
        .map(|e| &e.path);
    if paths
        .chain(&changes.added)
        .any(|p| read_outside_table(top, p, &outside))
    {
        return Ok(Export("a changed file read outside the file table"));
    }
    // (REF's directories only for additions: gathering them is a string per file.)
    if !changes.added.is_empty() {
        let dirs = tree_dirs(&state.tree);
        if changes
            .added
            .iter()
            .any(|p| second_kustomization(top, p, &dirs))
        {
            return Ok(Export("a second kustomization file added"));
        }
        // A file added in a directory REF has not: the directory is hidden as a whole.
        for path in &changes.added {
            let new = new_dir(path, &dirs);
            hidden.push(top.join(new.as_deref().unwrap_or(path)));
        }
    }
    if !changes.removed.is_empty() && !removals_in_place(top, &changes, &state.tree, &hidden)? {
        return Ok(Export("a removed file REF's walk would list differently"));
    }
    let links = &facts.links;
    let file_set_differs = !hidden.is_empty() || !changes.removed.is_empty();
    if !links_in_place(top, links, &changes.edits, file_set_differs) {
        return Ok(Export("a symbolic link in REF's tree"));
    }
    let read: Vec<&Edit> = changes.edits.iter().chain(&changes.removed).collect();
    if (ref_paths.as_ref()).is_some_and(|p| p.attributes_ref_lacks(read.iter().map(|e| &e.path))) {
        return Ok(Export("an ignored attributes file over a changed file"));
    }
    let config = &state.config;
    let attributed = facts.attributes
        || config.attributes_outside_tree
        || !matches!(config.autocrlf.as_str(), "" | "false" | "no" | "off" | "0");
    let Some(contents) = checkout_contents(top, &read, attributed.then_some(config))? else {
        return Ok(Export("a changed file with a filter attribute"));
    };
    let contents = read
        .iter()
        .zip(contents)
        .map(|(e, c)| (top.join(&e.path), c))
        .collect();
    Ok(RefTree::InPlace(AtRef {
        contents,
        hidden,
        present: changes.removed.iter().map(|e| top.join(&e.path)).collect(),
        paths: ref_paths,
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
        assert!(untracked_matters(top, "apps/.gitattributes", &outside));
        assert!(untracked_matters(top, ".github/.gitattributes", &outside));
    }

    #[test]
    fn only_conversions_checkout_makes_are_read_through_git() {
        let attrs = |pairs: &[(&str, &str)]| -> Attributes {
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        let plain = CheckoutConfig::default();
        let autocrlf = CheckoutConfig {
            autocrlf: "true".to_owned(),
            ..CheckoutConfig::default()
        };
        let crlf_eol = CheckoutConfig {
            eol: "crlf".to_owned(),
            ..CheckoutConfig::default()
        };
        let as_blob = |a: &[(&str, &str)], c: &CheckoutConfig| checkout_is_blob(&attrs(a), c);
        assert!(as_blob(&[], &plain));
        assert!(as_blob(&[("text", "set"), ("eol", "lf")], &autocrlf));
        assert!(as_blob(&[("text", "auto")], &plain));
        assert!(as_blob(&[("text", "unset")], &autocrlf));
        assert!(as_blob(&[("crlf", "input")], &crlf_eol));
        assert!(as_blob(&[("ident", "unset")], &plain));
        assert!(!as_blob(&[], &autocrlf));
        assert!(!as_blob(&[("text", "auto")], &crlf_eol));
        assert!(!as_blob(&[("eol", "crlf")], &plain));
        assert!(!as_blob(&[("text", "set"), ("ident", "set")], &plain));
        assert!(!as_blob(&[("working-tree-encoding", "UTF-16")], &plain));
        assert!(has_filter(&attrs(&[("filter", "lfs")])));
        assert!(!has_filter(&attrs(&[("filter", "unset"), ("text", "set")])));
    }

    #[test]
    fn refs_tree_listing_is_kept_under_its_commit() {
        let repo = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(repo.path()).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(&top)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        let commit = |file: &str| {
            std::fs::write(top.join(file), "a: 1\n").unwrap();
            run(&["add", "-A"]);
            let author = ["-c", "user.name=t", "-c", "user.email=t@t"];
            run(&[&author[..], &["commit", "-qm", file]].concat());
        };
        run(&["init", "-q"]);
        commit("a.yaml");
        let first = run(&["rev-parse", "HEAD"]);
        let listing =
            |commit: &str| ref_tree(&top, Some(commit), "HEAD", Some(cache.path()), &top).unwrap();
        // No cache directory yet: listed by git, nothing kept.
        let listed = listing(&first);
        assert!(String::from_utf8_lossy(&listed).ends_with("\ta.yaml\0"));
        let stored = crate::render::StoredValue::new(cache.path(), &top, "ref-tree");
        let key = crate::source::hash_parts([first.as_bytes(), top.as_os_str().as_encoded_bytes()]);
        assert_eq!(stored.get(&key), None);
        // Once the cache exists, the listing is kept and taken back (a stand-in proves it).
        crate::render::RenderStore::open(cache.path(), &top).unwrap();
        assert_eq!(listing(&first), listed);
        assert_eq!(stored.get(&key), Some(listed.clone()));
        stored.put(&key, b"stand-in");
        assert_eq!(listing(&first), b"stand-in");
        // Another commit is another listing.
        commit("b.yaml");
        let second = run(&["rev-parse", "HEAD"]);
        assert!(String::from_utf8_lossy(&listing(&second)).ends_with("\tb.yaml\0"));
        // Without the commit's id or a cache, git is asked.
        assert_eq!(
            ref_tree(&top, None, &first, Some(cache.path()), &top).unwrap(),
            listed
        );
        assert_eq!(
            ref_tree(&top, Some(&first), &first, None, &top).unwrap(),
            listed
        );
    }

    #[test]
    fn links_submodules_charts_and_attributes_are_found_in_one_pass() {
        let tree =
            b"120000 blob a\tdocs/link\x00160000 commit b\tvendor/x\x00100644 blob c\tk.yaml\0";
        let facts = TreeFacts::of(tree);
        assert_eq!(facts.links, ["docs/link"]);
        assert!(facts.submodule);
        assert!(!facts.attributes);
        assert!(TreeFacts::of(b"100644 blob c\tapps/.gitattributes\0").attributes);
        assert!(TreeFacts::of(b"100644 blob c\t.gitattributes\0").attributes);
        assert!(!TreeFacts::of(b"100644 blob c\tapps/x.gitattributes\0").attributes);
        let plain = TreeFacts::of(b"100644 blob c\tk.yaml\x00100755 blob d\trun.sh\0");
        assert_eq!(plain, TreeFacts::default());
        let tree = b"100644 blob c\tcharts/web/Chart.yaml\x00100644 blob d\tcharts/web/MyChart.yaml\x00100644 blob e\tdocs/NotChart.yaml\0";
        assert_eq!(TreeFacts::of(tree).charts, ["charts/web"]);
        assert_eq!(TreeFacts::of(b"100644 blob c\tChart.yaml\0").charts, [""]);
        assert!(in_dir("charts/web/values.yaml", "charts/web"));
        assert!(!in_dir("charts/webapp/values.yaml", "charts/web"));
        assert!(in_dir("anything", ""));
    }
}
