//! `kgate diff --env dev,staging,prod [APP...]`: what differs between an app's environments
//! beyond the fields environments are expected to change. `kgate diff --since REF [PATH...]`:
//! what a change since a git revision does to the rendered roots, and the findings it adds
//! and resolves.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use kgate::{CheckOptions, Severity};

use super::diagnostics::report_check_error;
use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// With --env: apps to compare (their name or directory) [default: every app]. With
    /// --since: the paths whose roots to compare [default: --path].
    pub apps: Vec<String>,
    /// Environments to compare, comma-separated [default: `environments` of the config].
    #[arg(long = "env", value_delimiter = ',')]
    pub environments: Vec<String>,
    /// Compare the rendered roots a change since this git revision affects, at the revision
    /// and in the working tree, and the findings the change adds and resolves.
    #[arg(long, value_name = "REF", conflicts_with_all = ["environments", "allow"])]
    pub since: Option<String>,
    /// With --since: the lowest severity of an added finding that fails (exit code 1).
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// With --since: worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// With --since: print how long each phase took (stderr).
    #[arg(long)]
    pub timings: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// More fields that may differ, as JSON-pointer globs (`*` is one segment), e.g.
    /// `/metadata/labels/env`. Namespace, image tags, replicas and resources always may.
    #[arg(long, value_name = "POINTER")]
    pub allow: Vec<String>,
    /// The repository [default: .]
    #[arg(long, default_value = ".")]
    pub path: PathBuf,
    /// Configuration file [default: .kgate.yaml found upward from PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// human or json; with --since also markdown (a pull-request comment) and html.
    #[arg(long, short = 'f', default_value = "human", value_parser = ["human", "json", "markdown", "html"])]
    pub format: String,
    #[command(flatten)]
    pub cache: super::check::CacheArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn run(args: &DiffArgs) -> u8 {
    if let Some(reference) = &args.since {
        return run_since(args, reference);
    }
    if matches!(args.format.as_str(), "markdown" | "html") {
        eprintln!("error: --format {} needs --since REF", args.format);
        return EXIT_USAGE;
    }
    let opts = CheckOptions {
        paths: vec![args.path.clone()],
        config: args.config.clone(),
        ..CheckOptions::default()
    };
    let (envs, drifts) =
        match kgate::app::commands::drift(&opts, &args.environments, &args.apps, &args.allow) {
            Ok(d) => d,
            Err(e) => return report_check_error(&e),
        };
    if envs.len() < 2 {
        eprintln!(
            "error: kgate diff needs at least two environments (--env dev,prod, or `environments:` in .kgate.yaml)"
        );
        return EXIT_USAGE;
    }
    if drifts.is_empty() {
        eprintln!(
            "error: no app matches (apps are the directories of `layout.apps`, default apps/*)"
        );
        return EXIT_USAGE;
    }
    if args.format == "json" {
        let doc = serde_json::json!({"version": 1, "environments": envs, "apps": drifts});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", kgate::app::drift::to_human(&drifts));
    }
    if drifts.iter().any(|d| d.drifts()) {
        EXIT_FINDINGS
    } else {
        EXIT_PASS
    }
}

/// `kgate diff --since REF [PATH...]`.
fn run_since(args: &DiffArgs, reference: &str) -> u8 {
    let paths = if args.apps.is_empty() {
        vec![args.path.clone()]
    } else {
        args.apps.iter().map(PathBuf::from).collect()
    };
    let opts = CheckOptions {
        paths,
        config: args.config.clone(),
        cache_dir: args.cache.dir(),
        jobs: args.jobs.map(usize::from),
        ..CheckOptions::default()
    };
    let diff = match kgate::app::pr_diff::pr_diff(&opts, reference) {
        Ok(d) => d,
        Err(e) => return report_check_error(&e),
    };
    if args.timings {
        for (what, d) in &diff.timings {
            eprintln!("{:>8.1} ms  {what}", d.as_secs_f64() * 1000.0);
        }
        for (side, stats) in &diff.render_cache {
            eprintln!("{side}: {stats}");
        }
    }
    use kgate::app::pr_diff_report as report;
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&diff).unwrap_or_default() + "\n",
        "markdown" => report::to_markdown(&diff, report::GITHUB_COMMENT_LIMIT),
        "html" => report::to_html(&diff),
        _ => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report::to_human(&diff, colour)
        }
    };
    match &args.output {
        Some(file) => {
            if let Err(e) = std::fs::write(file, text) {
                eprintln!("error: cannot write {}: {e}", file.display());
                return EXIT_USAGE;
            }
        }
        None => print!("{text}"),
    }
    if diff
        .findings
        .added
        .iter()
        .any(|f| f.severity >= args.fail_on)
    {
        EXIT_FINDINGS
    } else {
        EXIT_PASS
    }
}
