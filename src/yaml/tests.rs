use super::*;

fn parse(text: &str) -> Vec<Document> {
    let (docs, err) = parse_documents(text, LoadLimits::default());
    assert_eq!(err, None, "unexpected error for {text:?}");
    docs
}

fn parse_err(text: &str) -> (Vec<Document>, YamlError) {
    let (docs, err) = parse_documents(text, LoadLimits::default());
    (docs, err.expect("expected an error"))
}

fn key(k: &str) -> PathSegment {
    PathSegment::Key(k.to_owned())
}

#[test]
fn positions_point_at_values_not_documents() {
    let docs = parse(
        "# comment\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: nginx:latest\n",
    );
    let root = &docs[0].root;
    let located = root.locate(&[
        key("spec"),
        key("containers"),
        PathSegment::Index(0),
        key("image"),
    ]);
    assert!(located.complete);
    assert_eq!(
        located.pos,
        Pos {
            line: 7,
            column: 14
        }
    );
    let item = root.locate(&[key("spec"), key("containers"), PathSegment::Index(0)]);
    assert_eq!(item.pos, Pos { line: 6, column: 7 });
}

#[test]
fn locate_stops_at_deepest_existing_node() {
    let docs = parse("spec:\n  containers:\n  - name: a\n");
    let l = docs[0].root.locate(&[
        key("spec"),
        key("containers"),
        PathSegment::Index(0),
        key("resources"),
        key("limits"),
    ]);
    assert!(!l.complete);
    assert_eq!(l.depth, 3);
    let containers = docs[0].root.locate(&[key("spec"), key("containers")]);
    assert_eq!(
        containers.pos,
        Pos { line: 2, column: 3 },
        "a block list points at its key"
    );
    assert_eq!(l.pos, Pos { line: 3, column: 5 });
}

#[test]
fn multi_document_streams_keep_their_lines() {
    let docs = parse("a: 1\n---\nb: 2\n---\n# only a comment\n---\nc: 3\n");
    let lines: Vec<u32> = docs.iter().map(|d| d.root.start.line).collect();
    assert_eq!(docs.len(), 4);
    assert_eq!(lines[0], 1);
    assert_eq!(lines[1], 3);
    assert_eq!(docs[2].root.value, Value::Null);
    assert_eq!(lines[3], 7);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let docs = parse(
        "base: &b\n  image: nginx:1.0\n  pullPolicy: Always\nuse:\n  <<: *b\n  pullPolicy: IfNotPresent\ncopy: *b\n",
    );
    let root = &docs[0].root;
    let use_ = root.get("use").unwrap();
    assert_eq!(
        use_.get("pullPolicy").unwrap().as_str(),
        Some("IfNotPresent")
    );
    // The merged value keeps the position of the anchor it came from.
    let image = use_.get("image").unwrap();
    assert_eq!(image.as_str(), Some("nginx:1.0"));
    assert_eq!(image.start.line, 2);
    assert_eq!(
        root.get("copy").unwrap().get("image").unwrap().start.line,
        2
    );
}

#[test]
fn duplicate_keys_are_errors_with_both_lines() {
    let (_, err) = parse_err("a: 1\nb: 2\na: 3\n");
    assert_eq!(err.pos.line, 3);
    assert_eq!(
        err.kind,
        YamlErrorKind::DuplicateKey {
            key: "a".into(),
            first_line: 1
        }
    );
}

/// Large mappings are indexed past a number of keys: a duplicate is found on either side
/// of that point, with the first key's line, and last-wins keeps working.
#[test]
fn duplicate_keys_in_large_mappings_are_found() {
    let keys: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
    for (dup, first_line) in [("k3", 4), ("k18", 19), ("k0", 1)] {
        let (_, err) = parse_err(&format!("{keys}{dup}: x\n"));
        assert_eq!(err.pos.line, 21, "{dup}");
        assert_eq!(
            err.kind,
            YamlErrorKind::DuplicateKey {
                key: dup.into(),
                first_line
            }
        );
    }
    let limits = LoadLimits {
        duplicate_keys_last_wins: true,
        ..LoadLimits::default()
    };
    let (docs, err) = parse_documents(&format!("{keys}k3: x\nk19: z\n"), limits);
    assert!(err.is_none(), "{err:?}");
    let root = &docs[0].root;
    assert_eq!(
        root.get("k3").map(|n| n.value.clone()),
        Some(Value::String("x".into()))
    );
    assert_eq!(
        root.get("k19").map(|n| n.value.clone()),
        Some(Value::String("z".into()))
    );
    let Value::Map(entries) = &root.value else {
        panic!("map");
    };
    assert_eq!(entries.len(), 20);
}

