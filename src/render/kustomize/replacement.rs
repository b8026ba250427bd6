//! `replacements`: copy a field of one object into fields of others (kustomize's
//! ReplacementTransformer, `api/filters/replacement`).
//!
//! Field paths are dot-separated; `[name=web]` selects the list item whose `name` is `web`,
//! `[a.b/c]` is a key containing dots, `*` is every item, and a number indexes a list.

use std::path::Path;

use super::RenderError;
use super::selector::Selector;
use crate::yaml::{Entry, Node, Pos, Value};

/// Where the value comes from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub field_path: String,
    pub delimiter: Option<String>,
    pub index: i64,
}

/// Where it goes.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub select: Option<Selector>,
    pub reject: Vec<Selector>,
    pub field_paths: Vec<String>,
    pub delimiter: Option<String>,
    pub index: i64,
    pub create: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Replacement {
    pub source: Source,
    pub targets: Vec<Target>,
    pub pos: Pos,
}

/// A field of a replacement, matched as kustomize's decoder (Go's encoding/json) matches
/// struct fields: the exact key, else one that differs only in case (`fieldpath`).
fn field<'a>(n: &'a Node, k: &str) -> Option<&'a Node> {
    n.get(k).or_else(|| match &n.value {
        Value::Map(entries) => entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(k))
            .map(|e| &e.value),
        _ => None,
    })
}

fn s(n: &Node, k: &str) -> Option<String> {
    field(n, k).and_then(|v| match &v.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    })
}

fn int(n: Option<&Node>) -> i64 {
    match n.map(|n| &n.value) {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

/// Reads one replacement (an inline entry or a document of a `path:` file).
pub fn parse(
    file: &Path,
    n: &Node,
    selector: impl Fn(&Node) -> Result<Selector, RenderError>,
) -> Result<Replacement, RenderError> {
    let err = |pos: Pos, m: &str| RenderError::at(file, pos, m.to_owned());
    let Some(src) = field(n, "source") else {
        return Err(err(n.start, "a replacement needs a `source`"));
    };
    let opts = field(src, "options");
    let source = Source {
        group: s(src, "group"),
        version: s(src, "version"),
        kind: s(src, "kind"),
        name: s(src, "name"),
        namespace: s(src, "namespace"),
        field_path: s(src, "fieldPath").unwrap_or_else(|| "metadata.name".to_owned()),
        delimiter: opts.and_then(|o| s(o, "delimiter")),
        index: int(opts.and_then(|o| field(o, "index"))),
    };
    let mut targets = Vec::new();
    if let Some(Value::Seq(items)) = field(n, "targets").map(|t| &t.value) {
        for t in items {
            let opts = field(t, "options");
            let field_paths = match field(t, "fieldPaths").map(|f| &f.value) {
                Some(Value::Seq(fs)) => fs
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let reject = match field(t, "reject").map(|r| &r.value) {
                Some(Value::Seq(rs)) => rs.iter().map(&selector).collect::<Result<_, _>>()?,
                _ => Vec::new(),
            };
            targets.push(Target {
                select: field(t, "select").map(&selector).transpose()?,
                reject,
                field_paths,
                delimiter: opts.and_then(|o| s(o, "delimiter")),
                index: int(opts.and_then(|o| field(o, "index"))),
                create: matches!(
                    opts.and_then(|o| field(o, "create")).map(|c| &c.value),
                    Some(Value::Bool(true))
                ),
            });
        }
    }
    Ok(Replacement {
        source,
        targets,
        pos: n.start,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Match(String, String),
    Any,
}

/// kyaml's `SmarterPathSplitter`: splits a field path on `.`, except inside `[...]`.
pub(crate) fn split_fields(path: &str) -> Vec<String> {
    // kyaml's `PathSplitter`: split on `.`, a `\.` escapes the dot.
    let mut split: Vec<String> = Vec::new();
    let mut parts = path.split('.');
    if let Some(first) = parts.next() {
        split.push(first.to_owned());
    }
    for part in parts {
        match split.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(part);
            }
            _ => split.push(part.to_owned()),
        }
    }
    // kyaml's `SmarterPathSplitter`: an element opened by `[` runs to the one closed by `]`;
    // `[name=value]` keeps its brackets, `[a.b]` loses them.
    let mut out = Vec::new();
    let mut it = split.into_iter();
    while let Some(elem) = it.next() {
        if !elem.starts_with('[') || elem.ends_with(']') {
            out.push(elem);
            continue;
        }
        let mut joined = elem;
        for next in it.by_ref() {
            joined.push('.');
            joined.push_str(&next);
            if next.ends_with(']') {
                break;
            }
        }
        if joined.contains('=') {
            out.push(joined);
        } else {
            out.push(joined.trim_matches(['[', ']']).to_owned());
        }
    }
    out
}

fn split_path(path: &str) -> Vec<Seg> {
    split_fields(path)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "*" {
                return Seg::Any;
            }
            match s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                Some(inner) => match inner.split_once('=') {
                    Some((k, v)) => Seg::Match(k.to_owned(), v.to_owned()),
                    None => Seg::Key(inner.to_owned()),
                },
                None => Seg::Key(s),
            }
        })
        .collect()
}

