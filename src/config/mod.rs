//! `.kgate.yaml`: the repository's configuration.
//!
//! Decoded by hand from the spanned YAML tree so that every error names the key and the line
//! (an unknown key is an error, with a did-you-mean, rather than a silently ignored typo).

pub mod date;
pub mod layout;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::model::Severity;
use crate::yaml::{self, Entry, LoadLimits, Node, Pos, Value};

pub const CONFIG_FILE_NAME: &str = ".kgate.yaml";

/// Default for `limits.maxFileSize`: 16 MiB. etcd caps one object at ~1.5 MiB, so a
/// manifest file ten times that is almost certainly generated output or a mistake.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Default for `limits.policyTimeout`: the built-in rules take about a millisecond per
/// object, so five seconds only stops a policy that does not terminate.
pub const DEFAULT_POLICY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Default for `limits.policyMemory`: the whole 200-app gate lives in ~100 MB; 4 GiB stops a
/// runaway comprehension before a CI runner (7 GB on GitHub's) kills the job.
pub const DEFAULT_POLICY_MEMORY: u64 = 4 * 1024 * 1024 * 1024;

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
}

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

/// `layout:` — where the repository keeps what (for the repo-structure rules).
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutConfig {
    /// Globs of app directories (each with `base/` and `overlays/<env>/`); default `apps/*`.
    pub apps: Vec<Spanned<String>>,
    /// Path patterns giving a root's environment (`**/overlays/{env}` by default).
    pub environment_paths: Vec<Spanned<String>>,
    /// Path patterns giving a root's cluster (`**/clusters/{cluster}` by default).
    pub cluster_paths: Vec<Spanned<String>>,
}

impl Default for LayoutConfig {
    fn default() -> Self {
        LayoutConfig {
            apps: vec![Spanned {
                value: "apps/*".to_owned(),
                pos: Pos { line: 0, column: 0 },
            }],
            environment_paths: Vec::new(),
            cluster_paths: Vec::new(),
        }
    }
}

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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImagesConfig {
    pub allowed_registries: Vec<Spanned<String>>,
    /// Environments whose images must be pinned by digest.
    pub require_digest: Vec<Spanned<String>>,
}

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

