//! Findings: what every stage produces and every report prints.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::yaml::Pos;

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Note];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "note" => Ok(Severity::Note),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or note)"
            )),
        }
    }
}

/// Where in the scanned tree a finding points. `path` is relative to the scanned root and
/// uses `/` separators on every platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// End of the offending node, when known (used for underlines and SARIF regions).
    #[serde(skip)]
    pub end: Option<Pos>,
    /// Another place that explains this one (SARIF `relatedLocations`): for a field of Helm
    /// output located at the values line that decided it, the template line that wrote it.
    #[serde(skip)]
    pub related: Option<Box<Location>>,
}

impl Location {
    pub fn new(path: impl Into<String>, pos: Pos) -> Self {
        Location {
            path: path.into(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            end: None,
            related: None,
        }
    }

    pub fn with_end(mut self, end: Pos) -> Self {
        if (end.line, end.column) > (self.line, self.column) {
            self.end = Some(end);
        }
        self
    }
}

/// The identity of the Kubernetes object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => write!(f, " {ns}/{n}"),
            (None, Some(n)) => write!(f, " {n}"),
            _ => Ok(()),
        }
    }
}

/// One problem found in the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub help: String,
    pub location: Location,
    pub object: Option<ObjectRef>,
    pub pointer: Option<String>,
    pub roots: Vec<String>,
    /// Reports must not show the source lines: they hold a secret value (a Secret's data, a
    /// credential), or the file was refused (too large, unreadable). Set where the finding is
    /// made; not part of any output format.
    #[serde(skip)]
    pub hide_source: bool,
}

impl Finding {
    /// A stable identity for the finding, independent of line numbers: the rule, the file,
    /// the object's kind and the message (which names the offending value, redacted for
    /// secrets). Not the line, so edits above a finding keep it; not the object's namespace,
    /// name or the rendered field path, which differ between the roots a base defect is seen
    /// through (the finding lists them all, and which one represents it depends on which
    /// roots are checked). Changing the offending value makes it a new finding. Used by
    /// baselines, SARIF `partialFingerprints` and GitLab.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let kind = self.object.as_ref().map_or("", |o| o.kind.as_str());
        for part in [
            self.rule.as_str(),
            self.location.path.as_str(),
            kind,
            self.message.as_str(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The order every report uses: file, line, column, rule, then object and message so
    /// that ties are still deterministic.
    pub fn report_order(&self, other: &Self) -> Ordering {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            &self.rule,
            &self.object,
            &self.pointer,
            &self.message,
        )
            .cmp(&(
                &other.location.path,
                other.location.line,
                other.location.column,
                &other.rule,
                &other.object,
                &other.pointer,
                &other.message,
            ))
    }
}

/// Counts that every report format carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub roots: usize,
    pub objects: usize,
    pub findings: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Summary {
    pub fn count(&mut self, findings: &[Finding]) {
        self.findings = findings.len();
        self.errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        self.warnings = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        self.notes = findings
            .iter()
            .filter(|f| f.severity == Severity::Note)
            .count();
    }
}
