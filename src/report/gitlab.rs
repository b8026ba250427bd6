//! `--format gitlab`: a GitLab Code Quality report, shown in merge request widgets and diffs.
//! <https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format>

use crate::model::CheckResult;
use crate::model::Severity;

pub(super) fn render(result: &CheckResult) -> String {
    let issues: Vec<serde_json::Value> = result
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "description": format!("{} [{}]", f.message, f.rule),
                "check_name": f.rule,
                "fingerprint": f.fingerprint(),
                // GitLab's scale: info, minor, major, critical, blocker. An error blocks the
                // merge in kgate's gate, which GitLab calls major (critical and blocker are
                // for security scanners' own ratings).
                "severity": match f.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                    Severity::Note => "info",
                },
                "location": {
                    "path": result.repo_path(&f.location.path),
                    "lines": {"begin": f.location.line},
                },
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}
