//! Paths made canonical as `realpath` makes them, each component's resolution remembered
//! in the table (`FileTable::canonical`).

use std::path::{Path, PathBuf};

use super::FileTable;
use crate::source::locked;

impl FileTable {
    /// `std::fs::canonicalize(path)`, remembering what it resolved: a component seen before
    /// is not asked about again. (`realpath` reads the link of every component at every call:
    /// a cluster root's references to a hundred overlays, and each cached build's resolved
    /// directories, made some 12,000 `readlink` calls in a one-app `--changed-since` run.)
    /// As `realpath`, a `..` leaves the directory a link led to, not the link, and only a
    /// directory may be followed by another component.
    pub(super) fn resolved(&self, path: &Path) -> std::io::Result<PathBuf> {
        use std::path::Component;
        const NOT_A_DIRECTORY: i32 = 20;
        let memo = || locked(&self.canonical);
        if !path.is_absolute() {
            return std::fs::canonicalize(path);
        }
        let names_dir = names_dir(path);
        let not_dir = || Err(std::io::Error::from_raw_os_error(NOT_A_DIRECTORY));
        let known = memo().get(path).cloned();
        if let Some((known, is_dir)) = known.or_else(|| self.resolved_by_bases(path)) {
            return if names_dir && !is_dir {
                not_dir()
            } else {
                Ok(known)
            };
        }
        // `dir/..`, where `dir` is known to be its own real path (no link on the way), is
        // `dir`'s parent: such a path is resolved as its lexical form, which the memo knows
        // more often (a cluster's `../../apps/x/overlays/prod` resources, one spelling per
        // cluster, all leading to the same few directories).
        if let Some(plain) = self.linkless_lexical(path) {
            let real = self.resolved(&plain)?;
            let known = memo().get(&plain).map(|(_, is_dir)| *is_dir);
            let is_dir = known.unwrap_or_else(|| real.is_dir());
            memo().insert(path.to_owned(), (real.clone(), is_dir));
            return if names_dir && !is_dir {
                not_dir()
            } else {
                Ok(real)
            };
        }
        // Most paths asked for lie in a directory resolved before: the walk starts there
        // (from the root, each component was joined and looked up again).
        let (mut at, mut is_dir, rest) =
            self.known_ancestor(path)
                .unwrap_or((PathBuf::new(), true, path));
        for component in rest.components() {
            if !is_dir {
                return not_dir();
            }
            match component {
                Component::Prefix(_) | Component::RootDir => at.push(component),
                Component::CurDir => {}
                Component::ParentDir => {
                    at.pop();
                }
                Component::Normal(name) => {
                    let next = at.join(name);
                    let known = memo().get(&next).cloned();
                    let known = known.or_else(|| self.resolved_by_bases(&next));
                    (at, is_dir) = match known {
                        Some(real) => real,
                        None => {
                            let meta = std::fs::symlink_metadata(&next)?;
                            let real = if meta.is_symlink() {
                                let real = std::fs::canonicalize(&next)?;
                                let is_dir = real.is_dir();
                                (real, is_dir)
                            } else {
                                (next.clone(), meta.is_dir())
                            };
                            memo().insert(next, real.clone());
                            real
                        }
                    };
                }
            }
        }
        memo().insert(path.to_owned(), (at.clone(), is_dir));
        if names_dir && !is_dir {
            not_dir()
        } else {
            Ok(at)
        }
    }

    /// `path` with each `..` applied lexically, when it has one and each directory a `..`
    /// leaves is known to resolve to itself (so that `realpath` leaves it for its lexical
    /// parent too); `None` otherwise.
    ///
    /// On the bytes: a one-app run asks it of ~1,600 spellings such as a cluster's
    /// `../../apps/x/overlays/prod` in the stored builds' headers, and pushing and popping
    /// `PathBuf` components was three quarters of its cost.
    #[cfg(unix)]
    pub(super) fn linkless_lexical(&self, path: &Path) -> Option<PathBuf> {
        use std::ffi::{OsStr, OsString};
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let bytes = path.as_os_str().as_bytes();
        memchr::memmem::find(bytes, b"/..")?;
        let memo = locked(&self.canonical);
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        if bytes.first() == Some(&b'/') {
            out.push(b'/');
        }
        let mut left = false;
        for name in bytes.split(|b| *b == b'/') {
            match name {
                b"" | b"." => {}
                b".." => {
                    match memo.get(Path::new(OsStr::from_bytes(&out))) {
                        Some((real, true)) if real.as_os_str().as_bytes() == out => {}
                        _ => return None,
                    }
                    // `PathBuf::pop`: `/a` to `/`, `a` to nothing, `/` and nothing stay.
                    if !out.is_empty() && out != b"/" {
                        let cut = match out.iter().rposition(|b| *b == b'/') {
                            Some(0) => 1,
                            Some(i) => i,
                            None => 0,
                        };
                        out.truncate(cut);
                        left = true;
                    }
                }
                name => {
                    if !out.is_empty() && out.last() != Some(&b'/') {
                        out.push(b'/');
                    }
                    out.extend_from_slice(name);
                }
            }
        }
        left.then(|| PathBuf::from(OsString::from_vec(out)))
    }

