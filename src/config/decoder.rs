//! The shared helper every section's parser decodes with: typed reads from the spanned YAML
//! tree whose errors carry the config's path and the node's position.

use std::path::Path;

use super::{ConfigError, Spanned, did_you_mean};
use crate::yaml::{Entry, Node, Pos, Value};

pub(super) struct Decoder<'p> {
    pub(super) path: &'p Path,
}

impl Decoder<'_> {
    pub(super) fn err(&self, pos: Pos, message: String, help: Option<String>) -> ConfigError {
        ConfigError::invalid(self.path, pos, message, help)
    }

    fn type_name(node: &Node) -> &'static str {
        match node.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Uint(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// The entries of a mapping; with a non-empty `allowed`, any other key is an error.
    pub(super) fn map<'n>(
        &self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Result<&'n [Entry], ConfigError> {
        let entries: &[Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                return Err(self.err(
                    node.start,
                    format!("{what} must be a mapping, not a {}", Self::type_name(node)),
                    None,
                ));
            }
        };
        if !allowed.is_empty() {
            for e in entries {
                if !allowed.contains(&e.key.as_str()) {
                    let help = match did_you_mean(&e.key, allowed) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("expected one of: {}", allowed.join(", ")),
                    };
                    return Err(self.err(
                        e.key_pos,
                        format!("unknown key `{}` in {what}", e.key),
                        Some(help),
                    ));
                }
            }
        }
        Ok(entries)
    }

    pub(super) fn string(&self, node: &Node, what: &str) -> Result<Spanned<String>, ConfigError> {
        match &node.value {
            Value::String(s) => Ok(Spanned {
                value: s.clone(),
                pos: node.start,
            }),
            _ => Err(self.err(
                node.start,
                format!("{what} must be a string, not a {}", Self::type_name(node)),
                None,
            )),
        }
    }

    pub(super) fn string_list(
        &self,
        node: &Node,
        what: &str,
    ) -> Result<Vec<Spanned<String>>, ConfigError> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .map(|i| self.string(i, &format!("each entry of {what}")))
                .collect(),
            Value::Null => Ok(Vec::new()),
            _ => Err(self.err(
                node.start,
                format!("{what} must be a list, not a {}", Self::type_name(node)),
                None,
            )),
        }
    }

    /// A string list whose positions nothing reports on later.
    pub(super) fn plain_string_list(
        &self,
        node: &Node,
        what: &str,
    ) -> Result<Vec<String>, ConfigError> {
        Ok(self
            .string_list(node, what)?
            .into_iter()
            .map(|s| s.value)
            .collect())
    }

    /// A string list of globs, each checked here so a bad one is an error with its line
    /// rather than a surprise when findings are matched.
    pub(super) fn glob_list(
        &self,
        node: &Node,
        what: &str,
    ) -> Result<Vec<Spanned<String>>, ConfigError> {
        let globs = self.string_list(node, what)?;
        for g in &globs {
            if let Err(err) = globset::Glob::new(&g.value) {
                return Err(self.err(g.pos, format!("invalid glob `{}`: {err}", g.value), None));
            }
        }
        Ok(globs)
    }

    pub(super) fn bool(&self, node: &Node, what: &str) -> Result<bool, ConfigError> {
        match node.value {
            Value::Bool(b) => Ok(b),
            _ => Err(self.err(node.start, format!("{what} must be true or false"), None)),
        }
    }
}

/// For the section files' tests: the line and message of the error `text` gives.
#[cfg(test)]
pub(super) fn error_at(text: &str) -> (u32, String) {
    match super::Config::parse(Path::new(".kgate.yaml"), text) {
        Err(ConfigError::Invalid { pos, message, .. }) => (pos.line, message),
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::error_at;

    #[test]
    fn type_errors_name_the_found_type_and_line() {
        assert_eq!(
            error_at("environments: [dev]\nschemaDirs: {a: b}\n"),
            (2, "schemaDirs must be a list, not a mapping".to_owned())
        );
        assert_eq!(
            error_at("environments:\n  - dev\n  - [x]\n"),
            (
                3,
                "each entry of environments must be a string, not a list".to_owned()
            )
        );
        assert_eq!(
            error_at("environments: []\nstrict: 1\n"),
            (2, "strict must be true or false".to_owned())
        );
    }
}