#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    pub max_file_size: u64,
    /// `limits.policyTimeout`: wall-clock budget of one policy evaluation (one object).
    pub policy_timeout: std::time::Duration,
    /// `limits.policyMemory`: memory ceiling while policies evaluate (process-wide: regorus
    /// checks the allocator's live bytes).
    pub policy_memory: u64,
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
            limits: LimitsConfig {
                max_file_size: DEFAULT_MAX_FILE_SIZE,
                policy_timeout: DEFAULT_POLICY_TIMEOUT,
                policy_memory: DEFAULT_POLICY_MEMORY,
            },
            strict: false,
            schema_dirs: Vec::new(),
            kube_versions: IndexMap::new(),
            production_environments: vec!["prod".to_owned(), "production".to_owned()],
            policies: PoliciesConfig::default(),
            layout: LayoutConfig::default(),
            suppressions: Vec::new(),
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
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
        for entry in d.map(
            &doc.root,
            "the config",
            &[
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
            ],
        )? {
            let v = &entry.value;
            match entry.key.as_str() {
                "kubeVersion" => config.kube_version = Some(d.kube_version(v)?),
                "environments" => config.environments = d.string_list(v, "environments")?,
                "strict" => match v.value {
                    Value::Bool(b) => config.strict = b,
                    _ => {
                        return Err(ConfigError::invalid(
                            path,
                            v.start,
                            "strict must be true or false",
                            None,
                        ));
                    }
                },
                "schemaDirs" => config.schema_dirs = d.string_list(v, "schemaDirs")?,
                "suppressions" => {
                    let Value::Seq(items) = &v.value else {
                        return Err(ConfigError::invalid(
                            path,
                            v.start,
                            "suppressions must be a list of {rule, paths, reason, expires}",
                            None,
                        ));
                    };
                    for item in items {
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
                                "paths" => {
                                    s.paths = d.string_list(&e.value, "suppressions[].paths")?;
                                    for g in &s.paths {
                                        if let Err(err) = globset::Glob::new(&g.value) {
                                            return Err(ConfigError::invalid(
                                                path,
                                                g.pos,
                                                format!("invalid glob `{}`: {err}", g.value),
                                                None,
                                            ));
                                        }
                                    }
                                }
                                "reason" => {
                                    s.reason = Some(d.string(&e.value, "suppressions[].reason")?)
                                }
                                _ => {
                                    let date = d.string(&e.value, "suppressions[].expires")?;
                                    if date::parse_date(&date.value).is_none() {
                                        return Err(ConfigError::invalid(
                                            path,
                                            date.pos,
                                            format!(
                                                "expires must be a date YYYY-MM-DD, got `{}`",
                                                date.value
                                            ),
                                            None,
                                        ));
                                    }
                                    s.expires = Some(date);
                                }
                            }
                        }
                        if s.rule.value.is_empty() {
                            return Err(ConfigError::invalid(
                                path,
                                item.start,
                                "a suppression needs `rule` (a rule id)",
                                None,
                            ));
                        }
                        config.suppressions.push(s);
                    }
                }
                "layout" => {
                    for e in d.map(v, "layout", &["apps", "environmentPaths", "clusterPaths"])? {
                        let list = d.string_list(&e.value, "layout")?;
                        for p in &list {
                            if let Err(m) = layout::validate_pattern(&p.value) {
                                return Err(ConfigError::invalid(path, p.pos, m, None));
                            }
                        }
                        match e.key.as_str() {
                            "apps" => config.layout.apps = list,
                            "environmentPaths" => config.layout.environment_paths = list,
                            _ => config.layout.cluster_paths = list,
                        }
                    }
                }
                "policies" => {
                    for e in d.map(v, "policies", &["dirs", "namespaces", "data"])? {
                        match e.key.as_str() {
                            "dirs" => {
                                config.policies.dirs = d.string_list(&e.value, "policies.dirs")?
                            }
                            "namespaces" => {
                                config.policies.namespaces = d
                                    .string_list(&e.value, "policies.namespaces")?
                                    .into_iter()
                                    .map(|s| s.value)
                                    .collect()
                            }
                            _ => config.policies.data = d.string_list(&e.value, "policies.data")?,
                        }
                    }
                }
                "kubeVersions" => {
                    for e in d.map(v, "kubeVersions", &[])? {
                        let version = d.kube_version(&e.value)?;
                        config.kube_versions.insert(e.key.clone(), version);
                    }
                }
                "productionEnvironments" => {
                    config.production_environments = d
                        .string_list(v, "productionEnvironments")?
                        .into_iter()
                        .map(|s| s.value)
                        .collect();
                }
                "images" => {
                    for e in d.map(v, "images", &["allowedRegistries", "requireDigest"])? {
                        if e.key == "allowedRegistries" {
                            config.images.allowed_registries =
                                d.string_list(&e.value, "images.allowedRegistries")?;
                        } else {
                            config.images.require_digest =
                                d.string_list(&e.value, "images.requireDigest")?;
                        }
                    }
                }
                "exclude" => {
                    config.exclude = d.string_list(v, "exclude")?;
                    // Exclude patterns use .gitignore syntax, checked here so a bad one is a
                    // config error with its line rather than a surprise during the walk.
                    let mut probe = ignore::gitignore::GitignoreBuilder::new("/");
                    for g in &config.exclude {
                        if let Err(e) = probe.add_line(None, &g.value) {
                            return Err(ConfigError::invalid(
                                path,
                                g.pos,
                                format!("invalid pattern `{}` in exclude: {e}", g.value),
                                Some("patterns use .gitignore syntax, e.g. `vendor/` or `**/*.generated.yaml`".to_owned()),
                            ));
                        }
                    }
                }
                "rules" => {
                    for e in d.map(v, "rules", &["disable", "disableIn", "severity", "params"])? {
                        match e.key.as_str() {
                            "disable" => {
                                config.rules.disable = d.string_list(&e.value, "rules.disable")?
                            }
                            "disableIn" => {
                                for p in d.map(&e.value, "rules.disableIn", &[])? {
                                    let globs = d.string_list(&p.value, "rules.disableIn")?;
                                    for g in &globs {
                                        if let Err(err) = globset::Glob::new(&g.value) {
                                            return Err(ConfigError::invalid(
                                                path,
                                                g.pos,
                                                format!("invalid glob `{}`: {err}", g.value),
                                                None,
                                            ));
                                        }
                                    }
                                    config.rules.disable_in.insert(p.key.clone(), globs);
                                }
                            }
                            "params" => {
                                for p in d.map(&e.value, "rules.params", &[])? {
                                    if !matches!(p.value.value, Value::Map(_)) {
                                        return Err(ConfigError::invalid(
                                            path,
                                            p.value.start,
                                            format!(
                                                "rules.params.{} must be a mapping of parameter names to values",
                                                p.key
                                            ),
                                            None,
                                        ));
                                    }
                                    config.rules.params.insert(
                                        p.key.clone(),
                                        Spanned {
                                            value: p.value.to_json(),
                                            pos: p.key_pos,
                                        },
                                    );
                                }
                            }
                            _ => {
                                for s in d.map(&e.value, "rules.severity", &[])? {
                                    let sev = d.severity(&s.value)?;
                                    config.rules.severity.insert(
                                        s.key.clone(),
                                        Spanned {
                                            value: sev,
                                            pos: s.key_pos,
                                        },
                                    );
                                }
                            }
                        }
                    }
                }
                _ => {
                    for e in d.map(
                        v,
                        "limits",
                        &["maxFileSize", "policyTimeout", "policyMemory"],
                    )? {
                        match e.key.as_str() {
                            "maxFileSize" => {
                                config.limits.max_file_size = d.size(&e.value, "maxFileSize")?
                            }
                            "policyMemory" => {
                                config.limits.policy_memory = d.size(&e.value, "policyMemory")?
                            }
                            _ => config.limits.policy_timeout = d.duration(&e.value)?,
                        }
                    }
                }
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