#[test]
fn syntax_errors_keep_earlier_documents() {
    let (docs, err) = parse_err("a: 1\n---\nb: [1, 2\n");
    assert_eq!(docs.len(), 1);
    assert!(matches!(err.kind, YamlErrorKind::Syntax(_)));
    assert!(err.pos.line >= 3);
}

#[test]
fn billion_laughs_is_bounded() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        text.push_str(&format!(
            "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
        prev = name;
    }
    let (_, err) = parse_err(&text);
    assert!(matches!(
        err.kind,
        YamlErrorKind::AliasExpansionLimit { .. }
    ));
}

#[test]
fn deep_nesting_is_bounded() {
    let text = "[".repeat(1000) + &"]".repeat(1000);
    // Either saphyr's own recursion guard or kgate's depth limit stops it; never a stack overflow.
    let (_, err) = parse_err(&text);
    assert!(
        matches!(err.kind, YamlErrorKind::DepthLimit { .. }) || err.to_string().contains("limit"),
        "{err}"
    );
}

#[test]
fn complex_keys_are_rejected() {
    let (_, err) = parse_err("? [a, b]\n: 1\n");
    assert_eq!(err.kind, YamlErrorKind::ComplexKey("sequence"));
}

#[test]
fn quoted_scalars_stay_strings() {
    let docs = parse("a: 'yes'\nb: yes\nc: \"1\"\nd: !!str 2\ne: 0644\n");
    let j = docs[0].root.to_json();
    assert_eq!(
        j,
        serde_json::json!({"a": "yes", "b": true, "c": "1", "d": "2", "e": 420})
    );
}

#[test]
fn json_pointer_escapes() {
    assert_eq!(
        json_pointer(&[
            key("metadata"),
            key("annotations"),
            key("a/b~c"),
            PathSegment::Index(2)
        ]),
        "/metadata/annotations/a~1b~0c/2"
    );
}

#[test]
fn quoted_scalars_continued_at_the_keys_indentation_are_read_as_go_yaml_reads_them() {
    let docs = parse(
        "a:\n  b: \"x \\\" y\n  z\"\n  c: 'it''s\n  fine'\n  d: \"one\n\n  two\"\n  e: after\n",
    );
    assert_eq!(
        docs[0].root.to_json(),
        serde_json::json!({"a": {"b": "x \" y z", "c": "it's fine", "d": "one\ntwo", "e": "after"}})
    );
    // Still an error where go-yaml reports one too.
    let (_, e) = parse_err("a: \"never closed\nb: 1\n");
    assert!(matches!(e.kind, YamlErrorKind::Syntax(_)));
}

#[test]
fn a_block_scalar_ending_the_input_without_a_line_break_has_none() {
    // go-yaml (kustomize) reads these as `hello`; with a final line break, `hello\n`.
    for text in [
        "x: |\n  hello",
        "x: |+\n  hello",
        "x: >\n  hello",
        "a:\n  x: |\n    hello",
    ] {
        let docs = parse(text);
        let x = docs[0]
            .root
            .get("x")
            .or_else(|| docs[0].root.get("a").and_then(|a| a.get("x")));
        assert_eq!(x.and_then(|n| n.as_str()), Some("hello"), "{text:?}");
    }
    // A line break followed only by indentation still ends the last line.
    for text in [
        "x: |\n  hello\n",
        "x: |\n  hello\n  ",
        "a:\n  x: |\n    hello\n  ",
    ] {
        let docs = parse(text);
        let x = docs[0]
            .root
            .get("x")
            .or_else(|| docs[0].root.get("a").and_then(|a| a.get("x")));
        assert_eq!(x.and_then(|n| n.as_str()), Some("hello\n"), "{text:?}");
    }
    let docs = parse("x: |+\n  hello\n\n  ");
    assert_eq!(
        docs[0].root.get("x").and_then(|n| n.as_str()),
        Some("hello\n\n")
    );
    let docs = parse("x: |-\n  a\n\n  b");
    assert_eq!(
        docs[0].root.get("x").and_then(|n| n.as_str()),
        Some("a\n\nb")
    );
    let docs = parse("x: |+\n  a\n\n  b");
    assert_eq!(
        docs[0].root.get("x").and_then(|n| n.as_str()),
        Some("a\n\nb")
    );
}

