//! Entry points that deploy a Helm chart: an Argo CD `Application` whose source is a chart
//! (one source, or `spec.sources` with `$ref` value files), and a Flux `HelmRelease`. Each
//! becomes a [`HelmSource`]: the `helm template` options the controller would use and the
//! values layers findings are pointed at.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::sources::VariableSources;
use crate::render::helm::values::ValuesLayer;
use crate::yaml::{self, Node};

/// How an entry point renders a chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HelmSource {
    /// `releaseName`, default the Application's name.
    pub release: String,
    /// `spec.destination.namespace`.
    pub namespace: Option<String>,
    /// `valueFiles`, relative to the scanned root (Argo CD resolves them from the chart path,
    /// `$ref/...` from the root of the source named `ref`).
    pub value_files: Vec<String>,
    /// Values texts passed after the value files, in order (Argo CD `values` and
    /// `valuesObject`; Flux `valuesFrom` entries and `values`).
    pub values: Vec<String>,
    /// `parameters`: name, value, forceString (`--set` / `--set-string`).
    pub parameters: Vec<(String, String, bool)>,
    /// Argo CD `fileParameters`: name and file relative to the scanned root (`--set-file`).
    pub file_parameters: Vec<(String, String)>,
    /// `skipCrds`.
    pub skip_crds: bool,
    /// Where the values come from, lowest precedence first, for pointing findings at the
    /// line that set a value.
    pub layers: Vec<ValuesLayer>,
    /// The chart is not in this repository (a chart repository or OCI registry): its name and
    /// source, for the finding that says it was not rendered.
    pub remote: Option<String>,
    /// Values sources named but not found in the repository (Flux `valuesFrom`, a `$ref`
    /// no source declares).
    pub missing: Vec<String>,
    /// Files values are read from that are manifests of their own (the ConfigMaps and
    /// Secrets of `valuesFrom`): still checked as such.
    pub manifests: Vec<PathBuf>,
}

