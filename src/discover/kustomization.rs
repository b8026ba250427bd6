//! What a `kustomization.yaml` says about the files around it, read once during discovery:
//! whether it is a Component (not a root of its own), and which files are *not* standalone
//! manifests: patches, generator inputs, replacement sources and plugin configs are partial
//! objects or other data, and checking them on their own would report noise (a
//! strategic-merge patch "has no resource limits"). A kustomization that does not parse is
//! reported by rendering it (`render-error`).

use std::path::{Component, Path, PathBuf};

use crate::yaml::{self, LoadLimits, Node, Pos, Value};

/// A problem reading a kustomization file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustomizationError {
    pub pos: Pos,
    pub message: String,
}

/// What discovery needs from one kustomization.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KustomizationInfo {
    /// `kind: Component`: applied by the kustomizations that list it, never rendered alone.
    pub is_component: bool,
    /// Files (absolute, lexically normalised) it uses as patches, generator inputs or
    /// transformer/plugin configuration.
    pub non_manifests: Vec<PathBuf>,
    /// YAML files named only by commented-out list entries (`#- argocd/app.yaml`,
    /// `#- path: patches/webhook_in_x.yaml`): switched off by the author, so not deployed.
    pub disabled: Vec<PathBuf>,
}

/// The YAML files of commented-out list entries in a kustomization's text (kubebuilder
/// scaffolds ship their optional patches this way; app-of-apps repositories switch
/// Applications off this way).
fn commented_out_files(dir: &Path, text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let entry = line.trim_start().strip_prefix('#')?;
            let entry = entry
                .trim_start_matches('#')
                .trim_start()
                .strip_prefix('-')?;
            let entry = entry.trim();
            let entry = entry.strip_prefix("path:").map_or(entry, str::trim);
            let is_yaml = entry.ends_with(".yaml") || entry.ends_with(".yml");
            let plain = !entry.contains(char::is_whitespace) && !entry.contains("://");
            (is_yaml && plain).then(|| normalize(&dir.join(entry)))
        })
        .collect()
}

/// A kustomization's documents, read as discovery reads them (a repeated key is an error).
fn parsed(text: &str) -> Result<Vec<yaml::Document>, KustomizationError> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    match err {
        Some(e) => Err(KustomizationError {
            pos: e.pos,
            message: e.to_string(),
        }),
        None => Ok(docs),
    }
}

/// The mapping a kustomization's documents hold; `None` for an empty file.
fn root_of(docs: &[yaml::Document]) -> Result<Option<&Node>, KustomizationError> {
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Ok(None);
    };
    match &root.value {
        Value::Map(_) => Ok(Some(root)),
        Value::Null => Ok(None),
        _ => Err(KustomizationError {
            pos: root.start,
            message: "a kustomization must be a YAML mapping".to_owned(),
        }),
    }
}

/// What discovery needs of one kustomization ([`KustomizationInfo`]) and the local paths it
/// refers to ([`references`]), from a single parse (the parse is most of their cost).
pub fn scan(path: &Path, text: &str) -> Result<KustomizationScan, KustomizationError> {
    scan_documents(path, text).0
}

/// What [`scan`] tells of one kustomization.
pub type KustomizationScan = (KustomizationInfo, Vec<Reference>);

/// The documents of a kustomization's text, when they parsed without error.
pub type ParsedDocuments = Option<std::sync::Arc<Vec<yaml::Document>>>;

/// [`scan`], with the documents it parsed when they parsed without error: the renderer
/// builds from them instead of parsing again (`FileTable::keep_documents`).
pub fn scan_documents(
    path: &Path,
    text: &str,
) -> (
    Result<KustomizationScan, KustomizationError>,
    ParsedDocuments,
) {
    let docs = match parsed(text) {
        Ok(docs) => std::sync::Arc::new(docs),
        Err(e) => return (Err(e), None),
    };
    let scanned = root_of(&docs).map(|root| match root {
        Some(root) => (info_of(path, text, root), references_of(path, root)),
        None => Default::default(),
    });
    (scanned, Some(docs))
}

