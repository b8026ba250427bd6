//! Results of the root-scope rules shared between roots whose objects are alike in all that
//! policies read: the clusters of one environment include the same overlays and differ only
//! by their `commonAnnotations` and their `cluster`, so the rules across ~1,000 objects run
//! once for all of them, not once per cluster.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use super::reads::Reads;
use super::{EvalError, Violation};

pub(super) type RootResults = Vec<Result<Violation, EvalError>>;

/// Per key, the results once some evaluator has computed them. A second root with the same
/// key waits for the first instead of evaluating the same objects again.
#[derive(Default)]
pub(super) struct RootMemo {
    entries: Mutex<HashMap<u64, Arc<OnceLock<Option<RootResults>>>>>,
}

/// The key of a root: its objects in order (findings name them by index) and its context,
/// without what no policy reads, and the rules that run.
pub(super) fn key<'a>(
    reads: &Reads,
    objects: &[serde_json::Value],
    context: &serde_json::Value,
    rules: impl Iterator<Item = &'a str>,
) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    objects.len().hash(&mut h);
    for o in objects {
        reads.hash_object(o, &mut h);
    }
    reads.hash_object(&reads.context_key(context), &mut h);
    for r in rules {
        r.hash(&mut h);
    }
    h.finish()
}

impl RootMemo {
    /// The results for `key`, from `evaluate` the first time. Results with an error (a rule
    /// that failed or hit a limit) are not shared: each root with the key evaluates and
    /// reports its own.
    pub(super) fn get_or_evaluate(
        &self,
        key: u64,
        mut evaluate: impl FnMut() -> RootResults,
    ) -> RootResults {
        let cell = match self.entries.lock() {
            Ok(mut entries) => Arc::clone(entries.entry(key).or_default()),
            Err(_) => return evaluate(),
        };
        let mut own = None;
        let shared = cell.get_or_init(|| {
            let results = evaluate();
            if results.iter().any(Result::is_err) {
                own = Some(results);
                None
            } else {
                Some(results)
            }
        });
        match (own, shared) {
            (Some(results), _) => results,
            (None, Some(results)) => results.clone(),
            (None, None) => evaluate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::Cell;

    fn violation(message: &str) -> Result<Violation, EvalError> {
        Ok(Violation {
            rule: "r".to_owned(),
            message: message.to_owned(),
            path: None,
            object: Some(0),
        })
    }

    #[test]
    fn a_key_is_evaluated_once_unless_its_results_hold_an_error() {
        let memo = RootMemo::default();
        let calls = Cell::new(0);
        let run = || {
            calls.set(calls.get() + 1);
            vec![violation("m")]
        };
        assert_eq!(memo.get_or_evaluate(1, run), vec![violation("m")]);
        assert_eq!(memo.get_or_evaluate(1, run), vec![violation("m")]);
        assert_eq!(calls.get(), 1);
        memo.get_or_evaluate(2, run);
        assert_eq!(calls.get(), 2);
        let failing = || {
            calls.set(calls.get() + 1);
            vec![Err(EvalError {
                rule: "r".to_owned(),
                message: "boom".to_owned(),
            })]
        };
        assert_eq!(memo.get_or_evaluate(3, failing).len(), 1);
        assert_eq!(memo.get_or_evaluate(3, failing).len(), 1);
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn clusters_differing_only_in_what_no_rule_reads_share_a_key() {
        let reads = Reads::default();
        let object = |cluster: &str, replicas: u32| {
            json!({"kind": "Deployment", "metadata": {"name": "a", "annotations": {"cluster": cluster}},
                "spec": {"replicas": replicas}})
        };
        let context = |cluster: &str| json!({"environment": "prod", "cluster": cluster, "root": cluster});
        let eu = [object("eu", 1), object("eu", 2)];
        let us = [object("us", 1), object("us", 2)];
        let rules = || ["a", "b"].into_iter();
        let k = |objects: &[serde_json::Value], ctx: &serde_json::Value| key(&reads, objects, ctx, rules());
        assert_eq!(k(&eu, &context("eu")), k(&us, &context("us")));
        // Findings name objects by index: another order is another key.
        let swapped = [object("us", 2), object("us", 1)];
        assert_ne!(k(&eu, &context("eu")), k(&swapped, &context("us")));
        let other = [object("us", 1), object("us", 3)];
        assert_ne!(k(&eu, &context("eu")), k(&other, &context("us")));
        let dev = json!({"environment": "dev", "cluster": "us", "root": "us"});
        assert_ne!(k(&eu, &context("eu")), k(&us, &dev));
        assert_ne!(
            k(&eu, &context("eu")),
            key(&reads, &eu, &context("eu"), ["a"].into_iter())
        );
    }
}
