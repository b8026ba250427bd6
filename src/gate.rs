//! The gate stage: rule configuration and severity threshold -> pass or fail.

use std::collections::HashSet;

use crate::config::Config;
use crate::finding::{Finding, Severity};

/// Drops findings of disabled rules and applies severity overrides from the config.
pub fn apply_rule_config(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let disabled: HashSet<&str> = config
        .rules
        .disable
        .iter()
        .map(|d| d.value.as_str())
        .collect();
    findings
        .into_iter()
        .filter(|f| !disabled.contains(f.rule.as_str()))
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
    use crate::finding::Location;
    use crate::yaml::Pos;

    fn f(rule: &str, severity: Severity) -> Finding {
        Finding {
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
}
