//! `.kgate.yaml`: the repository's configuration.
//!
//! Decoded by hand from the spanned YAML tree so that every error names the key and the line
//! (an unknown key is an error, with a did-you-mean, rather than a silently ignored typo).
//! Each section has its own file owning its struct, defaults, parsing and validation;
//! `Config::parse` only dispatches over the top-level keys.

pub mod date;
mod decoder;
mod exclude;
mod helm;
mod images;
mod kube;
pub mod layout;
mod limits;
mod policies;
mod rules;
mod suppressions;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

pub use helm::HelmConfig;
pub use images::ImagesConfig;
pub use layout::LayoutConfig;
pub use limits::{
    DEFAULT_MAX_FILE_SIZE, DEFAULT_POLICY_MEMORY, DEFAULT_POLICY_TIMEOUT, LimitsConfig,
};
pub use policies::PoliciesConfig;
pub use rules::RulesConfig;
pub use suppressions::Suppression;

use crate::yaml::{self, LoadLimits, Pos, Value};
use decoder::Decoder;

// The unit tests below predate the split and name `Severity` through `super::*`.
#[cfg(test)]
use crate::model::Severity;

pub const CONFIG_FILE_NAME: &str = ".kgate.yaml";

/// The keys `.kgate.yaml` may have at its top level.
const TOP_LEVEL_KEYS: &[&str] = &[
    "kubeVersion",
    "environments",
    "images",
    "exclude",
    "rules",
    "limits",
    "strict",
    "schemaDirs",
    "kubeVersions",
    "productionEnvironments",
    "policies",
    "layout",
    "suppressions",
    "helm",
];

/// A value read from the config, with the position it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this was read from, if any.
    pub path: Option<PathBuf>,
    pub kube_version: Option<Spanned<String>>,
    pub environments: Vec<Spanned<String>>,
    pub images: ImagesConfig,
    /// Globs (gitignore-like, relative to the config's directory) of paths not to check.
    pub exclude: Vec<Spanned<String>>,
    pub rules: RulesConfig,
    pub limits: LimitsConfig,
    /// Unknown fields are findings and kinds without a schema are errors (`--strict`).
    pub strict: bool,
    /// Extra directories whose CustomResourceDefinitions become schemas (relative to the
    /// config's directory).
    pub schema_dirs: Vec<Spanned<String>>,
    /// Kubernetes versions per environment or cluster name (overriding `kubeVersion`).
    pub kube_versions: IndexMap<String, Spanned<String>>,
    /// Environments that run production (rules may be stricter there).
    pub production_environments: Vec<String>,
    /// The repository's own policies (conftest layout).
    pub policies: PoliciesConfig,
    pub layout: LayoutConfig,
    /// `suppressions:` — findings accepted on purpose, with a reason and maybe an expiry.
    pub suppressions: Vec<Suppression>,
    /// `helm:` — the helm binary and how charts are rendered.
    pub helm: HelmConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            kube_version: None,
            environments: Vec::new(),
            images: ImagesConfig::default(),
            exclude: Vec::new(),
            rules: RulesConfig::default(),
            limits: LimitsConfig::default(),
            strict: false,
            schema_dirs: Vec::new(),
            kube_versions: IndexMap::new(),
            production_environments: vec!["prod".to_owned(), "production".to_owned()],
            policies: PoliciesConfig::default(),
            layout: LayoutConfig::default(),
            suppressions: Vec::new(),
            helm: HelmConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{message}")]
    Invalid {
        path: PathBuf,
        pos: Pos,
        message: String,
        help: Option<String>,
    },
}

impl ConfigError {
    fn invalid(path: &Path, pos: Pos, message: impl Into<String>, help: Option<String>) -> Self {
        ConfigError::Invalid {
            path: path.to_owned(),
            pos,
            message: message.into(),
            help,
        }
    }
}

