//! Writes objects as `kustomize build` (v5.5, in `kubectl kustomize`) prints them.
//!
//! kustomize serialises through go-yaml v3 with compact sequence indentation: mapping keys
//! sorted, two-space indentation, list items at the indentation of their parent key, and
//! the scalar style go-yaml picks. A string that would read back as another type (`"yes"`,
//! `"0644"`, `"1.0"`, `""`, a timestamp) is double-quoted; one that cannot be plain
//! (`'@x'`, `'a: b'`) is single-quoted; a multi-line one is a literal block (`|-`) when the
//! block style can hold it. The rules below follow libyaml's `yaml_emitter_analyze_scalar`
//! and go-yaml's `encode.go`.

use crate::yaml::{Node, Value};

/// Gives a scalar node a trailing comment (used by `kgate render --provenance`).
pub type Annotate<'a> = Option<&'a dyn Fn(&Node) -> Option<String>>;

/// One YAML document, without the `---` separator.
pub fn emit_document(node: &Node) -> String {
    emit_document_with(node, None)
}

/// [`emit_document`] with a comment after every scalar `ann` names.
pub fn emit_document_with(node: &Node, ann: Annotate<'_>) -> String {
    let mut out = String::new();
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => emit_map(node, 0, &mut out, ann),
        Value::Seq(items) if !items.is_empty() => emit_seq(node, 0, &mut out, ann),
        _ => {
            out.push_str(&with_comment(scalar_or_empty(node, 0, 0), node, ann));
            out.push('\n');
        }
    }
    out
}

/// A stream of documents separated by `---`, as `kustomize build` prints it.
pub fn emit_stream<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> String {
    emit_stream_with(nodes, None)
}

/// [`emit_stream`] with a comment after every scalar `ann` names.
pub fn emit_stream_with<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    ann: Annotate<'_>,
) -> String {
    let mut out = String::new();
    for (i, n) in nodes.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&emit_document_with(n, ann));
    }
    out
}

/// Appends `  # comment` to a rendered scalar: after the header of a block scalar (a comment
/// at its end would become content), else at the end of its last line.
fn with_comment(rendered: String, node: &Node, ann: Annotate<'_>) -> String {
    let Some(comment) = ann.and_then(|f| f(node)) else {
        return rendered;
    };
    if rendered.starts_with('|') {
        match rendered.split_once('\n') {
            Some((header, body)) => format!("{header}  # {comment}\n{body}"),
            None => format!("{rendered}  # {comment}"),
        }
    } else {
        format!("{rendered}  # {comment}")
    }
}

fn is_empty_collection(node: &Node) -> bool {
    match &node.value {
        Value::Map(e) => e.is_empty(),
        Value::Seq(i) => i.is_empty(),
        _ => false,
    }
}

/// Scalars and empty collections, rendered for a value that starts at column `indent`
/// (block scalars indent their body relative to it).
fn scalar_or_empty(node: &Node, indent: usize, column: usize) -> String {
    match &node.value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => format_float(*f),
        Value::String(s) => string_scalar(s, indent, Some(column)),
        Value::Map(_) => "{}".to_owned(),
        Value::Seq(_) => "[]".to_owned(),
    }
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.to_owned()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        // Integral floats print without a fraction, as after kustomize's JSON round trip.
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

fn sorted_entries(node: &Node) -> Vec<&crate::yaml::Entry> {
    let mut entries: Vec<&crate::yaml::Entry> = match &node.value {
        Value::Map(e) => e.iter().collect(),
        _ => Vec::new(),
    };
    entries.sort_by(|a, b| natural_key_cmp(&a.key, &b.key));
    entries
}

