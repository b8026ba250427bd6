//! A base's findings of the rules across objects: a base alone lacks what its overlays add,
//! so they are kept only where no root using the base renders.

use std::collections::{BTreeMap, BTreeSet};

use super::Shared;
use crate::model::Finding;

/// Whether `base` is already known to be covered (`covered_by`) when every root is done: by
/// a user that rendered (or that this check does not render), and is no base or is itself
/// surely covered. Roots are checked costliest first, so a base's users are mostly done
/// when it is.
pub(super) fn surely_covered(s: &Shared<'_>, base: &str) -> bool {
    let (Ok(done), Ok(failed)) = (s.done.lock(), s.failed.lock()) else {
        return false;
    };
    // A user this check does not render counts as rendered, as in `kept_base_findings`.
    let rendered =
        |user: &str| (!s.rendering.contains(user) || done.contains(user)) && !failed.contains(user);
    covered_by(base, s.bases, &rendered, &mut BTreeSet::new())
}

/// Whether a rendered root covers the base `base`: a node using it rendered (`rendered`) and
/// is deployed itself or a covered base. A base whose every user fails to render is checked
/// alone rather than not at all.
fn covered_by(
    base: &str,
    bases: &BTreeMap<String, Vec<String>>,
    rendered: &dyn Fn(&str) -> bool,
    seen: &mut BTreeSet<String>,
) -> bool {
    if !seen.insert(base.to_owned()) {
        return false;
    }
    bases.get(base).into_iter().flatten().any(|user| {
        rendered(user) && (!bases.contains_key(user) || covered_by(user, bases, rendered, seen))
    })
}

/// The set-aside root-scope findings of the bases no rendered root covers (`covered_by`).
pub(super) fn kept_base_findings(s: &Shared<'_>) -> Vec<Finding> {
    let failed = s.failed.lock().map(|f| f.clone()).unwrap_or_default();
    let set_aside = s
        .base_findings
        .lock()
        .map(|mut b| std::mem::take(&mut *b))
        .unwrap_or_default();
    set_aside
        .into_iter()
        .filter(|(base, _)| {
            !covered_by(
                base,
                s.bases,
                &|u| !failed.contains(u),
                &mut BTreeSet::new(),
            )
        })
        .flat_map(|(_, f)| f)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A base is covered through a user that rendered and is deployed, or through a chain of
    /// bases ending at one; while that user is not done (`surely_covered`'s predicate), the
    /// base is not known to be covered, and its rules across objects run.
    #[test]
    fn a_base_is_covered_through_rendered_users() {
        let bases: BTreeMap<String, Vec<String>> = [
            ("base".to_owned(), vec!["overlay".to_owned()]),
            (
                "overlay".to_owned(),
                vec!["cluster-a".to_owned(), "cluster-b".to_owned()],
            ),
        ]
        .into();
        let covered = |rendered: &[&str]| {
            covered_by(
                "base",
                &bases,
                &|u| rendered.contains(&u),
                &mut BTreeSet::new(),
            )
        };
        assert!(covered(&["overlay", "cluster-b"]));
        assert!(!covered(&["overlay"]), "no deployed user rendered yet");
        assert!(!covered(&["cluster-a", "cluster-b"]), "the overlay failed");
    }
}
