//! The render cache across runs: each kustomization directory built is written to a cache
//! directory with what its build depended on (the content hash of every file it read, the
//! paths it found missing or found to be directories, the directories it made canonical),
//! and a later run takes the build from there when all of them still hold instead of
//! building it again. A one-app change then rebuilds only the builds that read the changed
//! file, and composes each cluster from its stored overlays (`kgate check --changed-since`,
//! `kgate diff --since`, a pre-push hook).
//!
//! Correctness rests on the read recording of `memo.rs`: a build reaches files only through
//! the renderer's `read_text`, `read_bytes` and `probe`, each noted. A failed build is stored
//! too (its failure depends on what it read up to it). Builds that ran Helm (whose reads kgate
//! does not see) or ran under a custom OpenAPI schema are not stored. Entries live under one
//! directory per repository and kgate build (version, commit, executable), so another build
//! of kgate never reads them; an entry that cannot be read back is a miss, never an error.
//! The hash is BLAKE3: a pull request cannot forge content that matches a stored build's.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::RenderError;
use super::kustomization::VarEntry;
use super::memo::Inputs;
use super::resource::{OwnedId, Resource, owned_key};
use super::tconfig::{self, TransformerConfig};
use crate::model::CacheStats;
use crate::source::{ByteMap, FileTable, ReadError};
use crate::yaml::{FileId, Node, Value};

/// Entries larger than this are not read back (a cluster of a thousand objects is ~1 MB).
const MAX_ENTRY: u64 = 1 << 30;

/// What a path was when a build used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum State {
    Missing,
    Dir,
    /// A file, by the BLAKE3 hash of its content.
    File([u8; 32]),
    /// A file the table refused (over the size limit): the build saw the refusal.
    Refused(String),
}

/// What an entry's build depended on, read before its objects (a stale entry is rejected
/// without decoding them).
#[derive(Serialize, Deserialize)]
struct Header {
    /// Whether the build failed: first, so that [`RenderStore::failed_before`] reads only it.
    failed: bool,
    dir: PathBuf,
    reads: Vec<(PathBuf, State)>,
    resolved: Vec<(PathBuf, PathBuf)>,
    /// The ids of a build's objects (as a kustomization adding them compares them), and
    /// whether it has no variables and the default transformer configuration: what a
    /// kustomization failing at a later resource needs of it ([`RenderStore::peek`]).
    ids: Vec<OwnedId>,
    plain: bool,
}

impl Header {
    /// The inputs of the build it describes, read back: its reads and resolutions, with
    /// `ids` the ids its objects' files have in this run.
    fn into_inputs(self, ids: BTreeSet<FileId>) -> Inputs {
        let reads = self.reads.into_iter().map(|(p, _)| p).collect();
        Inputs::restored(self.dir, reads, self.resolved, ids)
    }
}

/// A header decoded for `dir`, each read checked as it is decoded (`holds`): decoding stops
/// at the first that no longer holds. A stale cluster's header lists every file of its
/// two hundred overlays (~200 KB); the changed file is usually among the first few
/// hundred, and decoding the rest was most of telling the entry stale.
struct CheckedHeader<'a, F> {
    dir: &'a Path,
    holds: F,
}

/// Why decoding stopped: the header is another directory's, or a read no longer holds.
const STALE: &str = "stale";

impl<'de, F: FnMut(&Path, &State) -> bool> serde::de::DeserializeSeed<'de>
    for CheckedHeader<'_, F>
{
    type Value = Header;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Header, D::Error> {
        // Header's fields, in order (postcard encodes a struct as the tuple of its fields).
        d.deserialize_tuple(6, self)
    }
}

impl<'de, F: FnMut(&Path, &State) -> bool> serde::de::Visitor<'de> for CheckedHeader<'_, F> {
    type Value = Header;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an entry's header")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Header, A::Error> {
        use serde::de::Error;
        let missing = || A::Error::custom("header cut short");
        let failed: bool = seq.next_element()?.ok_or_else(missing)?;
        let dir: PathBuf = seq.next_element()?.ok_or_else(missing)?;
        if dir != self.dir {
            return Err(A::Error::custom(STALE));
        }
        let reads = seq
            .next_element_seed(CheckedReads(&mut self.holds))?
            .ok_or_else(missing)?;
        Ok(Header {
            failed,
            dir,
            reads,
            resolved: seq.next_element()?.ok_or_else(missing)?,
            ids: seq.next_element()?.ok_or_else(missing)?,
            plain: seq.next_element()?.ok_or_else(missing)?,
        })
    }
}