#[test]
fn top_level_annotations_can_be_read_as_written_strings() {
    let text = "metadata:\n  annotations: {port: 8080, ratio: 1.50, on: true, none: ~, quoted: '1'}\n  labels: {tier: 1}\nspec:\n  metadata:\n    annotations: {port: 8080}\n";
    let limits = LoadLimits {
        schema: Schema::GoYamlV3,
        annotations_as_strings: true,
        ..LoadLimits::default()
    };
    let (docs, err) = parse_documents(text, limits);
    assert!(err.is_none(), "{err:?}");
    let root = &docs[0].root;
    let at = |path: &[&str]| {
        let mut n = root;
        for p in path {
            n = n.get(p).expect("path");
        }
        n.value.clone()
    };
    let ann = |k: &str| at(&["metadata", "annotations", k]);
    assert_eq!(ann("port"), Value::String("8080".into()));
    assert_eq!(ann("ratio"), Value::String("1.50".into()));
    assert_eq!(ann("on"), Value::String("true".into()));
    assert_eq!(ann("none"), Value::String("~".into()));
    assert_eq!(ann("quoted"), Value::String("1".into()));
    // Labels and nested annotations keep their types.
    assert_eq!(at(&["metadata", "labels", "tier"]), Value::Int(1));
    assert_eq!(
        at(&["spec", "metadata", "annotations", "port"]),
        Value::Int(8080)
    );
    let (plain, _) = parse_documents(text, LoadLimits::default());
    assert_eq!(
        plain[0]
            .root
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("port"))
            .map(|n| n.value.clone()),
        Some(Value::Int(8080))
    );
}

#[test]
fn duplicate_keys_can_keep_the_last_value() {
    let text = "a: 1\nb: {x: 1, x: 2}\na: 3\n";
    let (_, err) = parse_documents(text, LoadLimits::default());
    assert!(err.is_some(), "duplicates are an error by default");
    let limits = LoadLimits {
        duplicate_keys_last_wins: true,
        ..LoadLimits::default()
    };
    let (docs, err) = parse_documents(text, limits);
    assert!(err.is_none(), "{err:?}");
    let root = &docs[0].root;
    assert_eq!(root.get("a").map(|n| n.value.clone()), Some(Value::Int(3)));
    assert_eq!(
        root.get("b")
            .and_then(|b| b.get("x"))
            .map(|n| n.value.clone()),
        Some(Value::Int(2))
    );
    let Value::Map(entries) = &root.value else {
        panic!("map");
    };
    assert_eq!(entries.len(), 2);
}

#[test]
fn same_value_ignores_positions_but_not_order_or_types() {
    let a = &parse("kind: A\nspec:\n  replicas: 2\n  ports: [80, 443]\n")[0].root;
    let moved = &parse("\n\nkind: A\nspec: {replicas: 2, ports: [80, 443]}\n")[0].root;
    assert_ne!(a, moved, "the positions differ");
    assert!(a.same_value(moved));
    let check = |text: &str| a.same_value(&parse(text)[0].root);
    assert!(!check("kind: A\nspec: {replicas: 3, ports: [80, 443]}\n"));
    assert!(!check(
        "kind: A\nspec: {replicas: \"2\", ports: [80, 443]}\n"
    ));
    assert!(!check("kind: A\nspec: {replicas: 2.0, ports: [80, 443]}\n"));
    assert!(!check("kind: A\nspec: {replicas: 2, ports: [80]}\n"));
    assert!(!check(
        "kind: A\nspec: {replicas: 2, ports: [80, 443], x: 1}\n"
    ));
    assert!(!check("kind: A\nspec: {ports: [80, 443], replicas: 2}\n"));
    assert!(!check("kind: A\nspec: [replicas, ports]\n"));
    assert!(!check("kind: A\nspec: null\n"));
}
