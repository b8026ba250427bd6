//! `--format json`: the stable contract of DESIGN.md (`version: 1`).

use serde::Serialize;

use crate::model::CheckResult;
use crate::model::{Finding, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: &'a [Finding],
    summary: &'a Summary,
}

pub(super) fn render(result: &CheckResult) -> String {
    let report = JsonReport {
        version: 1,
        findings: &result.findings,
        summary: &result.summary,
    };
    // Serializing plain structs of strings and integers cannot fail.
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_default();
    out.push('\n');
    out
}
