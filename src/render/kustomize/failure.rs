//! A kustomization whose stored build failed at one of its resources, told again without
//! building it: a cluster of two hundred overlays with one broken overlay fails at it, run
//! after run, whatever changes in the overlays before it.
//!
//! The failed build's entry lists its resources up to the failing one: what each one's build
//! depended on (as positions in the entry's reads), the ids of its objects and whether it has
//! variables or its own transformer configuration. The next run takes each resource whose
//! inputs all hold from that list, and reads only the others' stored builds (or builds them):
//! a one-app change opened the stored builds of the ~145 overlays before a broken one, three
//! times over (three prod clusters, one staging), to find the same failure.

use std::path::Path;
use std::sync::Arc;

use super::RenderError;
use super::engine::Renderer;
use super::kustomization::Kustomization;
use super::memo::{self, Inputs};
use super::resource::{OwnedId, Resource, owned_key};
use super::store::{ItemLog, KnownItem, Peeked, Taken};
use super::tconfig;
use crate::model::kinds::is_remote;

/// What the first pass of [`Renderer::failure_ahead`] found of one resource.
enum Ahead {
    /// From the failed build's list: nothing it depended on changed.
    Known(KnownItem),
    /// Its stored build's header (`None`: in this run's memo, or to build), and what the
    /// kustomization read to take it (its probe and resolution).
    Other {
        peeked: Option<Peeked>,
        own: Arc<Inputs>,
        sub: std::path::PathBuf,
    },
}

impl Renderer {
    /// Whether the resources loop of `k` (`fresh`: on an empty accumulation, as a
    /// kustomization's own is) records what each resource's build read, for the list a
    /// failure at a later one is stored with: only with a store to keep it in.
    pub(super) fn logs_items(&self, k: &Kustomization, fresh: bool) -> bool {
        fresh
            && !k.is_component
            && k.resources.len() >= 2
            && self.store.is_some()
            && !super::openapi::build_state().has_custom()
    }

    /// Keeps the list of `k`'s resources `taken` before the one at `failed` (which failed to
    /// build, having read `inputs`), for the save of `dir`'s failed build; none unless every
    /// one is a directory whose objects were all added (the list tells a failure only then).
    pub(super) fn keep_failure_log(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &[Resource],
        taken: &[Taken],
        (failed, inputs): (usize, Arc<Inputs>),
    ) {
        let item = |index: usize, inputs: Arc<Inputs>, ids: Arc<[OwnedId]>, plain: bool| {
            let value = &k.resources.get(index)?.value;
            let path = dir.join(value);
            if is_remote(value) || !self.sources.is_dir(&path) {
                return None;
            }
            let sub = self.sources.canonicalize(&path).ok()?;
            Some(ItemLog {
                value: value.clone(),
                sub,
                inputs,
                ids,
                plain,
            })
        };
        let before = taken.iter().map(|t| {
            // Each of its objects appended (none merged into one before it).
            let objects = ra.get(t.added.clone()).filter(|o| o.len() == t.loaded)?;
            let ids = objects.iter().map(owned_key).collect();
            item(t.index, t.inputs.clone(), ids, t.plain)
        });
        let log = before
            .chain([item(failed, inputs, Arc::new([]), false)])
            .collect::<Option<Vec<_>>>();
        if let Some(log) = log {
            self.keep_log(dir, log);
        }
    }

    fn keep_log(&self, dir: &Path, log: Vec<ItemLog>) {
        if let Ok(mut logs) = self.failure_logs.lock() {
            logs.insert(dir.to_owned(), log);
        }
    }

    /// The list kept for `dir`'s failed build (empty when none was).
    pub(super) fn take_failure_log(&self, dir: &Path) -> Vec<ItemLog> {
        (self.failure_logs.lock().ok())
            .and_then(|mut logs| logs.remove(dir))
            .unwrap_or_default()
    }

