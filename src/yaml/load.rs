//! Builds [`Node`] trees from the `saphyr-parser` event stream.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};

use super::scalar::{resolve_plain, resolve_plain_v3, resolve_tagged};
use super::{Document, Entry, FileId, Node, Pos, Value};

/// Bounds on what a single file may make the loader do.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    /// Nodes that alias expansion may add to one file (the "billion laughs" guard).
    pub max_alias_nodes: usize,
    /// Nesting depth of collections.
    pub max_depth: usize,
    /// How plain scalars are typed.
    pub schema: Schema,
    /// The file id every node gets.
    pub file: FileId,
    /// Plain scalars under a document's top-level `metadata.annotations` are strings, as
    /// written (kustomize reads annotations into a `map[string]string`: `port: 8080` is
    /// `"8080"`, `1.50` stays `"1.50"`).
    pub annotations_as_strings: bool,
    /// A repeated mapping key replaces the earlier value (go-yaml v2 decoding into a map,
    /// as kustomize reads a kustomization) instead of being an error.
    pub duplicate_keys_last_wins: bool,
}

/// How plain scalars are typed: as the API server reads a manifest (`kubectl apply`), or as
/// kustomize reads its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1): `yes` and `on` are booleans.
    #[default]
    Yaml11,
    /// go-yaml v3 as used by kustomize: only `true`/`false` are booleans (`0644` is still
    /// octal), and an unquoted date is a timestamp.
    GoYamlV3,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_alias_nodes: 1_000_000,
            max_depth: 256,
            schema: Schema::Yaml11,
            file: FileId::UNKNOWN,
            annotations_as_strings: false,
            duplicate_keys_last_wins: false,
        }
    }
}

/// A YAML file could not be loaded; `pos` is where the problem is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct YamlError {
    pub pos: Pos,
    pub kind: YamlErrorKind,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlErrorKind {
    #[error("YAML syntax error: {0}")]
    Syntax(String),
    #[error("duplicate key `{key}` (first defined on line {first_line})")]
    DuplicateKey { key: String, first_line: u32 },
    #[error("alias `*{0}` refers to an anchor that encloses it")]
    RecursiveAlias(usize),
    #[error("alias refers to an undefined anchor")]
    UnknownAlias,
    #[error("alias expansion exceeds the limit of {limit} nodes")]
    AliasExpansionLimit { limit: usize },
    #[error("collections are nested deeper than the limit of {limit}")]
    DepthLimit { limit: usize },
    #[error("a mapping key must be a scalar, not a {0}")]
    ComplexKey(&'static str),
    #[error("merge key `<<` needs a mapping or a list of mappings")]
    BadMerge,
}

fn pos(m: &Marker) -> Pos {
    Pos {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

/// The end of an input whose last line has no line break.
struct Unterminated {
    /// Where the input ends, in characters.
    end: usize,
    /// The input, kept only when the last line is blank (spaces): whether that line belongs
    /// to a block scalar depends on the scalar's indentation.
    blank_tail: Option<(usize, String)>,
}

impl Unterminated {
    fn of(text: &str) -> Option<Unterminated> {
        if text.is_empty() || text.ends_with(['\n', '\r']) {
            return None;
        }
        let last = text.rsplit('\n').next().unwrap_or(text);
        let blank_tail = last
            .chars()
            .all(|c| c == ' ' || c == '\t')
            .then(|| (last.chars().count(), text.to_owned()));
        Some(Unterminated {
            end: text.chars().count(),
            blank_tail,
        })
    }

    /// Whether saphyr added a line break go-yaml does not to the block scalar whose content
    /// starts on `first_line` (1-based, as saphyr's span gives it) and which runs to the
    /// end: always when the last line has content; when it is blank, only if it is
    /// indented as far as the scalar's first content line (else it is not part of it).
    fn adds_break(&self, end: usize, first_line: usize) -> bool {
        if end != self.end {
            return false;
        }
        let Some((width, text)) = &self.blank_tail else {
            return true;
        };
        let indent = text
            .lines()
            .skip(first_line.saturating_sub(1))
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len());
        indent.is_some_and(|i| *width >= i)
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        merges: Vec<(Node, Pos)>,
        pending: Option<PendingKey>,
        /// Where each key met so far is in `entries`: kept from [`INDEXED_FROM`] keys on; a
        /// smaller mapping, as most are, is searched instead (a map and a copy of every key
        /// for each mapping were 0.9% of a whole check's instructions).
        seen: Option<HashMap<String, usize, foldhash::fast::RandomState>>,
        start: Pos,
        anchor: usize,
    },
}

struct PendingKey {
    key: String,
    pos: Pos,
    is_merge: bool,
}

/// From how many keys a mapping's keys are looked up in an index rather than searched.
const INDEXED_FROM: usize = 16;

struct Builder {
    limits: LoadLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    open_anchors: HashSet<usize>,
    alias_budget_used: usize,
    docs: Vec<Document>,
    current_root: Option<Node>,
    /// The input's last line when it has no line break (libyaml and go-yaml read
    /// `x: |` + `  hello` at the end of a file as `hello`, saphyr adds a `\n`).
    unterminated: Option<Unterminated>,
}

/// Parses every document of `text`. Documents completed before an error are returned along
/// with the error, so one bad document does not hide the findings of the others.
///
/// go-yaml (what kubectl, kustomize and the API server's clients parse with) accepts a quoted
/// scalar whose continuation lines are indented no deeper than its key; the YAML spec, and
/// saphyr, do not. Such files are re-read with those lines indented one more space (their
/// columns are then one off), so kgate accepts what the cluster accepts.
pub fn parse_documents(text: &str, limits: LoadLimits) -> (Vec<Document>, Option<YamlError>) {
    let mut result = parse_once(text, limits);
    let mut patched = std::borrow::Cow::Borrowed(text);
    for _ in 0..64 {
        let Some(e) = &result.1 else { break };
        if !matches!(&e.kind, YamlErrorKind::Syntax(m) if m == "invalid indentation in quoted scalar")
        {
            break;
        }
        let Some(next) = indent_quoted_continuation(&patched, e.pos) else {
            break;
        };
        result = parse_once(&next, limits);
        patched = std::borrow::Cow::Owned(next);
    }
    result
}

/// `text` with the continuation lines of the quoted scalar starting at `at` indented by one
/// more space, or `None` when there is no such scalar.
fn indent_quoted_continuation(text: &str, at: Pos) -> Option<String> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(at.line).ok()?.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line = &text[line_start..];
    let col = line
        .char_indices()
        .nth(usize::try_from(at.column).ok()?.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let start = line_start + col;
    let quote = text[start..]
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    // The closing quote: `\"` escapes in double quotes, `''` in single quotes.
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let end = loop {
        let c = *bytes.get(i)?;
        if quote == '"' && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote as u8 {
            if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            break i;
        }
        i += 1;
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..start]);
    for (k, piece) in text[start..end].split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
            if !piece.trim().is_empty() {
                out.push(' ');
            }
        }
        out.push_str(piece);
    }
    out.push_str(&text[end..]);
    Some(out)
}