/// go-yaml v2's key order (`keyList.Less`), which kustomize's writer (`JSONToYAML`) uses:
/// at the first differing character two letters compare by code point, a non-letter sorts
/// before a letter, and between non-letters runs of digits compare as numbers.
pub(crate) fn natural_key_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let less = |x: &[char], y: &[char]| -> bool {
        for i in 0..x.len().min(y.len()) {
            if x[i] == y[i] {
                continue;
            }
            let (xl, yl) = (x[i].is_alphabetic(), y[i].is_alphabetic());
            if xl && yl {
                return x[i] < y[i];
            }
            if xl || yl {
                return yl;
            }
            // go-yaml reads the digit runs from here; a run continuing a non-zero digit
            // counts its leading zeros (it starts from 1).
            let (mut xn, mut yn) = (0i64, 0i64);
            if x[i] == '0' || y[i] == '0' {
                let nonzero_before = x[..i]
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_digit())
                    .any(|c| *c != '0');
                if nonzero_before {
                    (xn, yn) = (1, 1);
                }
            }
            let run = |s: &[char], mut n: i64| -> (i64, usize) {
                let mut j = i;
                while let Some(d) = s.get(j).and_then(|c| c.to_digit(10)) {
                    n = n.wrapping_mul(10).wrapping_add(i64::from(d));
                    j += 1;
                }
                (n, j)
            };
            let ((xn, xi), (yn, yi)) = (run(x, xn), run(y, yn));
            if xn != yn {
                return xn < yn;
            }
            if xi != yi {
                return xi < yi;
            }
            return x[i] < y[i];
        }
        x.len() < y.len()
    };
    if less(&ar, &br) {
        Ordering::Less
    } else if less(&br, &ar) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn emit_map(node: &Node, indent: usize, out: &mut String, ann: Annotate<'_>) {
    for (i, e) in sorted_entries(node).into_iter().enumerate() {
        // The first key of a map that is a list item continues the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            push_indent(out, indent);
        }
        let key = string_scalar(&e.key, indent, None);
        let column = indent + key.chars().count() + 2;
        out.push_str(&key);
        out.push(':');
        emit_value_after_key(&e.value, indent, column, out, ann);
    }
}

fn emit_value_after_key(
    value: &Node,
    indent: usize,
    column: usize,
    out: &mut String,
    ann: Annotate<'_>,
) {
    match &value.value {
        Value::Map(_) if !is_empty_collection(value) => {
            out.push('\n');
            emit_map(value, indent + 2, out, ann);
        }
        Value::Seq(_) if !is_empty_collection(value) => {
            out.push('\n');
            // Compact sequence indentation: items at the key's own column.
            emit_seq(value, indent, out, ann);
        }
        _ => {
            out.push(' ');
            out.push_str(&with_comment(
                scalar_or_empty(value, indent, column),
                value,
                ann,
            ));
            out.push('\n');
        }
    }
}

