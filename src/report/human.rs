//! `--format human`: miette diagnostics with the source snippet, then a one-line verdict.

use std::collections::HashMap;
use std::fmt::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use crate::model::CheckResult;
use crate::model::{Finding, Severity};

/// Terminal settings for human output.
#[derive(Debug, Clone)]
pub struct HumanOptions {
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
    /// How long the check took, shown in the summary line (only for terminals: reports that
    /// are kept or compared stay deterministic).
    pub elapsed: Option<std::time::Duration>,
    /// Markdown: the URL the repository's files are linked under at the checked commit
    /// (`https://github.com/org/repo/blob/<sha>`, from GitHub Actions' environment); without
    /// it, links are paths from the git top level.
    pub blob_url: Option<String>,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
            elapsed: None,
            blob_url: None,
        }
    }
}

struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<String>>,
    span: Option<(usize, usize)>,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)?;
        if !self.finding.roots.is_empty() {
            write!(f, "\n  in {}", self.finding.roots.join(", "))?;
        }
        if let Some(t) = &self.finding.location.related {
            write!(f, "\n  from template {}:{}", t.path, t.line)?;
        }
        if self.source.is_none() {
            // Without a snippet, the location still has to be on screen.
            let l = &self.finding.location;
            write!(f, "\n  at {}:{}:{}", l.path, l.line, l.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.finding.help.is_empty())
            .then(|| Box::new(&self.finding.help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.span?;
        let f = self.finding;
        let text = match (&f.object, &f.pointer) {
            (Some(o), Some(p)) => format!("{o}: {p}"),
            (Some(o), None) => o.to_string(),
            (None, _) => "here".to_owned(),
        };
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(text),
            offset,
            len,
        ))))
    }
}

/// Byte offset of a 1-based line and character column, and the byte length of the token
/// there (up to `end` when it is on the same line, else to the end of the word).
fn span_of(text: &str, f: &Finding) -> Option<(usize, usize)> {
    let line_idx = usize::try_from(f.location.line).ok()?.checked_sub(1)?;
    let mut offset = 0;
    let mut line_text = None;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i == line_idx {
            line_text = Some(l.trim_end_matches(['\n', '\r']));
            break;
        }
        offset += l.len();
    }
    let line_text = line_text?;
    let col = usize::try_from(f.location.column).ok()?.saturating_sub(1);
    let start_byte = line_text
        .char_indices()
        .nth(col)
        .map_or(line_text.len(), |(b, _)| b);
    let rest = &line_text[start_byte..];
    let len = match f.location.end {
        Some(end) if end.line == f.location.line && end.column > f.location.column => {
            let chars = usize::try_from(end.column - f.location.column).unwrap_or(0);
            rest.char_indices()
                .nth(chars)
                .map_or(rest.len(), |(b, _)| b)
        }
        _ => rest.find(char::is_whitespace).unwrap_or(rest.len()),
    };
    Some((offset + start_byte, len.max(usize::from(!rest.is_empty()))))
}

pub(super) fn render(result: &CheckResult, fail_on: Severity, opts: &HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false);
    let mut sources: HashMap<&str, Option<std::sync::Arc<str>>> = HashMap::new();
    let mut out = String::new();
    let mut current_file: Option<&str> = None;
    for f in &result.findings {
        // Grouped by file: a header where the file changes.
        if current_file != Some(f.location.path.as_str()) {
            current_file = Some(f.location.path.as_str());
            let n = result
                .findings
                .iter()
                .filter(|g| g.location.path == f.location.path)
                .count();
            let header = format!(
                "{} ({n} finding{})",
                f.location.path,
                if n == 1 { "" } else { "s" }
            );
            if opts.color {
                let _ = writeln!(out, "\u{1b}[1;4m{header}\u{1b}[0m\n");
            } else {
                let _ = writeln!(out, "{header}\n{}\n", "=".repeat(header.chars().count()));
            }
        }
        // The finding says whether its lines may be shown (not a Secret's or a credential's,
        // not a refused file's); binary content is never echoed to a terminal.
        let text = if f.hide_source {
            None
        } else {
            sources
                .entry(f.location.path.as_str())
                .or_insert_with(|| {
                    result
                        .sources
                        .text(&f.location.path)
                        .filter(|t| !t.as_bytes().iter().take(8192).any(|b| *b == 0))
                })
                .clone()
        };
        let span = text.as_deref().and_then(|t| span_of(t, f));
        let diag = FindingDiagnostic {
            finding: f,
            source: text
                .filter(|_| span.is_some())
                .map(|t| NamedSource::new(&f.location.path, t.to_string()).with_language("yaml")),
            span,
        };
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &diag).is_err() {
            rendered = format!("{}: {} [{}]\n", f.location.path, f.message, f.rule);
        }
        out.push_str(&rendered);
        out.push('\n');
    }
    let s = &result.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = write!(
        out,
        "kgate: {} checked, {} ({}, {}, {})",
        plural(s.objects, "object"),
        plural(s.findings, "finding"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
    );
    let failing = result
        .findings
        .iter()
        .filter(|f| f.severity >= fail_on)
        .count();
    if failing == 0 {
        let _ = write!(out, "; gate passed (--fail-on {fail_on})");
    } else {
        let _ = write!(
            out,
            "; gate failed: {} at or above {fail_on}",
            plural(failing, "finding")
        );
    }
    if let Some(t) = opts.elapsed {
        let _ = write!(out, " in {:.2}s", t.as_secs_f64());
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;
    use crate::yaml::Pos;

    fn finding(line: u32, column: u32, end: Option<Pos>) -> Finding {
        let mut location = Location::new("a.yaml", Pos { line, column });
        location.end = end;
        Finding {
            hide_source: false,
            rule: "r".into(),
            severity: Severity::Error,
            message: "m".into(),
            help: String::new(),
            location,
            object: None,
            pointer: None,
            roots: vec![],
        }
    }

    #[test]
    fn spans_are_byte_offsets_of_char_columns() {
        let text = "a: 1\nnäme: nginx:latest # c\n";
        assert_eq!(span_of(text, &finding(2, 7, None)), Some((12, 12)));
        let end = Some(Pos {
            line: 2,
            column: 12,
        });
        assert_eq!(span_of(text, &finding(2, 7, end)), Some((12, 5)));
        assert_eq!(span_of(text, &finding(9, 1, None)), None);
    }

    #[test]
    fn a_values_line_names_the_template_line_behind_it() {
        let mut f = finding(3, 5, None);
        f.location.related = Some(Box::new(Location::new(
            "charts/web/templates/deployment.yaml",
            Pos {
                line: 27,
                column: 13,
            },
        )));
        let d = FindingDiagnostic {
            finding: &f,
            source: None,
            span: None,
        };
        assert_eq!(
            d.to_string(),
            "m\n  from template charts/web/templates/deployment.yaml:27\n  at a.yaml:3:5"
        );
    }
}