/// An Argo CD `Application` (the document `app`, `o` as JSON, declared in `file`) whose
/// source is a chart: `spec.source`, or the chart among `spec.sources`. Returns the source
/// and the chart's path (empty for a chart from a chart repository).
pub fn argo_helm(root: &Path, o: &Value, app: &Node, file: &Path) -> Option<(HelmSource, String)> {
    let spec = &o["spec"];
    let (sources, nodes): (Vec<&Value>, Vec<Option<&Node>>) = if spec["source"].is_object() {
        (
            vec![&spec["source"]],
            vec![app.get("spec").and_then(|s| s.get("source"))],
        )
    } else {
        let nodes = match app
            .get("spec")
            .and_then(|s| s.get("sources"))
            .map(|s| &s.value)
        {
            Some(yaml::Value::Seq(items)) => items.iter().map(Some).collect(),
            _ => Vec::new(),
        };
        (spec["sources"].as_array()?.iter().collect(), nodes)
    };
    let is_chart = |s: &Value| {
        s["chart"].is_string()
            || s["path"].as_str().is_some_and(|p| {
                root.join(p.trim_start_matches("./"))
                    .join("Chart.yaml")
                    .is_file()
            })
    };
    let i = sources.iter().position(|s| is_chart(s))?;
    let source = sources[i];
    let name = o["metadata"]["name"].as_str().unwrap_or("");
    let helm = &source["helm"];
    let mut h = HelmSource {
        release: helm["releaseName"]
            .as_str()
            .filter(|r| !r.is_empty())
            .unwrap_or(name)
            .to_owned(),
        namespace: spec["destination"]["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        skip_crds: helm["skipCrds"] == true,
        ..HelmSource::default()
    };
    if let Some(chart) = source["chart"].as_str() {
        h.remote = Some(format!(
            "chart `{chart}` {} from {}",
            source["targetRevision"].as_str().unwrap_or(""),
            source["repoURL"].as_str().unwrap_or("")
        ));
        return Some((h, String::new()));
    }
    let path = source["path"].as_str()?.trim_start_matches("./").to_owned();
    argo_values(root, &path, helm, &sources, &mut h);
    let node = nodes.get(i).copied().flatten();
    let h = with_layers(h, root, file, node.and_then(|n| n.get("helm")));
    Some((h, path))
}

/// Value files (`$ref/...` resolved against the sources with that `ref`, which are taken to
/// be this repository), `values`, `valuesObject`, `parameters` and `fileParameters`.
fn argo_values(root: &Path, path: &str, helm: &Value, sources: &[&Value], h: &mut HelmSource) {
    let ignore_missing = helm["ignoreMissingValueFiles"] == true;
    for f in helm["valueFiles"].as_array().into_iter().flatten() {
        let Some(f) = f.as_str() else { continue };
        let abs = match f.strip_prefix('$') {
            Some(rest) => {
                let (r, file) = rest.split_once('/').unwrap_or((rest, ""));
                if !sources.iter().any(|s| s["ref"] == r) {
                    h.missing
                        .push(format!("value file {f} (no source has `ref: {r}`)"));
                    continue;
                }
                lexical(&root.join(file))
            }
            None => lexical(&root.join(path).join(f)),
        };
        if ignore_missing && !abs.is_file() {
            continue;
        }
        h.value_files.push(crate::source::relative(root, &abs));
    }
    if let Some(v) = helm["values"].as_str() {
        h.values.push(v.to_owned());
    }
    if helm["valuesObject"].is_object() {
        h.values.push(helm["valuesObject"].to_string());
    }
    for p in helm["parameters"].as_array().into_iter().flatten() {
        let value = match &p["value"] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if let Some(name) = p["name"].as_str() {
            h.parameters
                .push((name.to_owned(), value, p["forceString"] == true));
        }
    }
    for p in helm["fileParameters"].as_array().into_iter().flatten() {
        if let (Some(name), Some(file)) = (p["name"].as_str(), p["path"].as_str()) {
            let abs = lexical(&root.join(path).join(file));
            h.file_parameters
                .push((name.to_owned(), crate::source::relative(root, &abs)));
        }
    }
}

/// The values layers of an Argo CD Helm source: value files, then `values` (a string kgate
/// does not locate), `valuesObject`, `parameters` (each parameter's value node, at its
/// dotted name) and `fileParameters` (at their `path` line) in the Application.
fn with_layers(mut h: HelmSource, root: &Path, file: &Path, helm: Option<&Node>) -> HelmSource {
    for f in &h.value_files {
        h.layers.extend(ValuesLayer::read(root.join(f)));
    }
    let layer = |n: Option<Node>| ValuesLayer {
        file: file.to_owned(),
        root: n,
    };
    if helm.and_then(|h| h.get("values")).is_some() {
        h.layers.push(layer(None));
    }
    if let Some(v) = helm.and_then(|h| h.get("valuesObject")) {
        h.layers.push(layer(Some(v.clone())));
    }
    for (field, value) in [("parameters", "value"), ("fileParameters", "path")] {
        if let Some(yaml::Value::Seq(params)) = helm.and_then(|h| h.get(field)).map(|p| &p.value) {
            h.layers.push(layer(named_tree(params, value)));
        }
    }
    h
}

/// `[{name: a.b, value: x}]` as the tree `{a: {b: x}}` (nodes where the Application writes
/// them); `None` when a name is not a plain dotted path.
fn named_tree(params: &[Node], value: &str) -> Option<Node> {
    let mut tree = Node::synthetic(yaml::Value::Map(Vec::new()));
    for p in params {
        match (p.str_at(&["name"]), p.get(value)) {
            (Some(name), Some(v)) if !name.contains(['[', '\\']) => {
                insert_path(&mut tree, name.split('.'), v.clone());
            }
            _ => return None,
        }
    }
    Some(tree)
}

/// Sets `value` at a dotted path in a mapping node.
fn insert_path<'a>(node: &mut Node, mut path: impl Iterator<Item = &'a str>, value: Node) {
    let Some(seg) = path.next() else {
        *node = value;
        return;
    };
    if !matches!(node.value, yaml::Value::Map(_)) {
        node.value = yaml::Value::Map(Vec::new());
    }
    if let yaml::Value::Map(entries) = &mut node.value {
        let i = match entries.iter().position(|e| e.key == seg) {
            Some(i) => i,
            None => {
                entries.push(yaml::Entry {
                    key: seg.to_owned(),
                    key_pos: value.start,
                    value: Node::synthetic(yaml::Value::Null),
                });
                entries.len() - 1
            }
        };
        insert_path(&mut entries[i].value, path, value);
    }
}

