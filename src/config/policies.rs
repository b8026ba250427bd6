//! `policies:` — where the repository's own Rego policies and data files are.

use super::decoder::Decoder;
use super::{ConfigError, Spanned};
use crate::yaml::{Node, Pos};

/// `policies:` — where the repository's own Rego policies and data files are.
#[derive(Debug, Clone, PartialEq)]
pub struct PoliciesConfig {
    /// Directories (or files) of `.rego` files, relative to the config; default `policy`.
    pub dirs: Vec<Spanned<String>>,
    /// Packages whose `deny`/`violation`/`warn` rules run; default `main`.
    pub namespaces: Vec<String>,
    /// Data files or directories merged into `data`.
    pub data: Vec<Spanned<String>>,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        PoliciesConfig {
            dirs: vec![Spanned {
                value: "policy".to_owned(),
                pos: Pos::default(),
            }],
            namespaces: vec!["main".to_owned()],
            data: Vec::new(),
        }
    }
}

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<PoliciesConfig, ConfigError> {
    let mut policies = PoliciesConfig::default();
    for e in d.map(node, "policies", &["dirs", "namespaces", "data"])? {
        match e.key.as_str() {
            "dirs" => policies.dirs = d.string_list(&e.value, "policies.dirs")?,
            "namespaces" => {
                policies.namespaces = d.plain_string_list(&e.value, "policies.namespaces")?
            }
            _ => policies.data = d.string_list(&e.value, "policies.data")?,
        }
    }
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_policies_name_their_line() {
        let (line, msg) = error_at("policies:\n  dirs: [policy]\n  namespaces: main\n");
        assert_eq!(
            (line, msg.as_str()),
            (3, "policies.namespaces must be a list, not a string")
        );
        let (line, msg) = error_at("policies:\n  dir: [policy]\n");
        assert_eq!((line, msg.as_str()), (2, "unknown key `dir` in policies"));
    }
}
