//! REF's tree's paths for `kgate diff --since`'s in-place check (`pr_diff_ref`): what tells
//! an ignored file on disk, which git no longer lists, from one REF's checkout has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::source::FileTable;

/// The paths of REF's tree, files and the directories holding them, from the top level: a
/// path on disk outside them (and not added or untracked, which are hidden) is an ignored
/// one, absent at REF.
#[derive(Debug, Default)]
pub(super) struct RefPaths {
    top: PathBuf,
    paths: std::collections::HashSet<Box<[u8]>, foldhash::fast::RandomState>,
    /// Its directories (the top as `""`).
    dirs: Vec<Box<[u8]>>,
}

impl RefPaths {
    /// From `git ls-tree -r -z` output.
    pub(super) fn of(top: &Path, tree: &[u8]) -> RefPaths {
        let mut paths = std::collections::HashSet::with_hasher(Default::default());
        let mut dirs: Vec<Box<[u8]>> = vec![Box::from(&b""[..])];
        for entry in tree.split(|b| *b == 0) {
            let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
                continue;
            };
            let mut path = &entry[tab + 1..];
            let mut file = true;
            while paths.insert(Box::<[u8]>::from(path)) {
                if !file {
                    dirs.push(Box::from(path));
                }
                file = false;
                match path.iter().rposition(|b| *b == b'/') {
                    Some(slash) => path = &path[..slash],
                    None => break,
                }
            }
        }
        RefPaths {
            top: top.to_owned(),
            paths,
            dirs,
        }
    }

    /// Whether `path` (absolute, lexical) is outside the top level, the top itself, in
    /// REF's tree, or git's own directory.
    fn has(&self, path: &Path) -> bool {
        // By bytes: `Path::strip_prefix` compares component by component.
        let (path, top) = (
            path.as_os_str().as_encoded_bytes(),
            self.top.as_os_str().as_encoded_bytes(),
        );
        let Some(rel) = path.strip_prefix(top) else {
            return true;
        };
        let Some(rel) = rel.strip_prefix(b"/") else {
            // The top itself, or a sibling sharing its name's start (`/repo-other`).
            return true;
        };
        rel.is_empty() || rel == b".git" || rel.starts_with(b".git/") || self.paths.contains(rel)
    }

    /// Whether a directory of REF's tree holds, on disk, an ignore file (git's or the walk's
    /// `.ignore`) that REF's tree has not: an ignored one (an untracked one that is not is
    /// among git's untracked paths), which would make the walk skip what REF's checkout
    /// lists. A `stat` of two names per directory (2,400 on the 200-app benchmark), where
    /// git's listing of ignored paths walked the whole work tree.
    pub(super) fn ignore_file_ref_lacks(&self) -> bool {
        (self.dirs.iter()).any(|dir| [".gitignore", ".ignore"].iter().any(|n| self.lacks(dir, n)))
    }

    /// Whether a directory of REF's tree holding one of `changed` (paths from the top
    /// level) holds, on disk, an attributes file REF's tree has not (an ignored one): git
    /// would convert REF's contents of those files by it, as REF's checkout would not.
    pub(super) fn attributes_ref_lacks<'p>(
        &self,
        changed: impl Iterator<Item = &'p String>,
    ) -> bool {
        let mut dirs = BTreeSet::new();
        for path in changed {
            let mut rest = path.as_str();
            while let Some((dir, _)) = rest.rsplit_once('/') {
                dirs.insert(dir);
                rest = dir;
            }
            dirs.insert("");
        }
        (dirs.into_iter())
            .filter(|d| d.is_empty() || self.paths.contains(d.as_bytes()))
            .any(|d| self.lacks(d.as_bytes(), ".gitattributes"))
    }

    /// Whether `name` in REF's directory `dir` (from the top level) is on disk but not in
    /// REF's tree.
    fn lacks(&self, dir: &[u8], name: &str) -> bool {
        let rel = match dir.is_empty() {
            true => name.as_bytes().to_vec(),
            false => [dir, b"/", name.as_bytes()].concat(),
        };
        // (A name git gives that is not UTF-8 is not looked up: counted as there.)
        !self.paths.contains(&rel[..])
            && std::str::from_utf8(&rel).map_or(true, |r| {
                std::fs::symlink_metadata(self.top.join(r)).is_ok()
            })
    }

    /// Whether a file either table touched ([`FileTable::any_file_touched`]) is
    /// [`RefPaths::stray`].
    pub(super) fn any_stray(&self, tables: &[&FileTable], hidden: &[PathBuf]) -> bool {
        (tables.iter()).any(|t| t.any_file_touched(|p| self.stray(p, hidden)))
    }

    /// Whether `path` (absolute, found on disk by a check) is one REF's tree has not and no
    /// path of `hidden` holds: an ignored file a check read, or saw existing (the walk's
    /// finds included), that REF's checkout would not have.
    fn stray(&self, path: &Path, hidden: &[PathBuf]) -> bool {
        // Lexical already, but for a reference's spelling (`../base/x.yaml`).
        let bytes = path.as_os_str().as_encoded_bytes();
        let spelled = bytes
            .windows(3)
            .any(|w| w == b"/./" || w == b"/.." || w == b"//")
            || bytes.ends_with(b"/.");
        let path = match spelled {
            true => std::borrow::Cow::Owned(crate::source::lexical(path)),
            false => std::borrow::Cow::Borrowed(path),
        };
        !self.has(&path) && !hidden.iter().any(|h| path.starts_with(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// REF's paths are its files and the directories holding them; what a check touched
    /// that they lack (an ignored file: not added or untracked, which are hidden) is told,
    /// as is an ignore file on disk in one of REF's directories that REF's tree has not.
    #[test]
    fn refs_paths_tell_ignored_files_touched_and_ignore_files_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path();
        for d in ["apps/a/base", "apps/b", "build"] {
            std::fs::create_dir_all(top.join(d)).expect("dir");
        }
        let tree = b"100644 blob c\tapps/a/base/k.yaml\x00100644 blob d\tapps/b/.gitignore\0";
        let paths = RefPaths::of(top, tree);
        for known in [
            "apps/a/base/k.yaml",
            "apps/a/base",
            "apps/a",
            "apps",
            "apps/b/.gitignore",
        ] {
            assert!(paths.has(&top.join(known)), "{known}");
        }
        assert!(paths.has(top) && paths.has(&top.join(".git/index")));
        assert!(paths.has(Path::new("/elsewhere/x.yaml")));
        assert!(!paths.has(&top.join("apps/a/base/secret.local.yaml")));
        assert!(!paths.has(&top.join("apps/a/bas")));
        let touched = [
            top.join("apps/a/base/k.yaml"),
            top.join("apps/a/base/../base/secret.local.yaml"),
            top.join("build/out.yaml"),
            top.join("new/x.yaml"),
        ];
        // `new/` hidden already (untracked or added).
        let hidden = [top.join("new")];
        let strays: Vec<&PathBuf> = touched.iter().filter(|p| paths.stray(p, &hidden)).collect();
        assert_eq!(strays, [&touched[1], &touched[2]]);
        assert!(!paths.stray(&top.join("apps/./a/base/k.yaml"), &hidden));
        let sibling = PathBuf::from(format!("{}-other", top.display()));
        assert!(paths.has(&sibling.join("x.yaml")));
        // Ignore files: REF's own is there; one in `build/` (not REF's directory) is not
        // looked for; one in `apps/a/base` is, as is one at the top.
        std::fs::write(top.join("apps/b/.gitignore"), "x\n").expect("write");
        std::fs::write(top.join("build/.gitignore"), "*\n").expect("write");
        assert!(!paths.ignore_file_ref_lacks());
        std::fs::write(top.join("apps/a/base/.ignore"), "*\n").expect("write");
        assert!(paths.ignore_file_ref_lacks());
        std::fs::remove_file(top.join("apps/a/base/.ignore")).expect("remove");
        std::fs::write(top.join(".gitignore"), "*\n").expect("write");
        assert!(paths.ignore_file_ref_lacks());
        // Attributes over a changed file only.
        let changed = ["apps/a/base/k.yaml".to_owned()];
        assert!(!paths.attributes_ref_lacks(changed.iter()));
        std::fs::write(top.join("apps/b/.gitattributes"), "* text\n").expect("write");
        assert!(!paths.attributes_ref_lacks(changed.iter()));
        std::fs::write(top.join("apps/.gitattributes"), "* text\n").expect("write");
        assert!(paths.attributes_ref_lacks(changed.iter()));
    }
}
