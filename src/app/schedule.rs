//! The order roots are checked in, and a pool that takes them in that order.
//!
//! Roots differ in cost by two orders of magnitude: a cluster that includes every app's
//! overlay renders and evaluates a thousand objects, an overlay a handful. In path order
//! the clusters come last (`clusters/` after `apps/`), and rayon's halving of the list left
//! one of them to one thread while the other idled: a sixth of a whole check on two cores.
//! Taking the costliest first and handing out the next root to whichever thread is free (a
//! longest-processing-time-first schedule) ends with small roots on every thread.

use std::collections::VecDeque;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// Indexes into `roots` (graph node names), the costliest first: by the number of nodes a
/// root builds (itself and every base it uses, transitively, from `bases`: each base with
/// the nodes that use it); path order among equals, so the order is stable.
pub fn costliest_first(roots: &[String], bases: &BTreeMap<String, Vec<String>>) -> Vec<usize> {
    let mut uses: HashMap<&str, Vec<&str>> = HashMap::new();
    for (base, users) in bases {
        for user in users {
            uses.entry(user.as_str()).or_default().push(base.as_str());
        }
    }
    let cost = |root: &str| {
        let mut seen = std::collections::HashSet::from([root]);
        let mut todo = vec![root];
        while let Some(node) = todo.pop() {
            for base in uses.get(node).into_iter().flatten() {
                if seen.insert(base) {
                    todo.push(base);
                }
            }
        }
        seen.len()
    };
    let costs: Vec<usize> = roots.iter().map(|r| cost(r)).collect();
    let mut order: Vec<usize> = (0..roots.len()).collect();
    order.sort_by(|a, b| costs[*b].cmp(&costs[*a]).then(roots[*a].cmp(&roots[*b])));
    order
}

/// `f` of every index of `order`, started in `order`'s order by whichever worker of the
/// current rayon pool is free, and returned by index (`out[i]` is `f(i)`).
pub fn in_order<T: Send>(order: &[usize], f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    // Each task takes the next index of `order`, whichever task rayon runs: rayon splits a
    // range in halves, so the tasks' own indexes would not follow `order`.
    let mut out: Vec<(usize, T)> = (0..order.len())
        .into_par_iter()
        .with_max_len(1)
        .filter_map(|_| {
            let i = *order.get(next.fetch_add(1, Ordering::Relaxed))?;
            Some((i, f(i)))
        })
        .collect();
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

/// The roots rendered and not yet checked, when every root is rendered before any is checked
/// (`roots::check_roots` of a check that hands its memo over): a worker renders while roots
/// are left to start, then checks what is rendered, whoever rendered it.
pub(super) struct RendersFirst<R, C> {
    started: AtomicUsize,
    pending: Mutex<VecDeque<(usize, R)>>,
    checked: Mutex<Vec<Option<C>>>,
}

impl<R, C> RendersFirst<R, C> {
    pub(super) fn new(works: usize) -> RendersFirst<R, C> {
        RendersFirst {
            started: AtomicUsize::new(0),
            pending: Mutex::new(VecDeque::new()),
            checked: Mutex::new((0..works).map(|_| None).collect()),
        }
    }

    /// A work begins.
    pub(super) fn start(&self) {
        self.started.fetch_add(1, Ordering::AcqRel);
    }

    /// Work `i`'s render, to check once every work has begun.
    pub(super) fn rendered(&self, i: usize, render: R) {
        if let Ok(mut p) = self.pending.lock() {
            p.push_back((i, render));
        }
    }

    /// Checks the renders waiting once all `total` works have begun (before, the worker
    /// goes on to the next work). Every worker ends its last work here, so no render is left
    /// unchecked: the last one pushed is checked by the worker that pushed it at the latest.
    pub(super) fn check_all(&self, total: usize, check: impl Fn(R) -> C) {
        if self.started.load(Ordering::Acquire) < total {
            return;
        }
        loop {
            let next = self.pending.lock().ok().and_then(|mut p| p.pop_front());
            let Some((i, render)) = next else {
                return;
            };
            let out = check(render);
            if let Ok(mut c) = self.checked.lock() {
                c[i] = Some(out);
            }
        }
    }

    /// The results by work: `in_order`'s, with the checks made here in place (every render
    /// is checked by then: see [`RendersFirst::check_all`]).
    pub(super) fn merged(self, out: Vec<Option<C>>) -> Vec<C>
    where
        C: Default,
    {
        let mut checked = self.checked.into_inner().unwrap_or_default();
        (out.into_iter().enumerate())
            .map(|(i, o)| {
                let result = o.or_else(|| checked.get_mut(i).and_then(Option::take));
                debug_assert!(result.is_some(), "work {i} rendered and never checked");
                result.unwrap_or_default()
            })
            .collect()
    }
}

/// A scoped thread's result; its panic (a bug, not a user error) goes on in the caller.
pub(super) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_that_builds_the_most_nodes_comes_first() {
        let roots: Vec<String> = ["apps/a/base", "apps/a/dev", "apps/b/dev", "clusters/dev"]
            .map(String::from)
            .to_vec();
        let bases = BTreeMap::from([
            ("apps/a/base".to_owned(), vec!["apps/a/dev".to_owned()]),
            ("apps/a/dev".to_owned(), vec!["clusters/dev".to_owned()]),
            ("apps/b/dev".to_owned(), vec!["clusters/dev".to_owned()]),
        ]);
        // clusters/dev builds 4 nodes, apps/a/dev 2; the rest 1 each, in path order.
        assert_eq!(costliest_first(&roots, &bases), [3, 1, 0, 2]);
        assert_eq!(costliest_first(&roots, &BTreeMap::new()), [0, 1, 2, 3]);
    }

    #[test]
    fn results_come_back_by_index_whatever_the_order() {
        let order = [3, 0, 2, 1];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let started = std::sync::Mutex::new(Vec::new());
        let out = pool.install(|| {
            in_order(&order, |i| {
                started.lock().expect("lock").push(i);
                i * 10
            })
        });
        assert_eq!(out, [0, 10, 20, 30]);
        let mut started = started.into_inner().expect("lock");
        started.sort_unstable();
        assert_eq!(started, [0, 1, 2, 3], "each index once");
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let seen = std::sync::Mutex::new(Vec::new());
        one.install(|| in_order(&order, |i| seen.lock().expect("lock").push(i)));
        assert_eq!(
            seen.into_inner().expect("lock"),
            order,
            "one worker: in order"
        );
    }

    #[test]
    fn renders_first_checks_every_render_once_after_the_last_work_began() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let order = [4, 2, 0, 1, 3];
        let works = RendersFirst::new(order.len());
        let checked_before_all_began = AtomicUsize::new(0);
        let out: Vec<Option<usize>> = pool.install(|| {
            in_order(&order, |i| {
                works.start();
                // Work 3 is checked as it is done (as an entry point is), the others later.
                let out = if i == 3 {
                    Some(30)
                } else {
                    works.rendered(i, i * 10);
                    None
                };
                works.check_all(order.len(), |rendered| {
                    if works.started.load(Ordering::Acquire) < order.len() {
                        checked_before_all_began.fetch_add(1, Ordering::Relaxed);
                    }
                    rendered + 1
                });
                out
            })
        });
        assert_eq!(works.merged(out), [1, 11, 21, 30, 41]);
        assert_eq!(checked_before_all_began.load(Ordering::Relaxed), 0);
    }
}
