//! The one file table: every file of a check is read at most once, and never past
//! `limits.maxFileSize` (a file growing while it is read is still cut at the limit). The
//! stages (discovery, the graph, manifests, entry points, suppressions) and the reports'
//! source snippets all read through it, so the bound holds by construction.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::locked;
use crate::model::SourceText;

mod canonical;
mod documents;

/// Why a file's content is not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(String),
    #[error("file is {len} bytes, over the limit of {limit} bytes")]
    TooLarge { len: u64, limit: u64 },
    #[error("stream did not contain valid UTF-8")]
    NotUtf8,
}

type Cached = Result<Arc<[u8]>, ReadError>;

/// Files read so far, by absolute path.
#[derive(Debug)]
pub struct FileTable {
    root: PathBuf,
    max_size: u64,
    files: Mutex<super::PathMap<Cached>>,
    /// Paths on disk that are not part of the files this table stands for (see `hide`).
    hidden: Hidden,
    /// Each path [`FileTable::canonicalize`] resolved, by the path as asked and by each
    /// component's canonical parent joined with its name, with whether it is a directory.
    canonical: Mutex<super::PathMap<(PathBuf, bool)>>,
    /// Tables over the same files whose reads this one takes ([`FileTable::seed_from`]).
    bases: Mutex<Vec<Arc<FileTable>>>,
    /// What the disk said each path is, by the path as asked of it: a composed build asks of
    /// every overlay directory and kustomization file name several times (14,000 `stat`
    /// calls over 6,000 paths in a one-app run of the 200-app monorepo).
    /// (A memo of the disk's answers: a [`super::ByteMap`].)
    kinds: std::sync::RwLock<super::ByteMap<Kind>>,
    /// Files known by their hash without a read ([`FileTable::digest`]), when attached.
    digests: std::sync::OnceLock<Arc<super::Digests>>,
    /// What [`FileTable::digest`] said of each path (by its bytes) while `digests` is used.
    digested: std::sync::RwLock<super::ByteMap<Result<[u8; 32], ReadError>>>,
    /// When the table was made, before any read of it.
    created: std::time::SystemTime,
    /// Whether some content was preloaded ([`FileTable::preload`]): the table then serves
    /// what the disk has not, and the digest index (of the disk's files) is left alone.
    preloaded: std::sync::atomic::AtomicBool,
    /// Kustomizations discovery parsed, for the renderer to take (`documents.rs`).
    documents: Mutex<super::ByteMap<documents::Kept>>,
}

/// What a path is on disk, following symbolic links (as [`Path::exists`], [`Path::is_file`]
/// and [`Path::is_dir`] ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    File,
    Dir,
    Other,
}

impl Kind {
    /// What `meta` (of a path that exists) says the path is.
    fn of(meta: &std::fs::Metadata) -> Kind {
        if meta.is_file() {
            Kind::File
        } else if meta.is_dir() {
            Kind::Dir
        } else {
            Kind::Other
        }
    }
}

/// The paths a table hides, and those of them asked for; the files it holds that the disk
/// has not (see `with_present`) and their directories.
#[derive(Debug, Default)]
struct Hidden {
    paths: BTreeSet<PathBuf>,
    asked: Mutex<BTreeSet<PathBuf>>,
    present: BTreeSet<PathBuf>,
    present_dirs: BTreeSet<PathBuf>,
}

impl Hidden {
    /// Whether the table's file set is the disk's as it is.
    fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.present.is_empty()
    }
}

impl FileTable {
    /// A table for the scanned `root` (what relative paths start from), refusing files larger
    /// than `max_size` bytes.
    pub fn new(root: &Path, max_size: u64) -> FileTable {
        FileTable {
            root: root.to_path_buf(),
            max_size,
            files: Mutex::default(),
            hidden: Hidden::default(),
            canonical: Mutex::default(),
            bases: Mutex::new(Vec::new()),
            kinds: std::sync::RwLock::default(),
            digests: std::sync::OnceLock::new(),
            digested: std::sync::RwLock::default(),
            created: std::time::SystemTime::now(),
            preloaded: std::sync::atomic::AtomicBool::new(false),
            documents: Mutex::default(),
        }
    }

