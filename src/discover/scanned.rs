//! Kustomizations scanned in a run before, by the hash of their path and text: parsing the
//! repository's kustomization files was the longest part of a warm `--changed-since`'s first
//! phase (800 files in the 200-app monorepo), and most of them do not change between runs.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use super::kustomization::{KustomizationInfo, Reference};
use crate::source::locked;

/// What [`super::scan`] gave for one kustomization (`None`: it does not parse, and its
/// rendering reports why).
pub type Scan = Option<(KustomizationInfo, Vec<Reference>)>;

/// The scans a run before kept, and this run's.
#[derive(Debug, Default)]
pub struct Scanned {
    known: HashMap<[u8; 32], Scan>,
    /// This run's scans by key, and how many of them were not known.
    used: Mutex<(HashMap<[u8; 32], Scan>, usize)>,
    /// The hashes of contents found plain, and this run's (with how many of them were not
    /// known).
    known_plain: HashSet<[u8; 32]>,
    used_plain: Mutex<(HashSet<[u8; 32]>, usize)>,
}

/// What [`Scanned::to_bytes`] writes: the scans by key, the plain contents' hashes.
type Stored = (Vec<([u8; 32], Scan)>, Vec<[u8; 32]>);

impl Scanned {
    /// The scans [`Scanned::to_bytes`] wrote (none when the bytes do not decode).
    pub fn from_bytes(bytes: &[u8]) -> Scanned {
        let (scans, plain) = postcard::from_bytes::<Stored>(bytes).unwrap_or_default();
        Scanned {
            known: scans.into_iter().collect(),
            known_plain: plain.into_iter().collect(),
            ..Scanned::default()
        }
    }

    /// Whether the manifest `path` in `table` is plain (see [`super::may_matter_elsewhere`]):
    /// known by its content's hash from a run before, or found in its text now. A file that
    /// cannot be read is not plain (its readers say why).
    pub fn is_plain(&self, table: &crate::source::FileTable, path: &Path) -> bool {
        let Ok(digest) = table.digest(path) else {
            return false;
        };
        let fresh = if self.known_plain.contains(&digest) {
            false
        } else {
            match table.text(path) {
                Ok(text) if !super::may_matter_elsewhere(&text) => true,
                _ => return false,
            }
        };
        let mut used = locked(&self.used_plain);
        used.0.insert(digest);
        used.1 += usize::from(fresh);
        true
    }

    /// The scan of `path` with `text`, from a run before or made now.
    pub fn scan(&self, path: &Path, text: &str) -> Scan {
        let digest = *blake3::hash(text.as_bytes()).as_bytes();
        // The text is given: the scan cannot fail to read it.
        self.scan_known(path, &digest, || Ok(text.into()), None)
            .unwrap_or_default()
    }

    /// The scan of the file `path` in `table`: from a run before when the table knows the
    /// file's hash without reading it (see `source::Digests`), else of its text read now.
    pub fn scan_file(
        &self,
        table: &crate::source::FileTable,
        path: &Path,
    ) -> Result<Scan, crate::source::ReadError> {
        let digest = table.digest(path)?;
        self.scan_known(path, &digest, || table.text(path), Some(table))
    }

    fn scan_known(
        &self,
        path: &Path,
        digest: &[u8; 32],
        text: impl FnOnce() -> Result<std::sync::Arc<str>, crate::source::ReadError>,
        keep: Option<&crate::source::FileTable>,
    ) -> Result<Scan, crate::source::ReadError> {
        let key =
            crate::source::hash_parts([path.as_os_str().as_encoded_bytes(), digest.as_slice()]);
        let (scan, fresh) = match self.known.get(&key) {
            Some(known) => (known.clone(), false),
            None => {
                let text = text()?;
                let scan = match keep {
                    Some(table) => super::scan_keeping(table, path, text),
                    None => super::scan(path, &text).ok(),
                };
                (scan, true)
            }
        };
        let mut used = locked(&self.used);
        used.1 += usize::from(fresh);
        used.0.insert(key, scan.clone());
        Ok(scan)
    }

