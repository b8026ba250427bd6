//! `kgate diff --env dev,staging,prod [APP...]`: what differs between an app's environments
//! beyond the fields environments are expected to change.

use std::path::PathBuf;

use clap::Args;

use kgate::CheckOptions;

use super::diagnostics::report_check_error;
use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Apps to compare (their name or directory) [default: every app].
    pub apps: Vec<String>,
    /// Environments to compare, comma-separated [default: `environments` of the config].
    #[arg(long = "env", value_delimiter = ',')]
    pub environments: Vec<String>,
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
    /// human or json.
    #[arg(long, short = 'f', default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
}

pub fn run(args: &DiffArgs) -> u8 {
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