    /// Lets [`FileTable::digest`] know files by `index` instead of reading them (the first
    /// index attached stays). Used only while the table's file set is the disk's and it takes
    /// no other table's reads.
    pub fn with_digests(&self, index: Arc<super::Digests>) {
        let _ = self.digests.set(index);
    }

    /// The index attached by [`FileTable::with_digests`].
    pub fn digest_index(&self) -> Option<&Arc<super::Digests>> {
        self.digests.get()
    }

    /// The BLAKE3 hash of `path`'s bytes (as [`FileTable::bytes`] gives them, with its
    /// errors). A file the attached index knows as it is on disk now is not read; one that
    /// is read is recorded there when its last change has settled (see `digests.rs`).
    pub fn digest(&self, path: &Path) -> Result<[u8; 32], ReadError> {
        let abs = self.root.join(path);
        // Only for the disk's files as they are: a table hiding or preloading files, or
        // taking another's reads, could pair a disk stat with content the disk has not.
        let index = self.digests.get().filter(|_| {
            self.hidden.is_empty()
                && !self.preloaded.load(std::sync::atomic::Ordering::Relaxed)
                && locked(&self.bases).is_empty()
        });
        let Some(index) = index else {
            return self.bytes(&abs).map(|b| *blake3::hash(&b).as_bytes());
        };
        let memo = read(&self.digested).get(abs.as_os_str()).cloned();
        if let Some(known) = memo {
            return known;
        }
        let digest = self.digest_with(index, &abs);
        written(&self.digested).insert(abs.into_os_string(), digest.clone());
        digest
    }

