//! `kgate policy list|test`.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use kgate::policy::testing::{TestOutcome, run_tests};
use kgate::policy::{PolicySet, PolicySource, builtin_sources};

use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the built-in rules: id, default severity and title.
    List {
        /// `text`, or `markdown` (the rule reference, `docs/rules.md`).
        #[arg(long, default_value = "text", value_parser = ["text", "markdown"])]
        format: String,
    },
    /// Run `*_test.rego` tests: the built-in library's, or those under DIR.
    Test {
        /// Directory of `.rego` files [default: the built-in library].
        dir: Option<PathBuf>,
    },
}

fn collect_rego(dir: &Path, out: &mut Vec<PolicySource>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        // Not through symlinked directories (a link to `..` would recurse without end).
        if e.file_type()?.is_dir() {
            collect_rego(&p, out)?;
        } else if !p.is_dir() && p.extension().is_some_and(|x| x == "rego") {
            let text = kgate::source::read_text_bounded(&p, kgate::config::DEFAULT_MAX_FILE_SIZE)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", p.display())))?;
            out.push(PolicySource {
                path: p.display().to_string(),
                text,
            });
        }
    }
    Ok(())
}

pub fn run(cmd: &PolicyCommand) -> u8 {
    match cmd {
        PolicyCommand::List { format } => match PolicySet::builtin() {
            Ok(set) if format == "markdown" => {
                let mut all = kgate::model::rules::engine_rules();
                all.extend(set.rules().iter().map(|r| r.info.clone()));
                print!("{}", kgate::model::rules::markdown(&all));
                EXIT_PASS
            }
            Ok(set) => {
                for r in set.rules() {
                    println!(
                        "{:<28} {:<8} {}",
                        r.info.id,
                        r.info.severity.as_str(),
                        r.info.title
                    );
                }
                EXIT_PASS
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
        PolicyCommand::Test { dir } => {
            let sources = match dir {
                None => builtin_sources(),
                Some(d) => {
                    let mut v = Vec::new();
                    if let Err(e) = collect_rego(d, &mut v) {
                        eprintln!("error: cannot read policies in {}: {e}", d.display());
                        return EXIT_USAGE;
                    }
                    v
                }
            };
            let results = match run_tests(&sources) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_USAGE;
                }
            };
            let mut failed = 0;
            for r in &results {
                match &r.outcome {
                    TestOutcome::Pass => println!("PASS {}::{}", r.file, r.name),
                    TestOutcome::Fail => {
                        failed += 1;
                        println!("FAIL {}::{}", r.file, r.name);
                    }
                    TestOutcome::Error(e) => {
                        failed += 1;
                        println!("ERROR {}::{}: {e}", r.file, r.name);
                    }
                }
            }
            println!("{} passed, {failed} failed", results.len() - failed);
            if results.is_empty() {
                eprintln!("error: no test_* rules found");
                return EXIT_USAGE;
            }
            if failed == 0 {
                EXIT_PASS
            } else {
                EXIT_FINDINGS
            }
        }
    }
}