fn info_of(path: &Path, text: &str, root: &Node) -> KustomizationInfo {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut refs = Vec::new();
    let mut add = |s: &str| {
        let s = s.trim();
        // Inline patches are YAML text, not paths.
        if s.is_empty() || s.contains('\n') || s.contains(": ") {
            return;
        }
        refs.push(normalize(&dir.join(s)));
    };
    let strings = |node: Option<&Node>| -> Vec<String> {
        match node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let items = |key: &str| -> Vec<&Node> {
        match root.get(key).map(|n| &n.value) {
            Some(Value::Seq(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    };
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in items(key) {
            if let Some(p) = item.get("path").and_then(Node::as_str) {
                add(p);
            }
        }
    }
    for p in strings(root.get("patchesStrategicMerge")) {
        add(&p);
    }
    for key in ["transformers", "generators", "validators", "configurations"] {
        for p in strings(root.get(key)) {
            add(&p);
        }
    }
    if let Some(p) = root
        .get("openapi")
        .and_then(|o| o.get("path"))
        .and_then(Node::as_str)
    {
        add(p);
    }
    // Values files of `helmCharts` are Helm values, read by the chart's render.
    for item in items("helmCharts") {
        for key in ["valuesFile", "additionalValuesFiles"] {
            for p in strings(item.get(key)) {
                add(&p);
            }
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in items(key) {
            for f in strings(item.get("files")) {
                // `key=path` names the data key explicitly.
                add(f.split_once('=').map_or(f.as_str(), |(_, p)| p));
            }
            for e in strings(item.get("envs"))
                .into_iter()
                .chain(strings(item.get("env")))
            {
                add(&e);
            }
        }
    }
    KustomizationInfo {
        is_component: root.get("kind").and_then(Node::as_str) == Some("Component"),
        non_manifests: refs,
        disabled: commented_out_files(dir, text),
    }
}

/// What a kustomization entry refers to, for the repository graph.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum RefKind {
    /// `resources:` (or the legacy `bases:`): a file, or a directory with a kustomization.
    Resource,
    /// `components:`.
    Component,
    /// A patch file (`patches`, `patchesStrategicMerge`, `patchesJson6902`).
    Patch,
    /// A generator input (`configMapGenerator`/`secretGenerator` files and env files).
    Generator,
    /// Configuration: `replacements`, `transformers`, `generators`, `validators`,
    /// `configurations`, `crds`, `openapi`.
    Config,
}

/// One path a kustomization refers to, where it says so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// Absolute and lexically normalised (the target may not exist).
    pub target: PathBuf,
    pub kind: RefKind,
    pub pos: Pos,
}

/// Every local path `path` (a kustomization file) refers to, in file order per key. Remote
/// bases and inline patches are not paths and are left out.
pub fn references(path: &Path, text: &str) -> Result<Vec<Reference>, KustomizationError> {
    let docs = parsed(text)?;
    Ok(match root_of(&docs)? {
        Some(root) => references_of(path, root),
        None => Vec::new(),
    })
}

fn references_of(path: &Path, root: &Node) -> Vec<Reference> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut add = |node: &Node, s: &str, kind: RefKind| {
        let s = s.trim();
        if s.is_empty() || s.contains('\n') || s.contains(": ") || is_remote(s) {
            return;
        }
        out.push(Reference {
            target: normalize(&dir.join(s)),
            kind,
            pos: node.start,
        });
    };
    fn seq(node: Option<&Node>) -> Vec<&Node> {
        match node.map(|n| &n.value) {
            Some(Value::Seq(items)) => items.iter().collect(),
            Some(Value::String(_)) => node.into_iter().collect(),
            _ => Vec::new(),
        }
    }
    for (key, kind) in [
        ("resources", RefKind::Resource),
        ("bases", RefKind::Resource),
        ("components", RefKind::Component),
        ("patchesStrategicMerge", RefKind::Patch),
        ("crds", RefKind::Config),
        ("transformers", RefKind::Config),
        ("generators", RefKind::Config),
        ("validators", RefKind::Config),
        ("configurations", RefKind::Config),
    ] {
        for item in seq(root.get(key)) {
            if let Some(s) = item.as_str() {
                add(item, s, kind);
            }
        }
    }
    for (key, kind) in [
        ("patches", RefKind::Patch),
        ("patchesJson6902", RefKind::Patch),
        ("replacements", RefKind::Config),
    ] {
        for item in seq(root.get(key)) {
            if let Some(p) = item.get("path")
                && let Some(s) = p.as_str()
            {
                add(p, s, kind);
            }
        }
    }
    if let Some(p) = root.get("openapi").and_then(|o| o.get("path"))
        && let Some(s) = p.as_str()
    {
        add(p, s, RefKind::Config);
    }
    helm_chart_references(root, &mut add);
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in seq(root.get(key)) {
            for f in seq(item.get("files")) {
                if let Some(s) = f.as_str() {
                    add(
                        f,
                        s.split_once('=').map_or(s, |(_, p)| p),
                        RefKind::Generator,
                    );
                }
            }
            for e in seq(item.get("envs"))
                .into_iter()
                .chain(seq(item.get("env")))
            {
                if let Some(s) = e.as_str() {
                    add(e, s, RefKind::Generator);
                }
            }
        }
    }
    out
}

