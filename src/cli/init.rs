//! `kgate init [PATH]`: write a commented `.kgate.yaml` detected from the repository, and
//! with `--hook pre-push` a git hook that checks what each push can affect.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_PASS, EXIT_USAGE};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository [default: .]
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Replace an existing .kgate.yaml.
    #[arg(long)]
    pub force: bool,
    /// Print the configuration instead of writing it.
    #[arg(long)]
    pub stdout: bool,
    /// Also install a git hook (`pre-push`: `kgate check --changed-since @{upstream}`).
    #[arg(long, value_name = "HOOK", value_parser = ["pre-push"])]
    pub hook: Option<String>,
}

pub fn run(args: &InitArgs) -> u8 {
    let text = match kgate::app::commands::init_config(&args.path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if args.stdout {
        print!("{text}");
    } else {
        let target = args.path.join(".kgate.yaml");
        if target.exists() && !args.force {
            eprintln!(
                "error: {} exists; use --force to replace it, or --stdout to see what init would write",
                target.display()
            );
            return EXIT_USAGE;
        }
        if let Err(e) = std::fs::write(&target, &text) {
            eprintln!("error: cannot write {}: {e}", target.display());
            return EXIT_USAGE;
        }
        eprintln!("kgate: wrote {}", target.display());
    }
    if args.hook.is_some() {
        let git_dir = args.path.join(".git");
        if !git_dir.is_dir() {
            eprintln!(
                "error: --hook needs a git repository, and {} has no .git directory",
                args.path.display()
            );
            return EXIT_USAGE;
        }
        let hook = git_dir.join("hooks").join("pre-push");
        if hook.exists() && !args.force {
            eprintln!(
                "error: {} exists; use --force to replace it",
                hook.display()
            );
            return EXIT_USAGE;
        }
        let written = std::fs::create_dir_all(git_dir.join("hooks"))
            .and_then(|()| std::fs::write(&hook, kgate::app::init::PRE_PUSH_HOOK))
            .and_then(|()| make_executable(&hook));
        if let Err(e) = written {
            eprintln!("error: cannot install {}: {e}", hook.display());
            return EXIT_USAGE;
        }
        eprintln!("kgate: installed {}", hook.display());
    }
    EXIT_PASS
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}