    /// [`FileTable::digest`] of `abs` with `index`: of the content in hand, else known by the
    /// index from its stat, else of the content read now.
    fn digest_with(&self, index: &super::Digests, abs: &Path) -> Result<[u8; 32], ReadError> {
        let hash = |b: &[u8]| *blake3::hash(b).as_bytes();
        let in_hand = self.lock().get(abs).cloned();
        if let Some(content) = in_hand {
            let digest = hash(&content?);
            if !index.confirm(abs.as_os_str(), &digest) {
                self.record(index, abs, digest);
            }
            return Ok(digest);
        }
        // A directory a walk listed is not asked again (what reading it says, as below).
        if read(&self.kinds).get(abs.as_os_str()) == Some(&Kind::Dir) {
            return Err(is_a_directory());
        }
        let meta = match std::fs::metadata(abs) {
            Ok(meta) => Some(meta),
            // What reading a missing path says, without trying to open it.
            Err(e) if e.raw_os_error().is_some_and(|n| n == 2 || n == 20) => {
                self.note_kind(abs, Kind::Missing);
                return Err(ReadError::Io(io_message(&e)));
            }
            Err(_) => None,
        };
        // What reading a directory says, without opening it.
        if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
            self.note_kind(abs, Kind::Dir);
            return Err(is_a_directory());
        }
        let stat = meta
            .filter(|m| m.is_file() && m.len() <= self.max_size)
            .and_then(|m| super::digests::Stat::of(&m));
        if let Some(digest) = stat.and_then(|stat| index.get(abs.as_os_str(), &stat)) {
            self.note_kind(abs, Kind::File);
            return Ok(digest);
        }
        let digest = hash(&self.bytes(abs)?);
        // The stat taken before the read: had the file changed since, its change time would
        // be after it, and the entry never hit.
        self.record_stat(index, abs, stat, digest);
        Ok(digest)
    }

    /// Records `abs`'s `digest` in `index` with the file's stat now (see `record_stat`).
    fn record(&self, index: &super::Digests, abs: &Path, digest: [u8; 32]) {
        let stat = std::fs::metadata(abs)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| super::digests::Stat::of(&m));
        self.record_stat(index, abs, stat, digest);
    }

    /// Records `abs`'s `digest` as of `stat` in `index` when the file's last change is
    /// settled before the table was made (its content, read since, is then the stat's).
    fn record_stat(
        &self,
        index: &super::Digests,
        abs: &Path,
        stat: Option<super::digests::Stat>,
        digest: [u8; 32],
    ) {
        if let Some(stat) = stat.filter(|s| s.settled_before(self.created)) {
            index.record(abs.as_os_str(), stat, digest);
        }
    }

    /// What a walk of the disk saw: paths (absolute) with whether each is a directory, none
    /// of them a link (the walk does not follow them). What each is, and when `canonical`
    /// (the walked directory was canonical, so every path under it is) its canonical form,
    /// are then known without asking the disk: a one-app run of the 200-app monorepo asked
    /// `stat` of 2,600 directories the walk had just listed.
    pub fn walked(&self, seen: Vec<(PathBuf, bool)>, canonical: bool) {
        let kind = |is_dir: bool| if is_dir { Kind::Dir } else { Kind::File };
        {
            let mut kinds = written(&self.kinds);
            // Sized once for the walk, not grown (and rehashed) a doubling at a time.
            kinds.reserve(seen.len());
            for (path, is_dir) in &seen {
                (kinds.entry(path.as_os_str().to_owned())).or_insert(kind(*is_dir));
            }
        }
        if canonical {
            let mut memo = locked(&self.canonical);
            memo.reserve(seen.len());
            for (path, is_dir) in seen {
                memo.entry(path.clone()).or_insert((path, is_dir));
            }
        }
    }

    /// Remembers what the disk said `abs` is (the first answer stays).
    fn note_kind(&self, abs: &Path, kind: Kind) {
        // Most paths are known from the walk: a read lock and no copy of the path for them.
        if read(&self.kinds).contains_key(abs.as_os_str()) {
            return;
        }
        written(&self.kinds)
            .entry(abs.as_os_str().to_owned())
            .or_insert(kind);
    }

    /// This table with `paths` (absolute; a directory stands for everything under it)
    /// taken out of the file set it reads: files added since a git revision (or untracked)
    /// when the table stands for that revision's tree (`kgate diff --since`). A hidden
    /// file reads as a missing one, and [`FileTable::is_file`], [`FileTable::is_dir`] and
    /// [`FileTable::is_hidden`] answer for that tree.
    pub fn hiding(mut self, paths: impl IntoIterator<Item = PathBuf>) -> FileTable {
        self.hidden.paths = paths.into_iter().map(|p| lexical(&p)).collect();
        self
    }

    /// This table with `files` (absolute, their contents preloaded by the caller) in its file
    /// set although the disk has not them: files removed since the git revision the table
    /// stands for. They and their directories exist for [`FileTable::exists`],
    /// [`FileTable::is_file`], [`FileTable::is_dir`] and [`FileTable::canonicalize`].
    pub fn with_present(mut self, files: impl IntoIterator<Item = PathBuf>) -> FileTable {
        for file in files {
            let file = lexical(&file);
            for dir in file.ancestors().skip(1) {
                if !dir.starts_with(&self.root) || dir == self.root {
                    break;
                }
                self.hidden.present_dirs.insert(dir.to_path_buf());
            }
            self.hidden.present.insert(file);
        }
        self
    }

    /// The directories of the files [`FileTable::with_present`] added.
    pub fn present_dirs(&self) -> Vec<PathBuf> {
        self.hidden.present_dirs.iter().cloned().collect()
    }

    /// The files [`FileTable::with_present`] added.
    pub fn present_files(&self) -> Vec<PathBuf> {
        self.hidden.present.iter().cloned().collect()
    }

    /// Whether this table hides any path ([`FileTable::hiding`]).
    pub fn hides_any(&self) -> bool {
        !self.hidden.paths.is_empty()
    }

    /// Whether `path` (absolute, or relative to the root) is hidden or under a hidden
    /// directory.
    pub fn is_hidden(&self, path: &Path) -> bool {
        if self.hidden.paths.is_empty() {
            return false;
        }
        let abs = lexical(&self.root.join(path));
        abs.ancestors().any(|a| self.hidden.paths.contains(a))
    }

    /// `path` as the disk's calls take it: as given (as `std::fs` takes it), or (when the file
    /// set differs from the
    /// disk's, which happens only for a tree without symbolic links) resolved lexically, so
    /// that a `..` after a directory only the file set has still leads somewhere.
    fn on_disk<'p>(&self, path: &'p Path) -> std::borrow::Cow<'p, Path> {
        if self.hidden.is_empty() {
            std::borrow::Cow::Borrowed(path)
        } else {
            std::borrow::Cow::Owned(lexical(&self.root.join(path)))
        }
    }

    /// Whether `path` is one of the files, or of the directories, only the file set has.
    fn only_here(&self, path: &Path) -> (bool, bool) {
        if self.hidden.present.is_empty() {
            return (false, false);
        }
        let abs = lexical(&self.root.join(path));
        (
            self.hidden.present.contains(&abs),
            self.hidden.present_dirs.contains(&abs),
        )
    }

    /// Whether `path` exists in this table's file set (not hidden; on disk or present).
    pub fn exists(&self, path: &Path) -> bool {
        let (file, dir) = self.only_here(path);
        !self.is_hidden(path) && (file || dir || self.on_disk_kind(path) != Kind::Missing)
    }

    /// Whether `path` is a file of this table's file set.
    pub fn is_file(&self, path: &Path) -> bool {
        !self.is_hidden(path) && (self.only_here(path).0 || self.on_disk_kind(path) == Kind::File)
    }

    /// Whether `path` is a directory of this table's file set.
    pub fn is_dir(&self, path: &Path) -> bool {
        !self.is_hidden(path) && (self.only_here(path).1 || self.on_disk_kind(path) == Kind::Dir)
    }

    /// What `path` is on disk, asked once per table (as file contents are read once): the
    /// same question of a table this one was seeded from is the same question of the disk.
    fn on_disk_kind(&self, path: &Path) -> Kind {
        let path = self.on_disk(path);
        let known = |t: &FileTable| read(&t.kinds).get(path.as_os_str()).copied();
        if let Some(kind) = known(self).or_else(|| self.held_by_bases(&known, 0)) {
            return kind;
        }
        // A cluster's `../../apps/x/overlays/prod` is that directory when every directory
        // its `..` leave is its own real path: known by the walk under its lexical form (a
        // one-app run asked `stat` of some 600 such spellings). Not a path ending in `/`,
        // which `stat` refuses for a file and the lexical form drops.
        let lexically = (!canonical::names_dir(&path))
            .then(|| self.linkless_lexical(&path))
            .flatten()
            .and_then(|plain| read(&self.kinds).get(plain.as_os_str()).copied());
        let kind = lexically
            .unwrap_or_else(|| std::fs::metadata(&path).map_or(Kind::Missing, |m| Kind::of(&m)));
        written(&self.kinds).insert(path.into_owned().into_os_string(), kind);
        kind
    }

    /// `path` made canonical in this table's file set: `std::fs::canonicalize` when it is the
    /// disk's as it is; else (a tree without symbolic links) its lexical form when it exists,
    /// a missing file's error when not.
    pub fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        if self.hidden.is_empty() {
            return self.resolved(path);
        }
        if self.exists(path) {
            Ok(lexical(&self.root.join(path)))
        } else {
            Err(std::io::Error::from_raw_os_error(2))
        }
    }

    /// The entries of the directory `dir` (absolute, or relative to the root) in this table's
    /// file set, each `dir` joined with its name and with whether it is a directory (as
    /// [`Path::is_dir`] says, through links), sorted: what `std::fs::read_dir` lists without
    /// the hidden paths, with the files and directories only the set has. Empty when `dir`
    /// cannot be read and holds nothing only the set has.
    pub fn list_dir(&self, dir: &Path) -> Vec<(PathBuf, bool)> {
        if self.is_hidden(dir) {
            return Vec::new();
        }
        let mut out: Vec<(PathBuf, bool)> = match std::fs::read_dir(self.on_disk(dir)) {
            Ok(entries) => entries
                .flatten()
                .map(|e| dir.join(e.file_name()))
                .filter(|p| !self.is_hidden(p))
                .map(|p| {
                    let is_dir = self.on_disk(&p).is_dir();
                    (p, is_dir)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        if !self.hidden.present.is_empty() {
            let abs = lexical(&self.root.join(dir));
            out.extend(self.present_entries(|p| {
                (p.parent() == Some(abs.as_path()))
                    .then(|| p.file_name().map(|name| dir.join(name)))
                    .flatten()
            }));
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// What `walker` (a walk of the directory `dir`, with the caller's rules) finds in this
    /// table's file set: each path with whether the walk's entry is a directory (a link is
    /// one only when the walk follows links), sorted. The walk runs on disk; when the set
    /// differs from the disk's, the hidden paths are left out and the files and directories
    /// only the set has below `dir` are added, save those with a hidden name below `dir`
    /// (which the walks skip). Git's ignore rules are not asked of them: the caller of
    /// [`FileTable::with_present`] checked that none of its files is ignored (so none of
    /// their directories is).
    pub fn walk(&self, dir: &Path, walker: &ignore::WalkBuilder) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> = walker
            .build()
            .flatten()
            .map(|e| {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                (e.into_path(), is_dir)
            })
            .collect();
        if !self.hidden.is_empty() {
            out.retain(|(p, _)| !self.is_hidden(p));
            let abs = lexical(&self.root.join(dir));
            out.extend(self.present_entries(|p| {
                let rel = p.strip_prefix(&abs).ok()?;
                let hidden_name = rel
                    .components()
                    .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                let walked = !rel.as_os_str().is_empty() && !hidden_name;
                (walked && !self.is_hidden(p)).then(|| dir.join(rel))
            }));
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// The files only this table's set has (`with_present`) and their directories, each with
    /// whether it is a directory, where `place` puts it (`None`: not listed).
    fn present_entries(&self, place: impl Fn(&Path) -> Option<PathBuf>) -> Vec<(PathBuf, bool)> {
        let files = self.hidden.present.iter().map(|p| (p, false));
        let dirs = self.hidden.present_dirs.iter().map(|p| (p, true));
        files
            .chain(dirs)
            .filter_map(|(p, is_dir)| Some((place(p)?, is_dir)))
            .collect()
    }

    /// The length of `path`'s content in this table's file set: preloaded, or on disk.
    pub fn len(&self, path: &Path) -> Option<u64> {
        match self.lock().get(&self.path(path)) {
            Some(Ok(bytes)) => return Some(bytes.len() as u64),
            Some(Err(ReadError::TooLarge { len, .. })) => return Some(*len),
            _ => {}
        }
        if self.is_hidden(path) {
            return None;
        }
        std::fs::metadata(self.on_disk(path)).ok().map(|m| m.len())
    }

    /// Whether `f` holds for a file (absolute, as asked) whose content or hash this table
    /// read, or that it found on disk (the walk's finds included): the files a check
    /// depended on being there (`kgate diff --since` looks for one REF's tree has not).
    pub fn any_file_touched(&self, f: impl Fn(&Path) -> bool) -> bool {
        (self.lock().iter()).any(|(p, read)| read.is_ok() && f(p))
            || (read(&self.digested).iter()).any(|(p, d)| d.is_ok() && f(Path::new(p)))
            || (read(&self.kinds).iter()).any(|(p, k)| *k == Kind::File && f(Path::new(p)))
    }

    /// The hidden paths a read asked for (as the table keys them): what a caller checking a
    /// git revision in the working tree's paths cannot answer without that revision's tree.
    pub fn hidden_reads(&self) -> Vec<PathBuf> {
        let asked = locked(&self.hidden.asked);
        asked.iter().cloned().collect()
    }

    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The bytes of `path` (absolute, or relative to the root), read on first use.
    pub fn bytes(&self, path: &Path) -> Result<Arc<[u8]>, ReadError> {
        let abs = self.root.join(path);
        if self.is_hidden(&abs) {
            locked(&self.hidden.asked).insert(abs);
            return Err(ReadError::Io(NOT_FOUND.to_owned()));
        }
        if let Some(hit) = self.lock().get(&abs) {
            return hit.clone();
        }
        if let Some(theirs) = self.read_by_bases(&abs) {
            return self.lock().entry(abs).or_insert(theirs).clone();
        }
        // Read outside the lock: other workers keep reading their own files meanwhile. Two
        // workers racing on one file both read it once; the first result is kept.
        let (read, kind) = read_bounded_telling(&abs, self.max_size);
        // What the read found is what `is_file` or `is_dir` would be told (the render cache
        // asks whether a path it could not read is a directory), asked of the same path when
        // the table's file set is the disk's.
        if let Some(kind) = kind.filter(|_| self.hidden.is_empty()) {
            self.note_kind(&abs, kind);
        }
        self.lock().entry(abs).or_insert(read).clone()
    }

    /// The text of `path`: its bytes when they are UTF-8 (a leading byte-order mark kept, as
    /// `std::fs::read_to_string` keeps it).
    pub fn text(&self, path: &Path) -> Result<Arc<str>, ReadError> {
        let bytes = self.bytes(path)?;
        std::str::from_utf8(&bytes)
            .map(Arc::from)
            .map_err(|_| ReadError::NotUtf8)
    }

    /// `path` (absolute, or relative to the root) as the table keys it.
    pub fn path(&self, path: &Path) -> PathBuf {
        self.root.join(path)
    }

    /// Serve `bytes` as the content of `path` from now on, instead of what is on disk (a
    /// file's content at a git revision, for `kgate diff --since`), bounded as a read is.
    pub fn preload(&self, path: &Path, bytes: Arc<[u8]>) {
        (self.preloaded).store(true, std::sync::atomic::Ordering::Relaxed);
        let len = bytes.len() as u64;
        let content = if len > self.max_size {
            Err(ReadError::TooLarge {
                len,
                limit: self.max_size,
            })
        } else {
            Ok(bytes)
        };
        self.lock().insert(self.path(path), content);
    }

    /// Take every file `other` reads (and this table has not read, nor hides), for a table
    /// over the same files: `kgate diff --since`'s REF side, whose few differing files are
    /// preloaded. Taken when asked for, not copied now (a copy of the working tree's 3,000
    /// files was a few milliseconds on the diff's serial path, twice).
    pub fn seed_from(&self, other: &Arc<FileTable>) {
        if std::ptr::eq(self, &**other) || self.max_size != other.max_size {
            return;
        }
        let mut bases = locked(&self.bases);
        if !bases.iter().any(|b| Arc::ptr_eq(b, other)) {
            bases.push(other.clone());
        }
    }

    /// What a table this one was seeded from resolved `path` to, with whether it is a
    /// directory: the same disk answers both (a table whose file set differs from the disk's
    /// resolves lexically and never asks).
    fn resolved_by_bases(&self, path: &Path) -> Option<(PathBuf, bool)> {
        self.held_by_bases(&|b| locked(&b.canonical).get(path).cloned(), 0)
    }

    /// What a table this one was seeded from holds for `abs`.
    fn read_by_bases(&self, abs: &Path) -> Option<Cached> {
        self.held_by_bases(&|b| b.lock().get(abs).cloned(), 0)
    }

    /// The first answer `held` gives for a table this one was seeded from, or one those were
    /// seeded from (`depth` bounds the chain).
    fn held_by_bases<V>(&self, held: &dyn Fn(&FileTable) -> Option<V>, depth: usize) -> Option<V> {
        const MAX_DEPTH: usize = 8;
        if depth >= MAX_DEPTH {
            return None;
        }
        let bases = locked(&self.bases).clone();
        bases
            .iter()
            .find_map(|b| held(b).or_else(|| b.held_by_bases(held, depth + 1)))
    }

    /// Every path read (or tried) so far, as the table keys it.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = self.lock().keys().map(Path::to_path_buf).collect();
        all.extend(read(&self.digested).keys().map(PathBuf::from));
        all
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, super::PathMap<Cached>> {
        locked(&self.files)
    }
}

impl SourceText for FileTable {
    fn text(&self, path: &str) -> Option<Arc<str>> {
        FileTable::text(self, Path::new(path)).ok()
    }
}

/// What reading a missing file says (`std::io::ErrorKind::NotFound` on Unix).
const NOT_FOUND: &str = "No such file or directory (os error 2)";

/// `path` with its `.` and `..` components resolved without the file system.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The text of `path`, read whole but never past `max_size` bytes: for the few files a
/// check reads outside its table (the configuration, the repository's policies and data
/// files, a baseline, Helm's chart files), so that every read of repository content is
/// bounded (`tests/hostile.rs` checks that no other code reads files).
pub fn read_text_bounded(path: &Path, max_size: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, max_size)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ReadError::NotUtf8)
}

/// The bytes of `path`, read whole but never past `max_size` bytes: for files kgate wrote
/// itself outside the repository (the render cache's entries).
pub fn read_bytes_bounded(path: &Path, max_size: u64) -> Result<Arc<[u8]>, ReadError> {
    read_bounded(path, max_size)
}

/// Reads at most `max_size` bytes of `path`; a longer file is refused with its length.
fn read_bounded(path: &Path, max_size: u64) -> Cached {
    read_bounded_telling(path, max_size).0
}

/// [`read_bounded`], and what the read told of what `path` is, when it told it as
/// `std::fs::metadata` would have (a file that cannot be opened may still exist).
fn read_bounded_telling(path: &Path, max_size: u64) -> (Cached, Option<Kind>) {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            let missing = matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            );
            return (
                Err(ReadError::Io(io_message(&e))),
                missing.then_some(Kind::Missing),
            );
        }
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return (Err(ReadError::Io(e.to_string())), None),
    };
    (read_open(file, &meta, max_size), Some(Kind::of(&meta)))
}

