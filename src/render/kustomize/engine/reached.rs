//! Early cutoff for `kgate diff --since`: the working tree's renderer keeps its builds that
//! read a changed file ([`Renderer::keeping_reached`]), and REF's renderer, which reuses its
//! memo, takes such a build as its own when REF's would come out the same (a base's change
//! that every overlay overrides leaves the clusters that include them as they were, and a
//! cluster failing at an overlay the change does not reach fails the same way).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Accumulated, Built, Renderer, memo};
use crate::render::RenderError;
use crate::render::kustomize::memo::{Inputs, Use};
use crate::render::kustomize::openapi;
use crate::yaml::Pos;

impl Renderer {
    /// Keeps `dir`'s build, when it read a changed file ([`Renderer::keeping_reached`]), for
    /// the renderer that reuses this one's memo next: its inputs, and its result (returned,
    /// for the memo to share) unless only a root's render uses it (built for no referrer,
    /// with no use to come): a cluster's thousand objects are not copied for nothing. A
    /// failure is always kept (it is small, and a cluster failing at another overlay than
    /// the changed ones fails the same way on the other side).
    pub(super) fn keep_reached(
        &self,
        dir: &Path,
        (result, looked_up): (&Result<Accumulated, RenderError>, bool),
        from: Option<(&Path, Pos)>,
        this_use: Use,
        inputs: &Arc<Inputs>,
    ) -> Option<Built> {
        let (changed, reached) = self.reached.as_ref()?;
        if !inputs.read_any(changed) {
            return None;
        }
        let used_by_another = from.is_some() || this_use != Use::Last;
        let built = (used_by_another || result.is_err()).then(|| Arc::new(result.clone()));
        if let Ok(mut r) = reached.lock() {
            r.insert(
                dir.to_owned(),
                (built.clone(), looked_up, Arc::clone(inputs)),
            );
        }
        built
    }

    /// Keeps `dir`'s build (restored or built) for the renderer that reuses this one's memo
    /// next when it read a changed file (`keep_reached`), and in the memo for its users to
    /// come unless this is its last use (sharing the result kept for the other renderer).
    pub(super) fn keep_build(
        &self,
        dir: &Path,
        (result, looked_up): (&Result<Accumulated, RenderError>, bool),
        from: Option<(&Path, Pos)>,
        this_use: Use,
        inputs: Arc<Inputs>,
    ) {
        let kept = self.keep_reached(dir, (result, looked_up), from, this_use, &inputs);
        if this_use != Use::Last {
            let built = kept.unwrap_or_else(|| Arc::new(result.clone()));
            self.remember_built(dir, built, looked_up, inputs);
        }
    }

