//! The whole gate, `kgate check`, on generated GitOps monorepos: every kustomization root
//! rendered natively, every rendered object and every other manifest evaluated against the
//! built-in rules, findings merged and sorted.
//!
//! The repos come from `benches/gen_monorepo.py` (a copy of the team's shared generator),
//! built once per size outside the timed loop. Run: `cargo bench --bench check`.
//! Results and machine details: `benches/RESULTS.md`.

mod common;

use common::generate;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn bench_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(20);
    for apps in [50, 200] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = tmp.path().join("repo");
        generate(apps, &repo);
        let opts = kgate::CheckOptions {
            paths: vec![repo.clone()],
            config: None,
            jobs: None,
            ..Default::default()
        };
        let objects = kgate::check(&opts).expect("check runs").summary.objects;
        group.throughput(Throughput::Elements(objects as u64));
        group.bench_with_input(BenchmarkId::new("whole-gate", apps), &opts, |b, opts| {
            b.iter(|| kgate::check(opts).expect("check runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
