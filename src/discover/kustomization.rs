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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KustomizationInfo {
    /// `kind: Component`: applied by the kustomizations that list it, never rendered alone.
    pub is_component: bool,
    /// Files (absolute, lexically normalised) it uses as patches, generator inputs or
    /// transformer/plugin configuration.
    pub non_manifests: Vec<PathBuf>,
}

/// Reads a kustomization's kind and the non-manifest files it references.
pub fn read_kustomization(
    path: &Path,
    text: &str,
) -> Result<KustomizationInfo, KustomizationError> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    if let Some(e) = err {
        return Err(KustomizationError {
            pos: e.pos,
            message: e.to_string(),
        });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut refs = Vec::new();
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Ok(KustomizationInfo::default());
    };
    match &root.value {
        Value::Map(_) => {}
        Value::Null => return Ok(KustomizationInfo::default()),
        _ => {
            return Err(KustomizationError {
                pos: root.start,
                message: "a kustomization must be a YAML mapping".to_owned(),
            });
        }
    }
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
    Ok(KustomizationInfo {
        is_component: root.get("kind").and_then(Node::as_str) == Some("Component"),
        non_manifests: refs,
    })
}

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
        let refs = read_kustomization(Path::new("/r/app/overlay/kustomization.yaml"), text)
            .unwrap()
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
    fn broken_kustomizations_are_errors_with_positions() {
        let e =
            read_kustomization(Path::new("k.yaml"), "resources:\n  - a.yaml\n bad: [").unwrap_err();
        assert!(e.pos.line >= 2);
        let e = read_kustomization(Path::new("k.yaml"), "- a\n").unwrap_err();
        assert_eq!(e.pos.line, 1);
    }
}
