//! Kustomizations parsed once. Discovery parses every kustomization to scan it, and the
//! renderer parsed each again to build it: in a whole check of the 200-app monorepo the two
//! parses were 7% of the instructions, half of it the repeat. A parse discovery made
//! without error is kept here, with the text it was made of, and the renderer takes it.
//!
//! Discovery parses with the default limits (a repeated key is an error), the renderer as
//! kustomize reads (the last of repeated keys wins): on a text without repeated keys the
//! two give the same documents, and only a parse without error is kept.

use std::sync::Arc;

use super::FileTable;
use crate::source::locked;
use crate::yaml::Document;

/// A parse and the text it was made of (which the taker's text must equal).
pub(super) type Kept = (Arc<str>, Arc<Vec<Document>>);

impl FileTable {
    /// Keeps `documents`, parsed without error from `text` (`path`'s content), for
    /// [`FileTable::take_documents`].
    pub fn keep_documents(
        &self,
        path: &std::path::Path,
        text: Arc<str>,
        documents: Arc<Vec<Document>>,
    ) {
        locked(&self.documents).insert(path.as_os_str().to_owned(), (text, documents));
    }

    /// The documents kept for `path` when they were parsed from `text`, taken (a
    /// kustomization is built once per run; another parse of it parses again).
    pub fn take_documents(&self, path: &std::path::Path, text: &str) -> Option<Arc<Vec<Document>>> {
        let (kept, documents) = locked(&self.documents).remove(path.as_os_str())?;
        (*kept == *text).then_some(documents)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::FileTable;
    use crate::yaml::{LoadLimits, parse_documents};

    #[test]
    fn documents_are_taken_once_and_only_for_the_text_they_were_parsed_from() {
        let table = FileTable::new(Path::new("/repo"), 1 << 20);
        let text: Arc<str> = Arc::from("resources: [a.yaml]\n");
        let (docs, err) = parse_documents(&text, LoadLimits::default());
        assert!(err.is_none());
        let docs = Arc::new(docs);
        let path = Path::new("/repo/app/kustomization.yaml");
        table.keep_documents(path, text.clone(), docs.clone());
        assert!(
            table
                .take_documents(Path::new("/repo/other/kustomization.yaml"), &text)
                .is_none()
        );
        let taken = table.take_documents(path, &text).expect("kept");
        assert!(Arc::ptr_eq(&taken, &docs));
        assert!(table.take_documents(path, &text).is_none(), "taken once");
        // Kept for another text (the file changed between the two reads): not given.
        table.keep_documents(path, text, docs);
        assert!(
            table
                .take_documents(path, "resources: [b.yaml]\n")
                .is_none()
        );
    }
}
