//! The library side of `kgate graph`, `kgate diff`, `kgate init` and `kgate render`: each
//! opens the repository as `kgate check` does (the same settings and repository root).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::discover::graph::RepoGraph;
use crate::render::{RenderError, Renderer};
use crate::source::FileTable;

use super::settings::{CheckError, CheckOptions, Settings};

/// The scanned root, its configuration and its repository graph: what `kgate graph` and
/// `kgate diff` start from.
pub(super) fn open_repo(opts: &CheckOptions) -> Result<(Settings, RepoGraph), CheckError> {
    let settings = Settings::resolve(opts)?;
    let excludes: Vec<String> = settings
        .config
        .exclude
        .iter()
        .map(|e| e.value.clone())
        .collect();
    let discovery = settings.discover(&excludes)?;
    let graph = settings.graph(&discovery);
    Ok((settings, graph))
}

/// The repository graph of what `kgate check` with `opts` would check (`kgate graph`).
pub fn repo_graph(opts: &CheckOptions) -> Result<RepoGraph, CheckError> {
    Ok(open_repo(opts)?.1)
}

/// `kgate diff`: environment drift of the apps under `opts.paths` (or those named in
/// `only`), across `environments` (default: the configured ones).
pub fn drift(
    opts: &CheckOptions,
    environments: &[String],
    only: &[String],
    allow: &[String],
) -> Result<(Vec<String>, Vec<crate::app::drift::AppDrift>), CheckError> {
    let (settings, graph) = open_repo(opts)?;
    let config: &Config = &settings.config;
    let envs: Vec<String> = if environments.is_empty() {
        config
            .environments
            .iter()
            .map(|e| e.value.clone())
            .collect()
    } else {
        environments.to_vec()
    };
    let app_globs: Vec<String> = config.layout.apps.iter().map(|a| a.value.clone()).collect();
    let repo = crate::app::repo_input::repo_input(&graph, &envs, &app_globs);
    let drifts = crate::app::drift::diff(
        &settings.repo_root,
        &settings.root,
        &repo["apps"],
        &envs,
        only,
        allow,
    );
    Ok((envs, drifts))
}

/// What `kgate init` writes for the repository at `path`: a commented configuration.
pub fn init_config(path: &Path) -> Result<String, CheckError> {
    let paths = super::settings::resolve_paths(&[path.to_path_buf()])?;
    let root = paths[0].clone();
    let table = FileTable::new(&root, crate::config::DEFAULT_MAX_FILE_SIZE);
    let discovery = crate::discover::discover(&root, &paths, &[], &table)?;
    let graph = crate::discover::graph::build(
        &root,
        &discovery,
        &crate::config::layout::Conventions::defaults(&[]),
        &table,
    );
    let detected = crate::app::init::detect(&discovery, &graph, &table);
    Ok(crate::app::init::config_text(
        &detected,
        &crate::validate::catalog::newest().to_string(),
    ))
}

/// The directory `kgate render DIR` may read within, found as `kgate check` finds its root:
/// the directory of the `.kgate.yaml` found upward from DIR, else the enclosing git
/// repository, else the current directory when DIR is inside it, else DIR. (An overlay's
/// `../../base` is then inside the root, as `kubectl kustomize` reads it.)
pub fn render_root(dir: &Path) -> Result<PathBuf, CheckError> {
    let dir = super::settings::resolve_paths(&[dir.to_path_buf()])?.remove(0);
    if let Some(config) = crate::config::find_config(&dir)
        && let Some(parent) = config.parent().and_then(|p| std::fs::canonicalize(p).ok())
    {
        return Ok(parent);
    }
    if let Some(repo) = dir.ancestors().find(|d| d.join(".git").exists()) {
        return Ok(repo.to_path_buf());
    }
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    Ok(match cwd {
        Ok(cwd) if dir.starts_with(&cwd) => cwd,
        _ => dir,
    })
}

/// `kgate render DIR`: the rendered stream (with `provenance`, every value commented with
/// where it came from), reading nothing outside `root` (default: [`render_root`]) and no
/// file larger than the configuration's `limits.maxFileSize`.
pub fn render(
    dir: &Path,
    root: Option<&Path>,
    provenance: bool,
) -> Result<Result<String, RenderError>, CheckError> {
    let root = match root {
        Some(r) => r.to_path_buf(),
        None => render_root(dir)?,
    };
    let config = match crate::config::find_config(dir) {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    };
    // Helm as `kubectl kustomize --enable-helm` runs it: no target version is forced.
    let config_dir = config
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .map_or_else(|| root.clone(), Path::to_path_buf);
    let binary = config.helm.binary.as_ref().map(|b| {
        if b.contains('/') {
            config_dir.join(b)
        } else {
            PathBuf::from(b)
        }
    });
    let helm = std::sync::Arc::new(crate::render::helm::Helm::new(
        crate::render::helm::HelmSettings {
            binary: crate::render::helm::locate(binary.as_deref()),
            allow_network: config.helm.allow_network,
            include_crds: config.helm.include_crds,
            ..Default::default()
        },
    ));
    let renderer = Renderer::new(&root)
        .with_max_file_size(config.limits.max_file_size)
        .with_helm(helm.clone());
    let is_chart = dir.join("Chart.yaml").is_file()
        && !crate::model::kinds::KUSTOMIZATION_FILE_NAMES
            .iter()
            .any(|k| dir.join(k).is_file());
    if is_chart {
        // A chart directory on its own: its default values, as `kgate check` renders it.
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        let label = crate::source::relative(&root, &dir);
        let file_id = |f: &Path| renderer.file_id(f);
        return Ok(
            crate::render::helm::output::render_chart(&helm, &dir, &label, &file_id)
                .map(|rs| crate::render::kustomize::emit::emit_stream(rs.iter().map(|r| &r.node))),
        );
    }
    Ok(if provenance {
        renderer.render_with_provenance(dir, &root)
    } else {
        renderer.render_to_string(dir)
    })
}
