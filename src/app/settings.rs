//! Arguments resolved once (as ripgrep's `HiArgs`): the paths to check, the scanned root and
//! the repository root, the configuration and where it was found. Every stage is given what
//! it needs from here; none re-reads flags or configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigError, find_config};
use crate::discover::graph::RepoGraph;
use crate::discover::{self, DiscoverError, Discovery};
use crate::policy::PolicyError;
use crate::source::FileTable;
use crate::validate::KubeVersion;

/// What to check and how.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Files or directories; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// An explicit config file; otherwise `.kgate.yaml` is searched upward from the first path.
    pub config: Option<PathBuf>,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    /// The Kubernetes version to validate against (`1.32`); overrides `kubeVersion`.
    pub kube_version: Option<String>,
    /// Unknown fields are findings, kinds without schema errors; or'ed with `strict:`.
    pub strict: bool,
    /// Check only what a change since this git revision can affect.
    pub changed_since: Option<String>,
    /// Check only what a change to these files (relative to the scanned root) can affect:
    /// `changed_since` with the files given instead of asked from git (`kgate diff --since`
    /// checks REF's exported tree, which is not a repository, with the same files).
    pub changed_files: Option<std::collections::BTreeSet<String>>,
    /// Updated as roots are checked, for a progress display.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// `(i, n)`: check only the i-th of n deterministic parts of the roots and files
    /// (1-based), for CI matrices; repository-wide findings go to part 1.
    pub shard: Option<(usize, usize)>,
    /// Where the render cache across runs lives (see `render/kustomize/store.rs`); `None`:
    /// no cache ([`default_cache_dir`] is the command line's default).
    pub cache_dir: Option<PathBuf>,
}

/// The render cache's default place: `$KGATE_CACHE_DIR`, else (outside CI) `$XDG_CACHE_HOME/kgate`,
/// else `~/.cache/kgate`. In CI (`$CI` set, as GitHub Actions and GitLab CI set it) a runner
/// starts clean and nothing would read what a run writes, so there is no cache unless
/// `$KGATE_CACHE_DIR` names one (a directory the pipeline keeps between runs).
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("KGATE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if var("CI").is_some_and(|v| v != "false" && v != "0") {
        return None;
    }
    var("XDG_CACHE_HOME")
        .map(|d| PathBuf::from(d).join("kgate"))
        .or_else(|| var("HOME").map(|d| PathBuf::from(d).join(".cache").join("kgate")))
}

/// How far a check is: roots to check and roots checked.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: std::sync::atomic::AtomicUsize,
    pub done: std::sync::atomic::AtomicUsize,
}

/// Errors that stop a check before it produces findings (usage and configuration errors).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("path does not exist: {}", .0.display())]
    PathNotFound(PathBuf),
    #[error("cannot resolve {}: {source}", path.display())]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error(transparent)]
    Changes(#[from] crate::app::changes::ChangesError),
    #[error(transparent)]
    KubeVersion(#[from] crate::validate::UnsupportedVersion),
    /// `kgate diff --since`: the working tree's check ended without the checks of roots REF's
    /// side took from it (it failed: its error is the one reported).
    #[error("the working tree's check ended before it checked {0}")]
    Handover(String),
}

/// `CheckOptions` resolved: canonical paths, the scanned root, the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The paths to check, canonical.
    pub paths: Vec<PathBuf>,
    /// The scanned root: every path in findings is relative to it.
    pub root: PathBuf,
    /// The repository the scanned root is in: nothing outside it is read.
    pub repo_root: PathBuf,
    pub config: Config,
    /// Where relative paths of the configuration start (its directory, else the root).
    pub config_dir: PathBuf,
    /// Every file the check reads, read once and bounded by `limits.maxFileSize`.
    pub sources: Arc<FileTable>,
}

impl Settings {
    pub fn resolve(opts: &CheckOptions) -> Result<Settings, CheckError> {
        let paths = resolve_paths(&opts.paths)?;
        let (config, found_config_dir) = load_config(opts, &paths)?;
        let root = scan_root(&paths, found_config_dir.as_deref());
        let config_dir = config
            .path
            .as_ref()
            .and_then(|p| p.parent())
            .map_or_else(|| root.clone(), Path::to_path_buf);
        check_schema_dirs(&config, &config_dir)?;
        Ok(Settings {
            sources: Arc::new(FileTable::new(&root, config.limits.max_file_size)),
            repo_root: repo_root_of(&root),
            paths,
            root,
            config,
            config_dir,
        })
    }

