//! The members of an object in compact JSON text, found by their byte ranges without
//! building the values: the JSON documents embedded in the binary (the Kubernetes schemas,
//! kustomize's OpenAPI subset) are indexed this way, and only the parts a run uses are
//! parsed. (JSON is YAML's flow style; this is the lowest layer that reads text.)

/// The members of the JSON object that follows `prefix` in `text` (compact JSON, as the
/// generator writes it): each key with the byte range of its value, found by matching
/// brackets outside strings, without building the values.
pub fn object_members(text: &str, prefix: &str) -> Vec<(String, std::ops::Range<usize>)> {
    match text.find(prefix) {
        Some(at) => members_from(text, at + prefix.len()),
        None => Vec::new(),
    }
}

/// The members of the JSON object whose `{` is at `open` in `text` (compact JSON), as
/// [`object_members`] finds them.
pub fn members_from(text: &str, open: usize) -> Vec<(String, std::ops::Range<usize>)> {
    let bytes = text.as_bytes();
    if bytes.get(open) != Some(&b'{') {
        return Vec::new();
    }
    let mut i = open + 1; // past the object's `{`
    let mut out = Vec::new();
    while i < bytes.len() && bytes[i] == b'"' {
        let key_end = string_end(bytes, i);
        let key: String = serde_json::from_str(&text[i..key_end])
            .expect("embedded JSON keys are JSON strings (checked by its users' tests)");
        let start = key_end + 1; // past `:`
        let end = value_end(bytes, start);
        out.push((key, start..end));
        i = if bytes.get(end) == Some(&b',') {
            end + 1
        } else {
            end
        };
    }
    out
}

/// The index just past the JSON string that starts at `i`. Most of a schema's text is in
/// its descriptions' strings: they are crossed by `memchr` to the next quote or backslash
/// (byte by byte, the index was ~6 M instructions of every run).
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(at) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        i += at;
        if bytes[i] == b'"' {
            return i + 1;
        }
        i += 2;
    }
    bytes.len().max(i)
}

/// The index just past the JSON value that starts at `i`.
fn value_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return i; // the end of the enclosing object: a scalar ends here
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b',' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}
