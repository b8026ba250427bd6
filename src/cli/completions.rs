//! `kgate completions SHELL` and `kgate man`: shell completion scripts and man pages, made
//! from the same argument definitions as the parser, so they never fall out of date. The
//! release archives ship both (see .github/workflows/release.yml).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `kgate.1` and one page per subcommand (`kgate-check.1`, ...) into this
    /// directory instead of printing `kgate.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kgate", &mut out);
    write_stdout(&out)
}

pub fn man(args: &ManArgs) -> u8 {
    let cmd = Cli::command();
    match &args.dir {
        None => {
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                eprintln!("error: cannot write the man page: {e}");
                return EXIT_USAGE;
            }
            write_stdout(&out)
        }
        Some(dir) => {
            match std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)) {
                Ok(()) => EXIT_PASS,
                Err(e) => {
                    eprintln!("error: cannot write man pages to {}: {e}", dir.display());
                    EXIT_USAGE
                }
            }
        }
    }
}

fn write_stdout(bytes: &[u8]) -> u8 {
    match std::io::stdout().lock().write_all(bytes) {
        Ok(()) => EXIT_PASS,
        // A closed pipe (`kgate man | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_PASS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            EXIT_USAGE
        }
    }
}
