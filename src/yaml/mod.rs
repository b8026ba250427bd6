//! YAML documents with a source position on every node.
//!
//! kgate must point at the line a user has to edit, so the parser keeps, for every mapping
//! key and every value, where it starts and ends in the file. The tree is built from the
//! event stream of `saphyr-parser` (see README, "Design notes"), which also lets kgate bound
//! alias expansion itself and report duplicate keys the way the Kubernetes API server does.

pub mod json_members;
mod load;
mod scalar;

pub use load::{LoadLimits, Schema, YamlError, YamlErrorKind, parse_documents};

/// The value a plain (unquoted) scalar reads as, typed as the API server reads YAML.
pub fn resolve_plain_scalar(s: &str) -> Value {
    scalar::resolve_plain(s)
}

use std::fmt;

use serde::{Deserialize, Serialize};

/// A position in a source file: 1-based line and 1-based column (in characters).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Which file a node was read from: an index into a table its reader keeps
/// ([`FileId::UNKNOWN`] for nodes made by kgate itself).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct FileId(pub u32);

impl FileId {
    pub const UNKNOWN: FileId = FileId(0);
}

/// A YAML node and the source range it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub value: Value,
    pub start: Pos,
    pub end: Pos,
    pub file: FileId,
}

impl Node {
    /// A node made by kgate rather than read from a file.
    pub fn synthetic(value: Value) -> Node {
        Node {
            value,
            start: Pos::default(),
            end: Pos::default(),
            file: FileId::UNKNOWN,
        }
    }

    /// Gives every node without a source (made by a transformer or generator) the file and
    /// position responsible for it.
    pub fn stamp(&mut self, file: FileId, pos: Pos) {
        if self.file == FileId::UNKNOWN {
            self.file = file;
            self.start = pos;
            self.end = pos;
        }
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|i| i.stamp(file, pos)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                if e.key_pos == Pos::default() {
                    e.key_pos = pos;
                }
                e.value.stamp(file, pos);
            }),
            _ => {}
        }
    }
}

/// One `key: value` pair of a mapping. Keys are always strings, as in JSON and Kubernetes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// The value of a node, typed as the Kubernetes API server would see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (go-yaml and Go's JSON keep it exact as a uint64).
    Uint(u64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One document of a (possibly multi-document) YAML file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based position of the document in its file.
    pub index: usize,
    pub root: Node,
}

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl Node {
    /// The mapping entry for `key`, if this node is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value under `key`, if this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The string at a path of mapping keys (`["metadata", "name"]`), if there is one.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        path.iter()
            .try_fold(self, |cur, k| cur.get(k))
            .and_then(Node::as_str)
    }

    /// The string value of this node, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Follows `path` as far as it exists. Returns the deepest node reached, the position a
    /// finding about that path should point at, and whether the whole path exists.
    ///
    /// For a mapping value the position is the value's own (the `latest` of `image: x:latest`);
    /// when the path ends at a missing key, it is the deepest existing node's start.
    pub fn locate(&self, path: &[PathSegment]) -> Located<'_> {
        let mut node = self;
        let mut pos = self.start;
        for (depth, seg) in path.iter().enumerate() {
            let next = match (seg, &node.value) {
                (PathSegment::Key(k), Value::Map(entries)) => {
                    entries.iter().find(|e| &e.key == k).map(|e| {
                        // A block collection starts on the line after its key; the key is
                        // the line a user reads as "the field".
                        let at = match e.value.value {
                            Value::Map(_) | Value::Seq(_) => e.key_pos,
                            _ => e.value.start,
                        };
                        (&e.value, at)
                    })
                }
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i).map(|n| (n, n.start)),
                // Policies written for JSON may address a list item by a numeric string.
                (PathSegment::Key(k), Value::Seq(items)) => k
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n, n.start)),
                _ => None,
            };
            match next {
                Some((n, at)) => {
                    node = n;
                    pos = at;
                }
                None => {
                    return Located {
                        node,
                        pos,
                        depth,
                        complete: false,
                    };
                }
            }
        }
        Located {
            node,
            pos,
            depth: path.len(),
            complete: true,
        }
    }

    /// Whether `other` holds the same value, entry for entry in the same order, wherever
    /// each was read from (positions and files are not compared). Equal values convert to
    /// equal JSON; the converse does not hold (JSON objects ignore key order, and a
    /// duplicate key's first value), so a `false` is only a reason to look closer.
    pub fn same_value(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_value(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.key == y.key && x.value.same_value(&y.value))
            }
            (Value::Seq(_) | Value::Map(_), _) | (_, Value::Seq(_) | Value::Map(_)) => false,
            (a, b) => a == b,
        }
    }

    /// Converts the node to JSON (the form policies and reports see).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Uint(u) => serde_json::Value::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                // JSON has no NaN or infinity; keep the value visible rather than dropping it.
                .unwrap_or_else(|| serde_json::Value::String(f.to_string())),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Result of [`Node::locate`].
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub node: &'a Node,
    pub pos: Pos,
    /// How many path segments were found.
    pub depth: usize,
    pub complete: bool,
}

/// Renders a path as an RFC 6901 JSON pointer.
pub fn json_pointer(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            PathSegment::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            PathSegment::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests;
