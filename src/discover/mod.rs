//! The discover stage: walk the repository and classify what it holds.
//!
//! The walk honours `.gitignore`, `.ignore` and the config's `exclude` patterns (both in
//! .gitignore syntax), skips hidden files, and never follows a symlink out of the scanned
//! root. Files given explicitly on the command line are always checked, as ripgrep does.

pub mod graph;
pub mod kustomization;
pub mod scanned;

use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

pub use crate::model::kinds::KUSTOMIZATION_FILE_NAMES;
use crate::source::FileTable;
pub use crate::source::{SourceFile, relative};
pub use kustomization::{KustomizationError, KustomizationInfo, normalize, scan};
pub use scanned::Scanned;

/// Something the walk could not enter or must refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkProblem {
    pub rel: String,
    pub message: String,
}

/// What the walk found, each list sorted by path.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// YAML files to load as plain manifests.
    pub manifests: Vec<SourceFile>,
    /// `kustomization.yaml` (and `.yml`, `Kustomization`) files.
    pub kustomizations: Vec<SourceFile>,
    /// `Chart.yaml` of each Helm chart; nothing under a chart is a plain manifest.
    pub charts: Vec<SourceFile>,
    /// YAML files a kustomization uses as a patch, generator input or plugin config: partial
    /// objects, not checked on their own.
    pub partials: Vec<SourceFile>,
    /// YAML files nothing deploys and that are not checked: those a kustomization names only
    /// in commented-out entries, and test assertions (kuttl `NN-assert.yaml`, chainsaw
    /// `assert`/`error` files), which hold partial objects by design.
    pub not_deployed: Vec<SourceFile>,
    /// The kustomization files among `kustomizations` that are Components.
    pub components: Vec<SourceFile>,
    /// The local paths each kustomization that parses refers to (by its absolute path),
    /// from discovery's parse: the graph's edges.
    pub references: crate::source::PathMap<Vec<kustomization::Reference>>,
    pub problems: Vec<WalkProblem>,
    /// The symbolic links the walk met whose target is inside the scanned root: each link's
    /// path and its target, made canonical (absolute), sorted. The walk does not follow
    /// them (the targets are walked where they are); the references and changes through
    /// them are resolved with [`Discovery::through_links`] and [`Discovery::seen_at_links`].
    pub links: Vec<Link>,
    /// Plain manifests `--changed-since` or `--shard` left out of the check: not checked, but
    /// what they define (CustomResourceDefinitions, Gatekeeper templates and constraints)
    /// still applies to the objects that are.
    pub narrowed_out: Vec<SourceFile>,
    /// Manifests and partials a run before found to be plain (see [`may_matter_elsewhere`]),
    /// by their content's hash ([`Scanned::is_plain`]): neither the graph (for entry points)
    /// nor the repository's definitions read them.
    pub plain: crate::source::PathSet,
}

/// A symbolic link inside the scanned root whose target is inside it too.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    /// Where the link is (absolute, as walked).
    pub path: PathBuf,
    /// What it resolves to, canonical.
    pub target: PathBuf,
    /// Whether the target is a directory.
    pub dir: bool,
}

/// How many links one path may pass through (Linux gives up at 40 too: `ELOOP`).
const MAX_LINK_HOPS: usize = 40;

impl Discovery {
    /// The YAML files that may hold ConfigMaps and Secrets (plain manifests and the partial
    /// files kustomizations use): where Flux variables are looked up.
    pub fn variable_sources(&self) -> Vec<SourceFile> {
        self.manifests
            .iter()
            .chain(&self.partials)
            .cloned()
            .collect()
    }

    /// `path` (absolute and lexical, as references are) resolved through the directory links
    /// it passes (as kustomize's loader resolves a directory before reading from it), or
    /// `None` when it passes none. A path naming a file link itself is kept: the file is
    /// read through the link, under the link's path.
    pub fn through_links(&self, path: &Path) -> Option<PathBuf> {
        self.follow(path, false)
    }

    /// [`Discovery::through_links`], also through a file link named itself: the file the
    /// content is.
    pub fn real_file(&self, path: &Path) -> Option<PathBuf> {
        self.follow(path, true)
    }

