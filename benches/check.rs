//! The whole gate, `kgate check`, on generated GitOps monorepos: every kustomization root
//! rendered natively, every rendered object and every other manifest evaluated against the
//! built-in rules, findings merged and sorted.
//!
//! The repos come from `benches/gen_monorepo.py` (a copy of the team's shared generator),
//! built once per size outside the timed loop. Run: `cargo bench --bench check`.
//! Results and machine details: `benches/RESULTS.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn generate(apps: usize, out: &Path) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_monorepo.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(out)
        .args(["--apps", &apps.to_string(), "--seed", "11"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the monorepo generator");
    assert!(status.success(), "gen_monorepo.py failed");
}

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
