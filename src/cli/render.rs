//! `kgate render DIR`: the rendered stream, like `kustomize build DIR`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use kgate::render::Renderer;

use super::{EXIT_FINDINGS, EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Directory holding a kustomization.
    pub dir: PathBuf,
    /// Repository root: nothing outside it is read [default: the enclosing git repository,
    /// else DIR].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Comment every value with the file and line it came from (base, patch, or the
    /// kustomization entry that set it): for debugging overlays.
    #[arg(long)]
    pub provenance: bool,
}

fn enclosing_repo(dir: &std::path::Path) -> Option<PathBuf> {
    let canon = std::fs::canonicalize(dir).ok()?;
    canon
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(|d| d.to_path_buf())
}

pub fn run(args: &RenderArgs) -> u8 {
    if !args.dir.is_dir() {
        eprintln!("error: not a directory: {}", args.dir.display());
        return EXIT_USAGE;
    }
    let root = args
        .root
        .clone()
        .or_else(|| enclosing_repo(&args.dir))
        .unwrap_or_else(|| args.dir.clone());
    let renderer = Renderer::new(&root);
    let rendered = if args.provenance {
        renderer.render_with_provenance(&args.dir, &root)
    } else {
        renderer.render_to_string(&args.dir)
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
