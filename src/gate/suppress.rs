//! Suppressions: findings a team accepts on purpose, always with a reason.
//!
//! - Inline, in the manifest: `# kgate:ignore <rule>[,<rule>...] -- <reason>` at the end of
//!   the finding's line or on the line above it, or among the comments that open the YAML
//!   document (before its first key), for the whole object.
//! - On the object: the annotation `ignore-check.kgate.io/<rule>: "<reason>"` (kube-linter's
//!   form; it survives rendering), handled where findings are made ([`annotation_reason`]).
//! - In `.kgate.yaml`: `suppressions: [{rule, paths, reason, expires}]`; from `expires` on,
//!   the suppression stops suppressing and says so.
//!
//! A suppression without a reason does not suppress: it is an `invalid-suppression` finding.

use std::collections::HashMap;
use std::path::Path;

use crate::config::Config;
pub use crate::config::date::{parse_date, today};
pub use crate::model::Suppressed;
pub use crate::model::outcome::annotation_reason;
pub use crate::model::rules::{EXPIRED_SUPPRESSION, INVALID_SUPPRESSION};
use crate::model::{Finding, Location, Severity};
use crate::source::FileTable;
use crate::yaml::Pos;

/// A `# kgate:ignore` comment: the rules it names and its reason (empty when missing).
fn parse_comment(line: &str) -> Option<(Vec<String>, String)> {
    let at = line.find("kgate:ignore")?;
    // Only in a comment.
    if !line[..at].contains('#') {
        return None;
    }
    let rest = &line[at + "kgate:ignore".len()..];
    let (rules, reason) = match rest.split_once("--") {
        Some((r, why)) => (r, why.trim().to_owned()),
        None => (rest, String::new()),
    };
    let rules: Vec<String> = rules
        .split([',', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    Some((rules, reason))
}

struct Files<'a> {
    root: &'a Path,
    table: &'a FileTable,
    cache: HashMap<String, Option<Vec<String>>>,
}

impl Files<'_> {
    fn lines(&mut self, path: &str) -> Option<&Vec<String>> {
        let (root, table) = (self.root, self.table);
        self.cache
            .entry(path.to_owned())
            .or_insert_with(|| {
                table
                    .text(&root.join(path))
                    .ok()
                    .map(|t| t.lines().map(str::to_owned).collect())
            })
            .as_ref()
    }
}

/// The inline suppression of `f`, with the line it is on: on the finding's line, the line
/// above, or in the comments opening the finding's YAML document.
fn inline(files: &mut Files<'_>, f: &Finding) -> Option<(u32, Vec<String>, String)> {
    let lines = files.lines(&f.location.path)?;
    let at = usize::try_from(f.location.line).ok()?.checked_sub(1)?;
    if at >= lines.len() {
        return None;
    }
    let mut candidates: Vec<usize> = vec![at];
    if at > 0 {
        candidates.push(at - 1);
    }
    // The document's opening comments.
    let start = lines[..=at]
        .iter()
        .rposition(|l| l.starts_with("---"))
        .map_or(0, |i| i + 1);
    candidates.extend((start..lines.len()).take_while(|&i| {
        let t = lines[i].trim_start();
        t.is_empty() || t.starts_with('#')
    }));
    candidates.into_iter().find_map(|i| {
        let (rules, reason) = parse_comment(lines.get(i)?)?;
        rules
            .iter()
            .any(|r| r == &f.rule || r == "all")
            .then(|| (u32::try_from(i + 1).unwrap_or(1), rules, reason))
    })
}

/// Splits `findings` into those that stay and those suppressed inline or by the config;
/// adds `invalid-suppression` and `expired-suppression` findings.
pub fn apply(
    findings: Vec<Finding>,
    root: &Path,
    table: &FileTable,
    config: &Config,
    today: i64,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut files = Files {
        root,
        table,
        cache: HashMap::new(),
    };
    let config_path = config
        .path
        .as_ref()
        .map(|p| crate::source::relative(root, p))
        .unwrap_or_else(|| ".kgate.yaml".to_owned());
    let mut by_config = ConfigSuppressions {
        config,
        globs: suppression_globs(config),
        config_path: &config_path,
        today,
        expired_reported: vec![false; config.suppressions.len()],
    };
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    let mut problems: Vec<Finding> = Vec::new();
    for f in findings {
        if let Some((line, rules, reason)) = inline(&mut files, &f) {
            if reason.is_empty() {
                problems.push(problem(
                    INVALID_SUPPRESSION,
                    Severity::Error,
                    format!(
                        "`kgate:ignore {}` has no reason (`-- why`), so it does not suppress",
                        rules.join(",")
                    ),
                    &f.location.path,
                    Pos { line, column: 1 },
                ));
            } else {
                suppressed.push(Suppressed {
                    finding: f,
                    kind: "inSource",
                    reason,
                });
                continue;
            }
        }
        if let Some(reason) = by_config.reason(&f, &mut problems) {
            suppressed.push(Suppressed {
                finding: f,
                kind: "external",
                reason,
            });
            continue;
        }
        kept.push(f);
    }
    for s in &config.suppressions {
        if s.reason.as_ref().is_none_or(|r| r.value.trim().is_empty()) {
            problems.push(problem(
                INVALID_SUPPRESSION,
                Severity::Error,
                format!(
                    "the suppression of `{}` has no `reason:`, so it does not suppress",
                    s.rule.value
                ),
                &config_path,
                s.rule.pos,
            ));
        }
    }
    kept.extend(problems);
    kept.sort_by(Finding::report_order);
    kept.dedup();
    (kept, suppressed)
}

