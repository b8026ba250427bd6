//! `kgate diff --since` in place: the working tree's check gives its checks of the roots
//! that are no base of another ([`super::RootSettings::root_checks`]), and REF's check takes
//! such a root's as its own when the root renders the same at REF
//! ([`crate::render::Renderer::renders_as_theirs`]). A root's findings follow from its
//! objects, its environment and cluster, the policies, the configuration, the change's scope
//! and the definitions objects are validated against (CRDs, Gatekeeper templates): the same
//! on both sides in place with a shared graph, when no differing file may hold a definition
//! (`check_prepared` asks `repo::definitions_may_differ`). Suppressions are applied later, by
//! each side's gate, from its own files. A cluster whose overlays override what a base's
//! change set is then neither composed, finished nor checked twice.

use std::path::Path;

use super::{RootChecked, Shared, relative};

impl Shared<'_> {
    /// Root `rel` rendered (`ok`) or failed, for the other check to know.
    pub(super) fn publish_render(&self, rel: &str, ok: bool) {
        if let Some(out) = self.checks_out.filter(|_| !self.bases.contains_key(rel)) {
            out.rendered(rel, ok);
        }
    }

    /// Root `rel`'s check, for the other check to take.
    pub(super) fn publish_check(&self, rel: &str, checked: &RootChecked) {
        if let Some(out) = self.checks_out.filter(|_| !self.bases.contains_key(rel)) {
            out.checked(rel, checked.clone());
        }
    }

    /// Whether root `dir`'s check is taken from the other check's (`RootsOutcome::taken`):
    /// a root that is no base, rendered there, that renders the same here. Counted as
    /// rendered, and as failed when it failed there, as a render here would be.
    pub(super) fn take_check(&self, dir: &Path) -> bool {
        let Some(theirs) = self.checks_in else {
            return false;
        };
        let rel = relative(self.scan_root, dir);
        if self.bases.contains_key(&rel) {
            return false;
        }
        let Some(ok) = theirs.render_ok(&rel) else {
            return false;
        };
        if !self.renderer.renders_as_theirs(dir) {
            return false;
        }
        self.root_rendered(&rel, ok);
        if let Ok(mut taken) = self.taken.lock() {
            taken.insert(rel);
        }
        true
    }
}
