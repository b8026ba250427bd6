//! `--format junit`: JUnit XML, which GitLab (`artifacts:reports:junit`), Jenkins and most CI
//! test reporters display. One test suite per rule with findings (so a reporter groups them
//! by rule, as it groups tests by class), one test case per finding named after its file and
//! line; findings at or above `--fail-on` are failures, the others pass with the finding in
//! `system-out`. A clean run is one passing test case, so the report is never empty.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::CheckResult;
use crate::model::{Finding, Severity};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(result: &CheckResult, fail_on: Severity) -> String {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &result.findings {
        by_rule.entry(f.rule.as_str()).or_default().push(f);
    }
    let failing = |f: &Finding| f.severity >= fail_on;
    let failures = result.findings.iter().filter(|f| failing(f)).count();
    let tests = result.findings.len().max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kgate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    if result.findings.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"kgate\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    <testcase classname=\"kgate\" name=\"{} roots, {} objects: no findings\"/>\n  </testsuite>",
            result.summary.roots, result.summary.objects
        );
    }
    for (rule, findings) in &by_rule {
        let fails = findings.iter().filter(|f| failing(f)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\" skipped=\"0\">",
            escape(rule),
            findings.len()
        );
        for f in findings {
            let name = format!(
                "{}:{}:{}",
                f.location.path, f.location.line, f.location.column
            );
            let mut body = format!(
                "{}\n{}:{}:{}",
                f.message, f.location.path, f.location.line, f.location.column
            );
            if let Some(o) = &f.object {
                let _ = write!(body, "\nobject: {o}");
            }
            if !f.roots.is_empty() {
                let _ = write!(body, "\nroots: {}", f.roots.join(", "));
            }
            if !f.help.is_empty() {
                let _ = write!(body, "\nhelp: {}", f.help);
            }
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">",
                escape(rule),
                escape(&name),
                escape(&f.location.path),
                f.location.line
            );
            if failing(f) {
                let _ = write!(
                    out,
                    "\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    ",
                    f.severity,
                    escape(&f.message),
                    escape(&body)
                );
            } else {
                let _ = write!(
                    out,
                    "\n      <system-out>{}: {}</system-out>\n    ",
                    f.severity,
                    escape(&body)
                );
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}"
        );
    }
}
