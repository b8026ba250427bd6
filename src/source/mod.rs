//! The repository's files as the stages see them: paths relative to the scanned root, and
//! (see `FileTable`) each file read once, bounded by `limits.maxFileSize`.

mod digests;
mod path_map;
mod table;

use std::path::{Path, PathBuf};

pub use digests::{Digests, worth_writing};
pub use path_map::{PathMap, PathSet};
pub use table::{FileTable, ReadError, lexical, read_bytes_bounded, read_text_bounded};

/// A memo of answers keyed by a path's bytes: `Path`'s hash walks it byte by byte to skip
/// separators and `.` components, and a memo need not equate two spellings of one path (the
/// other spelling is asked again, and answered the same). Not for a map whose entries must be
/// found under any spelling.
pub type ByteMap<V> = std::collections::HashMap<std::ffi::OsString, V, foldhash::fast::RandomState>;

/// `m` locked. Every memo and queue guarded this way is changed by single calls, so a
/// worker that panicked while holding the lock left it consistent: a poisoned lock is still
/// usable.
pub fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The BLAKE3 hash of `parts`, each preceded by its length (so that no two different lists
/// of parts hash alike): what the render cache keys its entries and stored results by.
pub fn hash_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    *h.finalize().as_bytes()
}

/// A file under the scanned root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Path relative to the scanned root, `/`-separated: what reports print.
    pub rel: String,
    pub abs: PathBuf,
}

/// The order of `Path`'s `Ord` (component by component) for paths without empty or `.`
/// components nor a trailing separator (a walk's), found from their bytes with the separator as the lowest: sorting a
/// walk's two thousand files by component was 2.5% of a warm one-app `--changed-since`.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    // Only the first differing byte is mapped (no path holds a NUL, so the mapping keeps
    // bytes apart); the common prefix, most of two paths of one repository, is skipped eight
    // bytes at a time (the byte-mapping iterator was 9 M instructions of a one-app run).
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    let key = |c: u8| if c == b'/' { 0 } else { c };
    match (a.get(i), b.get(i)) {
        (Some(&x), Some(&y)) => key(x).cmp(&key(y)),
        _ => a.len().cmp(&b.len()),
    }
}

/// `path` relative to `root`, with `/` separators. A path outside `root` (a base an overlay
/// under the scanned directory pulls in from elsewhere in the repository) gets `../` steps.
pub fn relative(root: &Path, path: &Path) -> String {
    relative_str(root, path).into_owned()
}

/// [`relative`], borrowed from `path` when it is plainly under `root` (the usual case).
pub fn relative_str<'a>(root: &Path, path: &'a Path) -> std::borrow::Cow<'a, str> {
    match plainly_under(root, path) {
        Some(rest) => std::borrow::Cow::Borrowed(rest),
        None => std::borrow::Cow::Owned(relative_by_components(root, path)),
    }
}

/// The part of `path` after `root` when it is already what [`relative`] makes of it: valid
/// UTF-8 without an empty, `.` or `..` component (a walked path under the root always is).
/// Walking the components was most of `relative`'s time, and it runs for every file,
/// reference and rendered object of a repository.
#[cfg(unix)]
fn plainly_under<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    let root = root.as_os_str().as_encoded_bytes();
    if root.is_empty() {
        return None;
    }
    let rest = path.as_os_str().as_encoded_bytes().strip_prefix(root)?;
    let rest = if root.ends_with(b"/") {
        rest
    } else {
        rest.strip_prefix(b"/")?
    };
    let rest = std::str::from_utf8(rest).ok()?;
    let plain = !rest.is_empty() && rest.split('/').all(|c| !matches!(c, "" | "." | ".."));
    plain.then_some(rest)
}

#[cfg(not(unix))]
fn plainly_under<'a>(_root: &Path, _path: &'a Path) -> Option<&'a str> {
    None
}

/// [`relative`] by the paths' components.
fn relative_by_components(root: &Path, path: &Path) -> String {
    // Most paths are under the root: their components after it, without the general case's
    // allocation per component (this runs for every file and reference of a repository).
    if let Ok(rest) = path.strip_prefix(root) {
        let mut out = String::new();
        for c in rest.components() {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&c.as_os_str().to_string_lossy());
        }
        if out.is_empty() {
            out.push('.');
        }
        return out;
    }
    let names = |p: &Path| -> Vec<String> {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    let (r, p) = (names(root), names(path));
    let common = r.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let parts: Vec<String> = if common == 0 && !r.is_empty() && path.is_relative() {
        p
    } else {
        std::iter::repeat_n("..".to_owned(), r.len() - common)
            .chain(p[common..].iter().cloned())
            .collect()
    };
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::{path_order, relative, relative_by_components};
    use std::path::Path;

    /// A walk's paths sort by their bytes, the separator lowest, as `Path` sorts them.
    #[test]
    fn walked_paths_sort_as_paths_do() {
        let paths = [
            "/r/a",
            "/r/a/b",
            "/r/a.b",
            "/r/a-b",
            "/r/a/b.yaml",
            "/r/a/b/c",
            "/r/a.b/c",
            "/r/ab",
            "/r/A",
            "/r/a0",
            "/r",
            "/r/é",
            "/r/e/z",
            "/r/e.z",
            "/s",
            "/tmp/mono/apps/svc-0007/base/deployment.yaml",
            "/tmp/mono/apps/svc-0007/base/kustomization.yaml",
            "/tmp/mono/apps/svc-0007/base",
            "/tmp/mono/apps/svc-0007-base",
            "/tmp/mono/apps/svc-0007.base/x",
            "/tmp/mono/apps/svc-00070/base",
            "/tmp/mono/apps/svc-0007/overlays/prod/kustomization.yaml",
        ];
        for a in paths {
            for b in paths {
                let (a, b) = (Path::new(a), Path::new(b));
                assert_eq!(path_order(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    /// The plain paths' shortcut says what the components say, wherever it applies.
    #[test]
    fn the_shortcut_agrees_with_the_components() {
        let roots = ["/repo", "/repo/", "/", ".", "", "/repo/apps", "repo", "/re"];
        let paths = [
            "/repo/apps/a/kustomization.yaml",
            "/repo",
            "/repo/",
            "/repo/apps//a",
            "/repo/./a",
            "/repo/a/.",
            "/repo/a/../b",
            "/repository/x",
            "/repo/apps/a",
            "/x/y",
            "./a/b",
            "a/b",
            "repo/a",
            "/repo/ü/x.yaml",
        ];
        for root in roots {
            for path in paths {
                let (root, path) = (Path::new(root), Path::new(path));
                assert_eq!(
                    relative(root, path),
                    relative_by_components(root, path),
                    "{root:?} {path:?}"
                );
            }
        }
    }

    #[test]
    fn relative_paths_inside_and_outside_the_root() {
        let cases = [
            (
                "/repo",
                "/repo/apps/a/kustomization.yaml",
                "apps/a/kustomization.yaml",
            ),
            ("/repo", "/repo", "."),
            ("/repo/", "/repo/apps//a/./b", "apps/a/b"),
            ("/repo/apps", "/repo/bases/x", "../bases/x"),
            ("/repo/apps/a", "/other", "../../../other"),
            (".", "./a/b", "a/b"),
            ("/repo", "a/b", "a/b"),
        ];
        for (root, path, want) in cases {
            assert_eq!(
                relative(Path::new(root), Path::new(path)),
                want,
                "{root} {path}"
            );
        }
    }
}
