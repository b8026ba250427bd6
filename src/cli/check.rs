//! `kgate check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use kgate::report::{self, Format, HumanOptions};
use kgate::{CheckOptions, Severity};

use super::diagnostics::report_check_error;
use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check [default: .]
    pub paths: Vec<PathBuf>,

    /// Output format, optionally with its own file: `--format sarif=kgate.sarif`.
    /// Repeatable. One of: human, json, sarif, github, gitlab, junit, markdown.
    #[arg(long = "format", short = 'f', value_name = "FORMAT[=FILE]", value_parser = parse_format)]
    pub formats: Vec<(Format, Option<PathBuf>)>,

    /// Write the report (of formats given without their own file) to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Configuration file [default: .kgate.yaml found upward from the first PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Lowest severity that fails the gate (exit code 1).
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = parse_severity)]
    pub fail_on: Severity,

    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Kubernetes version whose schemas objects are validated against (e.g. 1.32)
    /// [default: `kubeVersion` in .kgate.yaml, else the newest embedded].
    #[arg(long, value_name = "X.Y")]
    pub kube_version: Option<String>,

    /// Report fields the schema does not declare (`unknown-field`), and make kinds without a
    /// schema errors.
    #[arg(long)]
    pub strict: bool,

    /// Check only the roots a change since this git revision can affect (committed, staged,
    /// unstaged and untracked changes; a change to .kgate.yaml or a policy checks everything).
    #[arg(long, value_name = "GIT_REF")]
    pub changed_since: Option<String>,

    /// With --changed-since: print the changed files and the roots checked (to stderr).
    #[arg(long, requires = "changed_since")]
    pub explain: bool,

    /// Print how long each stage took (to stderr).
    #[arg(long)]
    pub timings: bool,

    /// Ignore the findings recorded in FILE (written by --write-baseline): only new findings
    /// fail the gate; entries that match nothing are reported as `baseline-stale` notes.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record every current finding in FILE (line-independent fingerprints), to adopt the
    /// gate on a repository with existing findings; exits 0 once written.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Check only part I of N of the roots and files (deterministic by path), for CI
    /// matrices; combine the parts' SARIF with `kgate merge-sarif`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,

    /// Colour in human output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,

    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Where kustomize builds are kept between runs.
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// Keep kustomize builds in DIR between runs, reused while every file they read is
    /// unchanged [default: $KGATE_CACHE_DIR, else $XDG_CACHE_HOME/kgate, else ~/.cache/kgate].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the render cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

