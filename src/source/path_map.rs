//! A map keyed by path, hashed and compared as bytes.
//!
//! `Path`'s `Hash` walks the path byte by byte to skip separators and `.` components (so
//! that `a//b`, `a/./b` and `a/b/` hash alike, as they compare equal): ~1,100 instructions
//! for a repository file's path, 5% of a warm one-app check. The paths a check looks up
//! are nearly all spelled plainly already (`lexical`, the walk's joins); a key is the
//! path's bytes when they are ([`is_plain`]), and its components joined again when not,
//! which gives every spelling of one path one key, as `Path`'s equality does.

use std::borrow::Cow;
use std::collections::hash_map;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

type Inner<V> = std::collections::HashMap<OsString, V, foldhash::fast::RandomState>;

/// A `HashMap<PathBuf, V>` with the keys' bytes hashed (see the module's comment).
/// Iteration order is unspecified as with `HashMap`.
#[derive(Debug, Clone)]
pub struct PathMap<V>(Inner<V>);

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        PathMap(Inner::default())
    }
}

/// Whether `bytes` are the path its components give when joined again: no empty or `.`
/// component after the first, no separator at the end (but for `/` itself).
fn is_plain(bytes: &[u8]) -> bool {
    if !cfg!(unix) {
        return false;
    }
    // Looking past each separator only, found a vector at a time: a byte at a time was
    // still ~450 instructions for a repository file's absolute path.
    let n = bytes.len();
    for i in memchr::memchr_iter(b'/', bytes) {
        match bytes.get(i + 1) {
            // A separator at the end, but for `/` itself.
            None if n > 1 => return false,
            Some(b'/') => return false,
            Some(b'.') if matches!(bytes.get(i + 2), None | Some(b'/')) => return false,
            _ => {}
        }
    }
    true
}

/// The key of `path`: its bytes when they are plain, else its components joined.
fn key(path: &Path) -> Cow<'_, OsStr> {
    if is_plain(path.as_os_str().as_encoded_bytes()) {
        Cow::Borrowed(path.as_os_str())
    } else {
        Cow::Owned(path.components().collect::<PathBuf>().into_os_string())
    }
}

fn owned_key(path: PathBuf) -> OsString {
    match key(&path) {
        Cow::Borrowed(_) => path.into_os_string(),
        Cow::Owned(k) => k,
    }
}

impl<V> PathMap<V> {
    pub fn get(&self, path: &Path) -> Option<&V> {
        self.0.get(&*key(path))
    }

    pub fn get_mut(&mut self, path: &Path) -> Option<&mut V> {
        self.0.get_mut(&*key(path))
    }

    pub fn contains_key(&self, path: &Path) -> bool {
        self.0.contains_key(&*key(path))
    }

    pub fn insert(&mut self, path: PathBuf, value: V) -> Option<V> {
        self.0.insert(owned_key(path), value)
    }

    pub fn remove(&mut self, path: &Path) -> Option<V> {
        self.0.remove(&*key(path))
    }

    pub fn remove_entry(&mut self, path: &Path) -> Option<(PathBuf, V)> {
        (self.0.remove_entry(&*key(path))).map(|(k, v)| (PathBuf::from(k), v))
    }

