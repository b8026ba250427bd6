//! One finding per source line and problem, whichever roots render that line.

use std::collections::BTreeMap;

use crate::model::{Finding, Location};

/// Merges findings that come from the same source line through different roots: one
/// finding per line and problem, listing every root. The rendered pointer is not part of the
/// identity (a component's patch may put the same container at another index in one root);
/// the pointer and object shown are those the first root (in path order) sees.
pub fn merge_across_roots(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: BTreeMap<(String, Location, String), Finding> = BTreeMap::new();
    for f in findings {
        let key = (f.rule.clone(), f.location.clone(), f.message.clone());
        match merged.get_mut(&key) {
            Some(existing) => {
                if (&f.roots, &f.object, &f.pointer)
                    < (&existing.roots, &existing.object, &existing.pointer)
                {
                    existing.object = f.object;
                    existing.pointer = f.pointer;
                }
                existing.roots.extend(f.roots);
                existing.roots.sort();
                existing.roots.dedup();
            }
            None => {
                merged.insert(key, f);
            }
        }
    }
    merged.into_values().collect()
}