fn emit_seq(node: &Node, indent: usize, out: &mut String, ann: Annotate<'_>) {
    let Value::Seq(items) = &node.value else {
        return;
    };
    for item in items {
        push_indent(out, indent);
        out.push_str("- ");
        match &item.value {
            Value::Map(_) if !is_empty_collection(item) => emit_map(item, indent + 2, out, ann),
            Value::Seq(_) if !is_empty_collection(item) => {
                // A nested list starts on the same line: `- - a`.
                let mut inner = String::new();
                emit_seq(item, indent + 2, &mut inner, ann);
                out.push_str(inner.trim_start());
            }
            _ => {
                out.push_str(&with_comment(
                    scalar_or_empty(item, indent, indent + 2),
                    item,
                    ann,
                ));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// go-yaml v3 `isOldBool`: YAML 1.1 booleans that v3 would read as strings but quotes anyway.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// go-yaml v3 `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        if i + 1 < b.len() && (b'0'..=b'5').contains(&b[i]) && b[i + 1].is_ascii_digit() {
            i += 2;
        } else if i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v3 resolves `YYYY-M-D` dates and date-times to timestamps.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, min: usize, max: usize| -> Option<usize> {
        let mut i = from;
        while i < b.len() && b[i].is_ascii_digit() && i - from < max {
            i += 1;
        }
        (i - from >= min).then_some(i)
    };
    let Some(i) = digits(0, 4, 4) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = digits(i + 1, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = digits(i + 1, 1, 2) else {
        return false;
    };
    if i == b.len() {
        return true;
    }
    // Date-time forms: a 'T', 't' or space, then H:M:S.
    if !matches!(b[i], b'T' | b't' | b' ') {
        return false;
    }
    let Some(j) = digits(i + 1, 1, 2) else {
        return false;
    };
    b.get(j) == Some(&b':')
}

/// Whether a plain scalar `s` reads back as something other than this string.
fn resolves_to_non_string(s: &str) -> bool {
    !matches!(crate::yaml::resolve_plain_scalar(s), Value::String(_))
        || is_old_bool(s)
        || is_base60_float(s)
        || is_timestamp(s)
}

struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// go-yaml's `is_printable`, which (unlike libyaml) treats characters outside the Basic
/// Multilingual Plane and U+0085 as non-printable: an emoji forces double quotes.
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

fn is_space(c: Option<char>) -> bool {
    c == Some(' ')
}

fn is_break(c: Option<char>) -> bool {
    matches!(c, Some('\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
}

fn is_blankz(c: Option<char>) -> bool {
    c.is_none() || is_space(c) || c == Some('\t') || is_break(c)
}

/// libyaml's `yaml_emitter_analyze_scalar`.
fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let (flow_indicators, block_indicators) = indicators(s, &chars);
    let special_characters = chars.iter().any(|&c| !is_printable(c));
    let line_breaks = chars.iter().any(|&c| is_break(Some(c)));
    let w = Whitespace::of(&chars);

    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if w.leading_space || w.leading_break || w.trailing_space || w.trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if w.trailing_space {
        a.block_allowed = false;
    }
    if w.break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if w.space_break || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether `s` holds characters that are indicators in flow and in block context, as
/// go-yaml's `yaml_emitter_analyze_scalar` decides: (flow, block).
fn indicators(s: &str, chars: &[char]) -> (bool, bool) {
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_whitespace = is_blankz(next);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    (flow_indicators, block_indicators)
}

/// Where a scalar has spaces and line breaks that a plain or quoted style cannot keep.
#[derive(Default)]
struct Whitespace {
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    /// A space right after a line break.
    break_space: bool,
    /// A line break right after a space.
    space_break: bool,
}

impl Whitespace {
    fn of(chars: &[char]) -> Whitespace {
        let mut w = Whitespace::default();
        let mut previous_space = false;
        let mut previous_break = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if i == 0 {
                    w.leading_space = true;
                }
                if i == chars.len() - 1 {
                    w.trailing_space = true;
                }
                if previous_break {
                    w.break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if is_break(Some(c)) {
                if i == 0 {
                    w.leading_break = true;
                }
                if i == chars.len() - 1 {
                    w.trailing_break = true;
                }
                if previous_space {
                    w.space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
        }
        w
    }
}

/// go-yaml's line width: plain and quoted scalars are folded at spaces past this column.
const BEST_WIDTH: usize = 80;

/// A string scalar in block context, starting at `column` (`None` for a mapping key, which
/// is a simple key: one line, never folded). Continuation lines are indented to
/// `indent + 2`.
fn string_scalar(s: &str, indent: usize, column: Option<usize>) -> String {
    let a = analyze(s);
    let is_key = column.is_none();
    let wants_quotes = resolves_to_non_string(s) || s.is_empty();
    if s.contains('\n') && !is_key {
        if a.block_allowed && !wants_quotes {
            return literal_block(s, indent);
        }
        return double_quoted(s, indent, column);
    }
    if wants_quotes {
        return double_quoted(s, indent, column);
    }
    if a.block_plain_allowed && !(is_key && a.multiline) {
        return plain(s, indent, column);
    }
    if a.single_quoted_allowed && !(is_key && a.multiline) {
        return single_quoted(s, indent, column);
    }
    double_quoted(s, indent, column)
}

fn newline_indent(out: &mut String, indent: usize) -> usize {
    out.push('\n');
    push_indent(out, indent + 2);
    indent + 2
}

/// libyaml `yaml_emitter_write_plain_scalar`.
fn plain(s: &str, indent: usize, column: Option<usize>) -> String {
    let Some(mut col) = column else {
        return s.to_owned();
    };
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if !spaces && col > BEST_WIDTH && chars.get(i + 1) != Some(&' ') {
                col = newline_indent(&mut out, indent);
            } else {
                out.push(c);
                col += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            col += 1;
            spaces = false;
        }
    }
    out
}

/// libyaml `yaml_emitter_write_single_quoted_scalar` (no line breaks reach here).
fn single_quoted(s: &str, indent: usize, column: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\'");
    let mut col = column.map(|c| c + 1);
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let breakable = col.is_some_and(|cc| {
                !spaces
                    && cc > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
            });
            if breakable {
                col = Some(newline_indent(&mut out, indent));
            } else {
                out.push(c);
                col = col.map(|x| x + 1);
            }
            spaces = true;
        } else {
            if c == '\'' {
                out.push('\'');
                col = col.map(|x| x + 1);
            }
            out.push(c);
            col = col.map(|x| x + 1);
            spaces = false;
        }
    }
    out.push('\'');
    out
}

fn literal_block(s: &str, indent: usize) -> String {
    let body_indent = indent + 2;
    let mut header = String::from("|");
    // An indentation indicator is needed when the first line starts with a space or break.
    if s.starts_with(' ') || s.starts_with('\n') {
        header.push('2');
    }
    // libyaml's chomping: `-` without a final break; `+` when the text is a single break or
    // ends in two; none otherwise.
    let chomp_keep = s == "\n" || s.ends_with("\n\n");
    if !s.ends_with('\n') {
        header.push('-');
    } else if chomp_keep {
        header.push('+');
    }
    let content = s.strip_suffix('\n').unwrap_or(s);
    let mut out = header;
    for line in content.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(&mut out, body_indent);
            out.push_str(line);
        }
    }
    out
}

/// libyaml `yaml_emitter_write_double_quoted_scalar`, folding at spaces past the width.
fn double_quoted(s: &str, indent: usize, column: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\"");
    let mut col = column.map(|c| c + 1);
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let breakable =
                col.is_some_and(|cc| !spaces && cc > BEST_WIDTH && i != 0 && i != chars.len() - 1);
            if breakable {
                col = Some(newline_indent(&mut out, indent));
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                    col = col.map(|x| x + 1);
                }
            } else {
                out.push(' ');
                col = col.map(|x| x + 1);
            }
            spaces = true;
            continue;
        }
        let escaped = match c {
            '\0' => "\\0".to_owned(),
            '\u{7}' => "\\a".to_owned(),
            '\u{8}' => "\\b".to_owned(),
            '\t' => "\\t".to_owned(),
            '\n' => "\\n".to_owned(),
            '\u{B}' => "\\v".to_owned(),
            '\u{C}' => "\\f".to_owned(),
            '\r' => "\\r".to_owned(),
            '\u{1B}' => "\\e".to_owned(),
            '"' => "\\\"".to_owned(),
            '\\' => "\\\\".to_owned(),
            '\u{85}' => "\\N".to_owned(),
            '\u{A0}' => "\\_".to_owned(),
            '\u{2028}' => "\\L".to_owned(),
            '\u{2029}' => "\\P".to_owned(),
            c if is_printable(c) => c.to_string(),
            c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
            c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
            c => format!("\\U{:08X}", c as u32),
        };
        col = col.map(|x| x + escaped.chars().count());
        out.push_str(&escaped);
        spaces = false;
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{LoadLimits, parse_documents};

    fn roundtrip(text: &str) -> String {
        let (docs, err) = parse_documents(text, LoadLimits::default());
        assert!(err.is_none());
        emit_stream(docs.iter().map(|d| &d.root))
    }

    #[test]
    fn kubectl_output_roundtrips() {
        // Verbatim `kubectl kustomize` output (kustomize v5.5).
        let text = "apiVersion: v1\ndata:\n  A: \"1\"\n  B: x<y&z\n  C: |-\n    multi\n    line\nkind: ConfigMap\nmetadata:\n  labels:\n    team: a\n  name: p-cfg-t2f42tb4bk\n  namespace: ns1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: p-web\nspec:\n  template:\n    spec:\n      containers:\n      - args:\n        - \"yes\"\n        - \"0644\"\n        - \"1.0\"\n        - \"\"\n        - \"null\"\n        - 'a: b'\n        - '- x'\n        - '@x'\n        - \"true\"\n        envFrom:\n        - configMapRef:\n            name: p-cfg-t2f42tb4bk\n        image: nginx:1.2\n        name: web\n";
        assert_eq!(roundtrip(text), text);
    }

    #[test]
    fn keys_are_sorted_and_empties_are_flow() {
        assert_eq!(
            roundtrip("b: {}\na: []\nc: null\n"),
            "a: []\nb: {}\nc: null\n"
        );
    }

    #[test]
    fn keys_sort_in_go_yaml_natural_order() {
        let mut keys = vec![
            "item10",
            "alpha",
            "client_ca",
            "Zeta",
            "clientAuthType",
            "2nd",
            "10th",
            "_hidden",
            "ANOTHER",
            "A_FIRST",
            "item9",
            "a01",
            "a1",
            "a001",
        ];
        keys.sort_by(|a, b| natural_key_cmp(a, b));
        assert_eq!(
            keys,
            [
                "_hidden",
                "2nd",
                "10th",
                "A_FIRST",
                "ANOTHER",
                "Zeta",
                "a1",
                "a01",
                "a001",
                "alpha",
                "client_ca",
                "clientAuthType",
                "item9",
                "item10"
            ]
        );
    }

    #[test]
    fn scalar_styles() {
        assert_eq!(string_scalar("12:30", 0, Some(0)), "\"12:30\"");
        assert_eq!(string_scalar("2024-01-02", 0, Some(0)), "\"2024-01-02\"");
        assert_eq!(string_scalar("tab\there", 0, Some(0)), "\"tab\\there\"");
        assert_eq!(string_scalar("it's", 0, Some(0)), "it's");
        assert_eq!(string_scalar("'quoted'", 0, Some(0)), "'''quoted'''");
        assert_eq!(string_scalar(" lead", 0, Some(0)), "' lead'");
        assert_eq!(string_scalar("a\nb\n", 2, Some(0)), "|\n    a\n    b");
        assert_eq!(string_scalar("x # y", 0, Some(0)), "'x # y'");
        assert_eq!(string_scalar("8080:80", 0, Some(0)), "8080:80");
    }
}
