//! What rules know about where an object is deployed: the root, its environment and cluster
//! (from the repository layout), and the settings of `.kgate.yaml` that depend on them. Rules
//! read it as `data.kgate`; schema validation picks the root's Kubernetes version from it.

use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::config::layout::Conventions;

/// The parts of the configuration that shape `data.kgate`.
#[derive(Debug, Clone, Default)]
pub struct ContextSettings {
    pub environments: Vec<String>,
    pub conventions: Option<Conventions>,
    pub production: Vec<String>,
    pub allowed_registries: Vec<String>,
    pub require_digest: Vec<String>,
    pub params: Map<String, Value>,
}

impl ContextSettings {
    pub fn from_config(config: &Config) -> ContextSettings {
        let strings = |v: &[crate::config::Spanned<String>]| -> Vec<String> {
            v.iter().map(|s| s.value.clone()).collect()
        };
        ContextSettings {
            environments: strings(&config.environments),
            conventions: Some(Conventions::from_config(config)),
            production: config.production_environments.clone(),
            allowed_registries: strings(&config.images.allowed_registries),
            require_digest: strings(&config.images.require_digest),
            params: config
                .rules
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
        }
    }

    fn conventions(&self) -> std::borrow::Cow<'_, Conventions> {
        match &self.conventions {
            Some(c) => std::borrow::Cow::Borrowed(c),
            None => std::borrow::Cow::Owned(Conventions::defaults(&self.environments)),
        }
    }

    /// `data.kgate` for the root at `rel` (relative to the scanned root), or for plain
    /// manifests (`None`: no root, environment or cluster).
    pub fn for_root(&self, rel: Option<&str>) -> Value {
        let (environment, cluster) = rel
            .map(|r| self.conventions().classify(r))
            .unwrap_or_default();
        let in_list = |list: &[String]| {
            environment
                .as_deref()
                .is_some_and(|e| list.iter().any(|x| x == e))
        };
        json!({
            "root": rel,
            "environment": environment,
            "cluster": cluster,
            "production": in_list(&self.production),
            "allowedRegistries": self.allowed_registries,
            "requireDigest": in_list(&self.require_digest),
            "params": self.params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_get_environment_cluster_and_the_settings_for_them() {
        let s = ContextSettings {
            environments: vec!["dev".into(), "prod".into()],
            conventions: None,
            production: vec!["prod".into()],
            allowed_registries: vec!["registry.example.com".into()],
            require_digest: vec!["prod".into()],
            params: Map::new(),
        };
        let prod = s.for_root(Some("apps/web/overlays/prod"));
        assert_eq!(prod["environment"], "prod");
        assert_eq!(prod["production"], true);
        assert_eq!(prod["requireDigest"], true);
        let cluster = s.for_root(Some("clusters/prod-eu-west"));
        assert_eq!(cluster["cluster"], "prod-eu-west");
        assert_eq!(cluster["environment"], "prod");
        let dev = s.for_root(Some("apps/web/overlays/dev"));
        assert_eq!(dev["production"], false);
        let plain = s.for_root(None);
        assert_eq!(plain["root"], Value::Null);
        assert_eq!(plain["allowedRegistries"], json!(["registry.example.com"]));
    }
}
