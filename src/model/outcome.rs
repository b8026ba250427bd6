//! The outcome of a check, as every report format and the gate see it: findings in report
//! order, what was suppressed and why, the rules in force, and what `--changed-since`
//! selected. Plain data, built by `app`, read by `gate` and `report`.

use std::path::PathBuf;
use std::sync::Arc;

use super::rules::RuleInfo;
use super::{Finding, Severity, Summary};

/// The outcome of a check, ready for any report format.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The scanned root: every path in findings is relative to it.
    pub root: PathBuf,
    /// The scanned root's path from the top level of its git repository (`""` when it is the
    /// top level or not in a repository, else ending in `/`). The formats code hosts read
    /// (SARIF, GitLab, GitHub) put it before every path, so annotations land on the right
    /// file when a subdirectory is checked.
    pub repo_prefix: String,
    /// Findings after rule configuration, in report order.
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Every enabled rule with its effective severity, sorted by id.
    pub rules: Vec<RuleInfo>,
    /// Set with `--changed-since`.
    pub affected: Option<Affected>,
    /// Findings suppressed inline or by the configuration (SARIF reports them as such).
    pub suppressed: Vec<Suppressed>,
    /// The text of the files the findings are in, as the check read them: reports that show
    /// source snippets read it here, never from the disk.
    pub sources: Arc<dyn SourceText>,
    /// How long each stage took, in order (`kgate check --timings`, to stderr; never part of
    /// a report, which stays deterministic).
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// How the render cache across runs served the check (`None`: not used).
    pub render_cache: Option<CacheStats>,
}

/// How the render cache across runs served a check (`--timings`, to stderr).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Builds taken from the cache.
    pub hits: usize,
    /// Builds whose entry was missing or stale.
    pub misses: usize,
    /// Builds written.
    pub written: usize,
    /// Builds that could not be written, and the first reason.
    pub failed: usize,
    pub error: Option<String>,
}

impl std::fmt::Display for CacheStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "render cache: {} builds reused, {} built ({} stored)",
            self.hits, self.misses, self.written
        )?;
        if let Some(e) = &self.error {
            write!(f, "; {} not stored: {e}", self.failed)?;
        }
        Ok(())
    }
}

/// Source text by path relative to the scanned root (`source::FileTable` is the one kgate
/// uses): bounded by `limits.maxFileSize`, each file read once.
pub trait SourceText: std::fmt::Debug + Send + Sync {
    /// The file's text, or `None` when it is not readable UTF-8 text within the limit.
    fn text(&self, path: &str) -> Option<Arc<str>>;
}

impl CheckResult {
    /// A finding's path from the top level of the git repository.
    pub fn repo_path(&self, path: &str) -> String {
        format!("{}{path}", self.repo_prefix)
    }

    /// Whether the gate passes: no finding at or above `fail_on`.
    pub fn passes(&self, fail_on: Severity) -> bool {
        !self.findings.iter().any(|f| f.severity >= fail_on)
    }
}

/// Why a finding is suppressed, for reports that show suppressions (SARIF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    /// `inSource` (a comment) or `external` (the configuration), as SARIF names them.
    pub kind: &'static str,
    pub reason: String,
}

/// The annotation that suppresses a rule on one object, followed by the rule id.
const ANNOTATION_PREFIX: &str = "ignore-check.kgate.io/";

/// The reason an object's `ignore-check.kgate.io/<rule>` annotation gives (empty string when
/// the annotation is there without one), or `None`.
pub fn annotation_reason(annotations: Option<&crate::yaml::Node>, rule: &str) -> Option<String> {
    let a = annotations?.get(&format!("{ANNOTATION_PREFIX}{rule}"))?;
    Some(a.as_str().unwrap_or("").trim().to_owned())
}

/// What `--changed-since` selected, for `--explain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affected {
    /// Files changed since the revision (relative to the scanned root).
    pub changed: Vec<String>,
    /// Where else the changed files are seen: the same files at the symbolic links that lead
    /// to them (relative to the scanned root).
    pub seen_at_links: Vec<String>,
    /// Why everything is checked, when a change touches the configuration or policies.
    pub everything: Option<String>,
    /// Roots checked: those whose files (transitively) include a changed file.
    pub roots: Vec<String>,
    /// Changed plain manifests checked on their own.
    pub files: Vec<String>,
    /// Rendered objects of the affected roots, and how many of them the change can affect
    /// (only those are evaluated and reported).
    pub objects: usize,
    pub objects_affected: usize,
}
