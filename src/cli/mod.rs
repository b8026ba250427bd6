//! Argument parsing and dispatch. Exit codes: 0 gate passed, 1 findings at or above
//! `--fail-on`, 2 usage or configuration error.

mod check;
mod completions;
mod diagnostics;
mod diff;
mod graph;
mod init;
mod merge_sarif;
mod policy;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const EXIT_PASS: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// `kgate --version`: the version and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KGATE_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "kgate",
    version = VERSION,
    about = "Policy gate and manifest linter for GitOps repositories",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests against the policies and report findings.
    Check(check::CheckArgs),
    /// Show the repository graph: roots, bases, components, charts, Argo CD and Flux entry
    /// points, and what uses what.
    Graph(graph::GraphArgs),
    /// Compare each app's environments: what differs beyond namespace, image tags, replicas
    /// and resources (exit 1 when something does).
    Diff(diff::DiffArgs),
    /// Write a .kgate.yaml detected from the repository (and a pre-push hook).
    Init(init::InitArgs),
    /// Merge the SARIF logs of `check --shard` runs into one, for a single upload.
    MergeSarif(merge_sarif::MergeSarifArgs),
    /// Print the rendered stream of a kustomization, like `kustomize build DIR`.
    Render(render::RenderArgs),
    /// List the built-in rules or run Rego policy tests.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (or write every page into a directory with --dir).
    Man(completions::ManArgs),
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_PASS
            });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Policy(cmd) => policy::run(&cmd),
        Command::Render(args) => render::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::MergeSarif(args) => merge_sarif::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    };
    ExitCode::from(code)
}