/// Finds `.kgate.yaml` in `start` or its ancestors, stopping at the top of the enclosing git
/// repository so a config outside the checked-out repo is never picked up.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    let mut dir = if start.is_dir() {
        Some(start)
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // The configuration comes with the repository: bounded like any file of it (by the
        // default limit: the file is what would configure another).
        let text = crate::source::read_text_bounded(path, DEFAULT_MAX_FILE_SIZE).map_err(|e| {
            ConfigError::Read {
                path: path.to_owned(),
                source: std::io::Error::other(e),
            }
        })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
        if let Some(e) = err {
            return Err(ConfigError::invalid(path, e.pos, e.to_string(), None));
        }
        let mut config = Config {
            path: Some(path.to_owned()),
            ..Config::default()
        };
        let Some(doc) = docs.first() else {
            return Ok(config);
        };
        if docs.len() > 1 {
            return Err(ConfigError::invalid(
                path,
                docs[1].root.start,
                "the config file must hold a single YAML document",
                None,
            ));
        }
        if doc.root.value == Value::Null {
            return Ok(config);
        }
        let d = Decoder { path };
        // Every key is checked (unknown ones with a did-you-mean) before any value is read.
        for entry in d.map(&doc.root, "the config", TOP_LEVEL_KEYS)? {
            let v = &entry.value;
            let c = &mut config;
            match entry.key.as_str() {
                "kubeVersion" => c.kube_version = Some(kube::version(&d, v)?),
                "environments" => c.environments = d.string_list(v, "environments")?,
                "images" => c.images = images::parse(&d, v)?,
                "exclude" => c.exclude = exclude::parse(&d, v)?,
                "rules" => c.rules = rules::parse(&d, v)?,
                "limits" => c.limits = limits::parse(&d, v)?,
                "strict" => c.strict = d.bool(v, "strict")?,
                "schemaDirs" => c.schema_dirs = d.string_list(v, "schemaDirs")?,
                "kubeVersions" => c.kube_versions = kube::versions(&d, v)?,
                "productionEnvironments" => {
                    c.production_environments = d.plain_string_list(v, "productionEnvironments")?
                }
                "policies" => c.policies = policies::parse(&d, v)?,
                "layout" => c.layout = layout::parse(&d, v)?,
                "helm" => c.helm = helm::parse(&d, v)?,
                _ => c.suppressions = suppressions::parse(&d, v)?,
            }
        }
        Ok(config)
    }

    /// Error for a rule id in `rules:` that no loaded rule has.
    pub fn unknown_rule_error(&self, id: &Spanned<String>, known: &[&str]) -> ConfigError {
        let path = self.path.clone().unwrap_or_else(|| CONFIG_FILE_NAME.into());
        ConfigError::invalid(
            &path,
            id.pos,
            format!("unknown rule `{}`", id.value),
            Some(did_you_mean(&id.value, known).map_or_else(
                || "`kgate` lists rule ids in the SARIF output and `policies/`".to_owned(),
                |s| format!("did you mean `{s}`?"),
            )),
        )
    }
}

