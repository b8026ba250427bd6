//! Kustomizations scanned in a run before, by the hash of their path and text: parsing the
//! repository's kustomization files was the longest part of a warm `--changed-since`'s first
//! phase (800 files in the 200-app monorepo), and most of them do not change between runs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use super::kustomization::{KustomizationInfo, Reference};

/// What [`super::scan`] gave for one kustomization (`None`: it does not parse, and its
/// rendering reports why).
pub type Scan = Option<(KustomizationInfo, Vec<Reference>)>;

/// The scans a run before kept, and this run's.
#[derive(Debug, Default)]
pub struct Scanned {
    known: HashMap<[u8; 32], Scan>,
    /// This run's scans by key, and how many of them were not known.
    used: Mutex<(HashMap<[u8; 32], Scan>, usize)>,
}

impl Scanned {
    /// The scans [`Scanned::to_bytes`] wrote (none when the bytes do not decode).
    pub fn from_bytes(bytes: &[u8]) -> Scanned {
        Scanned {
            known: postcard::from_bytes::<Vec<([u8; 32], Scan)>>(bytes)
                .map(|v| v.into_iter().collect())
                .unwrap_or_default(),
            used: Mutex::default(),
        }
    }

    /// The scan of `path` with `text`, from a run before or made now.
    pub fn scan(&self, path: &Path, text: &str) -> Scan {
        let key = crate::source::hash_parts([path.as_os_str().as_encoded_bytes(), text.as_bytes()]);
        let (scan, fresh) = match self.known.get(&key) {
            Some(known) => (known.clone(), false),
            None => (super::scan(path, text).ok(), true),
        };
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        used.1 += usize::from(fresh);
        used.0.insert(key, scan.clone());
        scan
    }

    /// What to keep for the next run when this one scanned something new: this run's scans,
    /// and the ones before it unless they outnumber them (scans of older contents would pile
    /// up); `None` when there is nothing new.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let used = self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.1 == 0 {
            return None;
        }
        let mut all: Vec<(&[u8; 32], &Scan)> = used.0.iter().collect();
        if self.known.len() <= used.0.len() {
            all.extend(self.known.iter().filter(|(k, _)| !used.0.contains_key(*k)));
        }
        all.sort_by_key(|(k, _)| *k);
        postcard::to_stdvec(&all).ok()
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
                    b"resources: [\n"
                ]))
        );
        // Damaged bytes are no scans at all.
        assert!(
            Scanned::from_bytes(&bytes[..bytes.len() / 2])
                .known
                .is_empty()
        );
    }
}
