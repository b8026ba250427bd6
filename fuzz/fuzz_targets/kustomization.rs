//! A kustomization file as the renderer parses it and as discovery reads its references.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let file = Path::new("/repo/app/kustomization.yaml");
    let _ = kgate::render::kustomize::kustomization::parse(file, &text);
    let _ = kgate::discover::kustomization::references(file, &text);
});
