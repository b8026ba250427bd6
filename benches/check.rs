//! The whole gate, `kgate check`, on generated GitOps monorepos: every kustomization root
//! rendered natively, every rendered object and every other manifest evaluated against the
//! built-in rules, findings merged and sorted.
//!
//! The repos come from `benches/gen_monorepo.py` (a copy of the team's shared generator),
//! built once per size outside the timed loop. Run: `cargo bench --bench check`.
//! Results and machine details: `benches/RESULTS.md`.

mod common;

use common::{generate, roots};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

fn bench_check(c: &mut Criterion) {
    // As the binary does (src/main.rs): no anyhow backtraces for regorus' errors, which
    // RUST_BACKTRACE=1 (set on these machines) would otherwise capture by the thousand.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: before any benchmark thread starts.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
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
        // A pre-push after editing one app's base (what `--changed-since` selects, given as
        // the changed files so that git is not timed): its base, overlays and the clusters
        // including it are rendered, only its objects evaluated.
        let one_app = kgate::CheckOptions {
            changed_files: Some(["apps/svc-0007/base/deployment.yaml".to_owned()].into()),
            ..opts.clone()
        };
        group.bench_with_input(
            BenchmarkId::new("one-app-change", apps),
            &one_app,
            |b, opts| {
                b.iter(|| kgate::check(opts).expect("check runs"));
            },
        );
    }
    group.finish();
}

/// Schema validation against render time, in the same run: every kustomization root of the
/// 200-app monorepo rendered (`render-all`), and every rendered object validated against the
/// Kubernetes schemas, with each kind's schema compiled in the run (`validate-all-cold`, what
/// a `kgate check` pays) or already compiled (`validate-all-warm`).
fn bench_validate(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = tmp.path().join("repo");
    generate(200, &repo);
    let roots = roots(&repo);
    let render_all = || -> Vec<serde_json::Value> {
        let renderer = kgate::render::Renderer::new(&repo);
        roots
            .par_iter()
            .flat_map_iter(|r| {
                renderer
                    .render(r)
                    .map(|objs| objs.iter().map(|o| o.node.to_json()).collect())
                    .unwrap_or_else(|_| Vec::new())
            })
            .collect()
    };
    let objects = render_all();
    let version = kgate::validate::catalog::newest();
    let validate_all = |v: &kgate::validate::Validator| -> usize {
        objects.par_iter().map(|o| v.check(o).len()).sum()
    };
    let mut group = c.benchmark_group("validate");
    group.sample_size(20);
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.bench_function("render-all/200", |b| b.iter(&render_all));
    group.bench_function("validate-all-cold/200", |b| {
        b.iter(|| validate_all(&kgate::validate::Validator::new(version, false)))
    });
    let warm = kgate::validate::Validator::new(version, false);
    validate_all(&warm);
    group.bench_function("validate-all-warm/200", |b| b.iter(|| validate_all(&warm)));
    // The policy stage alone: every built-in object rule on every rendered object, one
    // evaluator per thread (rules x objects per second = rules x throughput).
    let policies = kgate::policy::PolicySet::builtin().expect("built-in policies load");
    let rules = policies
        .rules()
        .iter()
        .filter(|r| !r.info.root_scope)
        .count();
    eprintln!(
        "policy-all: {rules} object rules x {} objects",
        objects.len()
    );
    let context =
        kgate::policy::context::ContextSettings::default().for_root(Some("apps/x/overlays/prod"));
    group.bench_function("policy-all/200", |b| {
        b.iter(|| {
            objects
                .par_iter()
                .map_init(
                    || policies.evaluator(),
                    |ev, o| ev.evaluate(o.clone(), &context, |_| true).len(),
                )
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_check, bench_validate);
criterion_main!(benches);
