//! What each memoized directory build read, so that a second renderer over the same paths
//! (`kgate diff --since REF`, whose REF side serves REF's contents for the changed files)
//! reuses every build none of whose inputs changed instead of building it again.
//!
//! A build runs on one thread (as the OpenAPI state in `openapi.rs` assumes), so the files
//! it reads are recorded on a per-thread stack: one frame per directory being built, a
//! nested directory's inputs added to its user's when it is done (or served from the memo).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::yaml::FileId;

/// The files a build read (their contents) and those it gave provenance ids to.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// What the build read itself, in the order it read it, a path possibly more than once
    /// ([`Inputs::all_reads`] sorts and dedups: inserting each read in a sorted set compared
    /// paths component by component, ~2% of a warm one-app `--changed-since`).
    reads: Vec<PathBuf>,
    /// The inputs of the builds it used (nested directories, built or from the memo), shared
    /// rather than copied: a cluster's build uses hundreds of overlays, and a flat set of
    /// their thousands of paths cost several percent of `diff --since`.
    nested: Vec<Arc<Inputs>>,
    /// Directories made canonical, with what they resolved to: a symbolic link pointed
    /// elsewhere changes a build although no file it read did (the render cache checks them).
    resolved: Vec<(PathBuf, PathBuf)>,
    /// The build ran something whose inputs are not recorded (Helm): never cached across runs.
    volatile: bool,
    pub ids: BTreeSet<FileId>,
    /// The directory built (`None`: a frame of no directory's build), so that a build whose
    /// nested builds read a changed file can be matched with them (`engine/reached.rs`).
    dir: Option<PathBuf>,
    /// [`Inputs::read_any`]'s answers for the first two sets of paths asked (by the set's
    /// id, unique in the process): the working tree's renderer asks of each build it keeps,
    /// REF's of each build it takes, cuts off or finds nested in one, and a nested build is
    /// shared by its users. Without them the same reads were tested again at every level.
    answers: [std::sync::OnceLock<(u64, bool)>; 2],
    /// Whether every read is spelled in normal form ([`is_normal`]): a build's recorded reads
    /// are ([`note_read`] makes them so), and so are those the render cache kept of one.
    normal_reads: bool,
}

/// A path's bytes, the order stored inputs are kept in (comparing `Path`s goes component
/// by component).
fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_encoded_bytes()
}

/// The paths whose content differs for a renderer reusing another's memo, ready for
/// [`Inputs::read_any`]: their bytes in component-normal form (as `Path` equality sees
/// them), sorted. Looking each read's ancestors up as `Path`s in a `BTreeSet` compared them
/// component by component: 17 M instructions of a `diff --since`.
#[derive(Debug, Default)]
pub struct Differing(Vec<Vec<u8>>, u64);

