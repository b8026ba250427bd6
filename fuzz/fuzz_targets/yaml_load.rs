//! The YAML loader with positions, under both scalar schemas and every option, then what
//! every stage does with a document (JSON, locating a path).
#![no_main]

#[path = "common.rs"]
mod common;

use kgate::yaml::{LoadLimits, PathSegment, Schema, parse_documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    for (schema, flags) in [(Schema::Yaml11, false), (Schema::GoYamlV3, true)] {
        let limits = LoadLimits {
            schema,
            annotations_as_strings: flags,
            duplicate_keys_last_wins: flags,
            // Small enough that a fuzzer-made alias bomb stays fast.
            max_alias_nodes: 100_000,
            ..LoadLimits::default()
        };
        let (docs, _error) = parse_documents(&text, limits);
        for d in &docs {
            let _ = d.root.to_json();
            let path = [
                PathSegment::Key("spec".into()),
                PathSegment::Key("template".into()),
                PathSegment::Index(0),
            ];
            let _ = d.root.locate(&path);
        }
    }
});
