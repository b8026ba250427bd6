//! Strategic merge and JSON 6902 patches: `target\0patch` (YAML both), the patch applied
//! both ways with every name/kind option.
#![no_main]

#[path = "common.rs"]
mod common;

use kgate::render::kustomize::{merge2, patch};
use kgate::yaml::{LoadLimits, Schema, parse_documents};
use libfuzzer_sys::fuzz_target;

fn first_doc(data: &[u8]) -> Option<kgate::yaml::Node> {
    let limits = LoadLimits {
        schema: Schema::GoYamlV3,
        max_alias_nodes: 10_000,
        ..LoadLimits::default()
    };
    let (mut docs, _) = parse_documents(&common::text(data), limits);
    (!docs.is_empty()).then(|| docs.swap_remove(0).root)
}

fuzz_target!(|data: &[u8]| {
    let (a, b) = common::split2(data);
    let (Some(target), Some(p)) = (first_doc(a), first_doc(b)) else {
        return;
    };
    for (names, kinds) in [(false, false), (true, true)] {
        let mut t = target.clone();
        if let Ok(true) = merge2::strategic_merge(&mut t, &p, names, kinds) {
            let _ = t.to_json();
        }
    }
    let mut t = target.clone();
    if patch::json6902(&mut t, &p).is_ok() {
        let _ = t.to_json();
    }
});