fn parse_once(text: &str, limits: LoadLimits) -> (Vec<Document>, Option<YamlError>) {
    let mut b = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        open_anchors: HashSet::new(),
        alias_budget_used: 0,
        docs: Vec::new(),
        current_root: None,
        unterminated: Unterminated::of(text),
    };
    let mut parser = Parser::new_from_str(text);
    let err = loop {
        match parser.next_event() {
            None => break None,
            Some(Err(e)) => {
                break Some(YamlError {
                    pos: pos(e.marker()),
                    kind: YamlErrorKind::Syntax(e.info().to_owned()),
                });
            }
            Some(Ok((event, span))) => match b.on_event(event, span) {
                Ok(true) => break None,
                Ok(false) => {}
                Err(e) => break Some(e),
            },
        }
    };
    (b.docs, err)
}

fn node_count(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries.iter().map(|e| node_count(&e.value)).sum(),
        _ => 0,
    }
}

impl Builder {
    /// Returns `Ok(true)` at the end of the stream.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        let start = pos(&span.start);
        let end = pos(&span.end);
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart => {}
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.current_root = None;
            }
            Event::DocumentEnd => {
                let root = self.current_root.take().unwrap_or(Node {
                    value: Value::Null,
                    start,
                    end: start,
                    file: self.limits.file,
                });
                let index = self.docs.len();
                self.docs.push(Document { index, root });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = match (&tag, style) {
                    (Some(t), _) if t.is_yaml_core_schema() => resolve_tagged(&text, &t.suffix),
                    (None, ScalarStyle::Plain) if self.at_annotation_value() => {
                        Value::String(text.clone().into_owned())
                    }
                    (_, ScalarStyle::Plain) => match self.limits.schema {
                        Schema::Yaml11 => resolve_plain(&text),
                        Schema::GoYamlV3 => resolve_plain_v3(&text),
                    },
                    (_, ScalarStyle::Literal | ScalarStyle::Folded)
                        if self
                            .unterminated
                            .as_ref()
                            .is_some_and(|u| u.adds_break(span.end.index(), span.start.line())) =>
                    {
                        let t = text.strip_suffix('\n').unwrap_or(&text);
                        Value::String(t.to_owned())
                    }
                    _ => Value::String(text.clone().into_owned()),
                };
                let is_merge_key = style == ScalarStyle::Plain && text == "<<";
                let node = Node {
                    value,
                    start,
                    end,
                    file: self.limits.file,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.push(node, is_merge_key)?;
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    let kind = if self.open_anchors.contains(&id) {
                        YamlErrorKind::RecursiveAlias(id)
                    } else {
                        YamlErrorKind::UnknownAlias
                    };
                    return Err(YamlError { pos: start, kind });
                };
                self.alias_budget_used = self.alias_budget_used.saturating_add(*size);
                if self.alias_budget_used > self.limits.max_alias_nodes {
                    return Err(YamlError {
                        pos: start,
                        kind: YamlErrorKind::AliasExpansionLimit {
                            limit: self.limits.max_alias_nodes,
                        },
                    });
                }
                let node = node.clone();
                self.push(node, false)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(YamlError {
                        pos: start,
                        kind: YamlErrorKind::DepthLimit {
                            limit: self.limits.max_depth,
                        },
                    });
                }
                if anchor != 0 {
                    self.open_anchors.insert(anchor);
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        merges: Vec::new(),
                        pending: None,
                        seen: None,
                        start,
                        anchor,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(false);
                };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        items,
                        start,
                        anchor,
                    } => (
                        Node {
                            value: Value::Seq(items),
                            start,
                            end,
                            file: self.limits.file,
                        },
                        anchor,
                    ),
                    Frame::Map {
                        mut entries,
                        merges,
                        start,
                        anchor,
                        ..
                    } => {
                        apply_merges(&mut entries, merges)?;
                        (
                            Node {
                                value: Value::Map(entries),
                                start,
                                end,
                                file: self.limits.file,
                            },
                            anchor,
                        )
                    }
                };
                if anchor != 0 {
                    self.open_anchors.remove(&anchor);
                    self.anchors
                        .insert(anchor, (node.clone(), node_count(&node)));
                }
                self.push(node, false)?;
            }
        }
        Ok(false)
    }

    /// Whether the next scalar is a value of the top-level `metadata.annotations` map (when
    /// `annotations_as_strings` asks for those).
    fn at_annotation_value(&self) -> bool {
        fn key(f: &Frame) -> Option<&str> {
            match f {
                Frame::Map {
                    pending: Some(k), ..
                } => Some(k.key.as_str()),
                _ => None,
            }
        }
        self.limits.annotations_as_strings
            && matches!(
                self.stack.as_slice(),
                [root, meta, annotations]
                    if key(root) == Some("metadata")
                        && key(meta) == Some("annotations")
                        && key(annotations).is_some()
            )
    }

    fn push(&mut self, node: Node, is_merge_key: bool) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.current_root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                merges,
                pending,
                seen,
                ..
            }) => match pending.take() {
                None => {
                    let key = match &node.value {
                        Value::String(s) => s.clone(),
                        Value::Null => "null".to_owned(),
                        Value::Bool(b) => b.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Uint(u) => u.to_string(),
                        Value::Float(f) => f.to_string(),
                        Value::Seq(_) => {
                            return Err(YamlError {
                                pos: node.start,
                                kind: YamlErrorKind::ComplexKey("sequence"),
                            });
                        }
                        Value::Map(_) => {
                            return Err(YamlError {
                                pos: node.start,
                                kind: YamlErrorKind::ComplexKey("mapping"),
                            });
                        }
                    };
                    *pending = Some(PendingKey {
                        key,
                        pos: node.start,
                        is_merge: is_merge_key,
                    });
                }
                Some(k) if k.is_merge => merges.push((node, k.pos)),
                Some(k) => {
                    let earlier = match seen {
                        Some(index) => index.get(&k.key).copied(),
                        None => entries.iter().position(|e| e.key == k.key),
                    };
                    if let Some(e) = earlier.and_then(|i| entries.get_mut(i)) {
                        if self.limits.duplicate_keys_last_wins {
                            e.key_pos = k.pos;
                            e.value = node;
                            return Ok(());
                        }
                        return Err(YamlError {
                            pos: k.pos,
                            kind: YamlErrorKind::DuplicateKey {
                                key: k.key,
                                first_line: e.key_pos.line,
                            },
                        });
                    }
                    match seen {
                        Some(index) => {
                            index.insert(k.key.clone(), entries.len());
                        }
                        None if entries.len() + 1 >= INDEXED_FROM => {
                            let mut index: HashMap<_, _, _> = (entries.iter().enumerate())
                                .map(|(i, e)| (e.key.clone(), i))
                                .collect();
                            index.insert(k.key.clone(), entries.len());
                            *seen = Some(index);
                        }
                        None => {}
                    }
                    entries.push(Entry {
                        key: k.key,
                        key_pos: k.pos,
                        value: node,
                    });
                }
            },
        }
        Ok(())
    }
}

/// YAML 1.1 merge keys: keys written in the mapping win over merged ones, and among several
/// merged mappings the first one that has a key wins. Merged entries keep their own source
/// positions (the anchor's lines), which is where a user would fix them.
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<(Node, Pos)>) -> Result<(), YamlError> {
    let mut sources = Vec::new();
    for (node, key_pos) in merges {
        match node.value {
            Value::Map(m) => sources.push(m),
            Value::Seq(items) => {
                for item in items {
                    match item.value {
                        Value::Map(m) => sources.push(m),
                        _ => {
                            return Err(YamlError {
                                pos: item.start,
                                kind: YamlErrorKind::BadMerge,
                            });
                        }
                    }
                }
            }
            _ => {
                return Err(YamlError {
                    pos: key_pos,
                    kind: YamlErrorKind::BadMerge,
                });
            }
        }
    }
    for source in sources {
        for e in source {
            if !entries.iter().any(|x| x.key == e.key) {
                entries.push(e);
            }
        }
    }
    Ok(())
}
