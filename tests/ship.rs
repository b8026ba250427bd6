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
    let re = regex::Regex::new(r"^kgate \d+\.\d+\.\d+ \(([0-9a-f]{12}|unknown|[\w.-]+)\)\n$").unwrap();
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