    /// The scanned root's path from the git top level: `""`, or `apps/web/` (see
    /// [`CheckResult::repo_prefix`](crate::model::CheckResult::repo_prefix)).
    pub fn repo_prefix(&self) -> String {
        match crate::source::relative(&self.repo_root, &self.root).as_str() {
            "" | "." => String::new(),
            rel => format!("{rel}/"),
        }
    }

    /// The schema version: `--kube-version`, else `kubeVersion`, else the newest embedded.
    pub fn kube_version(&self, flag: Option<&str>) -> Result<KubeVersion, CheckError> {
        Ok(match flag {
            Some(v) => KubeVersion::parse(v)?,
            None => match &self.config.kube_version {
                Some(v) => KubeVersion::parse(&v.value)?,
                None => crate::validate::catalog::newest(),
            },
        })
    }

    /// `kubeVersions:` of the configuration, by cluster or environment name.
    pub fn kube_versions_by_name(&self) -> Result<Vec<(String, KubeVersion)>, CheckError> {
        let mut out = Vec::new();
        for (name, v) in &self.config.kube_versions {
            out.push((name.clone(), KubeVersion::parse(&v.value)?));
        }
        Ok(out)
    }

    /// How Helm runs: the binary (`helm.binary`, else `$KGATE_HELM`, else PATH), the target
    /// Kubernetes version and the group/versions of the repository's CRDs.
    pub fn helm(
        &self,
        version: KubeVersion,
        crds: &[serde_json::Value],
    ) -> crate::render::helm::HelmSettings {
        let helm = &self.config.helm;
        let configured = helm.binary.as_ref().map(|b| {
            // A bare name is looked up on PATH by the OS; a path is relative to the config.
            if b.contains('/') {
                self.config_dir.join(b)
            } else {
                PathBuf::from(b)
            }
        });
        let mut api_versions: Vec<String> = crds.iter().flat_map(crd_api_versions).collect();
        api_versions.sort();
        api_versions.dedup();
        crate::render::helm::HelmSettings {
            binary: crate::render::helm::locate(configured.as_deref()),
            allow_network: helm.allow_network,
            include_crds: helm.include_crds,
            kube_version: Some(format!("{version}.0")),
            api_versions,
        }
    }

    /// The configured schema directories, resolved.
    pub fn schema_dirs(&self) -> Vec<PathBuf> {
        schema_dirs_of(&self.config, &self.config_dir)
    }

    /// What the walk leaves out: the configured excludes and the repository's policy and data
    /// files, which configure the gate and are not manifests. A policy directory counts only
    /// when it holds Rego (`has_rego`; a `policy/` of Kyverno YAML is checked as usual).
    pub fn excludes(&self, has_rego: bool) -> Vec<String> {
        let config = &self.config;
        let mut excludes: Vec<String> = config.exclude.iter().map(|e| e.value.clone()).collect();
        for p in config.policies.dirs.iter().chain(&config.policies.data) {
            let rel = p.value.trim_start_matches("./").trim_end_matches('/');
            let is_data = config.policies.data.iter().any(|d| d.value == p.value);
            if rel.is_empty() || rel.starts_with("..") || (!is_data && !has_rego) {
                continue;
            }
            excludes.push(format!("/{rel}"));
        }
        excludes
    }

    /// The user's policy directories, namespaces and data files, resolved.
    pub fn user_policies(&self) -> crate::policy::user::UserPolicyConfig {
        let resolve = |dirs: &[crate::config::Spanned<String>]| -> Vec<PathBuf> {
            dirs.iter()
                .map(|d| self.config_dir.join(&d.value))
                .collect()
        };
        crate::policy::user::UserPolicyConfig {
            dirs: resolve(&self.config.policies.dirs),
            namespaces: self.config.policies.namespaces.clone(),
            data: resolve(&self.config.policies.data),
            within: Some(self.config_dir.clone()),
            max_file_size: Some(self.config.limits.max_file_size),
        }
    }

    /// Walks the paths with `excludes`.
    pub fn discover(&self, excludes: &[String]) -> Result<Discovery, CheckError> {
        self.discover_with(excludes, None)
    }

    /// [`Settings::discover`] with the kustomization scans of a run before.
    pub fn discover_with(
        &self,
        excludes: &[String],
        scanned: Option<&discover::Scanned>,
    ) -> Result<Discovery, CheckError> {
        Ok(discover::discover_with(
            &self.root,
            &self.paths,
            excludes,
            &self.sources,
            scanned,
        )?)
    }

