//! Policy results by what they are computed from (`kgate diff --since`'s two sides share
//! them, and one check's roots that render an object identically): the memo and its keys.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::policy::reads::Reads;
use crate::policy::{EvalError, Violation};

pub(super) type PolicyResults = Vec<Result<Violation, EvalError>>;

/// Policy results by what they are computed from, so that equal inputs are evaluated once:
/// an object that comes out of several roots identical (a base seen through a cluster that
/// includes it unchanged) and, on `kgate diff --since`'s REF side (which starts from the
/// working tree's results), a root whose objects equal another's (a root that renders as in
/// the working tree). Results, not findings: a finding's location comes from the object's
/// provenance, which may differ where the content does not, so findings are made again
/// from each root's own objects.
#[derive(Default)]
pub struct ResultsMemo {
    /// Object rules, by the object and the context ([`memo_key`]).
    objects: HashMap<u64, PolicyResults>,
    /// Rules across objects (`custom.scope: root`), by every object in order and the context
    /// ([`root_key`]).
    roots: HashMap<u64, PolicyResults>,
}

/// A [`ResultsMemo`] two checks share: `kgate diff --since`'s REF side, checked once the
/// working tree's roots are rendered, finds the working tree's results there (those computed
/// by then; no copy is made of them).
pub type SharedResults = std::sync::Arc<Mutex<ResultsMemo>>;

/// A hasher for memo keys, keyed once per process at random. Objects whose keys are equal
/// share results, so with a fixed key (SipHash's `DefaultHasher::new()` is keyed with zeros)
/// a pull request could search offline for a clean object and a violating one whose keys
/// collide, and the violating one would be reported clean. The memo lives for one run, so
/// no key needs to be the same in two processes.
fn memo_hasher() -> std::collections::hash_map::DefaultHasher {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher()
}

/// The memo key: the object and the context, without what no policy reads (the root path,
/// the cluster, annotations no rule declares it reads). `context_key` is the root's context
/// as [`Reads::context_key`] leaves it, serialized once per root.
pub(super) fn memo_key(input: &serde_json::Value, context_key: &str, reads: &Reads) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = memo_hasher();
    reads.hash_object(input, &mut h);
    context_key.hash(&mut h);
    h.finish()
}

/// The memo key of a root's rules across objects: its objects in order (what their indexes
/// name) and the context, without what no policy reads.
pub(super) fn root_key(
    inputs: &[serde_json::Value],
    context_key: &str,
    reads: &Reads,
    affected: Option<&[bool]>,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = memo_hasher();
    inputs.len().hash(&mut h);
    for input in inputs {
        reads.hash_object(input, &mut h);
    }
    context_key.hash(&mut h);
    affected.hash(&mut h);
    h.finish()
}

/// Which results a memo lookup is for (and which hit counter it counts in).
#[derive(Clone, Copy)]
pub(super) enum Memoized {
    Objects = 0,
    Roots = 1,
}

impl ResultsMemo {
    pub(super) fn map(&mut self, of: Memoized) -> &mut HashMap<u64, PolicyResults> {
        match of {
            Memoized::Objects => &mut self.objects,
            Memoized::Roots => &mut self.roots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_keys_are_not_keyed_with_the_fixed_zero_key() {
        use std::hash::{Hash, Hasher};
        let input = serde_json::json!({"kind": "Pod", "metadata": {"name": "a"}});
        let reads = Reads::of(&[], &[]);
        let mut fixed = std::collections::hash_map::DefaultHasher::new();
        reads.hash_object(&input, &mut fixed);
        "{}".hash(&mut fixed);
        // Equal with probability 2^-64 under a random key; always equal under the zero key.
        assert_ne!(memo_key(&input, "{}", &reads), fixed.finish());
        assert_eq!(
            memo_key(&input, "{}", &reads),
            memo_key(&input, "{}", &reads)
        );
    }
}