/// A Flux `HelmRelease`: the chart (a path of this repository when it comes from a
/// `GitRepository`, else remote), `releaseName` (default `[targetNamespace-]name`), the
/// namespace, and its values as helm-controller merges them: the `valuesFrom` entries in
/// order (a whole values document, or one value at `targetPath`), then `values` on top.
pub fn flux_helm(
    o: &Value,
    d: &Node,
    file: &Path,
    sources: &VariableSources,
) -> Option<(HelmSource, String)> {
    let spec = &o["spec"];
    let chart = &spec["chart"]["spec"];
    let chart_name = chart["chart"].as_str()?;
    let source_kind = chart["sourceRef"]["kind"].as_str().unwrap_or("");
    let name = o["metadata"]["name"].as_str().unwrap_or("");
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
    let target = spec["targetNamespace"].as_str().filter(|t| !t.is_empty());
    let mut h = HelmSource {
        release: spec["releaseName"]
            .as_str()
            .filter(|r| !r.is_empty())
            .map_or_else(
                || target.map_or_else(|| name.to_owned(), |t| format!("{t}-{name}")),
                str::to_owned,
            ),
        namespace: target
            .or(Some(ns).filter(|n| !n.is_empty()))
            .map(str::to_owned),
        ..HelmSource::default()
    };
    if source_kind != "GitRepository" {
        h.remote = Some(format!(
            "chart `{chart_name}` from {source_kind} {}",
            chart["sourceRef"]["name"].as_str().unwrap_or("")
        ));
        return Some((h, String::new()));
    }
    for from in spec["valuesFrom"].as_array().into_iter().flatten() {
        values_from(from, ns, sources, &mut h);
    }
    if let Some(v) = d.get("spec").and_then(|s| s.get("values")) {
        h.values.push(o["spec"]["values"].to_string());
        h.layers.push(ValuesLayer {
            file: file.to_owned(),
            root: Some(v.clone()),
        });
    }
    // A `targetPath` kgate could not write as a values document (a list index) is passed as
    // `--set`, above `values`: kgate cannot locate what it decides.
    if !h.parameters.is_empty() {
        h.layers.push(ValuesLayer {
            file: file.to_owned(),
            root: None,
        });
    }
    Some((h, chart_name.to_owned()))
}

/// One `valuesFrom` entry of a HelmRelease in namespace `ns`.
fn values_from(from: &Value, ns: &str, sources: &VariableSources, h: &mut HelmSource) {
    let kind = from["kind"].as_str().unwrap_or("ConfigMap");
    let fname = from["name"].as_str().unwrap_or("");
    let key = from["valuesKey"].as_str().unwrap_or("values.yaml");
    let src = sources
        .get(&(kind.to_owned(), ns.to_owned(), fname.to_owned()))
        .or_else(|| sources.get(&(kind.to_owned(), String::new(), fname.to_owned())));
    let Some((src, value)) = src.and_then(|s| Some((s, s.vars.get(key)?))) else {
        if from["optional"] != true {
            h.missing.push(format!("{kind} {fname} (key {key})"));
        }
        return;
    };
    h.manifests.push(src.file.clone());
    let Some(path) = from["targetPath"].as_str() else {
        h.values.push(value.clone());
        h.layers.push(ValuesLayer {
            file: src.file.clone(),
            root: src.located_values(key),
        });
        return;
    };
    match target_path(path) {
        Some(segments) => {
            let mut doc = typed_value(value);
            for seg in segments.iter().rev() {
                doc = serde_json::json!({ seg: doc });
            }
            h.values.push(doc.to_string());
            let root = src.nodes.get(key).map(|n| {
                let mut tree = Node::synthetic(yaml::Value::Map(Vec::new()));
                insert_path(
                    &mut tree,
                    segments.iter().map(String::as_str),
                    n.node.clone(),
                );
                tree
            });
            h.layers.push(ValuesLayer {
                file: src.file.clone(),
                root,
            });
        }
        None => h.parameters.push((path.to_owned(), value.clone(), false)),
    }
}

/// A `targetPath` of dotted keys (`\.` for a dot in a key); `None` for list indexes.
fn target_path(path: &str) -> Option<Vec<String>> {
    if path.contains('[') || path.is_empty() {
        return None;
    }
    let mut out = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut()?.push(chars.next()?),
            '.' => out.push(String::new()),
            c => out.last_mut()?.push(c),
        }
    }
    (!out.iter().any(String::is_empty)).then_some(out)
}

/// A `targetPath` value as Helm's `--set` types it (helm-controller's rule): quoted is a
/// string; `true`/`false`/`null` and integers without a leading zero are typed; the rest is
/// a string.
fn typed_value(v: &str) -> Value {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return Value::String(v[1..v.len() - 1].to_owned());
        }
    }
    match v.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        "0" => return Value::from(0),
        _ => {}
    }
    if !v.starts_with('0')
        && let Ok(i) = v.parse::<i64>()
    {
        return Value::from(i);
    }
    Value::String(v.to_owned())
}

/// `a/b/../c` as `a/c`, without touching the disk.
pub fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_paths_and_their_values_as_helm_types_them() {
        assert_eq!(
            target_path(r"a.b\.c.d"),
            Some(vec!["a".into(), "b.c".into(), "d".into()])
        );
        assert_eq!(target_path("a[0].b"), None);
        assert_eq!(typed_value("3"), Value::from(3));
        assert_eq!(typed_value("03"), Value::from("03"));
        assert_eq!(typed_value("True"), Value::Bool(true));
        assert_eq!(typed_value("\"3\""), Value::from("3"));
        assert_eq!(typed_value("1.5"), Value::from("1.5"));
        assert_eq!(typed_value("null"), Value::Null);
    }
}