    fn follow(&self, path: &Path, file_links: bool) -> Option<PathBuf> {
        if self.links.is_empty() {
            return None;
        }
        let mut at = path.to_path_buf();
        for _ in 0..MAX_LINK_HOPS {
            let Some((link, rest)) = self.links.iter().find_map(|l| {
                let rest = at.strip_prefix(&l.path).ok()?;
                (l.dir || file_links || !rest.as_os_str().is_empty()).then_some((l, rest))
            }) else {
                return (at != path).then_some(at);
            };
            at = crate::source::lexical(&link.target.join(rest));
        }
        // A loop of links: left as written (reading through it fails where it is read).
        None
    }

    /// The paths (relative to `root`) at which a change to `changed` is also seen through
    /// the links: a changed file under a link's target, at the link. Transitive (a link
    /// inside another's target), bounded for links that loop.
    pub fn seen_at_links(&self, root: &Path, changed: &BTreeSet<String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        if self.links.is_empty() {
            return seen;
        }
        let mut fresh: Vec<String> = changed.iter().cloned().collect();
        for _ in 0..MAX_LINK_HOPS {
            let mut next = Vec::new();
            for c in &fresh {
                let abs = root.join(c);
                for l in &self.links {
                    let Ok(rest) = abs.strip_prefix(&l.target) else {
                        continue;
                    };
                    let alias = relative(root, &l.path.join(rest));
                    if seen.len() < MAX_ALIASES
                        && !changed.contains(&alias)
                        && seen.insert(alias.clone())
                    {
                        next.push(alias);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            fresh = next;
        }
        seen
    }
}

/// How many paths a change may be seen at through links (a link into its own parent makes
/// the chain endless).
const MAX_ALIASES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("invalid exclude pattern `{pattern}`: {message}")]
    Exclude { pattern: String, message: String },
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Walks `paths` (canonical, under the canonical `root`).
pub fn discover(
    root: &Path,
    paths: &[PathBuf],
    exclude: &[String],
    table: &FileTable,
) -> Result<Discovery, DiscoverError> {
    discover_with(root, paths, exclude, table, None)
}

/// [`discover`], taking the kustomizations' scans from `scanned` where a run before made them.
pub fn discover_with(
    root: &Path,
    paths: &[PathBuf],
    exclude: &[String],
    table: &FileTable,
    scanned: Option<&Scanned>,
) -> Result<Discovery, DiscoverError> {
    let mut gi = GitignoreBuilder::new(root);
    for pattern in exclude {
        gi.add_line(None, pattern)
            .map_err(|e| DiscoverError::Exclude {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
    }
    let excludes = gi.build().map_err(|e| DiscoverError::Exclude {
        pattern: exclude.join(", "),
        message: e.to_string(),
    })?;

    let mut found = Discovery::default();
    let mut yaml_files: Vec<PathBuf> = Vec::new();
    let mut explicit: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_file() {
            explicit.push(path.clone());
            continue;
        }
        walk_dir(root, path, &excludes, table, &mut yaml_files, &mut found);
    }
    found.links.sort();
    found.links.dedup();
    // A table standing for another revision's tree hides what that tree does not hold, and
    // lists the files only that tree holds as the walk would.
    yaml_files.retain(|p| !table.is_hidden(p));
    let present = listed_present(table, paths, &excludes);
    if !present.is_empty() {
        yaml_files.extend(present);
        yaml_files.sort();
        yaml_files.dedup();
    }

    // Charts: a directory holding Chart.yaml is rendered by Helm, not read as manifests.
    let chart_dirs: Vec<PathBuf> = yaml_files
        .iter()
        .filter(|p| file_name(p) == "Chart.yaml")
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for p in yaml_files {
        let rel = relative(root, &p);
        let file = SourceFile { rel, abs: p };
        if file_name(&file.abs) == "Chart.yaml" {
            found.charts.push(file);
        } else if chart_dirs.iter().any(|d| file.abs.starts_with(d)) {
            continue;
        } else if KUSTOMIZATION_FILE_NAMES.contains(&file_name(&file.abs)) {
            found.kustomizations.push(file);
        } else {
            found.manifests.push(file);
        }
    }
    let explicit_files: crate::source::PathSet = explicit.iter().cloned().collect();
    for p in explicit {
        let rel = relative(root, &p);
        let file = SourceFile { rel, abs: p };
        if KUSTOMIZATION_FILE_NAMES.contains(&file_name(&file.abs)) {
            found.kustomizations.push(file);
        } else if !found.manifests.contains(&file) {
            found.manifests.push(file);
        }
    }
    found.manifests.sort();
    found.manifests.dedup();
    found.kustomizations.sort();
    found.kustomizations.dedup();
    let mut partial = crate::source::PathSet::default();
    let mut disabled = crate::source::PathSet::default();
    // Each kustomization is read and parsed on its own (on the current thread pool), then
    // taken in order.
    let read: Vec<_> = found
        .kustomizations
        .par_iter()
        .map(|k| match scanned {
            Some(scanned) => scanned.scan_file(table, &k.abs),
            None => table
                .text(&k.abs)
                .map(|text| scan_keeping(table, &k.abs, text)),
        })
        .collect();
    for (k, read) in found.kustomizations.iter().zip(read) {
        match read {
            Err(e) => found.problems.push(WalkProblem {
                rel: k.rel.clone(),
                message: format!("cannot read kustomization: {e}"),
            }),
            // One that does not parse is a root whose rendering reports why (`render-error`).
            Ok(None) => {}
            Ok(Some((info, mut references))) => {
                if info.is_component {
                    found.components.push(k.clone());
                }
                // Through a directory link, a reference lands on the link's target; a patch
                // or generator input read through a link is a partial file where it is too.
                let resolved = |p: &PathBuf| found.real_file(p);
                partial.extend(info.non_manifests.iter().filter_map(resolved));
                disabled.extend(info.disabled.iter().filter_map(resolved));
                partial.extend(info.non_manifests);
                disabled.extend(info.disabled);
                for r in &mut references {
                    if let Some(target) = found.through_links(&r.target) {
                        r.target = target;
                    }
                }
                found.references.insert(k.abs.clone(), references);
            }
        }
    }
    // Explicitly named files are always checked.
    let (not_deployed, manifests): (Vec<SourceFile>, Vec<SourceFile>) =
        std::mem::take(&mut found.manifests)
            .into_iter()
            .partition(|m| {
                !explicit_files.contains(&m.abs)
                    && !partial.contains(&m.abs)
                    && (disabled.contains(&m.abs) || is_test_assertion(&m.abs, table))
            });
    found.manifests = manifests;
    found.not_deployed = not_deployed;
    let (partials, manifests): (Vec<SourceFile>, Vec<SourceFile>) =
        std::mem::take(&mut found.manifests)
            .into_iter()
            .partition(|m| partial.contains(&m.abs));
    found.manifests = manifests;
    found.partials = partials;
    if let Some(scanned) = scanned {
        let files: Vec<&SourceFile> = found.manifests.iter().chain(&found.partials).collect();
        found.plain = files
            .par_iter()
            .filter(|m| scanned.is_plain(table, &m.abs))
            .map(|m| m.abs.clone())
            .collect();
    }
    found.charts.sort();
    found.charts.dedup();
    found.problems.sort_by(|a, b| a.rel.cmp(&b.rel));
    found.problems.dedup();
    Ok(found)
}

/// [`scan`] of the kustomization `path` read from `table` (its `text`), keeping the documents
/// it parsed in the table for the renderer, which then need not parse them again
/// (`FileTable::keep_documents`).
fn scan_keeping(
    table: &FileTable,
    path: &Path,
    text: std::sync::Arc<str>,
) -> Option<kustomization::KustomizationScan> {
    let (scan, documents) = kustomization::scan_documents(path, &text);
    if let Some(documents) = documents {
        table.keep_documents(path, text, documents);
    }
    scan.ok()
}

/// Whether `text` may hold an object that matters beyond its file: an Argo CD or Flux object
/// (an entry point of the graph), a CustomResourceDefinition or a Gatekeeper template or
/// constraint (definitions the whole repository's objects are checked against). A manifest
/// that holds none is plain: a run with its content's hash known does not read it for them.
pub fn may_matter_elsewhere(text: &str) -> bool {
    graph::may_name_entry_points(text)
        || text.contains("CustomResourceDefinition")
        || text.contains("gatekeeper.sh/")
}

/// A kuttl or chainsaw test file that is not applied as it is: the chainsaw test, or a file whose name has the word `assert` or `error(s)`,
/// numbered as a kuttl step (`00-assert.yaml`) or beside a `chainsaw-test.yaml`. These hold
/// the fields a test expects of a live object, never a whole object to apply.
fn is_test_assertion(path: &Path, table: &FileTable) -> bool {
    let name = file_name(path);
    // The chainsaw test itself (`kind: Test`) is the harness's configuration.
    if matches!(name, "chainsaw-test.yaml" | "chainsaw-test.yml") {
        return true;
    }
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let words: Vec<&str> = stem.split(['-', '_', '.']).collect();
    if !words
        .iter()
        .any(|w| matches!(*w, "assert" | "asserts" | "error" | "errors"))
    {
        return false;
    }
    let kuttl_step = words[0].chars().all(|c| c.is_ascii_digit()) && !words[0].is_empty();
    let chainsaw = path.parent().is_some_and(|d| {
        table.is_file(&d.join("chainsaw-test.yaml")) || table.is_file(&d.join("chainsaw-test.yml"))
    });
    kuttl_step || chainsaw
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    excludes: &Gitignore,
    table: &FileTable,
    out: &mut Vec<PathBuf>,
    into: &mut Discovery,
) {
    let excludes_for_filter = excludes.clone();
    // What the walk sees of the disk is told to the file table, which then need not ask
    // again: its paths are canonical when the walked directory is (links are not followed).
    let canonical = std::fs::canonicalize(dir).is_ok_and(|c| c == dir);
    // In parallel (a serial walk was a sixth of a one-app `--changed-since`, one core idle),
    // each thread keeping its own finds; sorted by path afterwards, which is the order of a
    // depth-first walk by file name (`Path` orders by component).
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        // The user's global gitignore would make results differ between machines.
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(rayon::current_num_threads())
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            !excludes_for_filter
                .matched_path_or_any_parents(e.path(), is_dir)
                .is_ignore()
        })
        .build_parallel();
    let found: std::sync::Mutex<Found> = std::sync::Mutex::new(Found::default());
    walker.run(|| {
        let found = &found;
        let mut mine = Finds {
            found: Found::default(),
            into: found,
            table,
            canonical,
        };
        Box::new(move |entry| {
            visit(root, dir, entry, &mut mine.found);
            ignore::WalkState::Continue
        })
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found
        .files
        .sort_unstable_by(|a, b| crate::source::path_order(a, b));
    found.problems.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(found.files);
    (into.problems).extend(found.problems.into_iter().map(|(_, p)| p));
    into.links.extend(found.links);
}

/// What a walk found: the YAML files, its problems keyed by path, the links inside the root,
/// and the directories and YAML files it saw (each with whether it is a directory).
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    problems: Vec<(PathBuf, WalkProblem)>,
    links: Vec<Link>,
    seen: Vec<(PathBuf, bool)>,
}

/// One walking thread's finds, handed over when the thread is done with them.
struct Finds<'a> {
    found: Found,
    into: &'a std::sync::Mutex<Found>,
    table: &'a FileTable,
    /// Whether the walked directory is canonical (then so is every path the walk gives).
    canonical: bool,
}

impl Drop for Finds<'_> {
    fn drop(&mut self) {
        // Told by each walking thread as it ends, not on the serial path after the walk.
        self.table
            .walked(std::mem::take(&mut self.found.seen), self.canonical);
        let mut all = crate::source::locked(self.into);
        all.files.append(&mut self.found.files);
        all.problems.append(&mut self.found.problems);
        all.links.append(&mut self.found.links);
    }
}

