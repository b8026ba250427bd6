//! What a check hands to another check of the same change that runs beside it (`kgate diff
//! --since`'s REF side, checked in the working tree's paths): its memo once every root is
//! rendered, with what it worked out of its roots.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

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
