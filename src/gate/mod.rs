//! The gate stage: rule configuration and severity threshold -> pass or fail.

pub mod baseline;
pub mod suppress;

use std::collections::HashSet;

use std::path::Path;

use crate::config::Config;
use crate::model::{Finding, Severity, Suppressed};
use crate::source::FileTable;

/// The gate applied to a check's findings: rule configuration (disables, severities), then
/// suppressions (inline, annotations, `suppressions:`), then report order without duplicates.
/// Returns the findings that count and those suppressed, with why.
pub fn apply(
    findings: Vec<Finding>,
    root: &Path,
    table: &FileTable,
    config: &Config,
) -> (Vec<Finding>, Vec<Suppressed>) {
    let findings = apply_rule_config(findings, config);
    let (mut findings, suppressed) =
        suppress::apply(findings, root, table, config, suppress::today());
    findings.sort_by(Finding::report_order);
    findings.dedup();
    (findings, suppressed)
}

/// Drops findings of disabled rules and applies severity overrides from the config.
pub fn apply_rule_config(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let disabled: HashSet<&str> = config
        .rules
        .disable
        .iter()
        .map(|d| d.value.as_str())
        .collect();
    let disabled_in: Vec<(&str, globset::GlobSet)> = config
        .rules
        .disable_in
        .iter()
        .map(|(rule, globs)| {
            let mut set = globset::GlobSetBuilder::new();
            for g in globs {
                // Validated when the config was read.
                if let Ok(glob) = globset::Glob::new(&g.value) {
                    set.add(glob);
                }
            }
            (
                rule.as_str(),
                set.build().unwrap_or_else(|_| globset::GlobSet::empty()),
            )
        })
        .collect();
    let off_here = |f: &Finding| {
        disabled_in.iter().any(|(rule, set)| {
            *rule == f.rule
                // The file is under the globs, or every root it is seen through is: a base
                // defect also seen through a root elsewhere stays reported.
                && (set.is_match(&f.location.path)
                    || (!f.roots.is_empty() && f.roots.iter().all(|r| set.is_match(r))))
        })
    };
    findings
        .into_iter()
        .filter(|f| !disabled.contains(f.rule.as_str()) && !off_here(f))
        .map(|mut f| {
            if let Some(s) = config.rules.severity.get(&f.rule) {
                f.severity = s.value;
            }
            f
        })
        .collect()
}

/// Whether the gate passes: no finding at or above `fail_on`.
pub fn passes(findings: &[Finding], fail_on: Severity) -> bool {
    !findings.iter().any(|f| f.severity >= fail_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Spanned;
    use crate::model::Location;
    use crate::yaml::Pos;

    fn f(rule: &str, severity: Severity) -> Finding {
        Finding {
            hide_source: false,
            rule: rule.into(),
            severity,
            message: String::new(),
            help: String::new(),
            location: Location::new("a.yaml", Pos { line: 1, column: 1 }),
            object: None,
            pointer: None,
            roots: vec![],
        }
    }

    #[test]
    fn threshold() {
        let w = [f("a", Severity::Warning)];
        assert!(passes(&w, Severity::Error));
        assert!(!passes(&w, Severity::Warning));
        assert!(!passes(&w, Severity::Note));
        assert!(passes(&[], Severity::Note));
    }

    #[test]
    fn disable_and_override() {
        let mut c = Config::default();
        let pos = Pos { line: 1, column: 1 };
        c.rules.disable.push(Spanned {
            value: "a".into(),
            pos,
        });
        c.rules.severity.insert(
            "b".into(),
            Spanned {
                value: Severity::Note,
                pos,
            },
        );
        let out = apply_rule_config(vec![f("a", Severity::Error), f("b", Severity::Error)], &c);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].rule.as_str(), out[0].severity),
            ("b", Severity::Note)
        );
    }

    #[test]
    fn rules_can_be_disabled_under_some_paths() {
        let mut c = Config::default();
        let pos = Pos { line: 1, column: 1 };
        c.rules.disable_in.insert(
            "a".into(),
            vec![Spanned {
                value: "legacy/**".into(),
                pos,
            }],
        );
        let mut in_legacy = f("a", Severity::Error);
        in_legacy.location = Location::new("legacy/app/deploy.yaml", pos);
        let mut via_root = f("a", Severity::Error);
        via_root.location = Location::new("base/deploy.yaml", pos);
        via_root.roots = vec!["legacy/overlay".into()];
        let elsewhere = f("a", Severity::Error);
        let other_rule = {
            let mut x = f("b", Severity::Error);
            x.location = Location::new("legacy/app/deploy.yaml", pos);
            x
        };
        let kept = apply_rule_config(vec![in_legacy, via_root, elsewhere, other_rule], &c);
        let kept: Vec<(&str, &str)> = kept
            .iter()
            .map(|f| (f.rule.as_str(), f.location.path.as_str()))
            .collect();
        assert_eq!(kept, [("a", "a.yaml"), ("b", "legacy/app/deploy.yaml")]);
    }
}