    /// The repository graph of `discovery`, with the configured layout.
    pub fn graph(&self, discovery: &Discovery) -> RepoGraph {
        crate::discover::graph::build(
            &self.root,
            discovery,
            &crate::config::layout::Conventions::from_config(&self.config),
            &self.sources,
        )
    }
}

/// The configuration `opts` names, or the `.kgate.yaml` found upward from the first path
/// (with its canonical directory).
fn load_config(
    opts: &CheckOptions,
    paths: &[PathBuf],
) -> Result<(Config, Option<PathBuf>), CheckError> {
    Ok(match &opts.config {
        Some(p) => (Config::load(p)?, None),
        None => match find_config(&paths[0]) {
            Some(p) => {
                let dir = p.parent().map(Path::to_path_buf);
                (
                    Config::load(&p)?,
                    dir.and_then(|d| std::fs::canonicalize(d).ok()),
                )
            }
            None => (Config::default(), None),
        },
    })
}

/// The repository `root` is in (its nearest ancestor with `.git`), else `root`: nothing
/// outside it is read.
fn repo_root_of(root: &Path) -> PathBuf {
    root.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(root)
        .to_path_buf()
}

/// Every `schemaDirs` entry exists and is inside the configuration's directory (symlinks
/// resolved): the configuration is pull-request content, and the files of a schema
/// directory are read and parsed, so it must not reach the runner's files.
fn check_schema_dirs(config: &Config, config_dir: &Path) -> Result<(), CheckError> {
    let Some(config_path) = &config.path else {
        return Ok(());
    };
    let within = std::fs::canonicalize(config_dir).unwrap_or_else(|_| config_dir.to_path_buf());
    for d in &config.schema_dirs {
        let refuse = |message: String| {
            CheckError::Config(ConfigError::Invalid {
                path: config_path.clone(),
                pos: d.pos,
                message,
                help: Some(
                    "schemaDirs are directories of CustomResourceDefinitions inside the repository, relative to the configuration"
                        .to_owned(),
                ),
            })
        };
        let real = std::fs::canonicalize(config_dir.join(&d.value)).map_err(|e| {
            refuse(format!(
                "schemaDirs entry `{}` cannot be read: {e}",
                d.value
            ))
        })?;
        if !real.starts_with(&within) {
            return Err(refuse(format!(
                "schemaDirs entry `{}` is outside {}: kgate reads nothing outside the configuration's directory",
                d.value,
                within.display()
            )));
        }
    }
    Ok(())
}

fn schema_dirs_of(config: &Config, config_dir: &Path) -> Vec<PathBuf> {
    config
        .schema_dirs
        .iter()
        .map(|d| config_dir.join(&d.value))
        .collect()
}

pub fn resolve_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CheckError> {
    let given: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    given
        .iter()
        .map(|p| {
            if !p.exists() && p.symlink_metadata().is_err() {
                return Err(CheckError::PathNotFound(p.clone()));
            }
            std::fs::canonicalize(p).map_err(|source| CheckError::Path {
                path: p.clone(),
                source,
            })
        })
        .collect()
}

/// The directory findings are relative to: the config's directory when one was found above
/// the paths, else the paths' common ancestor (a file's parent for a single file).
fn scan_root(paths: &[PathBuf], config_dir: Option<&Path>) -> PathBuf {
    let dir_of = |p: &PathBuf| -> PathBuf {
        if p.is_dir() {
            p.clone()
        } else {
            p.parent().map_or_else(|| p.clone(), Path::to_path_buf)
        }
    };
    let mut root = config_dir.map_or_else(|| dir_of(&paths[0]), Path::to_path_buf);
    for p in paths {
        let d = dir_of(p);
        while !d.starts_with(&root) {
            match root.parent() {
                Some(parent) => root = parent.to_path_buf(),
                None => break,
            }
        }
    }
    root
}

/// `group/version` and `group/version/Kind` for every served version of a CRD (what
/// `.Capabilities.APIVersions.Has` is asked in charts).
fn crd_api_versions(crd: &serde_json::Value) -> Vec<String> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or("");
    let kind = spec["names"]["kind"].as_str().unwrap_or("");
    if group.is_empty() {
        return Vec::new();
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for v in versions {
        if let Some(name) = v["name"].as_str() {
            out.push(format!("{group}/{name}"));
            if !kind.is_empty() {
                out.push(format!("{group}/{name}/{kind}"));
            }
        }
    }
    out
}
