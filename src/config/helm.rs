//! `helm:` — how Helm charts are rendered.

use super::ConfigError;
use super::decoder::Decoder;
use crate::model::Severity;
use crate::yaml::Node;

#[derive(Debug, Clone, PartialEq)]
pub struct HelmConfig {
    /// The helm binary (relative to the config's directory, or on PATH by name).
    pub binary: Option<String>,
    /// Charts from chart repositories may be downloaded (`helm template --repo`).
    pub allow_network: bool,
    /// `--include-crds` for charts rendered on their own (default true).
    pub include_crds: bool,
    /// The severity of the finding for a chart root when no helm is available.
    pub missing_severity: Severity,
}

impl Default for HelmConfig {
    fn default() -> Self {
        HelmConfig {
            binary: None,
            allow_network: false,
            include_crds: true,
            missing_severity: Severity::Error,
        }
    }
}

const KEYS: &[&str] = &["binary", "allowNetwork", "includeCRDs", "missingSeverity"];

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<HelmConfig, ConfigError> {
    let mut helm = HelmConfig::default();
    for e in d.map(node, "helm", KEYS)? {
        match e.key.as_str() {
            "binary" => helm.binary = Some(d.string(&e.value, "helm.binary")?.value),
            "allowNetwork" => helm.allow_network = d.bool(&e.value, "helm.allowNetwork")?,
            "includeCRDs" => helm.include_crds = d.bool(&e.value, "helm.includeCRDs")?,
            _ => {
                let text = d.string(&e.value, "helm.missingSeverity")?;
                helm.missing_severity = text
                    .value
                    .parse()
                    .map_err(|m: String| d.err(e.value.start, m, None))?;
            }
        }
    }
    Ok(helm)
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;
    use super::*;

    #[test]
    fn helm_settings_are_read_and_checked() {
        let c = crate::config::Config::parse(
            std::path::Path::new(".kgate.yaml"),
            "helm:\n  binary: tools/helm\n  allowNetwork: true\n  missingSeverity: warning\n",
        )
        .unwrap();
        assert_eq!(c.helm.binary.as_deref(), Some("tools/helm"));
        assert!(c.helm.allow_network && c.helm.include_crds);
        assert_eq!(c.helm.missing_severity, Severity::Warning);
        let (line, msg) = error_at("helm:\n  allowNetwork: true\n  bianry: x\n");
        assert_eq!(line, 3);
        assert!(msg.contains("bianry"), "{msg}");
    }
}
