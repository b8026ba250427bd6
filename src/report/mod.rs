//! The report stage: one module per output format, all deterministic (findings arrive in
//! report order; nothing depends on time, thread scheduling or hash-map order).

mod github;
mod gitlab;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;

use std::fmt;
use std::str::FromStr;

pub use human::HumanOptions;
pub use sarif::merge as merge_sarif;

use crate::model::CheckResult;
use crate::model::Severity;

/// An output format of `kgate check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Gitlab,
    Junit,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
        Format::Junit,
        Format::Markdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown format `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// Renders `result` in `format`. `fail_on` is only used to state the gate's verdict in
/// human output.
pub fn render(
    format: Format,
    result: &CheckResult,
    fail_on: Severity,
    human: &HumanOptions,
) -> String {
    match format {
        Format::Human => human::render(result, fail_on, human),
        Format::Json => json::render(result),
        Format::Sarif => sarif::render(result),
        Format::Github => github::render(result),
        Format::Gitlab => gitlab::render(result),
        Format::Junit => junit::render(result, fail_on),
        Format::Markdown => markdown::render(result, fail_on, human.blob_url.as_deref()),
    }
}