/// What reading a directory as a file says (`EISDIR`).
fn is_a_directory() -> ReadError {
    ReadError::Io(io_message(&std::io::Error::from_raw_os_error(21)))
}

/// `e.to_string()`. The messages of a missing path (`ENOENT`), of a file in the middle of a
/// path (`ENOTDIR`) and of a directory read as a file (`EISDIR`) are formatted once per
/// process: the C library looks each up in the locale's catalogue, and a warm one-app run
/// tells some 1,500 missing paths (kustomize's other kustomization file names) from files.
fn io_message(e: &std::io::Error) -> String {
    static MESSAGES: [std::sync::OnceLock<String>; 3] = [const { std::sync::OnceLock::new() }; 3];
    const CODES: [i32; 3] = [2, 20, 21];
    let Some(i) = (e.raw_os_error()).and_then(|code| CODES.iter().position(|c| *c == code)) else {
        return e.to_string();
    };
    MESSAGES[i]
        .get_or_init(|| std::io::Error::from_raw_os_error(CODES[i]).to_string())
        .clone()
}

fn read_open(file: std::fs::File, meta: &std::fs::Metadata, max_size: u64) -> Cached {
    // The error reading it would give, without the read (the render cache asks every
    // directory a build depended on whether it is a file first).
    if meta.is_dir() {
        return Err(is_a_directory());
    }
    let len = meta.len();
    if len > max_size {
        return Err(ReadError::TooLarge {
            len,
            limit: max_size,
        });
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // Up to the length it had when asked, which is within the limit: a file growing under us
    // is still bounded, and the read ends without asking the file for more (one `read` call
    // per file, not two). A file that says it is empty (a pseudo-file) is read to the limit,
    // one byte past it, so that a longer one is refused.
    let upto = if len == 0 {
        max_size.saturating_add(1)
    } else {
        len
    };
    file.take(upto)
        .read_to_end(&mut buf)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if buf.len() as u64 > max_size {
        return Err(ReadError::TooLarge {
            len: buf.len() as u64,
            limit: max_size,
        });
    }
    Ok(Arc::from(buf))
}

/// `lock` read. What it guards is changed by single calls (as [`locked`] says), so a poisoned
/// lock is still usable. (The table's kinds are read from both cores at once while the graph
/// is built: a mutex made them wait on each other.)
fn read<T>(lock: &std::sync::RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `lock` written (see [`read`]).
fn written<T>(lock: &std::sync::RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