/// A header's reads, each checked as it is decoded (see [`CheckedHeader`]).
struct CheckedReads<'f, F>(&'f mut F);

impl<'de, F: FnMut(&Path, &State) -> bool> serde::de::DeserializeSeed<'de> for CheckedReads<'_, F> {
    type Value = Vec<(PathBuf, State)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(&Path, &State) -> bool> serde::de::Visitor<'de> for CheckedReads<'_, F> {
    type Value = Vec<(PathBuf, State)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the reads of a build")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut reads = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some((path, state)) = seq.next_element::<(PathBuf, State)>()? {
            if !(self.0)(&path, &state) {
                return Err(serde::de::Error::custom(STALE));
            }
            reads.push((path, state));
        }
        Ok(reads)
    }
}

/// What [`RenderStore::failed_before`] reads of a header.
#[derive(Deserialize)]
struct HeaderStart {
    failed: bool,
}

/// What a valid entry says of its build without its objects ([`RenderStore::peek`]). Its
/// parts are shared, not copied: the run's memo of peeks hands out each one (a clone of its
/// inputs' paths was a tenth of a peek).
#[derive(Clone)]
pub(super) enum Peeked {
    Failed(RenderError, Arc<Inputs>),
    Built {
        ids: Arc<[OwnedId]>,
        plain: bool,
        inputs: Arc<Inputs>,
    },
}

/// The build itself (or why it failed: a failure depends on what was read up to it as a
/// success does on all it read), its objects' file ids given with the paths they stood for.
#[derive(Serialize)]
struct BodyRef<'a> {
    files: Vec<(u32, PathBuf)>,
    looked_up: bool,
    build: Result<BuiltRef<'a>, &'a RenderError>,
}

#[derive(Serialize)]
struct BuiltRef<'a> {
    resources: &'a [Resource],
    vars: &'a [VarEntry],
    config: Config<&'a TransformerConfig>,
}

#[derive(Deserialize)]
struct Body {
    files: Vec<(u32, PathBuf)>,
    looked_up: bool,
    build: Result<Built, RenderError>,
}

#[derive(Deserialize)]
struct Built {
    resources: Vec<Resource>,
    vars: Vec<VarEntry>,
    config: Config<TransformerConfig>,
}

/// A build as the engine holds it (`engine.rs`' `Accumulated`).
pub(super) type Build = (Vec<Resource>, Vec<VarEntry>, tconfig::Shared);

/// A build's transformer configuration: most builds have the defaults alone, named rather
/// than written out (decoding them was a tenth of a cached run).
#[derive(Serialize, Deserialize)]
enum Config<T> {
    Defaults,
    Own(T),
}

/// A build read back: its objects (file ids of this run), vars and configuration, or why it
/// failed; whether it looked the built-in OpenAPI schema up, and its inputs.
pub(super) struct Restored {
    pub result: Result<Build, RenderError>,
    pub looked_up: bool,
    pub inputs: Inputs,
}

/// The render cache of one repository for this build of kgate.
pub struct RenderStore {
    dir: PathBuf,
    /// Each path's state, asked once per run. (These two maps only remember what the file
    /// table answers: [`ByteMap`]s.)
    states: std::sync::RwLock<ByteMap<State>>,
    /// Each directory's canonical form, asked once per run.
    canonical: std::sync::RwLock<ByteMap<Option<PathBuf>>>,
    /// What [`RenderStore::peek`] found of each directory's entry this run.
    peeked: Mutex<ByteMap<Option<Peeked>>>,
    /// The store whose states this one takes where the files are the same (`seed_states`).
    seed: Mutex<Option<Seed>>,
    hits: AtomicUsize,
    misses: AtomicUsize,
    /// The entries' writes, on a thread of their own, and what they came to.
    writer: writer::Writer,
}

/// Another store over the same files, and the paths (a directory standing for what is under
/// it) whose files differ between the two.
struct Seed {
    other: Arc<RenderStore>,
    differing: Vec<PathBuf>,
}

