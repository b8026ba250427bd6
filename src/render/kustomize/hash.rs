//! The content hash kustomize appends to generated ConfigMap and Secret names.
//!
//! kustomize (`api/hasher`) hashes a JSON encoding of the object's `kind`, `name`, `data`
//! (and `binaryData` / `type` / `stringData`), takes the first 10 hex digits of its SHA-256
//! and maps `0 1 3 a e` to `g h k m t` so the suffix never looks like a number or a word.
//! Two details must match exactly: the name is always encoded as `""` (kustomize looks up
//! `metadata/name` as one key, which never exists), and Go's `encoding/json` escapes `<`, `>`
//! and `&` as `\u003c`, `\u003e`, `\u0026`.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Go `json.Marshal` of a string: quotes, escapes and HTML-safe escaping. The runs
/// between escapes are copied whole (a char at a time, with the digest's hex made by
/// `format!`, hashing was ~35,000 instructions per generated ConfigMap).
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // U+2028 and U+2029, the only escaped characters outside ASCII.
        let separator = b == 0xE2 && bytes.get(i + 1) == Some(&0x80);
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            b'<' => Some("\\u003c"),
            b'>' => Some("\\u003e"),
            b'&' => Some("\\u0026"),
            _ if separator && bytes.get(i + 2) == Some(&0xA8) => Some("\\u2028"),
            _ if separator && bytes.get(i + 2) == Some(&0xA9) => Some("\\u2029"),
            _ => None,
        };
        let width = if separator && escape.is_some() { 3 } else { 1 };
        if escape.is_some() || b < 0x20 {
            out.push_str(&s[plain..i]);
            match escape {
                Some(e) => out.push_str(e),
                None => {
                    out.push_str("\\u00");
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xF)]));
                }
            }
            plain = i + width;
        }
        i += width;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

fn go_json_map(m: &BTreeMap<String, String>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        go_json_string(k, out);
        out.push(':');
        go_json_string(v, out);
    }
    out.push('}');
}

/// What of a generated object goes into its hash.
#[derive(Debug, Clone, Default)]
pub struct HashInput {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Secret `type` (`None` for ConfigMaps).
    pub secret_type: Option<String>,
    pub data: BTreeMap<String, String>,
    /// The object has no `data` field: kustomize then hashes `"data":""`, not `{}`.
    pub data_absent: bool,
    /// ConfigMap `binaryData` or Secret `stringData`, when present.
    pub extra: Option<BTreeMap<String, String>>,
}

fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// The 10-character suffix kustomize appends (after a `-`) to the generated name.
pub fn name_hash(input: &HashInput) -> String {
    // Go marshals map keys in sorted order: binaryData/data/kind/name/stringData/type.
    let mut json = String::from("{");
    let mut fields: Vec<(&str, String)> = Vec::new();
    let map_json = |m: &BTreeMap<String, String>| {
        let mut s = String::new();
        go_json_map(m, &mut s);
        s
    };
    let str_json = |v: &str| {
        let mut s = String::new();
        go_json_string(v, &mut s);
        s
    };
    fields.push((
        "data",
        if input.data_absent {
            str_json("")
        } else {
            map_json(&input.data)
        },
    ));
    fields.push(("kind", str_json(&input.kind)));
    fields.push(("name", str_json("")));
    if let Some(extra) = &input.extra {
        let key = if input.kind == "Secret" {
            "stringData"
        } else {
            "binaryData"
        };
        fields.push((key, map_json(extra)));
    }
    if input.kind == "Secret" {
        fields.push(("type", str_json(input.secret_type.as_deref().unwrap_or(""))));
    }
    fields.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&str_json(k));
        json.push(':');
        json.push_str(v);
    }
    json.push('}');
    let digest = Sha256::digest(json.as_bytes());
    // The first 10 hex digits are all the suffix takes.
    let hex: String = (digest.iter().take(5))
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xF)]])
        .map(char::from)
        .collect();
    encode(&hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(pairs: &[(&str, &str)]) -> HashInput {
        HashInput {
            kind: "ConfigMap".into(),
            data: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..HashInput::default()
        }
    }

    #[test]
    fn matches_kubectl_kustomize() {
        // Suffixes printed by `kubectl kustomize` (v5.5.0) for these generators.
        assert_eq!(name_hash(&cm(&[("A", "1")])), "89g4tffbfk");
        assert_eq!(
            name_hash(&cm(&[("A", "1"), ("B", "x<y&z"), ("C", "multi\nline")])),
            "t2f42tb4bk"
        );
        // A generator with no sources: a ConfigMap without `data`, an Opaque Secret with
        // `data: {}` (`cm-6ct58987ht`, `empty-46f8b28mk5` from kubectl).
        let no_data = HashInput {
            data_absent: true,
            ..cm(&[])
        };
        assert_eq!(name_hash(&no_data), "6ct58987ht");
        let secret = HashInput {
            kind: "Secret".into(),
            secret_type: Some("Opaque".into()),
            ..HashInput::default()
        };
        assert_eq!(name_hash(&secret), "46f8b28mk5");
        // Every escape Go's encoder makes: quotes, backslash, control characters, the HTML
        // ones, U+2028 and U+2029, among characters it keeps (`é`, `€`, the other
        // `\xE2\x80` sequences): `cm-686b8ft6b5` from kubectl for this literal.
        let escapes = "a\u{2028}b\u{2029}c\"d\\e\u{1}f\u{1f}g<h>i&j\u{e9}k\u{20ac}";
        assert_eq!(name_hash(&cm(&[("K", escapes)])), "686b8ft6b5");
    }

    /// The escaping that went a char at a time, which the byte form must equal.
    fn by_chars(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let cases = [
            "",
            "plain",
            "\u{2028}",
            "\u{2029}\u{2029}",
            "\u{2027}\u{202a}\u{20ac}",
            "\u{0}\u{1f}\u{7f}",
            "tab\there\r\n",
            "<<>>&&\"\\",
            "ü\u{2028}end",
            "\u{e2}",
        ];
        for case in cases {
            let mut ours = String::new();
            go_json_string(case, &mut ours);
            assert_eq!(ours, by_chars(case), "{case:?}");
        }
    }
}
