//! Argo CD `ApplicationSet`s over this repository: the Applications their generators make,
//! so the Helm charts they deploy are rendered as each generated Application deploys them.
//!
//! Generators kgate evaluates: `list` (`elements`), `git` `directories` and `files` (globs
//! over this repository's tree; a `files` entry's JSON or YAML content becomes parameters).
//! The template's strings are filled in both syntaxes: `{{key}}` / `{{path.basename}}`
//! (flattened parameters) and, with `goTemplate: true`, `{{ .key }}` / `{{ .path.basename }}`
//! / `{{ index .path.segments 1 }}`. Other generators (`clusters`, `scmProvider`,
//! `pullRequest`, `matrix`, `merge`, `plugin`, ...) depend on things outside the repository
//! or combine others: they are named in a note instead of being evaluated.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::source::FileTable;

use crate::yaml::{self, Entry, Node};

/// What an ApplicationSet generates.
#[derive(Debug, Default)]
pub struct Generated {
    /// The generated Applications, their nodes at the template's lines, each with the
    /// `files` generator file whose content made it (relative to the root).
    pub applications: Vec<(Node, Option<String>)>,
    /// Generators kgate does not evaluate, by name.
    pub unsupported: Vec<String>,
}

/// The Applications the ApplicationSet `set` generates over the repository at `root`, whose
/// files are read through `table`.
pub fn generate(root: &Path, table: &FileTable, set: &Node) -> Generated {
    let mut out = Generated::default();
    let Some(spec) = set.get("spec") else {
        return out;
    };
    let Some(template) = spec.get("template") else {
        return out;
    };
    let go = spec
        .get("goTemplate")
        .is_some_and(|g| g.value == yaml::Value::Bool(true));
    let Some(yaml::Value::Seq(generators)) = spec.get("generators").map(|g| &g.value) else {
        return out;
    };
    let namespace = set.str_at(&["metadata", "namespace"]).unwrap_or("");
    for g in generators {
        let Some(params) = parameters(root, table, g, &mut out.unsupported) else {
            continue;
        };
        for (p, from) in params {
            let mut app = template.clone();
            fill(&mut app, &p, go);
            out.applications.push((application(app, namespace), from));
        }
    }
    out
}

/// The template as an Application document, in the ApplicationSet's namespace unless the
/// template names one.
fn application(template: Node, namespace: &str) -> Node {
    let text = |s: &str| Node::synthetic(yaml::Value::String(s.to_owned()));
    let entry = |key: &str, value: Node| Entry {
        key: key.to_owned(),
        key_pos: value.start,
        value,
    };
    let mut entries = vec![
        entry("apiVersion", text("argoproj.io/v1alpha1")),
        entry("kind", text("Application")),
    ];
    if let yaml::Value::Map(fields) = template.value {
        for mut f in fields {
            if f.key == "metadata"
                && !namespace.is_empty()
                && f.value.get("namespace").is_none()
                && let yaml::Value::Map(m) = &mut f.value.value
            {
                m.push(entry("namespace", text(namespace)));
            }
            entries.push(f);
        }
    }
    Node::synthetic(yaml::Value::Map(entries))
}

/// A parameter set, with the `files` generator file it was read from.
type Params = (Value, Option<String>);

/// The parameter sets of one generator; `None` (and its name in `unsupported`) for a
/// generator kgate does not evaluate.
fn parameters(
    root: &Path,
    table: &FileTable,
    g: &Node,
    unsupported: &mut Vec<String>,
) -> Option<Vec<Params>> {
    let yaml::Value::Map(entries) = &g.value else {
        return None;
    };
    let mut out = Vec::new();
    for e in entries {
        match e.key.as_str() {
            "list" => {
                if let Some(yaml::Value::Seq(items)) = e.value.get("elements").map(|n| &n.value) {
                    out.extend(items.iter().map(|i| (i.to_json(), None)));
                }
            }
            "git" => git(root, table, &e.value, &mut out),
            // Options of a generator, not generators.
            "selector" | "values" | "template" => {}
            other => {
                unsupported.push(other.to_owned());
                return None;
            }
        }
    }
    Some(out)
}

