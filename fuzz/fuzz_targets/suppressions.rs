//! Suppressions: `manifest\0config`. Findings of a few rules on every line of the manifest
//! meet its `# kgate:ignore` comments and the config's `suppressions:` (with expiry dates).
#![no_main]

#[path = "common.rs"]
mod common;

use kgate::config::Config;
use kgate::model::{Finding, Location, Severity};
use kgate::source::FileTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (manifest, config) = common::split2(data);
    let config = Config::parse(std::path::Path::new(".kgate.yaml"), &common::text(config))
        .unwrap_or_default();
    let Some(repo) = common::Repo::new(&[b"m.yaml\0".as_slice(), manifest].concat()) else {
        return;
    };
    let lines = u32::try_from(manifest.split(|&b| b == b'\n').count()).unwrap_or(u32::MAX);
    let mut findings = Vec::new();
    for line in 0..=lines.min(200) + 1 {
        for rule in ["image-latest-tag", "privileged-container", "all"] {
            findings.push(Finding {
                rule: rule.to_owned(),
                severity: Severity::Error,
                message: format!("line {line}"),
                help: String::new(),
                location: Location {
                    path: "m.yaml".to_owned(),
                    line,
                    column: 1,
                    end: None,
                    related: None,
                },
                object: None,
                pointer: None,
                roots: Vec::new(),
                hide_source: false,
            });
        }
    }
    let table = FileTable::new(&repo.root, 1 << 20);
    let today = kgate::config::date::parse_date("2026-06-01").unwrap_or(0);
    let _ = kgate::gate::suppress::apply(findings, &repo.root, &table, &config, today);
});
