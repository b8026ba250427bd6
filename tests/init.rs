//! `kgate init`: a configuration detected from the repository that kgate itself accepts, and
//! the pre-push hook.

mod common;

use std::path::Path;
use std::process::Command;

fn kgate(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = common::kgate(dir, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_writes_a_config_kgate_accepts_and_a_hook() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clean"),
        r,
    );
    std::fs::remove_file(r.join(".kgate.yaml")).unwrap();
    std::fs::create_dir_all(r.join(".git")).unwrap();

    let (code, _, err) = kgate(r, &["init", "--hook", "pre-push"]);
    assert_eq!(code, Some(0), "{err}");
    let config = std::fs::read_to_string(r.join(".kgate.yaml")).unwrap();
    assert!(config.contains("environments: [\"prod\"]"), "{config}");
    assert!(
        config.contains("allowedRegistries: [\"registry.example.com/platform\"]"),
        "{config}"
    );
    assert!(config.contains("apps: [\"apps/*\"]"), "{config}");
    // The repository passes its own detected configuration.
    let (code, out, err) = kgate(r, &["check"]);
    assert_eq!(code, Some(0), "{out}{err}");

    let hook = r.join(".git/hooks/pre-push");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    assert!(text.contains("kgate check --changed-since '@{upstream}'"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    let syntax = Command::new("sh").args(["-n"]).arg(&hook).status().unwrap();
    assert!(syntax.success());

    // Nothing is overwritten without --force.
    let (code, _, err) = kgate(r, &["init"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("exists; use --force"), "{err}");
    let (code, out, _) = kgate(r, &["init", "--stdout"]);
    assert_eq!(code, Some(0));
    assert_eq!(out, config);
}