/// A finding about a suppression itself (`invalid-suppression`, `expired-suppression`).
fn problem(rule: &str, severity: Severity, message: String, path: &str, pos: Pos) -> Finding {
    Finding {
        hide_source: false,
        rule: rule.to_owned(),
        severity,
        message,
        help: "Give every suppression a reason after `--` (inline) or in `reason:` (config), and an `expires:` date when the exception is temporary.".to_owned(),
        location: Location::new(path, pos),
        object: None,
        pointer: None,
        roots: Vec::new(),
    }
}

/// Per config suppression, its `paths` as one glob set (invalid globs left out).
fn suppression_globs(config: &Config) -> Vec<globset::GlobSet> {
    config
        .suppressions
        .iter()
        .map(|s| {
            let mut b = globset::GlobSetBuilder::new();
            for g in &s.paths {
                if let Ok(g) = globset::Glob::new(&g.value) {
                    b.add(g);
                }
            }
            b.build().unwrap_or_else(|_| globset::GlobSet::empty())
        })
        .collect()
}

/// The `.kgate.yaml` suppressions, and which expired ones were already reported.
struct ConfigSuppressions<'a> {
    config: &'a Config,
    /// Per suppression, its `paths` ([`suppression_globs`]).
    globs: Vec<globset::GlobSet>,
    /// The config file, for findings about its suppressions.
    config_path: &'a str,
    today: i64,
    /// An expired suppression is reported once, not once per finding it used to suppress.
    expired_reported: Vec<bool>,
}

impl ConfigSuppressions<'_> {
    /// The reason the first config suppression matching `f` gives, if it suppresses `f`;
    /// reports it to `problems` the first time it is found expired.
    fn reason(&mut self, f: &Finding, problems: &mut Vec<Finding>) -> Option<String> {
        let globs = &self.globs;
        let (i, s) = self.config.suppressions.iter().enumerate().find(|(i, s)| {
            s.rule.value == f.rule
                && (s.paths.is_empty()
                    || globs[*i].is_match(&f.location.path)
                    || (!f.roots.is_empty() && f.roots.iter().all(|r| globs[*i].is_match(r))))
        })?;
        let expired = s
            .expires
            .as_ref()
            .and_then(|e| parse_date(&e.value))
            .is_some_and(|d| self.today >= d);
        match (&s.reason, expired) {
            (_, true) if !self.expired_reported[i] => {
                self.expired_reported[i] = true;
                let e = s.expires.as_ref().map_or("", |e| e.value.as_str());
                problems.push(problem(
                    EXPIRED_SUPPRESSION,
                    Severity::Warning,
                    format!(
                        "the suppression of `{}` expired on {e}; its findings are reported again",
                        s.rule.value
                    ),
                    self.config_path,
                    s.rule.pos,
                ));
                None
            }
            (Some(reason), false) if !reason.value.trim().is_empty() => Some(reason.value.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-24"), Some(20_781));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("tomorrow"), None);
        assert!(today() > 20_000);
    }

    #[test]
    fn comments() {
        assert_eq!(
            parse_comment(
                "  image: nginx:latest # kgate:ignore image-latest-tag -- pinned by the operator"
            ),
            Some((
                vec!["image-latest-tag".to_owned()],
                "pinned by the operator".to_owned()
            ))
        );
        assert_eq!(
            parse_comment("# kgate:ignore a,b"),
            Some((vec!["a".to_owned(), "b".to_owned()], String::new()))
        );
        assert_eq!(parse_comment("value: kgate:ignore"), None);
    }
}
