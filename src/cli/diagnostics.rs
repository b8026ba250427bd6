//! Usage and configuration errors as miette diagnostics on stderr.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use kgate::config::ConfigError;
use kgate::yaml::Pos;

#[derive(Debug)]
struct ConfigDiagnostic {
    message: String,
    help: Option<String>,
    source: NamedSource<String>,
    offset: usize,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigDiagnostic {}

impl Diagnostic for ConfigDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("config-error"))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".to_owned()),
            self.offset,
            1,
        ))))
    }
}

fn offset_of(text: &str, pos: Pos) -> usize {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == pos.line as usize {
            let col = (pos.column as usize).saturating_sub(1);
            return offset + line.char_indices().nth(col).map_or(line.len(), |(b, _)| b);
        }
        offset += line.len();
    }
    text.len().saturating_sub(1)
}

/// Reports an error that stopped a check before it produced findings (a usage or
/// configuration error) and returns the exit code for it.
pub fn report_check_error(err: &kgate::CheckError) -> u8 {
    match err {
        kgate::CheckError::Config(e) => print_config_error(e),
        e => eprintln!("error: {e}"),
    }
    super::EXIT_USAGE
}

/// Prints a config error with the offending line, `file:line:col` first so editors and CI
/// logs can jump to it.
pub fn print_config_error(err: &ConfigError) {
    match err {
        ConfigError::Invalid {
            path,
            pos,
            message,
            help,
        } => {
            eprintln!(
                "error: {}:{}:{}: {message}",
                path.display(),
                pos.line,
                pos.column
            );
            // The snippet's file is the one that was just parsed, read with the same bound.
            let Ok(text) =
                kgate::source::read_text_bounded(path, kgate::config::DEFAULT_MAX_FILE_SIZE)
            else {
                if let Some(h) = help {
                    eprintln!("  help: {h}");
                }
                return;
            };
            let diag = ConfigDiagnostic {
                message: message.clone(),
                help: help.clone(),
                offset: offset_of(&text, *pos),
                source: NamedSource::new(path.display().to_string(), text),
            };
            let mut out = String::new();
            let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                .with_width(100);
            if handler.render_report(&mut out, &diag).is_ok() {
                eprint!("{out}");
            }
        }
        other => eprintln!("error: {other}"),
    }
}