impl CacheArgs {
    /// The cache directory to use, if any.
    pub fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache_dir
            .clone()
            .or_else(kgate::app::settings::default_cache_dir)
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("expected I/N with 1 <= I <= N (for example 2/4), got `{s}`");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

fn parse_format(s: &str) -> Result<(Format, Option<PathBuf>), String> {
    match s.split_once('=') {
        Some((f, path)) if !path.is_empty() => Ok((f.parse()?, Some(PathBuf::from(path)))),
        Some((_, _)) => Err("expected FORMAT=FILE with a file name".to_owned()),
        None => Ok((s.parse()?, None)),
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn run(args: &CheckArgs) -> u8 {
    let mut formats = args.formats.clone();
    if formats.is_empty() {
        formats.push((Format::Human, None));
    }
    let to_default = formats.iter().filter(|(_, p)| p.is_none()).count();
    if to_default > 1 {
        eprintln!(
            "error: {to_default} formats would be written to the same {}; give each its own file with --format FORMAT=FILE",
            if args.output.is_some() {
                "--output file"
            } else {
                "standard output"
            }
        );
        return EXIT_USAGE;
    }

    let opts = CheckOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        jobs: args.jobs.map(usize::from),
        kube_version: args.kube_version.clone(),
        strict: args.strict,
        changed_since: args.changed_since.clone(),
        changed_files: None,
        shard: args.shard,
        progress: Some(std::sync::Arc::default()),
        cache_dir: args.cache.dir(),
    };
    let started = std::time::Instant::now();
    let progress = show_progress(opts.progress.clone());
    let checked = kgate::check(&opts);
    if let Some((done, handle)) = progress {
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = handle.join();
    }
    let elapsed = started.elapsed();
    let mut result = match checked {
        Ok(r) => {
            if args.timings {
                for (what, took) in &r.timings {
                    eprintln!("{:>8.1} ms  {what}", took.as_secs_f64() * 1000.0);
                }
                if let Some(c) = &r.render_cache {
                    eprintln!("{c}");
                }
            }
            if args.explain
                && let Some(a) = &r.affected
            {
                eprint!("{}", explain(a));
            }
            r
        }
        Err(e) => return report_check_error(&e),
    };

    if let Some(path) = &args.write_baseline {
        let text = kgate::gate::baseline::write(&result.findings);
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write the baseline {}: {e}", path.display());
            return EXIT_USAGE;
        }
        eprintln!(
            "kgate: wrote {} findings to the baseline {}",
            result.findings.len(),
            path.display()
        );
        return EXIT_PASS;
    }
    if let Some(path) = &args.baseline {
        let baseline = match kgate::gate::baseline::load(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        };
        // Named as reports name files: relative to the scanned root when under it.
        let shown = std::fs::canonicalize(path)
            .ok()
            .and_then(|p| {
                p.strip_prefix(&result.root)
                    .ok()
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
            })
            .unwrap_or_else(|| path.display().to_string());
        kgate::gate::baseline::apply(&mut result, &baseline, &shown);
    }

    for (format, file) in &formats {
        let destination = file.as_ref().or(args.output.as_ref());
        let to_terminal = destination.is_none() && std::io::stdout().is_terminal();
        let color = match args.color.as_str() {
            "always" => true,
            "never" => false,
            _ => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        let human = HumanOptions {
            color,
            width: 100,
            elapsed: to_terminal.then_some(elapsed),
            blob_url: github_blob_url(),
        };
        let text = report::render(*format, &result, args.fail_on, &human);
        let written = match destination {
            Some(path) => {
                std::fs::write(path, text.as_bytes()).map_err(|e| (path.display().to_string(), e))
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| ("standard output".to_owned(), e))
            }
        };
        if let Err((to, e)) = written {
            // A closed pipe (`kgate check | head`) is not an error worth a message.
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: cannot write the {format} report to {to}: {e}");
            }
            return EXIT_USAGE;
        }
    }
    if result.passes(args.fail_on) {
        EXIT_PASS
    } else {
        EXIT_FINDINGS
    }
}

/// On a terminal, a progress line on stderr for checks that take over a second, cleared
/// when the check ends. Returns the flag that stops it and its thread.
fn show_progress(
    progress: Option<std::sync::Arc<kgate::app::check::Progress>>,
) -> Option<(
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
)> {
    use std::sync::atomic::Ordering;
    let progress = progress?;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut shown = false;
        while !flag.load(Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if start.elapsed() < std::time::Duration::from_secs(1) {
                continue;
            }
            let (done, total) = (
                progress.done.load(Ordering::Relaxed),
                progress.total.load(Ordering::Relaxed),
            );
            eprint!(
                "\rkgate: {done}/{total} roots checked ({:.0}s)\x1b[K",
                start.elapsed().as_secs_f64()
            );
            shown = true;
        }
        if shown {
            eprint!("\r\x1b[K");
        }
    });
    Some((stop, handle))
}

/// The `--explain` text: what changed and what is checked because of it.
fn explain(a: &kgate::model::Affected) -> String {
    let mut s = format!("changed since the revision: {} files\n", a.changed.len());
    for f in &a.changed {
        s.push_str(&format!("  {f}\n"));
    }
    if !a.seen_at_links.is_empty() {
        s.push_str(&format!(
            "seen through symbolic links at: {} paths\n",
            a.seen_at_links.len()
        ));
        for f in &a.seen_at_links {
            s.push_str(&format!("  {f}\n"));
        }
    }
    match &a.everything {
        Some(why) => s.push_str(&format!("checking everything: {why}\n")),
        None => {
            s.push_str(&format!("affected roots: {}\n", a.roots.len()));
            for r in &a.roots {
                s.push_str(&format!("  {r}\n"));
            }
            s.push_str(&format!(
                "affected objects: {} of the {} these roots render (only they are evaluated and reported)\n",
                a.objects_affected, a.objects
            ));
        }
    }
    s
}

/// `https://github.com/org/repo/blob/<sha>` inside GitHub Actions (`GITHUB_SERVER_URL`,
/// `GITHUB_REPOSITORY`, `GITHUB_SHA`), for the markdown summary's links to the checked commit.
fn github_blob_url() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(format!(
        "{}/{}/blob/{}",
        var("GITHUB_SERVER_URL")?.trim_end_matches('/'),
        var("GITHUB_REPOSITORY")?,
        var("GITHUB_SHA")?
    ))
}