    /// The other renderer's build of `dir` ([`Renderer::with_memo`]), which read a file
    /// whose content differs here, when this renderer's would be the same: `dir`'s build is
    /// a function of what it reads itself and of the results of the builds it uses (what
    /// the memo's reuse already rests on). So when it read no differing file itself and
    /// each build it used that read one comes out equal here (built here, as its users
    /// will ask for it anyway), its result is this renderer's too, with those builds'
    /// inputs in place of theirs. `None`: build as usual.
    pub(super) fn cut_off(
        &self,
        dir: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Option<(Built, bool, Arc<Inputs>)> {
        let (_, theirs) = self.theirs.as_ref()?;
        let (Some(built), looked_up, inputs) = theirs.get(dir)? else {
            return None;
        };
        let (reading, ours) = self.comes_out_same(dir, inputs, stack)?;
        #[cfg(test)]
        CUT_OFF.with(|c| c.set(c.get() + 1));
        let inputs = Arc::new(inputs.with_nested_from(&reading, ours));
        Some((Arc::clone(built), *looked_up, inputs))
    }

    /// Whether the root `dir` renders here as it rendered for the other renderer
    /// ([`Renderer::with_memo`]), which built it, reading a file whose content differs here:
    /// a render is its build's result through the top-level steps its own kustomization
    /// names, so it is the same when its build comes out the same ([`Renderer::cut_off`]'s
    /// test). Asked of a root only the other renderer's render used, whose result it did not
    /// keep (a cluster's thousand objects): the caller takes that render's outcome instead
    /// (`kgate diff --since` takes the working tree's checks of the root).
    pub fn renders_as_theirs(&self, dir: &Path) -> bool {
        let Some((_, theirs)) = self.theirs.as_ref() else {
            return false;
        };
        let Ok(dir) = self.canonical_dir(dir, dir, Pos::default()) else {
            return false;
        };
        let Some((_, _, inputs)) = theirs.get(&dir) else {
            return false;
        };
        openapi::begin_build();
        let Some((_, ours)) = self.comes_out_same(&dir, inputs, &mut Vec::new()) else {
            return false;
        };
        #[cfg(test)]
        CUT_OFF.with(|c| c.set(c.get() + 1));
        // Its files count as read here, as a render would have read them
        // (`Renderer::files_read`: a check leaves them out of its plain manifests).
        self.use_ids(inputs.ids.iter().chain(&ours.ids).copied());
        true
    }

    /// Whether `dir`'s build here, which read what `inputs` (the other renderer's) names,
    /// comes out as the other renderer's: it read no differing file itself, and each build
    /// it used that read one is built here (as its users will ask for it anyway) and comes
    /// out equal. With which of its used builds were built here, and their inputs here.
    fn comes_out_same(
        &self,
        dir: &Path,
        inputs: &Inputs,
        stack: &mut Vec<PathBuf>,
    ) -> Option<(Vec<bool>, Inputs)> {
        let (differing, theirs) = self.theirs.as_ref()?;
        if inputs.is_volatile() || inputs.reads_itself_any(differing) {
            return None;
        }
        // What the attempt builds must not leave its mark on the build under way (a custom
        // schema set by a nested build): the state is put back whatever the outcome.
        let state = openapi::build_state();
        stack.push(dir.to_owned());
        // Which builds it used read a differing file (asked once for both uses below).
        let reading: Vec<bool> = (inputs.nested().iter())
            .map(|n| n.read_any(differing))
            .collect();
        let (same, ours) = memo::recording_apart(None, || {
            let nested = inputs.nested().iter().zip(&reading);
            nested.filter(|(_, r)| **r).all(|(nested, _)| {
                let Some(sub) = nested.dir() else {
                    return false;
                };
                let Some((Some(their_sub), their_looked_up, _)) = theirs.get(sub) else {
                    return false;
                };
                if stack.iter().any(|d| d == sub) {
                    return false;
                }
                let before = openapi::build_state();
                // Asked as no counted use (the users to come take it from the memo), and
                // from nowhere, so that a failure located at a referrer is neither kept nor
                // equal to theirs.
                let ours = self.accumulate_as(
                    sub,
                    stack,
                    Some((Path::new(""), Pos::default())),
                    Use::Unknown,
                );
                let after = openapi::build_state();
                let our_looked_up = after.builtin_lookups > before.builtin_lookups;
                !after.has_custom() && our_looked_up == *their_looked_up && ours == **their_sub
            })
        });
        stack.pop();
        openapi::restore_build(state);
        same.then_some((reading, ours))
    }
}

#[cfg(test)]
thread_local! {
    /// How many builds this thread's renderers took from the other renderer (for the tests).
    static CUT_OFF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use crate::render::Renderer;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    const BASE: &str = "apps/a/base/deployment.yaml";

    fn deployment(replicas: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: {replicas}\n"
        )
    }

