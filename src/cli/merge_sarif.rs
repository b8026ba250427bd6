//! `kgate merge-sarif IN... -o OUT`: one SARIF log from the parts of a `--shard` matrix, for
//! a single code scanning upload.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct MergeSarifArgs {
    /// SARIF files written by `kgate check --shard I/N --format sarif=...`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write the merged log [default: standard output].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &MergeSarifArgs) -> u8 {
    let mut logs = Vec::new();
    for path in &args.inputs {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(v) => logs.push(v),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let merged = match kgate::report::merge_sarif(&logs) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut text = serde_json::to_string_pretty(&merged).unwrap_or_default();
    text.push('\n');
    let written = match &args.output {
        Some(p) => std::fs::write(p, text),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
    };
    if let Err(e) = written {
        eprintln!("error: cannot write the merged SARIF: {e}");
        return EXIT_USAGE;
    }
    EXIT_PASS
}
