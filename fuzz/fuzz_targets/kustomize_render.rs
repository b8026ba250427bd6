//! The Kustomize renderer on a small repository made from the input
//! (`path\0content\0...`, see common.rs): resources, bases, components, patches,
//! generators, replacements, whatever the files say. The root kustomization is rendered
//! (and printed, as `kgate render` does), then every directory that has one.
#![no_main]

#[path = "common.rs"]
mod common;

use kgate::render::Renderer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(repo) = common::Repo::new(data) else {
        return;
    };
    let renderer = Renderer::new(&repo.root).with_max_file_size(64 * 1024);
    let _ = renderer.render_to_string(&repo.root);
    let Ok(entries) = std::fs::read_dir(&repo.root) else {
        return;
    };
    for e in entries.flatten() {
        if e.path().is_dir() {
            let _ = renderer.render(&e.path());
        }
    }
});
