//! The Kubernetes versions kgate validates against. The schemas themselves are embedded by
//! the validate stage (`validate::catalog`); this is the list, so the configuration can check
//! `kubeVersion` without depending on a stage.

/// A Kubernetes minor version kgate has schemas for (`1.MINOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub minor: u32,
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// Minor versions of the embedded schemas (`schemas/kubernetes/v1.N.json.gz`).
const SUPPORTED: &[u32] = &[25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37];

/// The supported versions, oldest first.
pub fn supported() -> Vec<KubeVersion> {
    SUPPORTED
        .iter()
        .map(|minor| KubeVersion { minor: *minor })
        .collect()
}

/// The newest embedded version: the default.
pub fn newest() -> KubeVersion {
    *supported().last().expect("at least one embedded version")
}

/// Why a requested Kubernetes version cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Kubernetes version `{requested}`: kgate embeds schemas for {}", supported().iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))]
pub struct UnsupportedVersion {
    pub requested: String,
}

impl KubeVersion {
    /// Parses `1.32` (also `v1.32` and `1.32.4`: the patch level does not change the API).
    pub fn parse(s: &str) -> Result<KubeVersion, UnsupportedVersion> {
        let bad = || UnsupportedVersion {
            requested: s.to_owned(),
        };
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let (Some("1"), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        let minor: u32 = minor.parse().map_err(|_| bad())?;
        let v = KubeVersion { minor };
        if supported().contains(&v) {
            Ok(v)
        } else {
            Err(bad())
        }
    }
}