impl Differing {
    pub fn new(paths: &BTreeSet<PathBuf>) -> Differing {
        let mut normal: Vec<Vec<u8>> = paths.iter().map(|p| normal(p).into_owned()).collect();
        normal.sort_unstable();
        normal.dedup();
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Differing(
            normal,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Whether `read` or one of its ancestors (`Path::ancestors`) is among the paths.
    fn holds_ancestor_of(&self, read: &Path) -> bool {
        self.holds_ancestor_of_spelled(read, false)
    }

    /// [`Differing::holds_ancestor_of`], told whether `read` is known to be in normal form.
    fn holds_ancestor_of_spelled(&self, read: &Path, known_normal: bool) -> bool {
        // A few (a diff's edited files): compared component by component, which stops at the
        // first that differs.
        if self.0.len() <= 4 {
            let read = bytes(read);
            // A read spelled in normal form (as the renderer records them) is under a path
            // when its bytes start with the path's up to a separator: ~30 instructions,
            // against ~750 to compare components, or ~400 to tell the spelling normal
            // (asked of every read of every build the working tree keeps or REF reuses).
            if known_normal || is_normal(read) {
                return (self.0.iter()).any(|d| bytes_under(read, d));
            }
            return (self.0.iter()).any(|d| under(read, d));
        }
        let read = normal(read);
        let has = |b: &[u8]| self.0.binary_search_by(|p| p.as_slice().cmp(b)).is_ok();
        // The root's prefix is `/`; every other ancestor ends before a separator.
        (read.iter().enumerate())
            .filter(|(_, c)| **c == b'/')
            .any(|(i, _)| has(&read[..i.max(usize::from(i == 0))]))
            || has(&read)
    }
}

/// Whether `path` is `dir` or under it, as [`Path::starts_with`] says (on Unix), comparing
/// components as byte slices up to the first that differs: `Path::components` was ~1,400
/// instructions a path, asked for every path a restored or reused build read.
pub(super) fn at_or_under(path: &Path, dir: &Path) -> bool {
    under(bytes(path), bytes(dir))
}

/// [`at_or_under`] of two paths' bytes.
fn under(path: &[u8], dir: &[u8]) -> bool {
    let mut path = components(path);
    components(dir).all(|d| path.next() == Some(d))
}

/// `p`'s components as [`Path::components`] gives them on Unix: `/` for the root, `.` only
/// first, no empty or other `.` component.
fn components(p: &[u8]) -> impl Iterator<Item = &[u8]> {
    let root = p.first() == Some(&b'/');
    let dot = !root && (p == b"." || p.starts_with(b"./"));
    (root.then_some(&b"/"[..]).into_iter())
        .chain(dot.then_some(&b"."[..]))
        .chain(
            p.split(|b| *b == b'/')
                .filter(|c| !c.is_empty() && *c != b"."),
        )
}

/// Whether `b` spells a path as its components do ([`normal`] would borrow it).
fn is_normal(b: &[u8]) -> bool {
    // No `//`, `/./` or trailing `/.` (a separator followed by one of them), and no
    // trailing separator but the root's.
    let after = |i: usize| (b.get(i + 1), b.get(i + 2));
    (b.len() < 2 || !b.ends_with(b"/"))
        && memchr::memchr_iter(b'/', b)
            .all(|i| !matches!(after(i), (Some(b'/'), _) | (Some(b'.'), None | Some(b'/'))))
}

/// [`under`] of a path and a directory both in normal form ([`is_normal`]).
fn bytes_under(path: &[u8], dir: &[u8]) -> bool {
    match dir {
        b"" => true,
        b"/" => path.starts_with(b"/"),
        _ => path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/'),
    }
}

/// `p`'s bytes as its components spell it: without the empty and `.` components inside it
/// and a trailing separator (which `Path` equality ignores), borrowed when it has none.
fn normal(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    let b = bytes(p);
    if is_normal(b) {
        std::borrow::Cow::Borrowed(b)
    } else {
        let p: PathBuf = p.components().collect();
        std::borrow::Cow::Owned(p.into_os_string().into_encoded_bytes())
    }
}

impl Inputs {
    /// Whether the build (or one it used) read one of `paths` or a path under one (a
    /// directory among `paths` stands for everything in it: a build that only probed a path
    /// inside a directory REF has not depends on it too).
    pub fn read_any(&self, paths: &Differing) -> bool {
        if paths.0.is_empty() {
            return false;
        }
        let known = |slot: &std::sync::OnceLock<(u64, bool)>| {
            slot.get().filter(|(id, _)| *id == paths.1).map(|(_, a)| *a)
        };
        if let Some(answer) = self.answers.iter().find_map(known) {
            return answer;
        }
        let normal = self.normal_reads;
        let answer = (self.reads.iter()).any(|r| paths.holds_ancestor_of_spelled(r, normal))
            || self.nested.iter().any(|n| n.read_any(paths));
        // Kept in the first free slot (none left: asked again next time).
        let _ = (self.answers.iter()).any(|slot| slot.set((paths.1, answer)).is_ok());
        answer
    }

    /// Every file the build (or one it used) read, once each, in byte order. A cluster's
    /// build has a thousand reads in two hundred nested builds: they are gathered by
    /// reference and sorted once (merging sets level by level was 6% of a warm
    /// `--changed-since`, most of it comparing paths component by component).
    pub(super) fn all_reads(&self) -> Vec<PathBuf> {
        self.gathered(|i| &i.reads, |a, b| bytes(a).cmp(bytes(b)))
    }

    /// Every directory resolution of the build and those it used, once each, in byte order
    /// (gathered as [`Inputs::all_reads`]).
    pub(super) fn all_resolved(&self) -> Vec<(PathBuf, PathBuf)> {
        self.gathered(
            |i| &i.resolved,
            |a, b| (bytes(&a.0), bytes(&a.1)).cmp(&(bytes(&b.0), bytes(&b.1))),
        )
    }

    /// `part` of this build's inputs and of every build it used, gathered by reference,
    /// sorted once by `order` and copied once each.
    fn gathered<'a, T, C>(
        &'a self,
        part: fn(&'a Inputs) -> &'a C,
        order: impl Fn(&T, &T) -> std::cmp::Ordering,
    ) -> Vec<T>
    where
        &'a C: IntoIterator<Item = &'a T>,
        T: Clone + 'a,
        C: 'a,
    {
        fn gather<'a, T: 'a, C: 'a>(
            inputs: &'a Inputs,
            part: fn(&'a Inputs) -> &'a C,
            out: &mut Vec<&'a T>,
        ) where
            &'a C: IntoIterator<Item = &'a T>,
        {
            out.extend(part(inputs));
            for n in &inputs.nested {
                gather(n, part, out);
            }
        }
        let mut all = Vec::new();
        gather(self, part, &mut all);
        all.sort_unstable_by(|a, b| order(a, b));
        // Equal by `order` (bytes): `PathBuf`'s own equality walks both paths' components
        // from the end (6 M instructions of a one-app run, for the same answer on the
        // spellings a build records).
        all.dedup_by(|a, b| order(a, b).is_eq());
        all.into_iter().cloned().collect()
    }

    /// Whether the build or one it used ran something whose inputs are not recorded.
    pub(super) fn is_volatile(&self) -> bool {
        self.volatile || self.nested.iter().any(|n| n.is_volatile())
    }

    /// The inputs of a build read back from the render cache: its reads and resolutions
    /// (already flat) and the ids its objects' files have in this run.
    pub(super) fn restored(
        dir: PathBuf,
        reads: Vec<PathBuf>,
        resolved: Vec<(PathBuf, PathBuf)>,
        ids: BTreeSet<FileId>,
    ) -> Inputs {
        Inputs {
            reads,
            nested: Vec::new(),
            resolved,
            volatile: false,
            ids,
            dir: Some(dir),
            answers: Default::default(),
            // Kept from a build's recorded reads, by this very binary (the cache is per build).
            normal_reads: true,
        }
    }

    /// The directory whose build these are the inputs of.
    pub(super) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether the build itself (not one it used) read one of `paths` or a path under one,
    /// or made a directory among them canonical.
    pub(super) fn reads_itself_any(&self, paths: &Differing) -> bool {
        !paths.0.is_empty()
            && ((self.reads.iter()).any(|r| paths.holds_ancestor_of_spelled(r, self.normal_reads))
                || (self.resolved.iter())
                    .any(|(from, to)| paths.holds_ancestor_of(from) || paths.holds_ancestor_of(to)))
    }

    /// The builds it used directly, each with its directory.
    pub(super) fn nested(&self) -> &[Arc<Inputs>] {
        &self.nested
    }

    /// These inputs with the builds used directly that `replaced` marks (in the order of
    /// [`Inputs::nested`]) replaced by `ours` (another renderer's builds of the same
    /// directories, whose results were found equal): the inputs that renderer's build of
    /// the same directory would have.
    pub(super) fn with_nested_from(&self, replaced: &[bool], ours: Inputs) -> Inputs {
        let mut ids = self.ids.clone();
        ids.extend(ours.ids.iter().copied());
        let nested = (self.nested.iter().zip(replaced))
            .filter(|(_, replaced)| !**replaced)
            .map(|(n, _)| Arc::clone(n))
            .chain(ours.nested)
            .collect();
        Inputs {
            reads: self.reads.clone(),
            nested,
            resolved: self.resolved.clone(),
            volatile: self.volatile || ours.volatile,
            ids,
            dir: self.dir.clone(),
            answers: Default::default(),
            normal_reads: self.normal_reads,
        }
    }
}

thread_local! {
    static FRAMES: RefCell<Vec<Inputs>> = const { RefCell::new(Vec::new()) };
}

fn on_top(f: impl FnOnce(&mut Inputs)) {
    FRAMES.with(|frames| {
        if let Some(top) = frames.borrow_mut().last_mut() {
            f(top);
        }
    });
}

/// The build under way on this thread read `path` (kept in normal form: the changed paths
/// are looked for in reads by their bytes).
pub(super) fn note_read(path: PathBuf) {
    on_top(|top| {
        let path = if is_normal(bytes(&path)) {
            path
        } else {
            path.components().collect()
        };
        top.reads.push(path);
    });
}

/// The build under way on this thread made the directory `from` canonical: `to`.
pub(super) fn note_resolved(from: PathBuf, to: PathBuf) {
    on_top(|top| top.resolved.push((from, to)));
}

/// The build under way on this thread ran something whose inputs are not recorded.
pub(super) fn note_volatile() {
    on_top(|top| top.volatile = true);
}

/// The build under way on this thread gave `id` to a file.
pub(super) fn note_id(id: FileId) {
    on_top(|top| {
        top.ids.insert(id);
    });
}

/// The build under way on this thread used a build whose inputs are `inputs`.
pub(super) fn note_all(inputs: &Arc<Inputs>) {
    on_top(|top| {
        top.ids.extend(inputs.ids.iter().copied());
        if !inputs.reads.is_empty()
            || !inputs.nested.is_empty()
            || !inputs.resolved.is_empty()
            || inputs.volatile
        {
            top.nested.push(Arc::clone(inputs));
        }
    });
}

/// Pops its frame even when the build panics, so a later build on the thread starts clean.
struct Frame;

impl Drop for Frame {
    fn drop(&mut self) {
        FRAMES.with(|frames| frames.borrow_mut().pop());
    }
}

/// Runs `build` recording its inputs, which also become inputs of the enclosing build.
#[cfg(test)]
pub(super) fn recording<T>(build: impl FnOnce() -> T) -> (T, Arc<Inputs>) {
    let (out, inputs) = recording_apart(None, build);
    let inputs = Arc::new(inputs);
    note_all(&inputs);
    (out, inputs)
}

/// Runs `dir`'s build recording its inputs, which also become inputs of the enclosing build.
pub(super) fn recording_build<T>(dir: &Path, build: impl FnOnce() -> T) -> (T, Arc<Inputs>) {
    let (out, inputs) = recording_apart(Some(dir), build);
    let inputs = Arc::new(inputs);
    note_all(&inputs);
    (out, inputs)
}

/// Runs `build` recording its inputs, which the enclosing build is not told of.
pub(super) fn recording_apart<T>(dir: Option<&Path>, build: impl FnOnce() -> T) -> (T, Inputs) {
    let frame = Inputs {
        dir: dir.map(Path::to_path_buf),
        normal_reads: true,
        ..Inputs::default()
    };
    FRAMES.with(|frames| frames.borrow_mut().push(frame));
    let popped = Frame;
    let out = build();
    let inputs = FRAMES.with(|frames| {
        frames
            .borrow_mut()
            .last_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    });
    drop(popped);
    (out, inputs)
}

/// How many times each directory's build will be asked for in a render (see
/// [`crate::render::Renderer::expecting`]): the memo keeps a build only while more users are to
/// come, and the last user takes it instead of a copy. Copying every fresh build into the
/// memo and every hit out of it was 13% of a one-app `--changed-since`, where most overlays
/// have one user (their cluster).
#[derive(Default)]
pub(super) struct Uses {
    left: Mutex<crate::source::PathMap<usize>>,
}

/// What one use of a directory's build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    /// No count: keep the build for whoever may come.
    Unknown,
    /// More users are to come.
    More,
    /// The last user.
    Last,
}

impl Uses {
    pub(super) fn new(counts: crate::source::PathMap<usize>) -> Uses {
        Uses {
            left: Mutex::new(counts),
        }
    }