struct Decoder<'p> {
    path: &'p Path,
}

impl Decoder<'_> {
    fn err(&self, pos: Pos, message: String, help: Option<String>) -> ConfigError {
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
    fn map<'n>(
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

    fn string(&self, node: &Node, what: &str) -> Result<Spanned<String>, ConfigError> {
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

    fn string_list(&self, node: &Node, what: &str) -> Result<Vec<Spanned<String>>, ConfigError> {
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

    fn kube_version(&self, node: &Node) -> Result<Spanned<String>, ConfigError> {
        if matches!(node.value, Value::Float(_) | Value::Int(_)) {
            return Err(self.err(
                node.start,
                "kubeVersion must be a quoted string".to_owned(),
                Some(
                    "write it in quotes, e.g. `kubeVersion: \"1.30\"`: unquoted, 1.30 is the number 1.3"
                        .to_owned(),
                ),
            ));
        }
        let v = self.string(node, "kubeVersion")?;
        let ok = v.value.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
        if !ok {
            return Err(self.err(
                node.start,
                format!("kubeVersion `{}` is not of the form MAJOR.MINOR", v.value),
                Some("for example `kubeVersion: \"1.32\"`".to_owned()),
            ));
        }
        if let Err(e) = crate::model::kube_version::KubeVersion::parse(&v.value) {
            return Err(self.err(node.start, e.to_string(), None));
        }
        Ok(v)
    }

    fn severity(&self, node: &Node) -> Result<Severity, ConfigError> {
        let s = self.string(node, "a severity")?;
        s.value
            .parse()
            .map_err(|m: String| self.err(node.start, m, None))
    }

    /// A size in bytes: an integer, or a string with a unit (`512KiB`, `16MiB`, `1GB`).
    /// A duration such as `5s`, `500ms` or `2m`.
    fn duration(&self, node: &Node) -> Result<std::time::Duration, ConfigError> {
        let bad = || {
            self.err(
                node.start,
                "limits.policyTimeout must be a positive duration such as 5s, 500ms or 1m"
                    .to_owned(),
                None,
            )
        };
        let Value::String(s) = &node.value else {
            return Err(bad());
        };
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let d = match unit.trim() {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n.saturating_mul(60)),
            _ => return Err(bad()),
        };
        if d.is_zero() {
            return Err(bad());
        }
        Ok(d)
    }

    fn size(&self, node: &Node, key: &str) -> Result<u64, ConfigError> {
        let bad = || {
            self.err(
                node.start,
                format!("limits.{key} must be a positive size such as 16MiB, 500KB or 1048576"),
                None,
            )
        };
        match &node.value {
            Value::Int(i) if *i > 0 => Ok(*i as u64),
            Value::String(s) => {
                let s = s.trim();
                let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
                let (num, unit) = s.split_at(split);
                let n: u64 = num.parse().map_err(|_| bad())?;
                let mult: u64 = match unit.trim() {
                    "" | "B" => 1,
                    "KB" | "kB" => 1000,
                    "KiB" => 1024,
                    "MB" => 1000 * 1000,
                    "MiB" => 1024 * 1024,
                    "GB" => 1000 * 1000 * 1000,
                    "GiB" => 1024 * 1024 * 1024,
                    _ => return Err(bad()),
                };
                match n.checked_mul(mult) {
                    Some(v) if v > 0 => Ok(v),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
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