    /// The error `k`'s resources fail with, told without decoding the stored builds before
    /// the failing one. The resources are added in order and the first error ends the build,
    /// so when a directory's build is known to fail (in the memo, stored and still valid, or
    /// listed by the failed build with nothing it depended on changed) and every entry before
    /// it adds cleanly (no id met twice, no variables, the default transformer configuration),
    /// the build fails with that error; the builds before it need only their ids, which the
    /// list, or their entries' headers, hold. Only tried for a kustomization whose last
    /// stored build failed; `None` (build as usual) whenever an entry is anything else (a
    /// file, a remote, a missing path).
    pub(super) fn failure_ahead(
        &self,
        k: &Kustomization,
        dir: &Path,
        stack: &mut Vec<std::path::PathBuf>,
    ) -> Option<RenderError> {
        let store = self.store.as_ref()?;
        if k.resources.len() < 2
            || super::openapi::build_state().has_custom()
            || !store.failed_before(dir)
        {
            return None;
        }
        // The list holds while the kustomization's own file does (its resources, its lines).
        let index = (store.failure_index(dir))
            .filter(|index| index.file_holds(store, &self.sources, &k.file));
        // Each entry and what is known of its build, up to the first failure.
        let mut entries = Vec::new();
        let mut fails = false;
        for (i, item) in k.resources.iter().enumerate() {
            let known = (index.as_ref())
                .and_then(|index| index.known(i, &item.value, store, &self.sources));
            if let Some(known) = known {
                if stack.contains(&known.sub) {
                    return None;
                }
                fails = known.failure.is_some();
                entries.push((item, Ahead::Known(known)));
                if fails {
                    break;
                }
                continue;
            }
            let (sub, own) = memo::recording(|| {
                let path = dir.join(&item.value);
                if is_remote(&item.value)
                    || !self.probe(&path).exists(&path)
                    || !self.sources.is_dir(&path)
                {
                    return None;
                }
                self.canonical_dir(&path, &k.file, item.pos).ok()
            });
            let sub = sub?;
            if stack.contains(&sub) {
                return None;
            }
            let in_memo = self.memo_failed(&sub);
            let peeked = match in_memo {
                Some(failed) => {
                    fails = failed;
                    None
                }
                None => store.peek(&sub, &self.sources).inspect(|p| {
                    fails = matches!(p, Peeked::Failed(..));
                }),
            };
            entries.push((item, Ahead::Other { peeked, own, sub }));
            if fails {
                break;
            }
        }
        if !fails {
            return None;
        }
        // In order, as the resources loop adds them; listed again for this failure's entry.
        let mut seen = std::collections::HashSet::new();
        let mut log = Vec::new();
        for (item, ahead) in entries {
            let joined =
                |own: Arc<Inputs>, theirs: Arc<Inputs>| Arc::new(Inputs::joined(own, theirs));
            let (taken, failure) = match ahead {
                Ahead::Known(known) => {
                    memo::note_all(&known.inputs);
                    let taken = (known.ids, known.plain, known.inputs, known.sub);
                    (taken, known.failure)
                }
                Ahead::Other {
                    peeked: Some(Peeked::Failed(e, inputs)),
                    own,
                    sub,
                } => {
                    memo::note_all(&inputs);
                    ((Arc::from([]), false, joined(own, inputs), sub), Some(e))
                }
                Ahead::Other {
                    peeked: Some(Peeked::Built { ids, plain, inputs }),
                    own,
                    sub,
                } => {
                    memo::note_all(&inputs);
                    ((ids, plain, joined(own, inputs), sub), None)
                }
                // In the memo, or to build: taken as the loop takes it.
                Ahead::Other {
                    peeked: None,
                    own,
                    sub,
                } => {
                    let (loaded, inputs) = memo::recording(|| {
                        self.load_resource(k, dir, &item.value, item.pos, stack)
                    });
                    let inputs = joined(own, inputs);
                    match loaded {
                        Err(e) => ((Arc::from([]), false, inputs, sub), Some(e)),
                        Ok((resources, vars, tc)) => {
                            let ids = resources.iter().map(owned_key).collect();
                            let plain = vars.is_empty() && tconfig::is_shared_defaults(&tc);
                            ((ids, plain, inputs, sub), None)
                        }
                    }
                }
            };
            let (ids, plain, inputs, sub) = taken;
            log.push(ItemLog {
                value: item.value.clone(),
                sub,
                inputs,
                ids: ids.clone(),
                plain,
            });
            if let Some(e) = failure {
                self.keep_log(dir, log);
                return Some(e);
            }
            if !plain || !ids.iter().all(|id| seen.insert(id.clone())) {
                return None;
            }
        }
        None
    }
}
