//! Loading manifest files into Kubernetes objects, with every problem as a finding.
//!
//! A file that cannot be read, is binary, is not UTF-8, does not parse or holds malformed
//! objects yields a finding at the line concerned; nothing is skipped without one.

use crate::model::rules;
use crate::model::{Finding, Location, ObjectRef, Severity};
use crate::source::{FileTable, ReadError, SourceFile};
use crate::yaml::{self, Document, LoadLimits, Node, Pos, Value};

/// One Kubernetes object read from a source file.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Source file, relative to the scanned root.
    pub file: String,
    pub id: ObjectRef,
    /// The object, with source positions.
    pub node: Node,
    /// Where the object sits in its file: document index, then `items` index for `List`s.
    pub document: usize,
    pub list_item: Option<usize>,
}

/// Result of loading one file.
#[derive(Debug, Default)]
pub struct LoadedFile {
    pub objects: Vec<Manifest>,
    pub findings: Vec<Finding>,
}

const START: Pos = Pos { line: 1, column: 1 };

fn finding(
    rule: &str,
    severity: Severity,
    file: &str,
    pos: Pos,
    message: String,
    help: &str,
) -> Finding {
    Finding {
        // The file's lines are not shown for a file kgate refused to read.
        hide_source: rule == rules::FILE_TOO_LARGE || rule == rules::UNREADABLE_FILE,
        rule: rule.to_owned(),
        severity,
        message,
        help: help.to_owned(),
        location: Location::new(file, pos),
        object: None,
        pointer: None,
        roots: Vec::new(),
    }
}

/// Reads (through the file table, which refuses files over `limits.maxFileSize`) and
/// parses `file`.
pub fn load_file(file: &SourceFile, table: &FileTable) -> LoadedFile {
    let rel = file.rel.as_str();
    let mut out = LoadedFile::default();
    let bytes = match table.bytes(&file.abs) {
        Err(ReadError::TooLarge { len, limit }) => {
            out.findings.push(finding(
                rules::FILE_TOO_LARGE,
                Severity::Error,
                rel,
                START,
                format!("file is {len} bytes, over the limit of {limit} bytes; it was not checked"),
                "Split the file, exclude it, or raise `limits.maxFileSize` in .kgate.yaml.",
            ));
            return out;
        }
        Err(e) => {
            out.findings.push(finding(
                rules::UNREADABLE_FILE,
                Severity::Error,
                rel,
                START,
                format!("cannot read file: {e}"),
                "Make the file readable, or exclude it with `exclude:` in .kgate.yaml.",
            ));
            return out;
        }
        Ok(bytes) => bytes,
    };
    let (docs, _text) = match decode(&bytes) {
        Ok(text) => {
            let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
            if err.is_some() && is_go_template(text) {
                // A Go template a program renders (an operator's embedded manifests, a
                // benchmark's generator input) is not YAML until rendered: not a defect.
                out.findings.push(finding(
                    rules::NOT_A_MANIFEST,
                    Severity::Note,
                    rel,
                    START,
                    "file is a Go template (`{{ .Field }}`, `{{ if }}`) that does not parse as YAML until a program renders it; it was not checked".to_owned(),
                    "If kgate should check what it renders, commit the rendered manifests; otherwise add it to `exclude:` in .kgate.yaml.",
                ));
                return out;
            }
            if let Some(e) = err {
                out.findings.push(finding(
                    rules::PARSE_ERROR,
                    Severity::Error,
                    rel,
                    e.pos,
                    e.to_string(),
                    "Fix the YAML at this line; documents after it in the file were not checked.",
                ));
            }
            (docs, text)
        }
        Err((pos, message)) => {
            out.findings.push(finding(
                rules::PARSE_ERROR,
                Severity::Error,
                rel,
                pos,
                message,
                "Manifests must be UTF-8 text; if this file is not a manifest, exclude it in .kgate.yaml.",
            ));
            return out;
        }
    };
    extract_objects(rel, &docs, &mut out);
    if docs.iter().all(|d| d.root.value == Value::Null) && out.findings.is_empty() {
        out.findings.push(finding(
            rules::EMPTY_MANIFEST,
            Severity::Note,
            rel,
            START,
            "file holds no YAML documents".to_owned(),
            "Delete the file or add the objects it was meant to hold.",
        ));
    }
    out
}

/// Whether `text` holds Go template actions (`{{ .Field }}`, `{{- if }}`, `{{ range }}`):
/// field references start with a dot, which Argo CD / Argo Workflows placeholders
/// (`{{args.name}}`, `{{workflow.name}}`) never do.
fn is_go_template(text: &str) -> bool {
    const ACTIONS: &[&str] = &[
        "{{ .",
        "{{.",
        "{{-",
        "{{ if ",
        "{{if ",
        "{{ range ",
        "{{range ",
        "{{ end",
        "{{end",
        "{{ template ",
        "{{ include ",
        "{{ with ",
    ];
    ACTIONS.iter().any(|a| text.contains(a))
}

