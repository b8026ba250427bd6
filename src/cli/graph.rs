//! `kgate graph [PATH]`: roots, bases, components, charts, GitOps entry points and their
//! edges, as a tree, JSON or Graphviz.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use kgate::CheckOptions;

use super::diagnostics::report_check_error;
use super::{EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Directory to describe [default: .]
    pub paths: Vec<PathBuf>,
    /// human (a tree per entry point and top-level root), json, or dot (Graphviz).
    #[arg(long, short = 'f', default_value = "human", value_parser = ["human", "json", "dot"])]
    pub format: String,
    /// Configuration file [default: .kgate.yaml found upward from the first PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: &GraphArgs) -> u8 {
    let opts = CheckOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        ..CheckOptions::default()
    };
    let graph = match kgate::app::commands::repo_graph(&opts) {
        Ok(g) => g,
        Err(e) => return report_check_error(&e),
    };
    let text = match args.format.as_str() {
        "json" => {
            let doc = serde_json::json!({
                "version": 1,
                "nodes": graph.nodes,
                "edges": graph.edges,
            });
            match serde_json::to_string_pretty(&doc) {
                Ok(t) => t + "\n",
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_USAGE;
                }
            }
        }
        "dot" => graph.to_dot(),
        _ => graph.to_human(),
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return EXIT_USAGE;
    }
    EXIT_PASS
}
