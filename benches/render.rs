//! Rendering every kustomization root of a generated 200-app monorepo natively, against the
//! reference this replaces: `kubectl kustomize` run once per root, timed in the same run.
//!
//! `cargo bench --bench render`. The kubectl loop runs once (it takes minutes); set
//! `KGATE_BENCH_KUBECTL_ROOTS=N` to time only the first N roots and extrapolate.
//! Results: `benches/RESULTS.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;

use common::{generate, roots};
use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;

fn render_all(repo: &Path, roots: &[PathBuf]) -> usize {
    // A fresh renderer per run: its per-directory memo is part of what is measured.
    let renderer = kgate::render::Renderer::new(repo);
    roots
        .par_iter()
        .map(|r| renderer.render(r).map_or(0, |objs| objs.len()))
        .sum()
}

fn bench_render(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = tmp.path().join("repo");
    generate(200, &repo);
    let roots = roots(&repo);

    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.bench_function("kgate-native/200-apps", |b| {
        b.iter(|| render_all(&repo, &roots))
    });
    group.finish();

    // The reference, once, in the same run.
    let limit: usize = std::env::var("KGATE_BENCH_KUBECTL_ROOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(roots.len())
        .min(roots.len());
    let start = Instant::now();
    for r in &roots[..limit] {
        let _ = Command::new("kubectl").arg("kustomize").arg(r).output();
    }
    let kubectl = start.elapsed().as_secs_f64() * roots.len() as f64 / limit.max(1) as f64;
    let start = Instant::now();
    let runs = 10;
    for _ in 0..runs {
        render_all(&repo, &roots);
    }
    let native = start.elapsed().as_secs_f64() / runs as f64;
    println!(
        "render-all, {} roots: kgate {:.3} s, kubectl kustomize loop {:.1} s ({} roots timed), ratio {:.0}x",
        roots.len(),
        native,
        kubectl,
        limit,
        kubectl / native
    );
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