    pub fn entry(&mut self, path: PathBuf) -> hash_map::Entry<'_, OsString, V> {
        self.0.entry(owned_key(path))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn reserve(&mut self, n: usize) {
        self.0.reserve(n);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Path, &V)> {
        self.0.iter().map(|(k, v)| (Path::new(k), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Path> {
        self.0.keys().map(Path::new)
    }
}

impl<V> Extend<(PathBuf, V)> for PathMap<V> {
    fn extend<I: IntoIterator<Item = (PathBuf, V)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

impl<V> FromIterator<(PathBuf, V)> for PathMap<V> {
    fn from_iter<I: IntoIterator<Item = (PathBuf, V)>>(items: I) -> Self {
        let mut map = PathMap::default();
        map.extend(items);
        map
    }
}

impl<V> IntoIterator for PathMap<V> {
    type Item = (PathBuf, V);
    type IntoIter =
        std::iter::Map<hash_map::IntoIter<OsString, V>, fn((OsString, V)) -> (PathBuf, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|(k, v)| (PathBuf::from(k), v))
    }
}

/// A `HashSet<PathBuf>` with the paths' bytes hashed, as [`PathMap`]'s keys are.
#[derive(Debug, Clone, Default)]
pub struct PathSet(PathMap<()>);

impl PathSet {
    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }

    /// Whether `path` was not in the set.
    pub fn insert(&mut self, path: PathBuf) -> bool {
        self.0.insert(path, ()).is_none()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Extend<PathBuf> for PathSet {
    fn extend<I: IntoIterator<Item = PathBuf>>(&mut self, items: I) {
        self.0.extend(items.into_iter().map(|p| (p, ())));
    }
}

impl FromIterator<PathBuf> for PathSet {
    fn from_iter<I: IntoIterator<Item = PathBuf>>(items: I) -> Self {
        let mut set = PathSet::default();
        set.extend(items);
        set
    }
}

impl rayon::iter::FromParallelIterator<PathBuf> for PathSet {
    fn from_par_iter<I: rayon::iter::IntoParallelIterator<Item = PathBuf>>(items: I) -> Self {
        use rayon::iter::ParallelIterator;
        let all: Vec<PathBuf> = items.into_par_iter().collect();
        all.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling `Path` holds equal is one key, and plain spellings are their bytes.
    #[test]
    fn spellings_equal_as_paths_are_one_key() {
        let spellings = [
            ("/r/a/b", "/r/a/b"),
            ("/r/a//b", "/r/a/b"),
            ("/r/a/./b", "/r/a/b"),
            ("/r/a/b/", "/r/a/b"),
            ("/r/a/b/.", "/r/a/b"),
            ("//r/a/b", "/r/a/b"),
            ("a/b", "a/b"),
            ("./a/b", "./a/b"),
            (".//a/./b/", "./a/b"),
            ("/r/a/../b", "/r/a/../b"),
            ("/", "/"),
            (".", "."),
            ("./", "."),
            ("", ""),
        ];
        let mut map = PathMap::default();
        for (spelling, plain) in spellings {
            let p = Path::new(spelling);
            assert_eq!(key(p), OsStr::new(plain), "{spelling}");
            assert_eq!(p, Path::new(plain), "{spelling}: std calls them equal too");
            assert_eq!(
                is_plain(spelling.as_bytes()),
                spelling == plain,
                "{spelling}"
            );
            map.insert(p.to_path_buf(), plain);
        }
        for (spelling, plain) in spellings {
            assert_eq!(map.get(Path::new(spelling)), Some(&plain), "{spelling}");
        }
        let distinct: std::collections::HashSet<&str> = spellings.iter().map(|s| s.1).collect();
        assert_eq!(map.len(), distinct.len());
    }

    #[test]
    fn a_map_keeps_what_a_hash_map_keeps() {
        let mut map: PathMap<u32> = [(PathBuf::from("/a/b"), 1), (PathBuf::from("/a/c/"), 2)]
            .into_iter()
            .collect();
        assert!(map.contains_key(Path::new("/a/c")));
        *map.get_mut(Path::new("/a/./b")).expect("there") += 10;
        assert_eq!(
            map.remove_entry(Path::new("/a/b")),
            Some((PathBuf::from("/a/b"), 11))
        );
        map.entry(PathBuf::from("/a/d")).or_insert(4);
        map.remove(Path::new("/a/c"));
        let mut all: Vec<(PathBuf, u32)> = map.into_iter().collect();
        all.sort();
        assert_eq!(all, vec![(PathBuf::from("/a/d"), 4)]);
    }

    #[test]
    fn a_set_holds_a_path_under_every_spelling() {
        let mut set: PathSet = [PathBuf::from("/a/b/")].into_iter().collect();
        assert!(set.contains(Path::new("/a/./b")));
        assert!(!set.insert(PathBuf::from("/a//b")));
        assert!(set.insert(PathBuf::from("/a/c")));
        assert_eq!(set.len(), 2);
    }
}