    /// `path` with each `..` applied lexically (see the Unix version).
    #[cfg(not(unix))]
    pub(super) fn linkless_lexical(&self, path: &Path) -> Option<PathBuf> {
        self.linkless_lexical_by_components(path)
    }

    /// [`Self::linkless_lexical`] by `Path` components: the other platforms' form, and what
    /// the Unix byte form is tested against.
    #[cfg(any(not(unix), test))]
    fn linkless_lexical_by_components(&self, path: &Path) -> Option<PathBuf> {
        use std::path::Component;
        memchr::memmem::find(path.as_os_str().as_encoded_bytes(), b"/..")?;
        let memo = locked(&self.canonical);
        let mut out = PathBuf::new();
        let mut left = false;
        for component in path.components() {
            match component {
                Component::ParentDir => match memo.get(&out) {
                    Some((real, true)) if *real == out => left |= out.pop(),
                    _ => return None,
                },
                Component::CurDir => {}
                other => out.push(other),
            }
        }
        left.then_some(out)
    }

    /// The nearest directory above `path` this table resolved before, what it resolved to,
    /// and the rest of `path` below it.
    fn known_ancestor<'p>(&self, path: &'p Path) -> Option<(PathBuf, bool, &'p Path)> {
        let memo = locked(&self.canonical);
        let mut up = path.parent();
        // The top directory is not worth it: resolving from it walks every component.
        while let Some(dir) = up.filter(|d| d.parent().is_some()) {
            if let Some((real, is_dir)) = memo.get(dir) {
                return Some((real.clone(), *is_dir, path.strip_prefix(dir).ok()?));
            }
            up = dir.parent();
        }
        None
    }
}

/// Whether `path` is spelled as a directory (`file/`, `file/.`): `components`, and so `Path`
/// equality and lexical forms, drop the trailing part, which `stat` does not.
pub(super) fn names_dir(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes.ends_with(b"/") || bytes.ends_with(b"/.")
}

#[cfg(all(test, unix))]
mod tests {
    use std::path::Path;

    use super::FileTable;
    use crate::source::locked;

    #[test]
    fn the_lexical_form_on_bytes_is_the_one_by_components() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
        let table = FileTable::new(&root, 1 << 20);
        let seen = ["clusters", "clusters/dev", "apps", "apps/a", "apps/a/base"];
        table.walked(seen.map(|p| (root.join(p), true)).to_vec(), true);
        // The root's ancestors too, so that `..` may leave the root.
        let mut up = Some(root.as_path());
        while let Some(dir) = up {
            locked(&table.canonical).insert(dir.to_path_buf(), (dir.to_path_buf(), true));
            up = dir.parent();
        }
        let r = root.display();
        let cases = [
            format!("{r}/clusters/dev/../../apps/a/base"),
            format!("{r}/clusters/dev/../../apps/a/base/"),
            format!("{r}/clusters//dev/./../../apps/./a"),
            format!("{r}/clusters/dev/.."),
            format!("{r}/clusters/dev/../.."),
            format!("{r}/clusters/dev/../../.."),
            format!("{r}/clusters/dev/../unknown/../x"),
            format!("{r}/apps/a/base/../../../clusters"),
            format!("{r}/apps/a/base"),
            format!("{r}/apps/a/base/..x/y"),
            format!("{r}/apps/a/base/x../y"),
            "/..".to_owned(),
            "/../a".to_owned(),
            "//..//a".to_owned(),
            "../a".to_owned(),
            "./a/../b".to_owned(),
            "a/../b".to_owned(),
        ];
        let mut answered = 0;
        for case in &cases {
            let path = Path::new(case);
            let ours = table.linkless_lexical(path);
            assert_eq!(ours, table.linkless_lexical_by_components(path), "{case}");
            answered += usize::from(ours.is_some());
        }
        assert!(
            answered >= 6,
            "the cases reach the lexical form: {answered}"
        );
    }
}