/// What one walked entry adds: a YAML file to read, or a problem (keyed by its path).
fn visit(
    root: &Path,
    dir: &Path,
    entry: Result<ignore::DirEntry, ignore::Error>,
    found: &mut Found,
) {
    let Found {
        files: out,
        problems,
        links,
        seen,
    } = found;
    let mut problem = |path: &Path, message: String| {
        problems.push((
            path.to_path_buf(),
            WalkProblem {
                rel: relative(root, path),
                message,
            },
        ));
    };
    let entry = match entry {
        Ok(e) => e,
        Err(err) => {
            let path = err_path(&err).unwrap_or(dir).to_path_buf();
            problem(&path, format!("cannot read: {}", io_message(&err)));
            return;
        }
    };
    let Some(ft) = entry.file_type() else {
        return;
    };
    let path = entry.path();
    if ft.is_symlink() {
        match std::fs::canonicalize(path) {
            Ok(target) if !target.starts_with(root) => {
                if is_yaml(path) || target.is_dir() {
                    problem(
                        path,
                        "symlink points outside the scanned repository; refused".to_owned(),
                    );
                }
            }
            // Inside the root the target is walked on its own; a file link is read here.
            // Either is kept: a change to the target is a change seen at the link too.
            Ok(target) => {
                if target.is_file() && is_yaml(path) {
                    out.push(path.to_path_buf());
                }
                links.push(Link {
                    path: path.to_path_buf(),
                    dir: target.is_dir(),
                    target,
                });
            }
            Err(e) => {
                if is_yaml(path) {
                    problem(path, format!("broken symlink: {e}"));
                }
            }
        }
        return;
    }
    let listed = ft.is_file() && (is_yaml(path) || file_name(path) == "Kustomization");
    // Directories and the files kgate reads: a repository's other files (source code,
    // vendored trees) would only grow the table's memos.
    if ft.is_dir() || listed {
        seen.push((path.to_path_buf(), ft.is_dir()));
    }
    if listed {
        out.push(path.to_path_buf());
    }
}