/// The closest of `candidates` to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(".kgate.yaml"), text)
    }

    fn err_at(text: &str) -> (u32, String, Option<String>) {
        match parse(text) {
            Err(ConfigError::Invalid {
                pos, message, help, ..
            }) => (pos.line, message, help),
            other => panic!("expected an invalid-config error, got {other:?}"),
        }
    }

    #[test]
    fn contract_keys_parse() {
        let c = parse(
            "kubeVersion: \"1.32\"\nenvironments: [dev, staging, prod]\nimages:\n  allowedRegistries: [registry.example.com/platform]\nexclude: [\"vendor/**\"]\nrules:\n  disable: [image-latest-tag]\n  severity:\n    privileged-container: warning\nlimits:\n  maxFileSize: 2MiB\n",
        )
        .unwrap();
        assert_eq!(c.kube_version.unwrap().value, "1.32");
        assert_eq!(c.environments.len(), 3);
        assert_eq!(
            c.images.allowed_registries[0].value,
            "registry.example.com/platform"
        );
        assert_eq!(c.rules.disable[0].value, "image-latest-tag");
        assert_eq!(
            c.rules.severity["privileged-container"].value,
            Severity::Warning
        );
        assert_eq!(c.limits.max_file_size, 2 * 1024 * 1024);
        assert_eq!(c.limits.policy_timeout, DEFAULT_POLICY_TIMEOUT);
    }

    #[test]
    fn schema_and_rule_settings_parse() {
        let c = parse(
            "strict: true\nschemaDirs: [vendor/crds]\nkubeVersions:\n  prod: \"1.30\"\n  prod-eu: \"1.29\"\nproductionEnvironments: [prod, live]\nimages:\n  requireDigest: [prod]\nrules:\n  params:\n    required-labels:\n      labels: [team]\n",
        )
        .unwrap();
        assert!(c.strict);
        assert_eq!(c.schema_dirs[0].value, "vendor/crds");
        assert_eq!(c.kube_versions["prod-eu"].value, "1.29");
        assert_eq!(c.production_environments, ["prod", "live"]);
        assert_eq!(c.images.require_digest[0].value, "prod");
        assert_eq!(
            c.rules.params["required-labels"].value,
            serde_json::json!({"labels": ["team"]})
        );
        assert!(err_at("strict: yes please\n").1.contains("true or false"));
        assert!(
            err_at("kubeVersions:\n  prod: \"1.12\"\n")
                .1
                .contains("unsupported Kubernetes version")
        );
        assert!(
            err_at("rules:\n  params:\n    x: 3\n")
                .1
                .contains("must be a mapping")
        );
    }

    #[test]
    fn suppressions() {
        let c = Config::parse(
            Path::new(".kgate.yaml"),
            "suppressions:\n  - rule: image-latest-tag\n    paths: [legacy/**]\n    reason: retired\n    expires: \"2027-01-31\"\n",
        )
        .unwrap();
        assert_eq!(c.suppressions.len(), 1);
        assert_eq!(c.suppressions[0].rule.value, "image-latest-tag");
        assert_eq!(c.suppressions[0].reason.as_ref().unwrap().value, "retired");
        assert!(
            err_at("suppressions:\n  - rule: x\n    expires: soon\n")
                .1
                .contains("YYYY-MM-DD")
        );
        assert!(
            err_at("suppressions:\n  - reason: why\n")
                .1
                .contains("needs `rule`")
        );
        assert!(err_at("suppressions: {}\n").1.contains("must be a list"));
        assert!(
            err_at("suppressions:\n  - rule: x\n    path: [a]\n")
                .1
                .contains("unknown key `path`")
        );
    }

    #[test]
    fn policy_limits() {
        let c = Config::parse(
            Path::new(".kgate.yaml"),
            "limits:\n  policyTimeout: 250ms\n  policyMemory: 512MiB\n",
        )
        .unwrap();
        assert_eq!(
            c.limits.policy_timeout,
            std::time::Duration::from_millis(250)
        );
        assert_eq!(c.limits.policy_memory, 512 * 1024 * 1024);
        assert_eq!(c.limits.max_file_size, DEFAULT_MAX_FILE_SIZE);
        assert!(
            err_at("limits:\n  policyTimeout: 5\n")
                .1
                .contains("duration")
        );
        assert!(
            err_at("limits:\n  policyTimeout: 0s\n")
                .1
                .contains("duration")
        );
        assert!(
            err_at("limits:\n  policyMemory: lots\n")
                .1
                .contains("limits.policyMemory")
        );
    }

    #[test]
    fn unknown_keys_name_key_and_line() {
        let (line, msg, help) = err_at("environments: [dev]\nexlude: [a]\n");
        assert_eq!(line, 2);
        assert_eq!(msg, "unknown key `exlude` in the config");
        assert_eq!(help.as_deref(), Some("did you mean `exclude`?"));
        let (line, msg, _) = err_at("images:\n  registries: []\n");
        assert_eq!(
            (line, msg.as_str()),
            (2, "unknown key `registries` in images")
        );
    }

    #[test]
    fn wrong_types_and_values_are_errors() {
        assert_eq!(err_at("kubeVersion: 1.30\n").0, 1);
        assert!(err_at("kubeVersion: \"v1\"\n").1.contains("MAJOR.MINOR"));
        assert!(err_at("environments: dev\n").1.contains("must be a list"));
        assert!(
            err_at("rules:\n  severity:\n    x: fatal\n")
                .1
                .contains("unknown severity")
        );
        assert!(
            err_at("limits:\n  maxFileSize: 12 parsecs\n")
                .1
                .contains("maxFileSize")
        );
        assert!(
            err_at("exclude: [\"a/{b\"]\n")
                .1
                .contains("invalid pattern")
        );
        assert!(err_at("a: [\n").1.starts_with("YAML syntax error"));
        assert!(err_at("- a\n").1.contains("must be a mapping"));
    }

    #[test]
    fn empty_config_is_default() {
        assert_eq!(
            parse("").unwrap().limits.max_file_size,
            DEFAULT_MAX_FILE_SIZE
        );
        assert_eq!(parse("# nothing\n").unwrap().exclude.len(), 0);
    }
}