fn scalar_text(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Uint(u) => Some(u.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// Every node at `segs` under `n` (several with `*`).
fn get_all<'a>(n: &'a Node, segs: &[Seg], out: &mut Vec<&'a Node>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(n);
        return;
    };
    match (first, &n.value) {
        (Seg::Key(k), Value::Map(_)) => {
            if let Some(c) = n.get(k) {
                get_all(c, rest, out);
            }
        }
        (Seg::Key(k), Value::Seq(items)) => {
            if let Some(c) = k.parse::<usize>().ok().and_then(|i| items.get(i)) {
                get_all(c, rest, out);
            }
        }
        (Seg::Match(k, v), Value::Seq(items)) => {
            for i in items
                .iter()
                .filter(|i| i.get(k).and_then(scalar_text).as_deref() == Some(v))
            {
                get_all(i, rest, out);
            }
        }
        (Seg::Any, Value::Seq(items)) => items.iter().for_each(|i| get_all(i, rest, out)),
        (Seg::Any, Value::Map(entries)) => {
            entries.iter().for_each(|e| get_all(&e.value, rest, out))
        }
        _ => {}
    }
}

/// Sets every node at `segs` under `n`; returns how many were set.
fn set_all(n: &mut Node, segs: &[Seg], create: bool, f: &dyn Fn(&mut Node)) -> usize {
    let Some((first, rest)) = segs.split_first() else {
        f(n);
        return 1;
    };
    if create && n.value == Value::Null {
        n.value = Value::Map(Vec::new());
    }
    match (first, &mut n.value) {
        (Seg::Key(k), Value::Map(entries)) => {
            if let Some(e) = entries.iter_mut().find(|e| &e.key == k) {
                return set_all(&mut e.value, rest, create, f);
            }
            if !create {
                return 0;
            }
            let mut child = Node::synthetic(if rest.is_empty() {
                Value::Null
            } else {
                Value::Map(Vec::new())
            });
            let count = set_all(&mut child, rest, create, f);
            entries.push(Entry {
                key: k.clone(),
                key_pos: Pos::default(),
                value: child,
            });
            count
        }
        (Seg::Key(k), Value::Seq(items)) => {
            match k.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(c) => set_all(c, rest, create, f),
                None => 0,
            }
        }
        (Seg::Match(k, v), Value::Seq(items)) => items
            .iter_mut()
            .filter(|i| i.get(k).and_then(scalar_text).as_deref() == Some(v.as_str()))
            .map(|i| set_all(i, rest, create, f))
            .sum(),
        (Seg::Any, Value::Seq(items)) => {
            items.iter_mut().map(|i| set_all(i, rest, create, f)).sum()
        }
        _ => 0,
    }
}

/// The value a source provides, after `options.delimiter`/`index`.
pub fn source_value(src_node: &Node, source: &Source) -> Result<Node, String> {
    let mut found = Vec::new();
    get_all(src_node, &split_path(&source.field_path), &mut found);
    let Some(value) = found.first() else {
        return Err(format!(
            "fieldPath `{}` is missing for replacement source",
            source.field_path
        ));
    };
    let mut value = (*value).clone();
    if let Some(d) = source.delimiter.as_deref().filter(|d| !d.is_empty()) {
        let text = scalar_text(&value).unwrap_or_default();
        let parts: Vec<&str> = text.split(d).collect();
        let part = usize::try_from(source.index)
            .ok()
            .and_then(|i| parts.get(i))
            .ok_or_else(|| {
                format!(
                    "options.index {} is out of bounds for value {text}",
                    source.index
                )
            })?;
        value.value = Value::String((*part).to_owned());
    }
    Ok(value)
}

/// Writes `value` at every field path of `target` in `obj`.
pub fn apply_target(obj: &mut Node, target: &Target, value: &Node) -> Result<(), String> {
    for path in &target.field_paths {
        let segs = split_path(path);
        let set = |n: &mut Node| match target.delimiter.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => {
                let text = scalar_text(n).unwrap_or_default();
                let mut parts: Vec<String> = text.split(d).map(str::to_owned).collect();
                let new = scalar_text(value).unwrap_or_default();
                match usize::try_from(target.index) {
                    Ok(i) if i < parts.len() => parts[i] = new,
                    Ok(_) => parts.push(new),
                    Err(_) => parts.insert(0, new),
                }
                n.value = Value::String(parts.join(d));
                n.file = value.file;
                n.start = value.start;
                n.end = value.end;
            }
            None => *n = value.clone(),
        };
        if set_all(obj, &segs, target.create, &set) == 0 {
            return Err(format!(
                "unable to find field `{path}` in replacement target"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_selectors_and_dotted_keys() {
        assert_eq!(
            split_path("spec.containers.[name=app].env.[name=A.B].value"),
            [
                Seg::Key("spec".into()),
                Seg::Key("containers".into()),
                Seg::Match("name".into(), "app".into()),
                Seg::Key("env".into()),
                Seg::Match("name".into(), "A.B".into()),
                Seg::Key("value".into())
            ]
        );
        assert_eq!(
            split_path("metadata.annotations.[a.b/c]")[2],
            Seg::Key("a.b/c".into())
        );
        // `\.` escapes a dot (kyaml's `PathSplitter`).
        assert_eq!(
            split_fields("metadata.labels.example\\.com/name"),
            ["metadata", "labels", "example.com/name"]
        );
        assert_eq!(split_fields("a.b\\.c\\.d.e"), ["a", "b.c.d", "e"]);
    }
}
