//! `rules:` — which rules run, where, at what severity and with which parameters.

use indexmap::IndexMap;

use super::decoder::Decoder;
use super::{ConfigError, Spanned};
use crate::model::Severity;
use crate::yaml::{Node, Value};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RulesConfig {
    pub disable: Vec<Spanned<String>>,
    pub severity: IndexMap<String, Spanned<Severity>>,
    /// Per-rule parameters, handed to the rule as `data.kgate.params[<rule id>]`.
    pub params: IndexMap<String, Spanned<serde_json::Value>>,
    /// Rules disabled under some paths only: rule id -> globs matched against the finding's
    /// file and its roots (relative to the scanned root).
    pub disable_in: IndexMap<String, Vec<Spanned<String>>>,
}

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<RulesConfig, ConfigError> {
    let mut rules = RulesConfig::default();
    for e in d.map(
        node,
        "rules",
        &["disable", "disableIn", "severity", "params"],
    )? {
        match e.key.as_str() {
            "disable" => rules.disable = d.string_list(&e.value, "rules.disable")?,
            "disableIn" => rules.disable_in = disable_in(d, &e.value)?,
            "params" => rules.params = params(d, &e.value)?,
            _ => rules.severity = severity(d, &e.value)?,
        }
    }
    Ok(rules)
}

fn disable_in(
    d: &Decoder,
    node: &Node,
) -> Result<IndexMap<String, Vec<Spanned<String>>>, ConfigError> {
    let mut out = IndexMap::new();
    for p in d.map(node, "rules.disableIn", &[])? {
        out.insert(p.key.clone(), d.glob_list(&p.value, "rules.disableIn")?);
    }
    Ok(out)
}

/// Parameters are positioned at the rule id: that is what an unknown-rule error points at.
fn params(
    d: &Decoder,
    node: &Node,
) -> Result<IndexMap<String, Spanned<serde_json::Value>>, ConfigError> {
    let mut out = IndexMap::new();
    for p in d.map(node, "rules.params", &[])? {
        if !matches!(p.value.value, Value::Map(_)) {
            return Err(d.err(
                p.value.start,
                format!(
                    "rules.params.{} must be a mapping of parameter names to values",
                    p.key
                ),
                None,
            ));
        }
        let value = Spanned {
            value: p.value.to_json(),
            pos: p.key_pos,
        };
        out.insert(p.key.clone(), value);
    }
    Ok(out)
}

fn severity(d: &Decoder, node: &Node) -> Result<IndexMap<String, Spanned<Severity>>, ConfigError> {
    let mut out = IndexMap::new();
    for s in d.map(node, "rules.severity", &[])? {
        let text = d.string(&s.value, "a severity")?;
        let value = text
            .value
            .parse()
            .map_err(|m: String| d.err(s.value.start, m, None))?;
        out.insert(
            s.key.clone(),
            Spanned {
                value,
                pos: s.key_pos,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_rule_settings_name_their_line() {
        let (line, msg) = error_at("rules:\n  disableIn:\n    x: [\"a/{b\"]\n");
        assert_eq!(line, 3);
        assert!(msg.starts_with("invalid glob `a/{b`"), "{msg}");
        let (line, msg) = error_at("rules:\n  severity:\n    a: error\n    b: fatal\n");
        assert_eq!(line, 4);
        assert!(msg.contains("unknown severity"), "{msg}");
        let (line, msg) = error_at("rules:\n  params:\n    x:\n      - 3\n");
        assert_eq!(
            (line, msg.as_str()),
            (
                4,
                "rules.params.x must be a mapping of parameter names to values"
            )
        );
        let (line, msg) = error_at("rules:\n  disable: [a]\n  disabled: [b]\n");
        assert_eq!((line, msg.as_str()), (3, "unknown key `disabled` in rules"));
    }
}
