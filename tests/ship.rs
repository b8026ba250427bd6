//! Distribution (issue 21): version with its commit, shell completions and man pages made
//! from the parser, and the install script the Action and pre-commit use.

mod common;

use common::bin;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_commit() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    let re =
        regex::Regex::new(r"^kgate \d+\.\d+\.\d+ \(([0-9a-f]{12}|unknown|[\w.-]+)\)\n$").unwrap();
    assert!(re.is_match(&out), "{out:?}");
    assert!(out.starts_with(&format!("kgate {} (", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn completions_cover_every_subcommand_and_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        for word in ["check", "render", "diff", "changed-since", "fail-on"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn man_pages_document_the_commands() {
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(".TH kgate 1"), "{out}");
    assert!(out.contains("check"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let (code, _, err) = run(&["man", "--dir", pages.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let check = std::fs::read_to_string(pages.join("kgate-check.1")).unwrap();
    assert!(check.contains("changed\\-since"), "{check}");
    // A directory that cannot be made is a usage error naming it.
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let (code, _, err) = run(&["man", "--dir", file.join("x").to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot write man pages"), "{err}");
}

/// A release as the release workflow publishes it, served from a `file://` URL: the archive
/// for the target (binary, man pages, completions) and its `.sha256`.
fn fake_release(dir: &std::path::Path, target: &str) {
    let stage = dir.join(format!("kgate-{target}"));
    std::fs::create_dir_all(stage.join("man")).unwrap();
    std::fs::create_dir_all(stage.join("completions")).unwrap();
    // A stand-in binary: compressing the real (debug) one would take minutes.
    std::fs::write(
        stage.join("kgate"),
        "#!/bin/sh\necho 'kgate 0.0.0 (release-test)'\n",
    )
    .unwrap();
    std::fs::write(stage.join("man/kgate.1"), ".TH kgate 1\n").unwrap();
    std::fs::write(stage.join("completions/kgate.bash"), "_kgate() { :; }\n").unwrap();
    let archive = format!("kgate-{target}.tar.xz");
    let status = std::process::Command::new("tar")
        .args(["-cJf", &archive, &format!("kgate-{target}")])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::process::Command::new("sha256sum")
        .arg(&archive)
        .current_dir(dir)
        .output()
        .unwrap();
    std::fs::write(dir.join(format!("{archive}.sha256")), out.stdout).unwrap();
}

fn install(release: &std::path::Path, prefix: &std::path::Path) -> std::process::Output {
    std::process::Command::new("sh")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/install.sh"))
        .args(["v0.0.0-test", prefix.to_str().unwrap()])
        .env(
            "KGATE_DOWNLOAD_URL",
            format!("file://{}", release.display()),
        )
        .env("KGATE_TARGET", "x86_64-unknown-linux-musl")
        .output()
        .unwrap()
}

#[test]
fn the_install_script_verifies_and_installs_a_release() {
    let release = tempfile::tempdir().unwrap();
    fake_release(release.path(), "x86_64-unknown-linux-musl");
    let prefix = tempfile::tempdir().unwrap();
    let out = install(release.path(), prefix.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let installed = prefix.path().join("bin/kgate");
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        "kgate 0.0.0 (release-test)\n"
    );
    assert!(prefix.path().join("share/man/man1/kgate.1").is_file());
    assert!(
        prefix
            .path()
            .join("share/kgate/completions/kgate.bash")
            .is_file()
    );

    // A tampered archive is refused and nothing is installed.
    let prefix = tempfile::tempdir().unwrap();
    let sums = release
        .path()
        .join("kgate-x86_64-unknown-linux-musl.tar.xz.sha256");
    std::fs::write(&sums, format!("{} kgate.tar.xz\n", "0".repeat(64))).unwrap();
    let out = install(release.path(), prefix.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!prefix.path().join("bin/kgate").exists());

    // A release without an archive for the target says what it tried.
    let empty = tempfile::tempdir().unwrap();
    let out = install(empty.path(), prefix.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot download"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
