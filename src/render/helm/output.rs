//! `helm template` output to objects with provenance.
//!
//! Helm starts every document with `# Source: CHART/templates/FILE.yaml`. kgate points each
//! object at that template file in the repository, and each line of the object at the
//! template line that wrote it, found by walking both in order: a rendered `key:` line maps
//! to the next template line with the same key; a line the template does not spell out (a
//! block from `toYaml`, `include`, `tpl`) maps to the next line that calls one of those, else
//! to the last line matched. Charts vendored as archives have no template file in the
//! repository: their objects point at the parent chart's `Chart.yaml`.

use std::path::{Path, PathBuf};

use super::values::{ValuesLayer, point_at_values};
use super::{Helm, HelmError, Template};
use crate::render::RenderError;
use crate::render::kustomize::Resource;
use crate::render::kustomize::resource::{ObjectSource, push_object};
use crate::yaml::{FileId, LoadLimits, Node, Pos, Schema, Value};

/// One document of the stream: the `# Source:` path (as Helm prints it) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub source: Option<String>,
    pub text: String,
}

/// Splits the stream at `---` lines, remembering each document's `# Source:`.
pub fn documents(stream: &str) -> Vec<Document> {
    let mut out = Vec::new();
    let mut cur = Document {
        source: None,
        text: String::new(),
    };
    for line in stream.lines() {
        if line == "---" || line.starts_with("--- ") {
            out.push(std::mem::replace(
                &mut cur,
                Document {
                    source: None,
                    text: String::new(),
                },
            ));
            continue;
        }
        if cur.source.is_none()
            && let Some(s) = line.strip_prefix("# Source: ")
        {
            cur.source = Some(s.trim().to_owned());
        }
        cur.text.push_str(line);
        cur.text.push('\n');
    }
    out.push(cur);
    out.retain(|d| {
        d.text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    out
}

/// The repository file a `# Source:` path names: its first segment is the chart's name,
/// the rest a path under `chart_dir`.
pub fn template_file(chart_dir: &Path, source: &str) -> Option<PathBuf> {
    let rest = source.split_once('/')?.1;
    let p = chart_dir.join(rest);
    p.is_file().then_some(p)
}

/// The objects of a `helm template` stream, their nodes located in the chart's templates.
pub fn objects(
    stream: &str,
    chart_dir: &Path,
    layers: &[ValuesLayer],
    file_id: &dyn Fn(&Path) -> FileId,
) -> Result<Vec<Resource>, RenderError> {
    let fallback = chart_dir.join("Chart.yaml");
    let mut out = Vec::new();
    for doc in documents(stream) {
        let file = doc
            .source
            .as_deref()
            .and_then(|s| template_file(chart_dir, s))
            .unwrap_or_else(|| fallback.clone());
        let id = file_id(&file);
        let limits = LoadLimits {
            schema: Schema::GoYamlV3,
            file: id,
            ..LoadLimits::default()
        };
        let (docs, err) = crate::yaml::parse_documents(&doc.text, limits);
        if let Some(e) = err {
            return Err(RenderError::at(
                &file,
                Pos::default(),
                format!(
                    "helm rendered YAML that does not parse ({}): {e}",
                    doc.source.as_deref().unwrap_or("no # Source")
                ),
            ));
        }
        let template = super::read_chart_file(&file).unwrap_or_default();
        let map = if file == fallback {
            Vec::new()
        } else {
            map_lines(&doc.text, &template)
        };
        let template_lines: Vec<&str> = template.lines().collect();
        for d in docs {
            let mut node = d.root;
            relocate(&mut node, &map);
            let pointed = if map.is_empty() {
                Default::default()
            } else {
                point_at_values(&mut node, id, &template_lines, layers, file_id)
            };
            let first = out.len();
            push_object(node, &file, &mut out, &RENDERED)?;
            for r in &mut out[first..] {
                r.template_origins.clone_from(&pointed.origins);
                r.removed_fields.clone_from(&pointed.removed);
            }
        }
    }
    Ok(out)
}

/// Helm's rendered documents.
const RENDERED: ObjectSource = ObjectSource {
    not_a_mapping: "helm rendered a document that is not a YAML mapping",
    no_kind: "missing Resource metadata: an object helm rendered has no `kind`",
};

/// `map[i]`: the template position of rendered line `i + 1` (empty: keep positions).
fn relocate(node: &mut Node, map: &[Pos]) {
    let at = |p: Pos| -> Pos {
        match p.line.checked_sub(1).and_then(|i| map.get(i as usize)) {
            Some(t) => *t,
            None => p,
        }
    };
    if !map.is_empty() {
        node.start = at(node.start);
        node.end = at(node.end);
    }
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries {
                if !map.is_empty() {
                    e.key_pos = at(e.key_pos);
                }
                relocate(&mut e.value, map);
            }
        }
        Value::Seq(items) => {
            for i in items {
                relocate(i, map);
            }
        }
        _ => {}
    }
}