/// What `helmCharts` read: each chart's directory (`CHARTHOME/NAME`, or
/// `CHARTHOME/NAME-VERSION/NAME` for a chart with `repo` and `version`, as the renderer's
/// `helm_charts.rs` finds it) and its values files, so that a change to a template or a
/// values file reaches the roots that inflate the chart.
fn helm_chart_references(root: &Node, add: &mut impl FnMut(&Node, &str, RefKind)) {
    let charts = match root.get("helmCharts").map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => return,
    };
    fn text(n: Option<&Node>) -> Option<&str> {
        n.and_then(Node::as_str).map(str::trim)
    }
    let home = text(root.get("helmGlobals").and_then(|g| g.get("chartHome")))
        .filter(|h| !h.is_empty())
        .unwrap_or("charts");
    for chart in charts {
        if let Some(name_node) = chart.get("name")
            && let Some(name) = text(Some(name_node)).filter(|n| !n.is_empty())
        {
            let dir = match (text(chart.get("repo")), text(chart.get("version"))) {
                (Some(_), Some(v)) => format!("{home}/{name}-{v}/{name}"),
                _ => format!("{home}/{name}"),
            };
            add(name_node, &dir, RefKind::Config);
        }
        for key in ["valuesFile", "additionalValuesFiles"] {
            let values = match chart.get(key) {
                Some(
                    n @ Node {
                        value: Value::String(_),
                        ..
                    },
                ) => vec![n],
                Some(Node {
                    value: Value::Seq(items),
                    ..
                }) => items.iter().collect(),
                _ => Vec::new(),
            };
            for v in values {
                if let Some(s) = v.as_str() {
                    add(v, s, RefKind::Config);
                }
            }
        }
    }
}

pub use crate::model::kinds::is_remote;

/// `a/b/../c` -> `a/c` without touching the file system (the file may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_patches_and_generator_inputs() {
        let text = "resources: [deployment.yaml]\npatches:\n  - path: patch-resources.yaml\n  - patch: |-\n      - op: add\n        path: /x\npatchesStrategicMerge:\n  - ../common/psm.yaml\n  - |-\n    apiVersion: v1\n    kind: X\npatchesJson6902:\n  - target: {kind: X}\n    path: json.yaml\nconfigMapGenerator:\n  - name: c\n    files: [app.properties, key=conf/other.yaml]\n    envs: [vars.env]\n";
        let refs = scan(Path::new("/r/app/overlay/kustomization.yaml"), text)
            .unwrap()
            .0
            .non_manifests;
        let refs: Vec<String> = refs.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            refs,
            [
                "/r/app/overlay/patch-resources.yaml",
                "/r/app/overlay/json.yaml",
                "/r/app/common/psm.yaml",
                "/r/app/overlay/app.properties",
                "/r/app/overlay/conf/other.yaml",
                "/r/app/overlay/vars.env",
            ]
        );
    }

    #[test]
    fn helm_charts_reference_their_chart_directory_and_values_files() {
        let refs = |text: &str| -> Vec<(String, RefKind, u32)> {
            references(Path::new("/r/envs/prod/kustomization.yaml"), text)
                .unwrap()
                .into_iter()
                .map(|r| (r.target.display().to_string(), r.kind, r.pos.line))
                .collect()
        };
        let local = "helmCharts:\n- name: web\n  valuesFile: values.yaml\n  additionalValuesFiles: [../common.yaml]\n";
        assert_eq!(
            refs(local),
            [
                ("/r/envs/prod/charts/web".to_owned(), RefKind::Config, 2),
                ("/r/envs/prod/values.yaml".to_owned(), RefKind::Config, 3),
                ("/r/envs/common.yaml".to_owned(), RefKind::Config, 4),
            ]
        );
        let pulled = "helmGlobals:\n  chartHome: ../../vendor\nhelmCharts:\n- name: redis\n  repo: https://charts.example.com\n  version: 1.2.3\n";
        assert_eq!(
            refs(pulled),
            [("/r/vendor/redis-1.2.3/redis".to_owned(), RefKind::Config, 4)]
        );
        // No name: nothing to find (the render reports it).
        assert_eq!(refs("helmCharts:\n- repo: x\n"), []);
    }

    #[test]
    fn references_name_kind_and_line() {
        let text = "resources:\n  - ../base\n  - https://github.com/x/y//z?ref=v1\n  - svc.yaml\ncomponents: [../../components/tls]\npatches:\n  - path: p.yaml\n  - patch: |-\n      - op: add\nconfigMapGenerator:\n  - name: c\n    envs: [a.env]\n";
        let refs = references(Path::new("/r/app/overlays/prod/kustomization.yaml"), text).unwrap();
        let got: Vec<(String, RefKind, u32)> = refs
            .iter()
            .map(|r| (r.target.display().to_string(), r.kind, r.pos.line))
            .collect();
        assert_eq!(
            got,
            [
                ("/r/app/overlays/base".to_owned(), RefKind::Resource, 2),
                (
                    "/r/app/overlays/prod/svc.yaml".to_owned(),
                    RefKind::Resource,
                    4
                ),
                ("/r/app/components/tls".to_owned(), RefKind::Component, 5),
                ("/r/app/overlays/prod/p.yaml".to_owned(), RefKind::Patch, 7),
                (
                    "/r/app/overlays/prod/a.env".to_owned(),
                    RefKind::Generator,
                    12
                ),
            ]
        );
    }

    #[test]
    fn broken_kustomizations_are_errors_with_positions() {
        let e = scan(Path::new("k.yaml"), "resources:\n  - a.yaml\n bad: [").unwrap_err();
        assert!(e.pos.line >= 2);
        let e = scan(Path::new("k.yaml"), "- a\n").unwrap_err();
        assert_eq!(e.pos.line, 1);
    }
}
