//! `suppressions:` — findings accepted on purpose, with a reason and maybe an expiry.

use super::decoder::Decoder;
use super::{ConfigError, Spanned, date};
use crate::yaml::{Node, Value};

/// One entry of `suppressions:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub rule: Spanned<String>,
    /// Globs of the finding's file or roots; empty: everywhere.
    pub paths: Vec<Spanned<String>>,
    /// Required: a suppression without one is itself a finding.
    pub reason: Option<Spanned<String>>,
    /// `YYYY-MM-DD`: from that day on the suppression stops suppressing and says so.
    pub expires: Option<Spanned<String>>,
}

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<Vec<Suppression>, ConfigError> {
    let Value::Seq(items) = &node.value else {
        return Err(d.err(
            node.start,
            "suppressions must be a list of {rule, paths, reason, expires}".to_owned(),
            None,
        ));
    };
    items.iter().map(|item| suppression(d, item)).collect()
}

fn suppression(d: &Decoder, item: &Node) -> Result<Suppression, ConfigError> {
    let mut s = Suppression {
        rule: Spanned {
            value: String::new(),
            pos: item.start,
        },
        paths: Vec::new(),
        reason: None,
        expires: None,
    };
    for e in d.map(
        item,
        "a suppression",
        &["rule", "paths", "reason", "expires"],
    )? {
        match e.key.as_str() {
            "rule" => s.rule = d.string(&e.value, "suppressions[].rule")?,
            "paths" => s.paths = d.glob_list(&e.value, "suppressions[].paths")?,
            "reason" => s.reason = Some(d.string(&e.value, "suppressions[].reason")?),
            _ => s.expires = Some(expires(d, &e.value)?),
        }
    }
    // An explicit `rule: ""` is as unusable as a missing one; both point at the entry.
    if s.rule.value.is_empty() {
        return Err(d.err(
            item.start,
            "a suppression needs `rule` (a rule id)".to_owned(),
            None,
        ));
    }
    Ok(s)
}

fn expires(d: &Decoder, node: &Node) -> Result<Spanned<String>, ConfigError> {
    let date = d.string(node, "suppressions[].expires")?;
    if date::parse_date(&date.value).is_none() {
        return Err(d.err(
            date.pos,
            format!("expires must be a date YYYY-MM-DD, got `{}`", date.value),
            None,
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_suppressions_name_their_line() {
        let text = "suppressions:\n  - rule: a\n    reason: ok\n  - rule: b\n    expires: \"2027-13-01\"\n";
        let (line, msg) = error_at(text);
        assert_eq!(
            (line, msg.as_str()),
            (5, "expires must be a date YYYY-MM-DD, got `2027-13-01`")
        );
        let (line, msg) = error_at("suppressions:\n  - rule: a\n  - reason: why\n");
        assert_eq!(
            (line, msg.as_str()),
            (3, "a suppression needs `rule` (a rule id)")
        );
        let (line, msg) = error_at("suppressions:\n  - rule: a\n    paths:\n      - \"a/{b\"\n");
        assert_eq!(line, 4);
        assert!(msg.starts_with("invalid glob `a/{b`"), "{msg}");
    }
}