    /// What to keep for the next run when this one scanned enough that is new
    /// ([`crate::source::worth_writing`]): this run's scans, and the ones before it unless
    /// they outnumber them (scans of older contents would pile up); `None` otherwise.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let used = locked(&self.used);
        let plain = locked(&self.used_plain);
        // A kustomization or two edited between runs is scanned again instead.
        if !crate::source::worth_writing(used.1 + plain.1, used.0.len() + plain.0.len()) {
            return None;
        }
        let mut scans: Vec<([u8; 32], Scan)> =
            used.0.iter().map(|(k, v)| (*k, v.clone())).collect();
        if self.known.len() <= used.0.len() {
            scans.extend(
                (self.known.iter())
                    .filter(|(k, _)| !used.0.contains_key(*k))
                    .map(|(k, v)| (*k, v.clone())),
            );
        }
        scans.sort_by_key(|(k, _)| *k);
        let mut plains: Vec<[u8; 32]> = plain.0.iter().copied().collect();
        if self.known_plain.len() <= plain.0.len() {
            plains.extend(self.known_plain.difference(&plain.0));
        }
        plains.sort_unstable();
        postcard::to_stdvec(&(scans, plains)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_scan_is_taken_back_and_only_new_ones_are_written() {
        let path = Path::new("/r/overlay/kustomization.yaml");
        let text = "resources:\n- ../base\npatches:\n- path: p.yaml\n";
        let first = Scanned::default();
        let scan = first.scan(path, text);
        assert_eq!(scan, super::super::scan(path, text).ok());
        let bytes = first.to_bytes().expect("a new scan to keep");
        let second = Scanned::from_bytes(&bytes);
        assert_eq!(second.known.len(), 1);
        assert_eq!(second.scan(path, text), scan);
        assert!(second.to_bytes().is_none(), "nothing new");
        // Another text is another key: scanned afresh.
        let edited = "resources:\n- ../other\n";
        assert_eq!(
            second.scan(path, edited),
            super::super::scan(path, edited).ok()
        );
        assert_eq!(
            Scanned::from_bytes(&second.to_bytes().expect("new"))
                .known
                .len(),
            2
        );
        // A kustomization that does not parse is kept as such.
        let broken = Scanned::default();
        assert_eq!(broken.scan(path, "resources: [\n"), None);
        assert!(
            Scanned::from_bytes(&broken.to_bytes().expect("new"))
                .known
                .contains_key(&crate::source::hash_parts([
                    path.as_os_str().as_encoded_bytes(),
                    blake3::hash(b"resources: [\n").as_bytes().as_slice()
                ]))
        );
        // Damaged bytes (or an older layout) are no scans at all.
        assert!(
            Scanned::from_bytes(&bytes[..bytes.len() / 2])
                .known
                .is_empty()
        );
    }

    #[test]
    fn plain_manifests_are_known_by_their_content_from_a_run_before() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = [
            ("deploy.yaml", "kind: Deployment\n", true),
            (
                "app.yaml",
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
                false,
            ),
            (
                "ks.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\n",
                false,
            ),
            ("crd.yaml", "kind: CustomResourceDefinition\n", false),
            ("gk.yaml", "apiVersion: templates.gatekeeper.sh/v1\n", false),
        ];
        for (name, text, _) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let table = crate::source::FileTable::new(dir.path(), 1000);
        let first = Scanned::default();
        for (name, _, plain) in files {
            assert_eq!(
                first.is_plain(&table, &dir.path().join(name)),
                plain,
                "{name}"
            );
        }
        assert!(!first.is_plain(&table, &dir.path().join("missing.yaml")));
        let second = Scanned::from_bytes(&first.to_bytes().expect("a plain file to keep"));
        assert_eq!(second.known_plain.len(), 1);
        // The same content under another name is known to be plain too: nothing new to keep.
        std::fs::write(dir.path().join("copy.yaml"), "kind: Deployment\n").expect("write");
        assert!(second.is_plain(&table, &dir.path().join("copy.yaml")));
        assert!(second.to_bytes().is_none());
    }
}