/// What a line says, for matching: the key of `key: value` (also after `- `), else the
/// whole trimmed line; `None` for blank lines, comments and template-only lines.
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = t.strip_prefix("- ").map_or(t, str::trim_start);
    if t.is_empty() || t.starts_with('#') || t.starts_with("{{") {
        return None;
    }
    match t.find(':') {
        Some(i) if t[i + 1..].is_empty() || t[i + 1..].starts_with(' ') => Some(&t[..i]),
        _ => Some(t),
    }
}

/// Whether a template line writes lines it does not spell out.
fn writes_block(line: &str) -> bool {
    line.contains("{{")
        && ["toYaml", "include", "tpl", "toJson", ".Files"]
            .iter()
            .any(|f| line.contains(f))
}

fn pos_of(template: &[&str], i: usize) -> Pos {
    let line = template[i];
    let indent = line.len() - line.trim_start().len();
    Pos {
        line: u32::try_from(i + 1).unwrap_or(u32::MAX),
        column: u32::try_from(indent + 1).unwrap_or(1),
    }
}

/// For every rendered line, the template line that wrote it (see the module doc).
pub fn map_lines(rendered: &str, template: &str) -> Vec<Pos> {
    let template: Vec<&str> = template.lines().collect();
    if template.is_empty() {
        return Vec::new();
    }
    let mut cursor = 0;
    let mut last = Pos { line: 1, column: 1 };
    let mut out = Vec::new();
    for line in rendered.lines() {
        let Some(key) = key_of(line) else {
            out.push(last);
            continue;
        };
        let found = (cursor..template.len()).find(|&j| key_of(template[j]) == Some(key));
        match found {
            Some(j) => {
                last = pos_of(&template, j);
                cursor = j + 1;
                out.push(last);
            }
            None => {
                let block =
                    (cursor.saturating_sub(1)..template.len()).find(|&j| writes_block(template[j]));
                out.push(block.map_or(last, |j| pos_of(&template, j)));
            }
        }
    }
    out
}

/// A chart directory on its own: `helm template` with its default values, released under
/// the directory's name, CRDs included per `helm.includeCRDs`.
pub fn render_chart(
    helm: &Helm,
    chart_dir: &Path,
    label: &str,
    file_id: &dyn Fn(&Path) -> FileId,
) -> Result<Vec<Resource>, RenderError> {
    // A library chart is checked where a chart that depends on it renders.
    if super::is_library(chart_dir) {
        return Ok(Vec::new());
    }
    let release = chart_dir.file_name().map_or_else(
        || "release-name".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let t = Template {
        chart: chart_dir.to_owned(),
        release,
        include_crds: helm.settings().include_crds,
        ..Template::default()
    };
    render_template(helm, &t, label, file_id)
}

/// `helm template` for `t` (a chart directory), as objects located in its templates.
pub fn render_template(
    helm: &Helm,
    t: &Template,
    label: &str,
    file_id: &dyn Fn(&Path) -> FileId,
) -> Result<Vec<Resource>, RenderError> {
    let stream = helm
        .template(t, label)
        .map_err(|e| chart_error(&t.chart, e))?;
    let mut layers: Vec<ValuesLayer> = ValuesLayer::read(t.chart.join("values.yaml"))
        .into_iter()
        .collect();
    layers.extend(t.layers.iter().cloned());
    objects(&stream, &t.chart, &layers, file_id)
}

/// A Helm failure as a render error: at the template line Helm names
/// (`template: CHART/templates/x.yaml:12:3: ...`, `execution error at (CHART/...:6:8)`),
/// else at `Chart.yaml`. Helm missing and a
/// chart that needs the network are `render-unavailable`.
pub fn chart_error(chart_dir: &Path, e: HelmError) -> RenderError {
    let unavailable = matches!(
        e,
        HelmError::NotInstalled { .. } | HelmError::NeedsNetwork { .. }
    );
    let mut at = (chart_dir.join("Chart.yaml"), Pos::default());
    if let HelmError::Failed { stderr, .. } = &e
        && let Some(found) = failing_template(chart_dir, stderr)
    {
        at = found;
    }
    let mut err = RenderError::at(&at.0, at.1, e.to_string());
    err.unavailable = unavailable;
    err
}

/// The template file and line a Helm error names, when it is in the chart directory.
fn failing_template(chart_dir: &Path, stderr: &str) -> Option<(PathBuf, Pos)> {
    let re = regex::Regex::new(r"(?:template: |error at \()([^:\s()]+):(\d+):(\d+)").ok()?;
    let c = re.captures(stderr)?;
    let file = template_file(chart_dir, &c[1])?;
    let line = c[2].parse().ok()?;
    let column = c[3].parse().ok()?;
    Some((file, Pos { line, column }))
}

/// Whether a render error says that Helm is not installed (its finding says how to get it).
pub fn is_missing_helm(e: &RenderError) -> bool {
    e.unavailable && e.message.starts_with("Helm is not available")
}
