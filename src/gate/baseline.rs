//! Baselines: adopting the gate on a repository with existing findings. `--write-baseline`
//! records every current finding's fingerprint (independent of line numbers, see
//! [`Finding::fingerprint`]); `--baseline` then drops those findings, so only new ones fail
//! the gate, and reports entries that no longer match anything (`baseline-stale`), so the
//! file shrinks as debt is paid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::CheckResult;
pub use crate::model::rules::BASELINE_STALE;
use crate::model::{Finding, Location, Severity};
use crate::yaml::Pos;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("baseline {}:{line}:{column}: {message} (write one with --write-baseline)", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// One recorded finding; only `fingerprint` matters, the rest is for people reading diffs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
    pub message: String,
}

#[derive(Debug, serde::Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// A loaded baseline: entries by fingerprint, with the line each is on.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: BTreeMap<String, (Entry, usize)>,
}

/// The baseline file for `findings`: sorted by path, rule and fingerprint, one entry per line,
/// so that it diffs well in review.
pub fn write(findings: &[Finding]) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint(),
            rule: f.rule.clone(),
            path: f.location.path.clone(),
            message: f.message.clone(),
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
    });
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let mut out = String::from("{\"version\": 1, \"findings\": [\n");
    for (i, e) in entries.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

/// The largest baseline read: a baseline is usually kept in the repository, where a pull
/// request can replace it. 64 MiB holds some 300,000 entries.
const MAX_BASELINE_SIZE: u64 = 64 * 1024 * 1024;

pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let text = crate::source::read_text_bounded(path, MAX_BASELINE_SIZE).map_err(|e| {
        BaselineError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        }
    })?;
    let file: File = serde_json::from_str(&text).map_err(|e| BaselineError::Invalid {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if file.version != 1 {
        return Err(BaselineError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("unsupported baseline version {}", file.version),
        });
    }
    let mut entries = BTreeMap::new();
    for e in file.findings {
        let line = text
            .lines()
            .position(|l| l.contains(&e.fingerprint))
            .map_or(1, |i| i + 1);
        entries.insert(e.fingerprint.clone(), (e, line));
    }
    Ok(Baseline { entries })
}

/// Drops the findings `baseline` records and adds a `baseline-stale` note for every entry
/// that matched nothing; `baseline_path` is the file as reports name it. Returns how many
/// findings the baseline suppressed.
pub fn apply(result: &mut CheckResult, baseline: &Baseline, baseline_path: &str) -> usize {
    let before = result.findings.len();
    let mut used = std::collections::BTreeSet::new();
    result.findings.retain(|f| {
        let fp = f.fingerprint();
        if baseline.entries.contains_key(&fp) {
            used.insert(fp);
            false
        } else {
            true
        }
    });
    let suppressed = before - result.findings.len();
    for (fp, (e, line)) in &baseline.entries {
        if used.contains(fp) {
            continue;
        }
        result.findings.push(Finding {
            hide_source: false,
            rule: BASELINE_STALE.to_owned(),
            severity: Severity::Note,
            message: format!(
                "baseline entry {fp} ({} in {}) matches no finding any more",
                e.rule, e.path
            ),
            help: "Remove the entry (or write the baseline again with --write-baseline) so that the finding cannot come back unnoticed.".to_owned(),
            location: Location::new(
                baseline_path,
                Pos {
                    line: u32::try_from(*line).unwrap_or(1),
                    column: 1,
                },
            ),
            object: None,
            pointer: None,
            roots: Vec::new(),
        });
    }
    result.findings.sort_by(Finding::report_order);
    let mut summary = result.summary;
    summary.count(&result.findings);
    result.summary = summary;
    suppressed
}