    /// One use of `dir`'s build. A use beyond the count (a path the count missed) makes the
    /// directory uncounted: its build is built again once, then kept.
    pub(super) fn take(&self, dir: &Path) -> Use {
        let Ok(mut left) = self.left.lock() else {
            return Use::Unknown;
        };
        match left.get_mut(dir) {
            None => Use::Unknown,
            Some(0) => {
                left.remove(dir);
                Use::Unknown
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 { Use::Last } else { Use::More }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_inputs_reach_the_enclosing_build() {
        let ((_, inner), outer) = recording(|| {
            note_read(PathBuf::from("/a"));
            recording(|| {
                note_read(PathBuf::from("/b"));
                note_id(FileId(3));
            })
        });
        assert_eq!(inner.all_reads().len(), 1);
        assert_eq!(
            outer.all_reads().iter().collect::<Vec<_>>(),
            [&PathBuf::from("/a"), &PathBuf::from("/b")]
        );
        assert!(outer.ids.contains(&FileId(3)));
        // A directory stands for what is under it.
        let outer = std::sync::Arc::new(outer);
        let differing = |p: &str| Differing::new(&[PathBuf::from(p)].into());
        assert!(outer.read_any(&differing("/b")));
        assert!(!outer.read_any(&differing("/c")));
        let ((), under) = recording(|| note_read(PathBuf::from("/new/dir/file")));
        assert!(under.read_any(&differing("/new")));
        assert!(!under.read_any(&differing("/ne")));
        // Outside a build nothing is recorded.
        note_read(PathBuf::from("/c"));
        FRAMES.with(|f| assert!(f.borrow().is_empty()));
    }

    /// A read spelled otherwise (`./x` in a kustomization) is recorded in normal form, and
    /// found under a changed path by its bytes.
    #[test]
    fn reads_are_recorded_in_normal_form() {
        let ((), inputs) = recording(|| {
            note_read(PathBuf::from("/r/./a//b.yaml"));
            note_read(PathBuf::from("/r/c/"));
        });
        assert_eq!(
            inputs.all_reads(),
            [PathBuf::from("/r/a/b.yaml"), PathBuf::from("/r/c")]
        );
        let set = |p: &str| Differing::new(&[PathBuf::from(p)].into());
        assert!(inputs.read_any(&set("/r/a")));
        assert!(inputs.read_any(&set("/r/c")));
        assert!(!inputs.read_any(&set("/r/a/b")));
    }

    /// Answers are kept per set of paths: another set (a third, once both slots are taken,
    /// included) is answered for itself, and a nested build's answer serves its users.
    #[test]
    fn answers_are_kept_per_set_of_paths() {
        let ((_, inner), outer) = recording(|| {
            note_read(PathBuf::from("/r/a.yaml"));
            recording(|| note_read(PathBuf::from("/r/b/c.yaml")))
        });
        let outer = Arc::new(outer);
        let set = |p: &str| Differing::new(&[PathBuf::from(p)].into());
        let (b, a, none, b_again) = (set("/r/b"), set("/r/a.yaml"), set("/x"), set("/r/b/c.yaml"));
        for _ in 0..2 {
            assert!(inner.read_any(&b));
            assert!(!inner.read_any(&a));
            assert!(outer.read_any(&b));
            assert!(outer.read_any(&a));
            assert!(!outer.read_any(&none));
            assert!(outer.read_any(&b_again));
            assert!(!inner.read_any(&none));
        }
    }

    /// The byte lookup answers as `Path::ancestors` and `Path` equality do, for the spellings
    /// a path can take (repeated and trailing separators, `.` and `..` components, the root).
    #[test]
    fn differing_paths_are_found_as_path_ancestors_would() {
        let spellings = [
            "/",
            "/r",
            "/r/a",
            "/r/a/",
            "/r/a/b.yaml",
            "/r//a/b.yaml",
            "/r/./a/b.yaml",
            "/r/a/.",
            "/r/a/../b.yaml",
            "/r/ab",
            "/r/a/b",
            "r/a",
            "./r/a",
            "/r/a/b.yaml/",
        ];
        for changed in spellings {
            let set: BTreeSet<PathBuf> = [PathBuf::from(changed)].into();
            let differing = Differing::new(&set);
            for read in spellings {
                let read = Path::new(read);
                let expected = read.ancestors().any(|a| set.contains(a));
                assert_eq!(
                    differing.holds_ancestor_of(read),
                    expected,
                    "{changed} for a read of {}",
                    read.display()
                );
            }
        }
    }

    fn write_file(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// A temporary repository (its canonical path) with `base/`: a kustomization of one
    /// ConfigMap.
    fn repo_with_base() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        write_file(&root, "base/kustomization.yaml", "resources:\n- cm.yaml\n");
        write_file(
            &root,
            "base/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        );
        (dir, root)
    }

    /// A second renderer reuses the first one's builds that read none of the changed files,
    /// and builds the others again.
    #[test]
    fn builds_whose_inputs_did_not_change_are_reused() {
        use crate::render::Renderer;
        use std::collections::BTreeSet;
        let (_dir, root) = repo_with_base();
        let write = |rel: &str, text: &str| write_file(&root, rel, text);
        write(
            "overlay/kustomization.yaml",
            "resources:\n- ../base\nnamePrefix: x-\n",
        );
        let first = Renderer::new(&root).recording_reads();
        let unrecorded = Renderer::new(&root);
        let names = |r: &Renderer| -> Result<Vec<String>, String> {
            r.render(&root.join("overlay"))
                .map(|rs| rs.iter().map(|r| r.name().to_owned()).collect())
                .map_err(|e| e.message)
        };
        assert_eq!(names(&first), Ok(vec!["x-a".to_owned()]));
        assert_eq!(names(&unrecorded), Ok(vec!["x-a".to_owned()]));
        // The base's file is gone: only a reused build can still render it.
        std::fs::remove_file(root.join("base/cm.yaml")).expect("remove");
        let overlay_changed: BTreeSet<PathBuf> = [root.join("overlay/kustomization.yaml")].into();
        let base_changed: BTreeSet<PathBuf> = [root.join("base/cm.yaml")].into();
        let memo = first.memo();
        // The memo is handed over: the renderer keeps none of it.
        assert_eq!(first.memo().len(), 0);
        let third = Renderer::new(&root).with_memo(&memo, &base_changed);
        assert!(names(&third).is_err());
        let second = Renderer::new(&root).with_memo(&memo, &overlay_changed);
        assert_eq!(names(&second), Ok(vec!["x-a".to_owned()]));
        assert!(second.files_read().contains(&root.join("base/cm.yaml")));
        // What a renderer reuses it takes out of the memo: the base's build; the overlay's
        // read the changed file.
        assert_eq!(memo.len(), 1);
        // Builds whose reads were not recorded are never reused: they could have read one.
        let fourth = Renderer::new(&root).with_memo(&unrecorded.memo(), &overlay_changed);
        assert!(names(&fourth).is_err());
    }

    /// With counted uses, the memo serves a build until its last counted use and then lets it
    /// go: a further use asks for it again (here of the render cache, which counts it; the
    /// run's file table answers as the disk was, so a build again gives the same objects).
    #[test]
    fn a_counted_build_is_served_until_its_last_use() {
        use crate::render::{RenderStore, Renderer};
        let (dir, root) = repo_with_base();
        let store = std::sync::Arc::new(
            RenderStore::open(&dir.path().join("cache"), &root).expect("opens"),
        );
        let renderer = Renderer::new(&root)
            .with_store(store.clone())
            .expecting([(root.join("base"), 2)].into_iter().collect());
        let base = root.join("base");
        let asked = || {
            let s = store.stats();
            s.hits + s.misses
        };
        assert!(renderer.render(&base).is_ok());
        assert_eq!(asked(), 1, "the first use builds it");
        assert!(renderer.render(&base).is_ok());
        assert_eq!(asked(), 1, "the second use is served");
        assert!(renderer.render(&base).is_ok());
        assert_eq!((store.stats().hits, asked()), (1, 2), "a third asks again");
    }

    #[test]
    fn counted_uses_end_with_the_last_and_extra_uses_are_uncounted() {
        let uses = Uses::new(
            [(PathBuf::from("/a"), 2), (PathBuf::from("/b"), 1)]
                .into_iter()
                .collect(),
        );
        assert_eq!(uses.take(Path::new("/a")), Use::More);
        assert_eq!(uses.take(Path::new("/a")), Use::Last);
        assert_eq!(uses.take(Path::new("/b")), Use::Last);
        // A use the count missed: uncounted from then on.
        assert_eq!(uses.take(Path::new("/b")), Use::Unknown);
        assert_eq!(uses.take(Path::new("/b")), Use::Unknown);
        assert_eq!(uses.take(Path::new("/c")), Use::Unknown);
    }

    #[test]
    fn a_path_is_under_a_directory_by_its_bytes_as_by_its_components() {
        let paths = [
            "/r/apps/a/base/deployment.yaml",
            "/r/apps/a/base",
            "/r/apps/a/basement/x.yaml",
            "/r/apps/a",
            "/r/apps/a/",
            "/r/apps//a/base/x.yaml",
            "/r/apps/./a/base/x.yaml",
            "/r/apps/a/base/.",
            "/r/apps/a/base/./x.yaml",
            "/r/apps/a/base/../x.yaml",
            "/r/apps/a/base/.hidden",
            ".",
            "./apps/a/base",
            "apps/a/base/x.yaml",
            "/",
            "//r/apps",
            "/r",
            "",
            "r/apps/../apps/a",
            "./",
        ];
        for path in paths {
            for dir in paths {
                let (p, d) = (Path::new(path), Path::new(dir));
                assert_eq!(at_or_under(p, d), p.starts_with(d), "{path} under {dir}");
            }
        }
        // A set of a few paths is asked by components, a larger one by ancestors: alike.
        // (Each path alone too: a read in normal form is then compared by its bytes.)
        let few: BTreeSet<PathBuf> = paths[..3].iter().map(PathBuf::from).collect();
        let many: BTreeSet<PathBuf> = paths.iter().map(PathBuf::from).collect();
        let alone = paths.iter().map(|p| [PathBuf::from(p)].into());
        for set in [few, many].into_iter().chain(alone) {
            let differing = Differing::new(&set);
            for path in paths {
                let p = Path::new(path);
                assert_eq!(
                    differing.holds_ancestor_of(p),
                    set.iter().any(|d| p.starts_with(d)),
                    "{path} in {set:?}"
                );
            }
        }
    }
}