/// The files only `table`'s file set has (see `FileTable::with_present`) that walking the
/// directories among `paths` would list: YAML or `Kustomization`, no hidden name below the
/// walked directory, not excluded. (Git's ignore rules are the caller's to have checked.)
fn listed_present(table: &FileTable, paths: &[PathBuf], excludes: &Gitignore) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in table.present_files() {
        let walked = paths.iter().filter(|d| !d.is_file()).any(|d| {
            file.strip_prefix(d).is_ok_and(|rel| {
                !rel.components()
                    .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
            })
        });
        let listed = is_yaml(&file) || file_name(&file) == "Kustomization";
        // (The matcher answers only for paths under its root.)
        if walked
            && listed
            && file.starts_with(excludes.path())
            && !table.is_hidden(&file)
            && !excludes
                .matched_path_or_any_parents(&file, false)
                .is_ignore()
        {
            out.push(file);
        }
    }
    out
}

fn err_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        _ => None,
    }
}

fn io_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => io_message(err),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn rels(files: &[SourceFile]) -> Vec<&str> {
        files.iter().map(|f| f.rel.as_str()).collect()
    }

    #[test]
    fn what_the_walk_saw_is_known_to_the_table_without_asking_the_disk_again() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        write(&root, "apps/web/deployment.yaml", "a: 1");
        write(&root, "apps/web/notes.txt", "x");
        write(&root, "generated/out.yaml", "a: 1");
        write(&root, ".gitignore", "generated/\n");
        std::os::unix::fs::symlink(root.join("apps/web"), root.join("apps/link")).unwrap();
        let table = FileTable::new(&root, u64::MAX);
        table.with_digests(std::sync::Arc::new(crate::source::Digests::from_bytes(&[])));
        discover(&root, std::slice::from_ref(&root), &[], &table).unwrap();
        // Gone from the disk: what the table says of them now is what the walk saw.
        fs::rename(root.join("apps"), root.join("moved")).unwrap();
        fs::rename(root.join("generated"), root.join("moved-too")).unwrap();
        let web = root.join("apps/web");
        assert!(table.is_dir(&web));
        assert!(table.is_file(&web.join("deployment.yaml")));
        // Only the files kgate reads are kept: another is asked of the disk.
        assert!(!table.is_file(&web.join("notes.txt")));
        assert_eq!(table.canonicalize(&web).unwrap(), web);
        let is_a_directory = std::io::Error::from_raw_os_error(21).to_string();
        assert_eq!(
            table.digest(&web),
            Err(crate::source::ReadError::Io(is_a_directory))
        );
        // Neither an ignored directory nor a link is walked: the disk is asked.
        assert!(!table.is_dir(&root.join("generated")));
        assert!(table.canonicalize(&root.join("apps/link")).is_err());

        // A walk through a link gives paths that are not canonical: only their kinds are kept.
        let tmp2 = tempfile::tempdir().unwrap();
        let other = fs::canonicalize(tmp2.path()).unwrap();
        write(&other, "real/apps/web/deployment.yaml", "a: 1");
        std::os::unix::fs::symlink(other.join("real"), other.join("via")).unwrap();
        let via = other.join("via");
        let table = FileTable::new(&via, u64::MAX);
        discover(&via, std::slice::from_ref(&via), &[], &table).unwrap();
        fs::rename(other.join("real/apps"), other.join("moved")).unwrap();
        assert!(table.is_dir(&via.join("apps/web")));
        assert!(table.canonicalize(&via.join("apps/web")).is_err());
    }

    #[test]
    fn classifies_and_honours_ignores() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        write(&root, "apps/web/deployment.yaml", "a: 1");
        write(
            &root,
            "apps/web/kustomization.yaml",
            "resources: [deployment.yaml]\npatches:\n- path: patch.yaml\n",
        );
        write(&root, "apps/web/patch.yaml", "a: 1");
        write(&root, "apps/web/notes.txt", "x");
        write(&root, "apps/db/sts.yml", "a: 1");
        write(&root, "charts/db/Chart.yaml", "apiVersion: v2");
        write(&root, "charts/db/templates/deploy.yaml", "{{ .Values }}");
        write(&root, ".github/workflows/ci.yaml", "on: push");
        write(&root, "vendor/x.yaml", "a: 1");
        write(&root, "generated/out.yaml", "a: 1");
        write(&root, ".gitignore", "generated/\n");
        let found = discover(
            &root,
            std::slice::from_ref(&root),
            &["vendor/".to_owned()],
            &FileTable::new(&root, u64::MAX),
        )
        .unwrap();
        assert_eq!(
            rels(&found.manifests),
            ["apps/db/sts.yml", "apps/web/deployment.yaml"]
        );
        assert_eq!(rels(&found.kustomizations), ["apps/web/kustomization.yaml"]);
        assert_eq!(rels(&found.charts), ["charts/db/Chart.yaml"]);
        assert_eq!(rels(&found.partials), ["apps/web/patch.yaml"]);
        assert!(found.problems.is_empty());
    }

    #[test]
    fn switched_off_entries_and_test_assertions_are_not_deployed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        // A kubebuilder scaffold's optional patches and an app-of-apps' disabled Application.
        write(
            &root,
            "config/crd/kustomization.yaml",
            "resources: [bases/x.yaml]
patches:
#- path: patches/webhook_in_x.yaml
# - patches/cainjection_in_x.yaml
",
        );
        write(&root, "config/crd/bases/x.yaml", "a: 1");
        write(&root, "config/crd/patches/webhook_in_x.yaml", "a: 1");
        write(&root, "config/crd/patches/cainjection_in_x.yaml", "a: 1");
        write(
            &root,
            "infra/kustomization.yaml",
            "resources:
#- argocd/app.yaml
- argocd/on.yaml
",
        );
        write(&root, "infra/argocd/app.yaml", "a: 1");
        write(&root, "infra/argocd/on.yaml", "a: 1");
        // kuttl steps and chainsaw assertions hold partial objects; a step that applies does not.
        write(&root, "tests/e2e/smoke/00-install.yaml", "a: 1");
        write(&root, "tests/e2e/smoke/00-assert.yaml", "a: 1");
        write(&root, "tests/e2e/smoke/01-errors.yaml", "a: 1");
        write(&root, "tests/chainsaw/upgrade/chainsaw-test.yaml", "a: 1");
        write(&root, "tests/chainsaw/upgrade/assert-workload.yaml", "a: 1");
        write(&root, "docs/error-pages.yaml", "a: 1");
        let found = discover_all(&root);
        assert_eq!(
            rels(&found.not_deployed),
            [
                "config/crd/patches/cainjection_in_x.yaml",
                "config/crd/patches/webhook_in_x.yaml",
                "infra/argocd/app.yaml",
                "tests/chainsaw/upgrade/assert-workload.yaml",
                "tests/chainsaw/upgrade/chainsaw-test.yaml",
                "tests/e2e/smoke/00-assert.yaml",
                "tests/e2e/smoke/01-errors.yaml",
            ]
        );
        assert_eq!(
            rels(&found.manifests),
            [
                "config/crd/bases/x.yaml",
                "docs/error-pages.yaml",
                "infra/argocd/on.yaml",
                "tests/e2e/smoke/00-install.yaml",
            ]
        );
        // Named on the command line, a switched-off file is checked.
        let explicit = root.join("infra/argocd/app.yaml");
        let found = discover(&root, &[explicit], &[], &FileTable::new(&root, u64::MAX)).unwrap();
        assert_eq!(rels(&found.manifests), ["infra/argocd/app.yaml"]);
    }

    #[test]
    fn relative_paths_step_out_of_the_root() {
        assert_eq!(
            relative(
                Path::new("/r/apps/web/overlays/prod"),
                Path::new("/r/apps/web/base/d.yaml")
            ),
            "../../base/d.yaml"
        );
        assert_eq!(
            relative(Path::new("/r"), Path::new("/r/a/b.yaml")),
            "a/b.yaml"
        );
        assert_eq!(relative(Path::new("/r"), Path::new("/r")), ".");
    }

    #[test]
    fn explicit_files_are_always_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        write(&root, "manifest.txt", "a: 1");
        let found = discover(
            &root,
            &[root.join("manifest.txt")],
            &[],
            &FileTable::new(&root, u64::MAX),
        )
        .unwrap();
        assert_eq!(rels(&found.manifests), ["manifest.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.yaml", "a: 1");
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("link.yaml"))
            .unwrap();
        let found = discover_all(&root);
        assert!(found.manifests.is_empty());
        assert_eq!(found.problems.len(), 1);
        assert_eq!(found.problems[0].rel, "link.yaml");
    }

    /// Everything under `root`, walked.
    fn discover_all(root: &Path) -> Discovery {
        discover(
            root,
            &[root.to_path_buf()],
            &[],
            &FileTable::new(root, u64::MAX),
        )
        .unwrap()
    }

    #[test]
    fn links_inside_the_root_resolve_references_and_carry_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        write(
            &root,
            "shared/web/kustomization.yaml",
            "resources: [app.yaml]\n",
        );
        write(&root, "shared/web/app.yaml", "kind: ConfigMap\n");
        write(&root, "shared/patch.yaml", "kind: ConfigMap\n");
        write(
            &root,
            "envs/prod/kustomization.yaml",
            "resources: [../../apps/web, ../../apps/web/app.yaml]\npatches: [{path: ../../apps/patch.yaml}]\n",
        );
        fs::create_dir_all(root.join("apps")).unwrap();
        std::os::unix::fs::symlink("../shared/web", root.join("apps/web")).unwrap();
        std::os::unix::fs::symlink("../shared/patch.yaml", root.join("apps/patch.yaml")).unwrap();
        // A link into its own parent: resolving stops, changes are seen a bounded number of
        // times.
        std::os::unix::fs::symlink(".", root.join("shared/web/again")).unwrap();
        let found = discover_all(&root);
        let links: Vec<(String, String, bool)> = (found.links.iter())
            .map(|l| (relative(&root, &l.path), relative(&root, &l.target), l.dir))
            .collect();
        assert_eq!(
            links,
            [
                ("apps/patch.yaml".into(), "shared/patch.yaml".into(), false),
                ("apps/web".into(), "shared/web".into(), true),
                ("shared/web/again".into(), "shared/web".into(), true),
            ]
        );
        // The directory link is resolved, the file link named itself is kept (read through
        // it), a file under the directory link is the target's.
        let refs = (found
            .references
            .get(&root.join("envs/prod/kustomization.yaml")))
        .expect("scanned");
        let targets: Vec<String> = refs.iter().map(|r| relative(&root, &r.target)).collect();
        assert_eq!(
            targets,
            ["shared/web", "shared/web/app.yaml", "apps/patch.yaml"]
        );
        assert_eq!(
            found.through_links(&root.join("apps/web/again/again/app.yaml")),
            Some(root.join("shared/web/app.yaml"))
        );
        assert_eq!(found.through_links(&root.join("envs/prod")), None);
        // The patch is partial both where it is and at its link.
        let partials: Vec<&str> = found.partials.iter().map(|p| p.rel.as_str()).collect();
        assert_eq!(partials, ["apps/patch.yaml", "shared/patch.yaml"]);

        let changed = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect();
        let seen = found.seen_at_links(&root, &changed(&["shared/patch.yaml", "README.md"]));
        assert_eq!(seen, changed(&["apps/patch.yaml"]));
        let seen = found.seen_at_links(&root, &changed(&["shared/web/app.yaml"]));
        assert!(seen.contains("apps/web/app.yaml"));
        assert!(seen.contains("apps/web/again/app.yaml"));
        assert!(seen.contains("shared/web/again/again/app.yaml"));
        assert!(seen.len() <= MAX_ALIASES);
        assert!(
            found
                .seen_at_links(&root, &changed(&["envs/prod/kustomization.yaml"]))
                .is_empty()
        );
    }
}
