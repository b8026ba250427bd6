//! `kgate render DIR`: the rendered stream, like `kustomize build DIR`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use kgate::app::commands::render;

use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Directory holding a kustomization.
    pub dir: PathBuf,
    /// Repository root: nothing outside it is read [default: the directory of the
    /// `.kgate.yaml` found upward from DIR, else the enclosing git repository, else the
    /// current directory when DIR is inside it, else DIR].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Comment every value with the file and line it came from (base, patch, or the
    /// kustomization entry that set it): for debugging overlays.
    #[arg(long)]
    pub provenance: bool,
}

pub fn run(args: &RenderArgs) -> u8 {
    if !args.dir.is_dir() {
        eprintln!("error: not a directory: {}", args.dir.display());
        return EXIT_USAGE;
    }
    let rendered = match render(&args.dir, args.root.as_deref(), args.provenance) {
        Ok(r) => r,
        Err(e) => return super::diagnostics::report_check_error(&e),
    };
    match rendered {
        Ok(text) => {
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
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FINDINGS
        }
    }
}
