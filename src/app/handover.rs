//! What a check hands to another check of the same change that runs beside it (`kgate diff
//! --since`'s REF side, checked in the working tree's paths): its memo once every root is
//! rendered, with what it worked out of its roots.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::model::Finding;

/// How far a check that hands its memo over is in its renders
/// ([`super::roots::RootSettings::on_rendered`]).
pub enum Rendering {
    /// One root (of two or more) is left to render: the memo comes soon. With the counts of
    /// the builds REF's render asks for, when the working tree's side counted them
    /// (`build_uses::expected_builds_then_ref`).
    OneLeft(Option<crate::source::PathMap<usize>>),
    /// Every root is rendered: the memo, handed over.
    Done(RendersDone),
}

/// What a check works out of its roots before rendering them: the same for another check of
/// the same discovery, graph and selection, which takes it rather than working it out again
/// on its serial path (REF's side of `kgate diff --since` checked in place, ~2 ms).
#[derive(Clone, Default)]
pub struct RootsPlan {
    /// Roots that are only bases of other roots, with their users (`RepoGraph::bases`).
    pub bases: Arc<BTreeMap<String, Vec<String>>>,
    /// What the object scope found of the change (`ObjectScope::known`), with
    /// `--changed-since`.
    pub scope: Option<Arc<super::object_scope::ScopeKnown>>,
    /// The kustomization roots, costliest first (`schedule::costliest_first`), once ordered.
    pub order: Arc<OnceLock<Vec<usize>>>,
}

/// What a check's renders leave for another check once every root is rendered
/// ([`super::roots::RootSettings::on_rendered`]).
pub struct RendersDone {
    /// What the check worked out of its roots.
    pub plan: RootsPlan,
    /// The renderer's memo (see [`super::roots::RootsOutcome::memo`]).
    pub memo: crate::render::Memo,
    /// How many times Helm ran (it reads the disk: the other check cannot reuse).
    pub helm_runs: usize,
    /// The check's file table.
    pub sources: Arc<crate::source::FileTable>,
    /// The render cache.
    pub store: Option<Arc<crate::render::RenderStore>>,
}

/// The working tree's checks of its kustomization roots that are no base of another, for
/// REF's side checked in place, which takes a root's check as its own when the root renders
/// the same at REF (`Renderer::renders_as_theirs`: its build reads the changed files only
/// through builds that come out the same, as when every overlay overrides what a base's
/// change set). Whether each root rendered is known once every root is rendered, before
/// REF's side starts; the findings as each root is checked, beside REF's side.
#[derive(Default)]
pub struct RootChecks {
    state: Mutex<RootChecksState>,
    ready: Condvar,
}

#[derive(Default)]
struct RootChecksState {
    rendered: HashMap<String, bool>,
    checked: HashMap<String, RootChecked>,
    ended: bool,
}

/// A root's check: its findings (before they are merged across roots and gated), how many
/// objects it rendered and how many of them the change can affect.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RootChecked {
    pub findings: Vec<Finding>,
    pub objects: usize,
    pub affected: usize,
}

impl RootChecked {
    /// A root that did not render: its one finding says why.
    pub fn failed(finding: Finding) -> RootChecked {
        RootChecked {
            findings: vec![finding],
            ..RootChecked::default()
        }
    }
}

impl RootChecks {
    /// Root `root` rendered (`ok`) or failed to.
    pub fn rendered(&self, root: &str, ok: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.rendered.insert(root.to_owned(), ok);
        }
    }

    /// Whether root `root` rendered, when it was rendered.
    pub fn render_ok(&self, root: &str) -> Option<bool> {
        self.state.lock().ok()?.rendered.get(root).copied()
    }

    /// Root `root`'s check.
    pub fn checked(&self, root: &str, checked: RootChecked) {
        if let Ok(mut s) = self.state.lock() {
            s.checked.insert(root.to_owned(), checked);
        }
        self.ready.notify_all();
    }

    /// No more checks will be given (the check is over, however it ended).
    pub fn end(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.ended = true;
        }
        self.ready.notify_all();
    }

    /// The checks of `roots` (taken out), once every one is given; `None` when the check
    /// ended without one of them. Waited for on a thread of no worker pool: the checks
    /// waited for are made by the pool's workers.
    pub fn wait_for(&self, roots: &BTreeSet<String>) -> Option<Vec<RootChecked>> {
        let mut s = self.state.lock().ok()?;
        while !s.ended && !roots.iter().all(|r| s.checked.contains_key(r)) {
            s = self.ready.wait(s).ok()?;
        }
        roots.iter().map(|r| s.checked.remove(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(objects: usize) -> RootChecked {
        RootChecked {
            objects,
            ..RootChecked::default()
        }
    }

    /// REF's side waits for the roots' checks it takes until every one is given, or the
    /// working tree's check is over: never forever.
    #[test]
    fn root_checks_are_waited_for_until_all_are_given_or_the_check_ends() {
        let roots: BTreeSet<String> = ["a", "b"].map(String::from).into();
        let checks = RootChecks::default();
        checks.rendered("a", true);
        checks.rendered("b", false);
        assert_eq!(checks.render_ok("a"), Some(true));
        assert_eq!(checks.render_ok("b"), Some(false));
        assert_eq!(checks.render_ok("c"), None);
        let got = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| checks.wait_for(&roots));
            checks.checked("a", checked(1));
            std::thread::sleep(std::time::Duration::from_millis(20));
            checks.checked("c", checked(3));
            checks.checked("b", checked(2));
            waiter.join().expect("waiter")
        });
        assert_eq!(got, Some(vec![checked(1), checked(2)]));
        let ended = RootChecks::default();
        let got = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| ended.wait_for(&roots));
            ended.checked("a", checked(1));
            std::thread::sleep(std::time::Duration::from_millis(20));
            ended.end();
            waiter.join().expect("waiter")
        });
        assert_eq!(got, None);
    }
}