/// UTF-8 text of a file, or the position and reason it is not text.
fn decode(bytes: &[u8]) -> Result<&str, (Pos, String)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Binary files (images, archives) hold NUL bytes early; say so rather than "bad UTF-8".
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err((
            START,
            "file is binary (it contains NUL bytes), not YAML".to_owned(),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        (
            pos_of_byte(bytes, at),
            format!(
                "file is not valid UTF-8 (invalid byte 0x{:02X} at offset {at})",
                bytes[at]
            ),
        )
    })
}

/// Line and column of byte offset `at`, counting columns in characters of the valid prefix.
fn pos_of_byte(bytes: &[u8], at: usize) -> Pos {
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

enum Shape {
    /// Has apiVersion and kind.
    Object,
    /// Neither apiVersion nor kind: not a Kubernetes document at all.
    Foreign,
    /// Null document (`---` with nothing after it).
    Empty,
}

fn shape(node: &Node) -> Shape {
    match &node.value {
        Value::Null => Shape::Empty,
        Value::Map(_) if node.get("apiVersion").is_some() || node.get("kind").is_some() => {
            Shape::Object
        }
        _ => Shape::Foreign,
    }
}

fn extract_objects(rel: &str, docs: &[Document], out: &mut LoadedFile) {
    let shapes: Vec<Shape> = docs.iter().map(|d| shape(&d.root)).collect();
    let any_object = shapes.iter().any(|s| matches!(s, Shape::Object));
    if !any_object {
        if let Some(first) = docs
            .iter()
            .find(|d| matches!(shape(&d.root), Shape::Foreign))
        {
            out.findings.push(finding(
                rules::NOT_A_MANIFEST,
                Severity::Note,
                rel,
                first.root.start,
                "file holds YAML without apiVersion or kind, so it is not a Kubernetes manifest; it was not checked".to_owned(),
                "If the file is not meant to be deployed, add it to `exclude:` in .kgate.yaml.",
            ));
        }
        return;
    }
    for (doc, shape) in docs.iter().zip(shapes) {
        match shape {
            Shape::Empty => {}
            Shape::Foreign => out.findings.push(finding(
                rules::INVALID_MANIFEST,
                Severity::Error,
                rel,
                doc.root.start,
                format!("document {} has no apiVersion or kind, unlike the other documents in this file", doc.index + 1),
                "Add apiVersion and kind, or move this document out of the manifest file.",
            )),
            Shape::Object => object_of(rel, doc.index, None, &doc.root, out),
        }
    }
}

/// Adds the object `node` (document `document`, item `list_item` of a List) to `out`, or
/// the items of a List, or a finding for each field that makes it no object.
fn object_of(
    rel: &str,
    document: usize,
    list_item: Option<usize>,
    node: &Node,
    out: &mut LoadedFile,
) {
    let api_version = type_field(rel, node, "apiVersion", out);
    let kind = type_field(rel, node, "kind", out);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return;
    };
    let (name, namespace) = name_and_namespace(rel, node, out);
    // `kind: List` (and `*List` kinds) wrap objects in `items`, as kubectl accepts.
    if kind.ends_with("List")
        && let Some(items_node) = node.get("items")
    {
        list_items(rel, document, &kind, items_node, out);
        return;
    }
    out.objects.push(Manifest {
        file: rel.to_owned(),
        id: ObjectRef {
            api_version,
            kind,
            namespace,
            name,
        },
        node: node.clone(),
        document,
        list_item,
    });
}

/// An `invalid-manifest` finding in `rel`.
fn invalid(rel: &str, pos: Pos, message: String, help: &str) -> Finding {
    finding(
        rules::INVALID_MANIFEST,
        Severity::Error,
        rel,
        pos,
        message,
        help,
    )
}

/// The object's `apiVersion` or `kind` (`key`); a finding when missing or not a
/// non-empty string.
fn type_field(rel: &str, node: &Node, key: &str, out: &mut LoadedFile) -> Option<String> {
    match node.get(key) {
        Some(Node {
            value: Value::String(s),
            ..
        }) if !s.trim().is_empty() => Some(s.clone()),
        Some(other) => {
            out.findings.push(invalid(
                rel,
                other.start,
                format!("`{key}` must be a non-empty string"),
                "Every Kubernetes object needs string apiVersion and kind fields.",
            ));
            None
        }
        None => {
            out.findings.push(invalid(
                rel,
                node.start,
                format!("object has no `{key}`"),
                "Every Kubernetes object needs string apiVersion and kind fields.",
            ));
            None
        }
    }
}

