//! `images:` — where images may come from and where they must be pinned.

use super::decoder::Decoder;
use super::{ConfigError, Spanned};
use crate::yaml::Node;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImagesConfig {
    pub allowed_registries: Vec<Spanned<String>>,
    /// Environments whose images must be pinned by digest.
    pub require_digest: Vec<Spanned<String>>,
}

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<ImagesConfig, ConfigError> {
    let mut images = ImagesConfig::default();
    for e in d.map(node, "images", &["allowedRegistries", "requireDigest"])? {
        if e.key == "allowedRegistries" {
            images.allowed_registries = d.string_list(&e.value, "images.allowedRegistries")?;
        } else {
            images.require_digest = d.string_list(&e.value, "images.requireDigest")?;
        }
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_images_name_their_line() {
        let (line, msg) = error_at("images:\n  allowedRegistries: [a]\n  requireDigest: prod\n");
        assert_eq!(
            (line, msg.as_str()),
            (3, "images.requireDigest must be a list, not a string")
        );
        let (line, msg) = error_at("images:\n  allowedRegistries:\n    - {a: b}\n");
        assert_eq!(
            (line, msg.as_str()),
            (
                3,
                "each entry of images.allowedRegistries must be a string, not a mapping"
            )
        );
    }
}