/// A git generator over this repository: one parameter set per matching directory, or per
/// matching file with its content.
fn git(root: &Path, table: &FileTable, g: &Node, out: &mut Vec<Params>) {
    let globs = |field: &str| -> Vec<(String, bool)> {
        match g.get(field).map(|n| &n.value) {
            Some(yaml::Value::Seq(items)) => items
                .iter()
                .filter_map(|i| {
                    let exclude = i.get("exclude").is_some_and(|x| {
                        x.value == yaml::Value::Bool(true) || x.as_str() == Some("true")
                    });
                    Some((i.str_at(&["path"])?.to_owned(), exclude))
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let dirs = globs("directories");
    if !dirs.is_empty() {
        for d in matching(root, table, &dirs, true) {
            out.push((path_params(&d, None), None));
        }
    }
    let files = globs("files");
    for f in matching(root, table, &files, false) {
        let text = table.text(&root.join(&f)).unwrap_or_default();
        let (docs, _) = yaml::parse_documents(&text, yaml::LoadLimits::default());
        let (dir, file) = f.rsplit_once('/').unwrap_or((".", f.as_str()));
        for d in docs {
            let mut p = d.root.to_json();
            if !p.is_object() {
                continue;
            }
            p["path"] = path_params(dir, Some(file))["path"].clone();
            out.push((p, Some(f.clone())));
        }
    }
}

/// The repository paths (directories or files) of `table`'s file set that match an included
/// glob and no excluded one, sorted.
fn matching(root: &Path, table: &FileTable, globs: &[(String, bool)], dirs: bool) -> Vec<String> {
    let build = |exclude: bool| {
        let mut b = globset::GlobSetBuilder::new();
        for (g, _) in globs.iter().filter(|(_, x)| *x == exclude) {
            if let Ok(g) = globset::GlobBuilder::new(g).literal_separator(true).build() {
                b.add(g);
            }
        }
        b.build().ok()
    };
    let (Some(include), Some(exclude)) = (build(false), build(true)) else {
        return Vec::new();
    };
    if include.is_empty() {
        return Vec::new();
    }
    let mut walker = ignore::WalkBuilder::new(root);
    walker.hidden(true);
    let mut out: Vec<String> = table
        .walk(root, &walker)
        .into_iter()
        .filter(|(_, is_dir)| *is_dir == dirs)
        .map(|(p, _)| crate::source::relative(root, &p))
        .filter(|rel| rel != "." && !rel.is_empty())
        .filter(|rel| include.is_match(rel) && !exclude.is_match(rel))
        .collect();
    out.sort();
    out
}

/// The `path` parameters of a directory (and of a file in it): as a nested object (Go
/// templates) from which the flat `path.basename` keys are derived.
fn path_params(dir: &str, file: Option<&str>) -> Value {
    let segments: Vec<&str> = dir.split('/').collect();
    let basename = segments.last().copied().unwrap_or("");
    let normalize = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut path = serde_json::json!({
        "path": dir,
        "basename": basename,
        "basenameNormalized": normalize(basename),
        "segments": segments,
    });
    if let Some(f) = file {
        path["filename"] = Value::from(f);
        path["filenameNormalized"] = Value::from(normalize(f));
    }
    serde_json::json!({ "path": path })
}

/// Parameters flattened as the default (fasttemplate) syntax names them: `a.b`, `path`,
/// `path.basename`, `path[0]`.
fn flatten(params: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", params, &mut out);
    // The path parameters by their historical names.
    if let Some(p) = params["path"].as_object() {
        if let Some(dir) = p.get("path").and_then(Value::as_str) {
            out.insert("path".to_owned(), dir.to_owned());
        }
        for (i, s) in p["segments"].as_array().into_iter().flatten().enumerate() {
            out.insert(format!("path[{i}]"), s.as_str().unwrap_or("").to_owned());
        }
        out.retain(|k, _| !k.starts_with("path.segments") && k != "path.path");
    }
    out
}

/// Fills the template expressions of every string of `node`.
fn fill(node: &mut Node, params: &Value, go: bool) {
    let flat = (!go).then(|| flatten(params));
    walk(node, &|s: &str| match &flat {
        Some(flat) => fill_flat(s, flat),
        None => fill_go(s, params),
    });
}

fn walk(node: &mut Node, f: &dyn Fn(&str) -> String) {
    match &mut node.value {
        yaml::Value::Map(entries) => {
            for e in entries {
                if e.key.contains("{{") {
                    e.key = f(&e.key);
                }
                walk(&mut e.value, f);
            }
        }
        yaml::Value::Seq(items) => {
            for i in items {
                walk(i, f);
            }
        }
        yaml::Value::String(s) if s.contains("{{") => *s = f(s),
        _ => {}
    }
}

/// `{{key}}` and `{{ key }}`; unknown keys are left as written.
fn fill_flat(s: &str, params: &BTreeMap<String, String>) -> String {
    replace_exprs(s, |expr| params.get(expr).cloned())
}

/// `{{ .a.b }}` and `{{ index .path.segments N }}`; other expressions are left as written.
fn fill_go(s: &str, params: &Value) -> String {
    replace_exprs(s, |expr| {
        let expr = expr.trim_start_matches('-').trim_end_matches('-').trim();
        let (path, index) = match expr.strip_prefix("index ") {
            Some(rest) => {
                let (p, i) = rest.trim().rsplit_once(' ')?;
                (p.trim(), Some(i.trim().parse::<usize>().ok()?))
            }
            None => (expr, None),
        };
        let mut v = params;
        for seg in path.strip_prefix('.')?.split('.') {
            v = v.get(seg)?;
        }
        if let Some(i) = index {
            v = v.get(i)?;
        }
        Some(match v {
            Value::String(s) => s.clone(),
            Value::Null => return None,
            other => other.to_string(),
        })
    })
}

/// Replaces each `{{ expr }}` by `value(expr)` (trimmed), keeping it when `None`.
fn replace_exprs(s: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let Some(close) = rest[i..].find("}}") else {
            break;
        };
        out.push_str(&rest[..i]);
        let whole = &rest[i..i + close + 2];
        match value(rest[i + 2..i + close].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(whole),
        }
        rest = &rest[i + close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_template_syntaxes_fill_path_parameters() {
        let p = path_params("envs/prod_eu", Some("config.yaml"));
        let flat = flatten(&p);
        assert_eq!(
            fill_flat("{{path.basename}}-{{ path[0] }}/{{path}}/{{nope}}", &flat),
            "prod_eu-envs/envs/prod_eu/{{nope}}"
        );
        assert_eq!(
            fill_go(
                "{{ .path.basenameNormalized }}:{{index .path.segments 0}}:{{ .path.filename }}:{{ .x | upper }}",
                &p
            ),
            "prod-eu:envs:config.yaml:{{ .x | upper }}"
        );
    }
}
