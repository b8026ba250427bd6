//! The ConfigMaps and Secrets of the repository that Flux reads values and variables from
//! (`valuesFrom`, `postBuild.substituteFrom`): their data as strings, and where each value
//! is written, so a values line inside a ConfigMap can be a finding's location.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::source::{FileTable, SourceFile};
use crate::yaml::{self, LoadLimits, Node, Pos};

/// One ConfigMap or Secret.
#[derive(Debug, Clone, Default)]
pub struct VarSource {
    /// The file that declares it.
    pub file: PathBuf,
    /// `data` (decoded for a Secret) and `stringData`, by key.
    pub vars: BTreeMap<String, String>,
    /// Where each value is written, by key.
    pub nodes: BTreeMap<String, DataNode>,
}

/// A data value's node in the file, and for a block scalar (`values.yaml: |`) whose text is
/// the file's lines verbatim, the line before its first line and its indentation: the value
/// parsed on its own is then located in the file by shifting its positions.
#[derive(Debug, Clone)]
pub struct DataNode {
    pub node: Node,
    pub block: Option<(u32, u32)>,
}

/// `(kind, namespace, name)` -> its data.
pub type VariableSources = BTreeMap<(String, String, String), VarSource>;

impl VarSource {
    /// The value of `key` parsed as YAML and located in the file, when it is a block scalar
    /// of a ConfigMap or a Secret's `stringData`.
    pub fn located_values(&self, key: &str) -> Option<Node> {
        let (line, indent) = self.nodes.get(key)?.block?;
        let text = self.vars.get(key)?;
        let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
        if err.is_some() {
            return None;
        }
        let mut root = docs.into_iter().next()?.root;
        shift(&mut root, line, indent);
        Some(root)
    }
}

fn shift(node: &mut Node, line: u32, column: u32) {
    let at = |p: Pos| Pos {
        line: p.line + line,
        column: p.column + column,
    };
    node.start = at(node.start);
    node.end = at(node.end);
    match &mut node.value {
        yaml::Value::Map(entries) => {
            for e in entries {
                e.key_pos = at(e.key_pos);
                shift(&mut e.value, line, column);
            }
        }
        yaml::Value::Seq(items) => {
            for i in items {
                shift(i, line, column);
            }
        }
        _ => {}
    }
}

/// ConfigMaps and Secrets of the repository.
pub fn variable_sources(table: &FileTable, files: &[SourceFile]) -> VariableSources {
    let mut out = BTreeMap::new();
    for f in files {
        let Ok(text) = table.text(&f.abs) else {
            continue;
        };
        if !text.contains("ConfigMap") && !text.contains("Secret") {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        let (docs, _) = yaml::parse_documents(&text, LoadLimits::default());
        for d in docs {
            let kind = d.root.str_at(&["kind"]).unwrap_or("").to_owned();
            if kind != "ConfigMap" && kind != "Secret" {
                continue;
            }
            let mut src = VarSource {
                file: f.abs.clone(),
                ..VarSource::default()
            };
            for field in ["data", "stringData"] {
                let encoded = kind == "Secret" && field == "data";
                read_data(&d.root, field, encoded, &lines, &mut src);
            }
            let ns = d.root.str_at(&["metadata", "namespace"]).unwrap_or("");
            let name = d.root.str_at(&["metadata", "name"]).unwrap_or("");
            out.insert((kind, ns.to_owned(), name.to_owned()), src);
        }
    }
    out
}

fn read_data(root: &Node, field: &str, encoded: bool, lines: &[&str], src: &mut VarSource) {
    let Some(yaml::Value::Map(entries)) = root.get(field).map(|n| &n.value) else {
        return;
    };
    for e in entries {
        let value = match &e.value.value {
            yaml::Value::String(s) => s.clone(),
            yaml::Value::Null => String::new(),
            _ => e.value.to_json().to_string(),
        };
        let value = if encoded {
            decode_base64(&value).unwrap_or(value)
        } else {
            value
        };
        let block = (!encoded)
            .then(|| block_start(&e.value, &value, lines))
            .flatten();
        src.vars.insert(e.key.clone(), value);
        src.nodes.insert(
            e.key.clone(),
            DataNode {
                node: e.value.clone(),
                block,
            },
        );
    }
}

/// For a block scalar (its node starts at its first content line) whose first line is the
/// file's line verbatim after the indentation: the number of the line before, and the
/// indentation.
fn block_start(node: &Node, value: &str, lines: &[&str]) -> Option<(u32, u32)> {
    let first = value.lines().next()?;
    let before = node.start.line.checked_sub(1)?;
    let line = lines.get(before as usize)?;
    let indent = line.len() - line.trim_start().len();
    let header = lines.get(before.checked_sub(1)? as usize)?.trim_end();
    let block = header.ends_with('|') || header.contains(": |");
    (block && !first.is_empty() && line[indent..] == *first)
        .then(|| (before, u32::try_from(indent).unwrap_or(0)))
}

pub fn decode_base64(s: &str) -> Option<String> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = alphabet.iter().position(|a| *a == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_scalar_of_values_is_located_in_its_file() {
        let text = "kind: ConfigMap\nmetadata: {name: v}\ndata:\n  values.yaml: |\n    a:\n      b: 1\n  flow: \"x: 1\"\n";
        let lines: Vec<&str> = text.lines().collect();
        let (docs, _) = yaml::parse_documents(text, LoadLimits::default());
        let mut src = VarSource::default();
        read_data(&docs[0].root, "data", false, &lines, &mut src);
        let v = src.located_values("values.yaml").unwrap();
        let a = v.entry("a").unwrap();
        assert_eq!((a.key_pos.line, a.key_pos.column), (5, 5));
        let b = a.value.entry("b").unwrap();
        assert_eq!((b.value.start.line, b.value.start.column), (6, 10));
        assert!(src.located_values("flow").is_none());
        assert_eq!(decode_base64("ZXUx").as_deref(), Some("eu1"));
    }
}