impl Seed {
    /// Whether `path` is the same on both sides: neither differing nor hidden in `sources`.
    fn same(&self, sources: &FileTable, path: &Path) -> bool {
        !sources.is_hidden(path)
            && !(self.differing.iter()).any(|d| super::memo::at_or_under(path, d))
    }
}

/// The file whose time says when a repository's cache was last used.
const LAST_USED: &str = "last-used";

/// How long a repository's cache is kept unused (a clone deleted, a scratch repository).
const UNUSED_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Removes the caches of repositories (other than `current`) unused for [`UNUSED_FOR`].
fn forget_unused(cache_root: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(cache_root) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        let path = e.path();
        if path == current || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let used = std::fs::metadata(path.join(LAST_USED)).and_then(|m| m.modified());
        let stale = match used {
            Ok(t) => now.duration_since(t).is_ok_and(|d| d > UNUSED_FOR),
            Err(_) => false,
        };
        if stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A short hex name for `parts`.
fn digest(parts: &[&[u8]]) -> String {
    blake3::Hash::from(crate::source::hash_parts(parts.iter().copied())).to_hex()[..32].to_owned()
}

/// Kustomizations at least this long have their documents stored ([`parse_kustomization`]).
const STORED_PARSE: usize = 4096;

/// The name of the value holding `file`'s stored documents (see [`parse_kustomization`]).
fn parse_entry_name(file: &Path) -> String {
    format!(
        "kustomization-{}",
        digest(&[file.as_os_str().as_encoded_bytes()])
    )
}

/// The kustomization `file` holds as `text`: from the documents a run before parsed from the
/// same text when `store` has them, else parsed (and the documents stored when the text is
/// long). A cluster listing two hundred overlays is built from their entries every run (a
/// build that only gathers others is not stored), and parsing its kustomization again was
/// ~2.5 M instructions a run; decoding its documents costs a fraction of that. Short texts
/// are parsed: reading a file of their own would cost about as much.
pub(super) fn parse_kustomization(
    store: Option<&RenderStore>,
    file: &Path,
    text: &str,
) -> Result<super::kustomization::Kustomization, RenderError> {
    use super::kustomization::{documents, from_documents};
    let Some(store) = store.filter(|_| text.len() >= STORED_PARSE) else {
        return super::kustomization::parse(file, text);
    };
    let name = parse_entry_name(file);
    let key = crate::source::hash_parts([text.as_bytes()]);
    let stored = (store.get(&name, &key))
        .and_then(|bytes| postcard::from_bytes::<Vec<(usize, Node)>>(&bytes).ok());
    if let Some(stored) = stored {
        let docs: Vec<crate::yaml::Document> = (stored.into_iter())
            .map(|(index, root)| crate::yaml::Document { index, root })
            .collect();
        return from_documents(file, &docs);
    }
    let docs = documents(file, text)?;
    let k = from_documents(file, &docs)?;
    let roots: Vec<(usize, &Node)> = docs.iter().map(|d| (d.index, &d.root)).collect();
    if let Ok(bytes) = postcard::to_allocvec(&roots) {
        store.put(&name, &key, &bytes);
    }
    Ok(k)
}

/// What tells this build of kgate from another: its version and commit, and its executable
/// (a rebuild from uncommitted sources keeps the commit).
fn build_identity() -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {mtime}", m.len())
        })
        .unwrap_or_default();
    format!(
        "{} {} {exe}",
        env!("CARGO_PKG_VERSION"),
        env!("KGATE_COMMIT")
    )
}

/// The directory of `repo_root`'s caches under `cache_root`, and the name of `build`'s in it.
fn places(cache_root: &Path, repo_root: &Path, build: &str) -> (PathBuf, String) {
    let repo = cache_root.join(digest(&[repo_root.as_os_str().as_encoded_bytes()]));
    (repo, digest(&[build.as_bytes()]))
}

/// A named value of the cache of `repo_root` under `cache_root`, outside an open
/// [`RenderStore`]: for a question asked beside the run's first phase, which opens the store
/// (and may be creating it) meanwhile. [`StoredValue::put`] writes only into a cache that
/// exists: a first run's value is kept by the next one.
pub struct StoredValue {
    path: PathBuf,
}

