//! `--format markdown`: a summary for `$GITHUB_STEP_SUMMARY` (or a merge request comment):
//! the verdict, counts per severity and per rule, and the first findings with links to their
//! lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::CheckResult;
use crate::model::Severity;

/// Findings listed one by one; the rest are counted.
const LISTED: usize = 50;

/// Table cells: no pipes or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// `blob_url`: where files are linked (see `HumanOptions::blob_url`).
pub(super) fn render(result: &CheckResult, fail_on: Severity, blob_url: Option<&str>) -> String {
    let s = &result.summary;
    let mut out = String::from("## kgate\n\n");
    if result.passes(fail_on) {
        let _ = writeln!(
            out,
            ":white_check_mark: **Gate passed** (fail on {fail_on})"
        );
    } else {
        let blocking = result
            .findings
            .iter()
            .filter(|f| f.severity >= fail_on)
            .count();
        let _ = writeln!(
            out,
            ":x: **Gate failed**: {blocking} finding{} at or above {fail_on}",
            if blocking == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        out,
        "\n{} roots, {} objects checked: **{} errors**, {} warnings, {} notes.\n",
        s.roots, s.objects, s.errors, s.warnings, s.notes
    );
    if result.findings.is_empty() {
        return out;
    }
    let mut by_rule: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for f in &result.findings {
        let counts = by_rule.entry(f.rule.as_str()).or_default();
        counts[match f.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Note => 2,
        }] += 1;
    }
    let mut rules: Vec<(&str, [usize; 3])> = by_rule.into_iter().collect();
    // Most serious and most frequent first.
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out.push_str("| rule | errors | warnings | notes |\n|---|---:|---:|---:|\n");
    for (rule, [e, w, n]) in &rules {
        let _ = writeln!(out, "| `{rule}` | {e} | {w} | {n} |");
    }
    let mut listed: Vec<&crate::model::Finding> = result.findings.iter().collect();
    // Errors first, then report order.
    listed.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.report_order(b)));
    let _ = writeln!(out, "\n### Findings\n");
    for f in listed.iter().take(LISTED) {
        let icon = match f.severity {
            Severity::Error => ":x:",
            Severity::Warning => ":warning:",
            Severity::Note => ":information_source:",
        };
        let path = result.repo_path(&f.location.path);
        let link = match blob_url {
            Some(base) => format!("{}/{path}", base.trim_end_matches('/')),
            None => path,
        };
        let _ = writeln!(
            out,
            "- {icon} [`{}:{}`]({link}#L{}) **{}**: {}",
            f.location.path,
            f.location.line,
            f.location.line,
            f.rule,
            cell(&f.message)
        );
    }
    if listed.len() > LISTED {
        let _ = writeln!(
            out,
            "\n… and {} more (see the SARIF or JSON report).",
            listed.len() - LISTED
        );
    }
    out
}
