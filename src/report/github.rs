//! `--format github`: GitHub Actions workflow commands, which GitHub turns into annotations
//! on the pull request's diff lines.
//! <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>

use std::fmt::Write;

use crate::model::CheckResult;
use crate::model::Severity;

/// Escaping for the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping for a property value (`file=`, `title=`): also `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub(super) fn render(result: &CheckResult) -> String {
    let mut out = String::new();
    for f in &result.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = format!(
            "file={},line={},col={}",
            escape_property(&result.repo_path(&f.location.path)),
            f.location.line,
            f.location.column
        );
        if let Some(end) = f.location.end {
            let _ = write!(props, ",endLine={}", end.line);
            if end.line == f.location.line {
                let _ = write!(props, ",endColumn={}", end.column);
            }
        }
        let _ = write!(
            props,
            ",title={}",
            escape_property(&format!("kgate: {}", f.rule))
        );
        let mut message = f.message.clone();
        if let Some(obj) = &f.object {
            let _ = write!(message, " ({obj})");
        }
        if !f.help.is_empty() {
            let _ = write!(message, "\nhelp: {}", f.help);
        }
        let _ = writeln!(out, "::{command} {props}::{}", escape_data(&message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50%\nx"), "50%25%0Ax");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