/// Writes `bytes` aside in `dir` and renames them to `to`: a concurrent run reads all or
/// nothing.
fn write_atomically(dir: &Path, to: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(bytes)
        .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    tmp.persist(to)
        .map_err(|e| format!("{}: {e}", to.display()))?;
    Ok(())
}

/// The bytes of the value stored at `path` after `key`, if it is `key`'s.
fn value_for(path: &Path, key: &[u8; 32]) -> Option<Vec<u8>> {
    let bytes = crate::source::read_bytes_bounded(path, MAX_ENTRY).ok()?;
    Some(bytes.strip_prefix(key.as_slice())?.to_vec())
}

/// An entry's header, read ahead of its body: the header is what tells a stale entry, and a
/// cluster's body (a thousand objects, ~1 MB) is then never read for nothing. An entry is
/// its header's length (4 bytes, little-endian), the header, the body; one that is not (cut
/// short, too large, another layout) is a miss.
struct Opened {
    header: Header,
    /// The body as far as the first read reached (a small entry's whole body).
    body: Vec<u8>,
    /// The file, left where `body` ends, bounded to the entry's length.
    rest: std::io::Take<std::fs::File>,
}

/// What the first read of an entry takes: most entries whole, a cluster's header.
const FIRST_READ: u64 = 64 << 10;

impl Opened {
    /// The entry at `path` when its header is `dir`'s and every read `holds`.
    fn open(path: &Path, dir: &Path, holds: impl FnMut(&Path, &State) -> bool) -> Option<Opened> {
        let file = std::fs::File::open(path).ok()?;
        let len = file.metadata().ok().filter(|m| m.is_file())?.len();
        if !(4..=MAX_ENTRY).contains(&len) {
            return None;
        }
        let mut rest = file.take(len);
        let mut bytes = vec![0u8; usize::try_from(len.min(FIRST_READ)).ok()?];
        rest.read_exact(&mut bytes).ok()?;
        let head_end = 4 + u64::from(u32::from_le_bytes(bytes[..4].try_into().ok()?));
        if head_end > len {
            return None;
        }
        let head_end = usize::try_from(head_end).ok()?;
        if head_end > bytes.len() {
            let read = bytes.len();
            bytes.resize(head_end, 0);
            rest.read_exact(&mut bytes[read..]).ok()?;
        }
        let mut decoder = postcard::Deserializer::from_bytes(&bytes[4..head_end]);
        let header =
            serde::de::DeserializeSeed::deserialize(CheckedHeader { dir, holds }, &mut decoder)
                .ok()?;
        Some(Opened {
            header,
            body: bytes.split_off(head_end),
            rest,
        })
    }

    /// The header and the whole body.
    fn read_body(mut self) -> Option<(Header, Vec<u8>)> {
        let read = self.body.len();
        self.body
            .resize(read + usize::try_from(self.rest.limit()).ok()?, 0);
        self.rest.read_exact(&mut self.body[read..]).ok()?;
        Some((self.header, self.body))
    }
}

impl StoredValue {
    pub fn new(cache_root: &Path, repo_root: &Path, name: &str) -> StoredValue {
        let (repo, build) = places(cache_root, repo_root, &build_identity());
        StoredValue {
            path: repo.join(build).join(name),
        }
    }

    /// The bytes stored for `key`, if the value is `key`'s (see [`RenderStore::get`]).
    pub fn get(&self, key: &[u8; 32]) -> Option<Vec<u8>> {
        value_for(&self.path, key)
    }

    /// Stores `bytes` for `key`, replacing what was there; nothing when the cache's directory
    /// is missing or cannot be written (the cache is an optimisation).
    pub fn put(&self, key: &[u8; 32], bytes: &[u8]) {
        let Some(dir) = self.path.parent().filter(|d| d.is_dir()) else {
            return;
        };
        let _ = write_atomically(dir, &self.path, &[key.as_slice(), bytes].concat());
    }
}

impl RenderStore {
    /// The cache of `repo_root` (canonical) under `cache_root`, created when missing. Entries
    /// another build of kgate wrote for this repository are removed.
    pub fn open(cache_root: &Path, repo_root: &Path) -> std::io::Result<RenderStore> {
        Self::open_for(cache_root, repo_root, &build_identity())
    }

