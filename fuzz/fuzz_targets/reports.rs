//! Every report format on arbitrary findings: the input's NUL-separated fields become
//! rules, messages, help texts, paths, objects, pointers, roots, positions and the source
//! text the snippets come from.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use kgate::model::outcome::{Affected, Suppressed};
use kgate::model::{CheckResult, Finding, Location, ObjectRef, Severity, SourceText, Summary};
use kgate::report::{Format, HumanOptions};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Sources(HashMap<String, Arc<str>>);

impl SourceText for Sources {
    fn text(&self, path: &str) -> Option<Arc<str>> {
        self.0.get(path).cloned()
    }
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<String> = data
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let field = |i: usize| {
        fields
            .get(i % fields.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    let byte = |i: usize| data.get(i % data.len().max(1)).copied().unwrap_or(0);
    let mut findings = Vec::new();
    let mut sources = HashMap::new();
    for n in 0..fields.len().min(24) {
        let at = n * 7;
        let path = field(at + 3);
        sources.insert(path.clone(), Arc::from(field(at + 6).as_str()));
        let b = byte(n);
        findings.push(Finding {
            rule: field(at),
            severity: [Severity::Error, Severity::Warning, Severity::Note][usize::from(b % 3)],
            message: field(at + 1),
            help: field(at + 2),
            location: Location {
                path,
                line: u32::from(byte(n + 1)) * u32::from(b % 5),
                column: u32::from(byte(n + 2)),
                end: None,
                related: None,
            },
            object: (b & 4 != 0).then(|| ObjectRef {
                api_version: field(at + 4),
                kind: field(at + 5),
                namespace: (b & 8 != 0).then(|| field(at + 6)),
                name: Some(field(at + 1)),
            }),
            pointer: (b & 16 != 0).then(|| field(at + 2)),
            roots: if b & 32 != 0 {
                vec![field(at + 5), field(at)]
            } else {
                Vec::new()
            },
            hide_source: b & 64 != 0,
        });
    }
    let suppressed = findings
        .iter()
        .take(2)
        .map(|f| Suppressed {
            finding: f.clone(),
            kind: "inSource",
            reason: field(1),
        })
        .collect();
    let mut summary = Summary::default();
    summary.count(&findings);
    let result = CheckResult {
        root: std::path::PathBuf::from("/repo"),
        repo_prefix: if byte(0) & 1 == 0 {
            String::new()
        } else {
            field(2) + "/"
        },
        findings,
        summary,
        rules: Vec::new(),
        affected: (byte(1) & 1 == 1).then(|| Affected {
            changed: vec![field(0)],
            seen_at_links: vec![field(3)],
            everything: None,
            roots: vec![field(1)],
            files: vec![field(2)],
            objects: usize::from(byte(2)),
            objects_affected: usize::from(byte(3)),
        }),
        suppressed,
        sources: Arc::new(Sources(sources)),
        // Never part of a report.
        timings: Vec::new(),
        render_cache: None,
    };
    for format in Format::ALL {
        for color in [false, true] {
            let human = HumanOptions {
                color,
                width: usize::from(byte(3)).max(1),
                elapsed: None,
                blob_url: (color).then(|| field(4)),
            };
            let out = kgate::report::render(format, &result, Severity::Error, &human);
            if matches!(format, Format::Json | Format::Sarif | Format::Gitlab) {
                // Machine formats must stay parseable whatever the strings hold.
                assert!(
                    serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                    "{format:?}"
                );
            }
        }
    }
});