    /// A repository whose base `apps/a/base` has two overlays, one that sets the replicas and
    /// one that does not, under three clusters: one failing at a broken overlay after the
    /// overriding one, one nesting a group of the overriding overlay (and a file of its own),
    /// and one of the other.
    fn repo() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let w = |rel: &str, text: &str| write(&root, rel, text);
        w(
            "apps/a/base/kustomization.yaml",
            "resources:\n- deployment.yaml\n",
        );
        w(BASE, &deployment("3"));
        w(
            "apps/a/sets/kustomization.yaml",
            "resources:\n- ../base\nreplicas:\n- name: a\n  count: 5\n",
        );
        w(
            "apps/a/keeps/kustomization.yaml",
            "resources:\n- ../base\nnamePrefix: k-\n",
        );
        w(
            "apps/broken/kustomization.yaml",
            "resources:\n- missing.yaml\n",
        );
        w(
            "clusters/failing/kustomization.yaml",
            "resources:\n- ../../apps/a/sets\n- ../../apps/broken\n",
        );
        w("group/kustomization.yaml", "resources:\n- ../apps/a/sets\n");
        w(
            "clusters/nesting/kustomization.yaml",
            "resources:\n- ../../group\n- extra.yaml\ncommonLabels:\n  c: x\n",
        );
        w(
            "clusters/nesting/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
        );
        w(
            "clusters/other/kustomization.yaml",
            "resources:\n- ../../apps/a/keeps\n- ../../group\n",
        );
        (dir, root)
    }

    const ROOTS: [&str; 3] = ["clusters/failing", "clusters/nesting", "clusters/other"];

    type Render = Result<Vec<String>, String>;

    fn shown(r: &Renderer, root: &Path, dir: &str) -> Render {
        r.render(&root.join(dir))
            .map(|rs| {
                rs.iter()
                    .map(|r| crate::render::kustomize::emit::emit_document(&r.node))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    /// The working tree's renders (the base as `working`), then REF's (the base as `at_ref`)
    /// reusing its memo: REF's renders, how many builds REF took as the working tree's, and
    /// what a renderer of its own renders at REF.
    fn both_sides(working: &str, at_ref: &str) -> (Vec<Render>, usize, Vec<Render>) {
        both_sides_with(&[(BASE, working, at_ref)])
    }

    /// [`both_sides`] with each of `changes` (file, working tree's text, REF's text).
    fn both_sides_with(changes: &[(&str, &str, &str)]) -> (Vec<Render>, usize, Vec<Render>) {
        let (_dir, root, memo, changed) = working_tree_then_ref(changes);
        super::CUT_OFF.with(|c| c.set(0));
        let second = Renderer::new(&root).with_memo(&memo, &changed);
        let renders = ROOTS.iter().map(|d| shown(&second, &root, d)).collect();
        let taken = super::CUT_OFF.with(std::cell::Cell::get);
        let plain = Renderer::new(&root);
        let expected = ROOTS.iter().map(|d| shown(&plain, &root, d)).collect();
        (renders, taken, expected)
    }

    /// The working tree's renders of the roots (each of `changes` with its working tree's
    /// text), then REF's texts written: the repository, the working tree's memo and the
    /// changed files.
    fn working_tree_then_ref(
        changes: &[(&str, &str, &str)],
    ) -> (
        tempfile::TempDir,
        PathBuf,
        crate::render::Memo,
        BTreeSet<PathBuf>,
    ) {
        let (dir, root) = repo();
        let changed: BTreeSet<PathBuf> = changes.iter().map(|(f, _, _)| root.join(f)).collect();
        for (file, working, _) in changes {
            write(&root, file, working);
        }
        let first = Renderer::new(&root)
            .recording_reads()
            .keeping_reached(&changed);
        for dir in ROOTS {
            let _ = shown(&first, &root, dir);
        }
        let memo = first.memo();
        for (file, _, at_ref) in changes {
            write(&root, file, at_ref);
        }
        (dir, root, memo, changed)
    }

    /// Which roots REF's renderer says render as the working tree's
    /// (`Renderer::renders_as_theirs`, asked before each is rendered), with REF's renders
    /// (and what a renderer of its own renders at REF).
    fn rendering_as_theirs(
        changes: &[(&str, &str, &str)],
    ) -> (Vec<bool>, Vec<Render>, Vec<Render>) {
        let (_dir, root, memo, changed) = working_tree_then_ref(changes);
        let second = Renderer::new(&root).with_memo(&memo, &changed);
        let (same, renders) = ROOTS
            .iter()
            .map(|d| {
                let same = second.renders_as_theirs(&root.join(d));
                // A root taken is not rendered here, yet its files count as read.
                let own = root.join(d).join("extra.yaml");
                let read = second.files_read().contains(&own);
                assert!(!same || !own.exists() || read, "{d}");
                (same, shown(&second, &root, d))
            })
            .unzip();
        let plain = Renderer::new(&root);
        let expected = ROOTS.iter().map(|d| shown(&plain, &root, d)).collect();
        (same, renders, expected)
    }

    /// A root renders as the working tree's when its build comes out the same: the
    /// failing cluster and the nesting one (their overlay sets the replicas the base's change
    /// sets), not the one using the overlay that keeps them; none when the base fails at REF;
    /// not the nesting cluster when the group it nests differs itself. Asking builds nothing
    /// twice and changes no render; a root taken counts its own files as read.
    #[test]
    fn a_root_renders_as_theirs_when_its_build_comes_out_the_same() {
        let replicas = (BASE, deployment("3"), deployment("2"));
        let replicas = (replicas.0, replicas.1.as_str(), replicas.2.as_str());
        let (same, renders, expected) = rendering_as_theirs(&[replicas]);
        assert_eq!(same, [true, true, false]);
        assert_eq!(renders, expected);
        let (same, renders, expected) = rendering_as_theirs(&[(BASE, replicas.1, "kind: [")]);
        assert_eq!(same, [false, false, false]);
        assert_eq!(renders, expected);
        let group = (
            "group/kustomization.yaml",
            "resources:\n- ../apps/a/sets\n",
            "resources:\n- ../apps/a/sets\nnamePrefix: g-\n",
        );
        let (same, renders, expected) = rendering_as_theirs(&[replicas, group]);
        assert_eq!(same, [true, false, false]);
        assert_eq!(renders, expected);
    }

    #[test]
    fn builds_a_change_does_not_alter_are_taken_from_the_other_renderer() {
        let (renders, taken, expected) = both_sides(&deployment("3"), &deployment("2"));
        assert_eq!(renders, expected);
        // The failing cluster (its overlays come out the same), the group (its overlay sets
        // the replicas) and the cluster nesting it (uncounted here, so its result was kept
        // as for a build with users to come); not `apps/a/sets` or `apps/a/keeps` (their
        // base differs), nor `clusters/other` (it uses `keeps`).
        assert_eq!(taken, 3, "{renders:?}");
        assert!(
            renders[1]
                .as_ref()
                .is_ok_and(|r| r.iter().any(|o| o.contains("replicas: 5"))),
            "{renders:?}"
        );
        assert!(
            renders[0]
                .as_ref()
                .is_err_and(|e| e.contains("missing.yaml"))
        );
        assert!(
            renders[2]
                .as_ref()
                .is_ok_and(|r| r.iter().any(|o| o.contains("replicas: 2")))
        );
    }

    #[test]
    fn builds_a_change_alters_are_built_again() {
        // At REF the base cannot be read: the overlay fails first, before the broken one.
        let (renders, taken, expected) = both_sides(&deployment("3"), "kind: [");
        assert_eq!(renders, expected);
        assert_eq!(taken, 0, "{renders:?}");
        assert!(
            renders[0]
                .as_ref()
                .is_err_and(|e| e.contains("deployment.yaml") && !e.contains("missing.yaml")),
            "{renders:?}"
        );
    }

    #[test]
    fn a_build_whose_own_file_differs_is_built_again() {
        // The group's own kustomization adds a prefix at REF: its overlay comes out the same,
        // but the group is built again, and so is the cluster nesting it; the failing
        // cluster, reached only through the overlay, is still taken.
        const GROUP: &str = "group/kustomization.yaml";
        let (renders, taken, expected) = both_sides_with(&[
            (BASE, &deployment("3"), &deployment("2")),
            (
                GROUP,
                "resources:\n- ../apps/a/sets\n",
                "resources:\n- ../apps/a/sets\nnamePrefix: g-\n",
            ),
        ]);
        assert_eq!(renders, expected);
        assert_eq!(taken, 1, "{renders:?}");
        assert!(
            renders[1]
                .as_ref()
                .is_ok_and(|r| r.iter().any(|o| o.contains("name: g-a"))),
            "{renders:?}"
        );
    }
}