    fn open_for(cache_root: &Path, repo_root: &Path, build: &str) -> std::io::Result<RenderStore> {
        let (repo, name) = places(cache_root, repo_root, build);
        let dir = repo.join(&name);
        std::fs::create_dir_all(&dir)?;
        // Tell backup tools the directory holds nothing of value (the Cache Directory
        // Tagging Specification).
        let tag = cache_root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = std::fs::write(
                tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# kgate's render cache: safe to delete.\n",
            );
        }
        for old in std::fs::read_dir(&repo)?.flatten() {
            if old.file_name() != name.as_str() && old.file_name() != LAST_USED {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        let _ = std::fs::write(repo.join(LAST_USED), "");
        forget_unused(cache_root, &repo);
        Ok(RenderStore {
            writer: writer::Writer::new(dir.clone()),
            dir,
            states: std::sync::RwLock::default(),
            seed: Mutex::new(None),
            canonical: std::sync::RwLock::default(),
            peeked: Mutex::default(),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        })
    }

    /// How the cache served the run so far, once the entries saved so far are written.
    pub fn stats(&self) -> CacheStats {
        self.writer.flush();
        let outcome = &self.writer.outcome;
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            written: outcome.written.load(Ordering::Relaxed),
            failed: outcome.failed.load(Ordering::Relaxed),
            error: outcome.error.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// The two places of `dir`'s entries, the one used last first: a directory keeps its last
    /// two builds, so that `kgate diff --since REF` finds REF's build of a changed directory
    /// beside the working tree's (each side's check takes its own back).
    fn entries(&self, dir: &Path) -> [PathBuf; 2] {
        let name = digest(&[dir.as_os_str().as_encoded_bytes()]);
        [0, 1].map(|slot| self.dir.join(format!("{name}-{slot}")))
    }

    /// Makes the second place's entry the first (the one used last), the first the second.
    fn swap(&self, [first, second]: &[PathBuf; 2]) {
        static SWAPS: AtomicUsize = AtomicUsize::new(0);
        let n = SWAPS.fetch_add(1, Ordering::Relaxed);
        let aside = first.with_extension(format!("swap-{}-{n}", std::process::id()));
        if std::fs::rename(first, &aside).is_ok() {
            let _ = std::fs::rename(second, first);
            let _ = std::fs::rename(&aside, second);
        }
    }

    /// `path`'s state in `sources` (the run's file set). A path the table hides (one REF's
    /// tree has not, for `kgate diff --since`'s REF side) is missing, without asking the table
    /// for it (that question is what tells the diff REF's tree is needed).
    fn state(&self, sources: &FileTable, path: &Path) -> State {
        if let Some(known) = self
            .states
            .read()
            .ok()
            .and_then(|s| s.get(path.as_os_str()).cloned())
        {
            return known;
        }
        if sources.is_hidden(path) {
            return State::Missing;
        }
        if let Some(theirs) = self.seeded(sources, path, |o| &o.states, |_, _| true) {
            if let Ok(mut s) = self.states.write() {
                s.insert(path.as_os_str().to_owned(), theirs.clone());
            }
            return theirs;
        }
        let state = match sources.digest(path) {
            Ok(digest) => State::File(digest),
            Err(ReadError::Io(_)) if sources.is_dir(path) => State::Dir,
            Err(ReadError::Io(_)) => State::Missing,
            Err(e) => State::Refused(e.to_string()),
        };
        if let Ok(mut s) = self.states.write() {
            s.insert(path.as_os_str().to_owned(), state.clone());
        }
        state
    }

    /// Takes the states and canonical paths `other` finds for the paths that are the same on
    /// both sides (not under `differing`, nor hidden in the file table asked), so that they
    /// are not read and hashed again: `kgate diff --since`'s REF side takes the working
    /// tree's. Taken when asked for, not copied now (a copy of the working tree's states was a
    /// few milliseconds on the diff's serial path).
    pub fn seed_states(&self, other: &Arc<RenderStore>, differing: Vec<PathBuf>) {
        if std::ptr::eq(self, &**other) {
            return;
        }
        if let Ok(mut seed) = self.seed.lock() {
            *seed = Some(Seed {
                other: other.clone(),
                differing,
            });
        }
    }

    /// What the seeding store found for `path` in its map `of`, when `path` is the same on
    /// both sides and `holds` accepts the answer.
    fn seeded<V: Clone>(
        &self,
        sources: &FileTable,
        path: &Path,
        of: impl Fn(&RenderStore) -> &std::sync::RwLock<ByteMap<V>>,
        holds: impl Fn(&Seed, &V) -> bool,
    ) -> Option<V> {
        let seed = self.seed.lock().ok()?;
        let seed = seed.as_ref().filter(|s| s.same(sources, path))?;
        let found = of(&seed.other)
            .read()
            .ok()?
            .get(path.as_os_str())
            .cloned()?;
        holds(seed, &found).then_some(found)
    }

    fn canonical(&self, sources: &FileTable, path: &Path) -> Option<PathBuf> {
        if let Some(known) = self
            .canonical
            .read()
            .ok()
            .and_then(|c| c.get(path.as_os_str()).cloned())
        {
            return known;
        }
        // The other side's answer holds where the path, and where it leads, are the same.
        let theirs = self.seeded(
            sources,
            path,
            |o| &o.canonical,
            |seed, to| to.as_deref().is_none_or(|to| seed.same(sources, to)),
        );
        let canon = match theirs {
            Some(known) => known,
            None => sources.canonicalize(path).ok(),
        };
        if let Ok(mut c) = self.canonical.write() {
            c.insert(path.as_os_str().to_owned(), canon.clone());
        }
        canon
    }

    /// `dir`'s stored build when everything it depended on still holds in `sources`; its
    /// objects' files get ids of this run through `file_id`.
    pub(super) fn load(
        &self,
        dir: &Path,
        sources: &FileTable,
        file_id: impl Fn(&Path) -> FileId,
    ) -> Option<Restored> {
        let restored = self.read_valid(dir, sources, file_id);
        self.count(restored.is_some());
        restored
    }

    /// [`RenderStore::load`] for a build that may not be asked for (one taken ahead of its
    /// turn): counted by [`RenderStore::count`] when it is.
    pub(super) fn load_ahead(
        &self,
        dir: &Path,
        sources: &FileTable,
        file_id: impl Fn(&Path) -> FileId,
    ) -> Option<Restored> {
        self.read_valid(dir, sources, file_id)
    }

    /// Counts a build asked of the cache, found (`hit`) or not.
    pub(super) fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes `dir`'s entries: its build succeeded and is not stored
    /// ([`super::kustomization::Kustomization::gathers_only`]), so an entry left from before
    /// could only be stale (validated in vain by every run) or a failure that would send the
    /// next run looking for it again (`failed_before`).
    pub(super) fn forget(&self, dir: &Path) {
        if let Ok(mut m) = self.peeked.lock() {
            m.remove(dir.as_os_str());
        }
        for entry in self.entries(dir) {
            let _ = std::fs::remove_file(entry);
        }
    }

    /// Whether `dir`'s entry used last holds a failed build (whatever it depended on): a
    /// kustomization that failed then is likely to fail at the same resource now.
    pub(super) fn failed_before(&self, dir: &Path) -> bool {
        let [last, _] = self.entries(dir);
        let Ok(mut file) = std::fs::File::open(last) else {
            return false;
        };
        let mut start = [0u8; 5];
        file.read_exact(&mut start).is_ok()
            && postcard::from_bytes::<HeaderStart>(&start[4..]).is_ok_and(|h| h.failed)
    }

    /// What `dir`'s stored build says of itself when everything it depended on still holds
    /// in `sources`, without decoding its objects: its failure, or its objects' ids.
    /// Asked once per run of each entry: the three prod clusters of a monorepo share their
    /// overlays, and each read and checked the same 150 entries (the states it depends on
    /// are the run's, so the answer is too, until the entry is saved again).
    pub(super) fn peek(&self, dir: &Path, sources: &FileTable) -> Option<Peeked> {
        let known = (self.peeked.lock().ok()).and_then(|m| m.get(dir.as_os_str()).cloned());
        let peeked = known.unwrap_or_else(|| {
            let peeked = self.peek_valid(dir, sources);
            if let Ok(mut m) = self.peeked.lock() {
                m.insert(dir.as_os_str().to_owned(), peeked.clone());
            }
            peeked
        });
        self.count(peeked.is_some());
        peeked
    }

    fn peek_valid(&self, dir: &Path, sources: &FileTable) -> Option<Peeked> {
        let opened = self.valid_entry(dir, sources)?;
        if !opened.header.failed {
            let mut header = opened.header;
            return Some(Peeked::Built {
                ids: std::mem::take(&mut header.ids).into(),
                plain: header.plain,
                inputs: Arc::new(header.into_inputs(BTreeSet::new())),
            });
        }
        let (header, rest) = opened.read_body()?;
        let body: Body = postcard::from_bytes(&rest).ok()?;
        let inputs = Arc::new(header.into_inputs(BTreeSet::new()));
        body.build.err().map(|e| Peeked::Failed(e, inputs))
    }

    /// `dir`'s entry whose dependencies all hold in `sources`, made the one used last.
    fn valid_entry(&self, dir: &Path, sources: &FileTable) -> Option<Opened> {
        let places = self.entries(dir);
        let (place, opened) = places.iter().enumerate().find_map(|(place, path)| {
            let opened = Opened::open(path, dir, |p, s| self.state(sources, p) == *s)?;
            let header = &opened.header;
            let holds = (header.resolved.iter())
                .all(|(from, to)| self.canonical(sources, from).as_ref() == Some(to));
            holds.then_some((place, opened))
        })?;
        if place == 1 {
            self.swap(&places);
        }
        Some(opened)
    }

    fn read_valid(
        &self,
        dir: &Path,
        sources: &FileTable,
        file_id: impl Fn(&Path) -> FileId,
    ) -> Option<Restored> {
        let opened = self.valid_entry(dir, sources)?;
        let (header, rest) = opened.read_body()?;
        let mut body: Body = postcard::from_bytes(&rest).ok()?;
        let mut ids: Vec<(u32, FileId)> = (body.files.iter())
            .map(|(old, path)| (*old, file_id(path)))
            .collect();
        ids.sort_unstable();
        let new_id = |old: FileId| match ids.binary_search_by_key(&old.0, |(o, _)| *o) {
            Ok(i) => ids[i].1,
            Err(_) => FileId::UNKNOWN,
        };
        if let Ok(built) = &mut body.build {
            for r in &mut built.resources {
                remap(r, &new_id);
            }
        }
        let inputs = header.into_inputs(ids.iter().map(|(_, id)| *id).collect());
        Some(Restored {
            result: body.build.map(|b| {
                let config = match b.config {
                    Config::Defaults => tconfig::shared_defaults(),
                    Config::Own(c) => std::sync::Arc::new(c),
                };
                (b.resources, b.vars, config)
            }),
            looked_up: body.looked_up,
            inputs,
        })
    }

    /// Stores `dir`'s build (`resources`, `vars`, `config`, or why it failed), which depended
    /// on `inputs` (their states now, in `sources`); `path_of` names the file behind each id.
    /// A build that ran Helm is not stored, nor one whose objects name a file outside its
    /// inputs.
    pub(super) fn save(
        &self,
        dir: &Path,
        build: Result<(&[Resource], &[VarEntry], &tconfig::Shared), &RenderError>,
        looked_up: bool,
        inputs: &Inputs,
        sources: &FileTable,
        path_of: impl Fn(FileId) -> Option<PathBuf>,
    ) {
        let outside = |(resources, _, _): &(&[Resource], _, _)| {
            !resources.iter().all(|r| ids_within(r, &inputs.ids))
        };
        if let Ok(mut m) = self.peeked.lock() {
            m.remove(dir.as_os_str());
        }
        if inputs.is_volatile() || build.as_ref().is_ok_and(outside) {
            return;
        }
        let (ids, plain) = match &build {
            Ok((resources, vars, config)) => (
                resources.iter().map(owned_key).collect(),
                vars.is_empty() && tconfig::is_shared_defaults(config),
            ),
            Err(_) => (Vec::new(), false),
        };
        let header = Header {
            failed: build.is_err(),
            ids,
            plain,
            dir: dir.to_owned(),
            reads: (inputs.all_reads().into_iter())
                .map(|p| {
                    let s = self.state(sources, &p);
                    (p, s)
                })
                .collect(),
            resolved: inputs.all_resolved(),
        };
        let body = BodyRef {
            files: (inputs.ids.iter())
                .filter_map(|id| path_of(*id).map(|p| (id.0, p)))
                .collect(),
            looked_up,
            build: build.map(|(resources, vars, config)| BuiltRef {
                resources,
                vars,
                config: if tconfig::is_shared_defaults(config) {
                    Config::Defaults
                } else {
                    Config::Own(&**config)
                },
            }),
        };
        if let Err(e) = self.write(dir, &header, &body) {
            self.writer.outcome.count(Err(e));
        }
    }

    /// The bytes stored under `name` for `key` by [`RenderStore::put`] (one value per name: the
    /// repository-rule results of the last input), if the key is the same.
    pub fn get(&self, name: &str, key: &[u8; 32]) -> Option<Vec<u8>> {
        value_for(&self.dir.join(name), key)
    }

    /// Stores `bytes` under `name` for `key`, replacing what was there.
    pub fn put(&self, name: &str, key: &[u8; 32], bytes: &[u8]) {
        let mut all = key.to_vec();
        all.extend_from_slice(bytes);
        if let Err(e) = self.write_file(&self.dir.join(name), &all) {
            self.writer.outcome.note_error(e);
        }
    }

    /// Writes `bytes` to `to` in the cache's directory (see [`write_atomically`]).
    fn write_file(&self, to: &Path, bytes: &[u8]) -> Result<(), String> {
        write_atomically(&self.dir, to, bytes)
    }

    /// Encodes `dir`'s entry and queues it for the writing thread.
    fn write(&self, dir: &Path, header: &Header, body: &BodyRef<'_>) -> Result<(), String> {
        // One buffer, sized for the entry at once: a cluster's (~1.7 MB for a thousand
        // objects) grew by doubling, twice (header and body), and was copied into a third.
        // Capacity it does not use is never touched.
        let objects = body.build.as_ref().map_or(0, |b| b.resources.len());
        let size = 4096 + 2048 * objects + 128 * header.reads.len();
        let mut bytes = Vec::with_capacity(size);
        bytes.extend([0; 4]);
        append(header, &mut bytes)?;
        let head_len = u32::try_from(bytes.len() - 4).map_err(|e| e.to_string())?;
        bytes[..4].copy_from_slice(&head_len.to_le_bytes());
        append(body, &mut bytes)?;
        let [to, second] = self.entries(dir);
        self.writer.write(writer::Entry { to, second, bytes });
        Ok(())
    }
}

/// Appends `value`'s postcard encoding to `bytes`.
fn append(value: &impl Serialize, bytes: &mut Vec<u8>) -> Result<(), String> {
    postcard::serialize_with_flavor(value, Appending(bytes)).map_err(|e| e.to_string())
}

/// postcard's output appended to a vector a slice at a time: its `ExtendFlavor` copied every
/// slice byte by byte (a fifth of saving a cluster's entry, in the paths and strings).
struct Appending<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Appending<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Whether every file id of `r` is unknown or one of `ids`.
fn ids_within(r: &Resource, ids: &BTreeSet<FileId>) -> bool {
    let ok = |id: &FileId| *id == FileId::UNKNOWN || ids.contains(id);
    node_ids_within(&r.node, &ok)
        && r.template_origins
            .iter()
            .all(|((f, _), (t, _))| ok(f) && ok(t))
        && r.removed_fields.iter().all(|(_, f, _)| ok(f))
}

fn node_ids_within(n: &Node, ok: &impl Fn(&FileId) -> bool) -> bool {
    ok(&n.file)
        && match &n.value {
            Value::Seq(items) => items.iter().all(|i| node_ids_within(i, ok)),
            Value::Map(entries) => entries.iter().all(|e| node_ids_within(&e.value, ok)),
            _ => true,
        }
}

/// `r` with every file id of the run that stored it replaced by this run's.
fn remap(r: &mut Resource, new_id: &impl Fn(FileId) -> FileId) {
    remap_node(&mut r.node, new_id);
    for ((f, _), (t, _)) in &mut r.template_origins {
        *f = new_id(*f);
        *t = new_id(*t);
    }
    for (_, f, _) in &mut r.removed_fields {
        *f = new_id(*f);
    }
}

fn remap_node(n: &mut Node, new_id: &impl Fn(FileId) -> FileId) {
    if n.file != FileId::UNKNOWN {
        n.file = new_id(n.file);
    }
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| remap_node(i, new_id)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|e| remap_node(&mut e.value, new_id)),
        _ => {}
    }
}

mod writer;

#[cfg(test)]
mod tests;
