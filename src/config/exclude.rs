//! `exclude:` — gitignore-style patterns of paths not to check.

use super::decoder::Decoder;
use super::{ConfigError, Spanned};
use crate::yaml::Node;

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<Vec<Spanned<String>>, ConfigError> {
    let exclude = d.string_list(node, "exclude")?;
    // Exclude patterns use .gitignore syntax, checked here so a bad one is a config error
    // with its line rather than a surprise during the walk.
    let mut probe = ignore::gitignore::GitignoreBuilder::new("/");
    for g in &exclude {
        if let Err(e) = probe.add_line(None, &g.value) {
            return Err(d.err(
                g.pos,
                format!("invalid pattern `{}` in exclude: {e}", g.value),
                Some(
                    "patterns use .gitignore syntax, e.g. `vendor/` or `**/*.generated.yaml`"
                        .to_owned(),
                ),
            ));
        }
    }
    Ok(exclude)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_pattern_names_its_line() {
        let (line, msg) = error_at("exclude:\n  - vendor/\n  - \"a/{b\"\n");
        assert_eq!(line, 3);
        assert!(
            msg.starts_with("invalid pattern `a/{b` in exclude"),
            "{msg}"
        );
    }
}