/// The object's `metadata.name` and `metadata.namespace`; a finding for a `metadata` that
/// is no mapping or either field that is no string.
fn name_and_namespace(
    rel: &str,
    node: &Node,
    out: &mut LoadedFile,
) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut namespace = None;
    match node.get("metadata") {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => {}
        Some(
            meta @ Node {
                value: Value::Map(_),
                ..
            },
        ) => {
            for (key, slot) in [("name", &mut name), ("namespace", &mut namespace)] {
                match meta.get(key) {
                    None
                    | Some(Node {
                        value: Value::Null, ..
                    }) => {}
                    Some(Node {
                        value: Value::String(s),
                        ..
                    }) => *slot = Some(s.clone()),
                    Some(other) => out.findings.push(invalid(
                        rel,
                        other.start,
                        format!("`metadata.{key}` must be a string"),
                        "Quote the value if YAML reads it as a number or boolean.",
                    )),
                }
            }
        }
        Some(other) => out.findings.push(invalid(
            rel,
            other.start,
            "`metadata` must be a mapping".to_owned(),
            "Object metadata is a mapping with name, namespace, labels and annotations.",
        )),
    }
    (name, namespace)
}

/// Adds the objects in the `items` of a List of kind `kind`; a finding for each item that
/// is no object, or for `items` that is no list.
fn list_items(rel: &str, document: usize, kind: &str, items_node: &Node, out: &mut LoadedFile) {
    match &items_node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                match shape(item) {
                    Shape::Object => object_of(rel, document, Some(i), item, out),
                    _ => out.findings.push(invalid(
                        rel,
                        item.start,
                        format!("item {i} of the {kind} is not a Kubernetes object"),
                        "Each entry of `items` needs apiVersion and kind.",
                    )),
                }
            }
        }
        Value::Null => {}
        _ => out.findings.push(invalid(
            rel,
            items_node.start,
            format!("`items` of a {kind} must be a list"),
            "A List holds its objects in `items: [...]`.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn load_text(bytes: &[u8], max: u64) -> LoadedFile {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f.yaml");
        std::fs::write(&p, bytes).unwrap();
        load_file(
            &SourceFile {
                rel: "f.yaml".into(),
                abs: p,
            },
            &FileTable::new(tmp.path(), max),
        )
    }

    fn rules_of(l: &LoadedFile) -> Vec<(&str, u32)> {
        l.findings
            .iter()
            .map(|f| (f.rule.as_str(), f.location.line))
            .collect()
    }

    #[test]
    fn objects_and_lists() {
        let l = load_text(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n",
            1 << 20,
        );
        assert!(l.findings.is_empty(), "{:?}", l.findings);
        let ids: Vec<String> = l.objects.iter().map(|o| o.id.to_string()).collect();
        assert_eq!(ids, ["ConfigMap ns/a", "Service s"]);
        assert_eq!(l.objects[1].list_item, Some(0));
    }

    #[test]
    fn go_templates_that_do_not_parse_are_notes_and_argo_placeholders_stay_errors() {
        // An operator's embedded manifest (open-cluster-management's `{{ .Namespace }}`).
        let l = load_text(
            b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .ClusterManagerNamespace }}\n",
            1 << 20,
        );
        assert_eq!(rules_of(&l), [("not-a-manifest", 1)]);
        assert!(l.objects.is_empty());
        // An unquoted Argo placeholder is a YAML error kubectl rejects too.
        let l = load_text(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: {{args.enabled}}\n",
            1 << 20,
        );
        assert_eq!(rules_of(&l)[0].0, "parse-error");
    }

    #[test]
    fn malformed_objects_are_findings_at_their_line() {
        let l = load_text(
            b"apiVersion: v1\nkind: 3\n---\nkind: Pod\n---\nfoo: bar\n",
            1 << 20,
        );
        assert_eq!(
            rules_of(&l),
            [
                ("invalid-manifest", 2),
                ("invalid-manifest", 4),
                ("invalid-manifest", 6)
            ]
        );
    }

    #[test]
    fn non_kubernetes_yaml_is_one_note() {
        let l = load_text(b"replicaCount: 2\n---\nimage: {tag: x}\n", 1 << 20);
        assert_eq!(rules_of(&l), [("not-a-manifest", 1)]);
    }

    #[test]
    fn empty_binary_utf8_and_size() {
        assert_eq!(rules_of(&load_text(b"", 100)), [("empty-manifest", 1)]);
        assert_eq!(
            rules_of(&load_text(b"# just a comment\n---\n", 100)),
            [("empty-manifest", 1)]
        );
        let bin = load_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 100);
        assert_eq!(rules_of(&bin), [("parse-error", 1)]);
        assert!(bin.findings[0].message.contains("binary"));
        let bad = load_text(b"a: 1\nb: caf\xE9\n", 100);
        assert_eq!(rules_of(&bad), [("parse-error", 2)]);
        assert_eq!(bad.findings[0].location.column, 7);
        let big = load_text(&[b'#'; 101], 100);
        assert_eq!(rules_of(&big), [("file-too-large", 1)]);
    }

    #[test]
    fn unreadable_file_is_a_finding() {
        let l = load_file(
            &SourceFile {
                rel: "gone.yaml".into(),
                abs: PathBuf::from("/nonexistent/gone.yaml"),
            },
            &FileTable::new(Path::new("/nonexistent"), 100),
        );
        assert_eq!(rules_of(&l), [("unreadable-file", 1)]);
    }
}
