//! `configMapGenerator` and `secretGenerator` (and their built-in plugin configs): the
//! key/value data read from literals, env files and files, encoded and wrapped as kustomize
//! writes it, into a new object or merged into an existing one.
//!
//! The content-hash suffix is added later, at the top of the build (transformers.rs), once
//! every overlay has had its say over the data.

use std::collections::BTreeMap;
use std::path::Path;

use super::RenderError;
use super::engine::Renderer;
use super::kustomization::{GeneratorArgs, GeneratorOptions, Kustomization};
use super::resource::{Origin, Resource, add_unique, get_mut, map, set, string_data, text};
use crate::yaml::{Entry, FileId, Node, Pos, Value};

impl Renderer {
    /// `configMapGenerator`, `secretGenerator` and built-in generator configs: create
    /// objects, or merge into (or replace) ones already accumulated.
    pub(super) fn run_generators(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        stack: &mut Vec<std::path::PathBuf>,
    ) -> Result<(), RenderError> {
        // kustomize's order: the kustomization's own generators, its Helm charts, then the
        // configs under `generators:` (read before any of them runs).
        let plugin = self.plugin_generators(k, dir, stack)?;
        let own = k
            .config_map_generator
            .iter()
            .map(|a| (a, "ConfigMap"))
            .chain(k.secret_generator.iter().map(|a| (a, "Secret")));
        for (args, kind) in own {
            self.run_generator(k, dir, ra, args, kind, None)?;
        }
        self.inflate_helm_charts(k, dir, ra)?;
        for (args, kind, origin) in &plugin {
            self.run_generator(k, dir, ra, args, kind, Some(origin))?;
        }
        Ok(())
    }

    /// One generator: `origin` is set for a config under `generators:`.
    fn run_generator(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
        args: &GeneratorArgs,
        kind: &str,
        origin: Option<&Origin>,
    ) -> Result<(), RenderError> {
        let data = self.generator_data(k, dir, args)?;
        if kind == "ConfigMap"
            && let Some((key, _)) = data
                .iter()
                .find(|(_, v)| std::str::from_utf8(v).is_ok_and(unreadable_literal))
        {
            return Err(RenderError::at(
                &k.file,
                args.pos,
                format!(
                    "configmap {}: the value of `{key}` starts with a tab: kustomize writes it as a literal block it cannot read back (yaml: found a tab character where an indentation space is expected)",
                    args.name
                ),
            ));
        }
        // The kustomization's `generatorOptions` apply to its own generator fields only
        // (kustomize merges them in `configureBuiltinGenerators`), not to configs.
        let global = k.generator_options.as_ref().filter(|_| origin.is_none());
        let opts = merged_options(global, args.options.as_ref());
        // kustomize (`types.NewGenerationBehavior`) reads any other value, `Merge` and
        // `""` included, as "unspecified", which creates like `create`.
        let behavior = args
            .behavior
            .as_deref()
            .filter(|b| matches!(*b, "merge" | "replace"))
            .unwrap_or("create");
        let namespace = args.namespace.clone().unwrap_or_default();
        match behavior {
            "create" => {
                let mut r = generated(kind, args, &data, &opts, &k.file);
                // A generator configured under `generators:` is attributed to its config
                // file (where `args.pos` is), like kustomize's origin annotation.
                let config = match origin {
                    Some(o @ Origin::Generator { configured_in, .. }) => {
                        r.origin = o.clone();
                        configured_in.clone()
                    }
                    _ => k.file.clone(),
                };
                r.node.stamp(self.file_id(&config), args.pos);
                add_unique(ra, r, &k.file, args.pos)?;
            }
            _ => {
                let existing = merge_target(ra, kind, &args.name, &namespace)
                    .map_err(|m| RenderError::at(&k.file, args.pos, m))?;
                let fresh = generated(kind, args, &data, &opts, &k.file);
                merge_generated(existing, fresh, &opts, behavior == "merge");
                if behavior == "replace" {
                    // The object is the overlay's now (kustomize's origin moves too).
                    take_over(existing, &k.file, kind, args.pos, self.file_id(&k.file));
                }
                existing.node.stamp(self.file_id(&k.file), args.pos);
            }
        }
        Ok(())
    }

    /// Key/value pairs of a generator, in the order kustomize reads them.
    fn generator_data(
        &self,
        k: &Kustomization,
        dir: &Path,
        args: &GeneratorArgs,
    ) -> Result<Vec<(String, Vec<u8>)>, RenderError> {
        let mut data: Vec<(String, Vec<u8>)> = Vec::new();
        let mut put = |key: String, value: Vec<u8>, pos: Pos| -> Result<(), RenderError> {
            if data.iter().any(|(k2, _)| *k2 == key) {
                return Err(RenderError::at(
                    &k.file,
                    pos,
                    format!("configmap {} illegally repeats the key `{key}`", args.name),
                ));
            }
            data.push((key, value));
            Ok(())
        };
        for env in &args.envs {
            let file = self.restricted_file(k, dir, &env.value, env.pos)?;
            let content = self
                .read_text(&file)
                .map_err(|e| RenderError::at(&k.file, env.pos, format!("'{}': {e}", env.value)))?;
            let content = content.strip_prefix('\u{feff}').unwrap_or(&content[..]);
            for line in content.lines() {
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                // kustomize (`api/kv`) takes the key as written, and a line without `=`
                // is a key with an empty value: it never reads the environment.
                let (key, value) = line.split_once('=').unwrap_or((line, ""));
                put(key.to_owned(), value.as_bytes().to_vec(), env.pos)?;
            }
        }
        for lit in &args.literals {
            let Some((key, value)) = lit.value.split_once('=') else {
                return Err(RenderError::at(
                    &k.file,
                    lit.pos,
                    format!("literal `{}` is not KEY=VALUE", lit.value),
                ));
            };
            put(key.to_owned(), unquote(value).as_bytes().to_vec(), lit.pos)?;
        }
        for f in &args.files {
            let (key, rel) = match f.value.split_once('=') {
                Some((k2, p)) => (k2.to_owned(), p.to_owned()),
                None => (
                    Path::new(&f.value)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    f.value.clone(),
                ),
            };
            let file = self.restricted_file(k, dir, &rel, f.pos)?;
            let content = self
                .read_bytes(&file)
                .map_err(|e| RenderError::at(&k.file, f.pos, format!("'{rel}': {e}")))?
                .to_vec();
            put(key, content, f.pos)?;
        }
        Ok(data)
    }
}

/// A generated ConfigMap value kustomize (kyaml) fails on: a multi-line value gets the
/// literal block style, and go-yaml writes it as a block when it can (no control characters
/// but tabs, no space before a line break, no trailing space); a block whose first line
/// starts with a tab has no indentation indicator, and reading it back fails.
fn unreadable_literal(v: &str) -> bool {
    let special = |c: char| {
        (c.is_control() && c != '\t' && c != '\n')
            || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}')
    };
    v.starts_with('\t')
        && v.contains('\n')
        && !v.contains(" \n")
        && !v.ends_with(' ')
        && !v.chars().any(special)
}

/// The object a `merge`/`replace` generator acts on: kustomize's
/// `GetMatchingResourcesByAnyId` with the generated id, so one whose current or previous
/// id (before a prefix, suffix or namespace) has the kind, name and effective namespace.
fn merge_target<'a>(
    ra: &'a mut [Resource],
    kind: &str,
    name: &str,
    namespace: &str,
) -> Result<&'a mut Resource, String> {
    let effective = |ns: &str| if ns.is_empty() { "default" } else { ns }.to_owned();
    let matching: Vec<usize> = (0..ra.len())
        .filter(|&i| {
            ra[i].ids().iter().any(|id| {
                id.kind == kind
                    && id.name == name
                    && effective(&id.namespace) == effective(namespace)
            })
        })
        .collect();
    match matching.as_slice() {
        [] => Err(format!(
            "id {kind}/{name} does not exist; cannot merge or replace"
        )),
        [one] => Ok(&mut ra[*one]),
        many => {
            let ids: Vec<String> = many.iter().map(|&i| ra[i].id()).collect();
            Err(format!(
                "found multiple objects [{}] that could accept merge of {kind}/{name}",
                ids.join(" ")
            ))
        }
    }
}

/// `behavior: merge` or `replace` (kustomize's `appendReplaceOrMerge`): the object becomes
/// the newly generated one (its `type`, `immutable`), keeping the existing name and
/// namespace, with the existing labels and annotations under the new ones
/// (`CopyMergeMetaDataFieldsFrom`) and, on a merge, the existing data under the new.
fn merge_generated(
    existing: &mut Resource,
    fresh: Resource,
    opts: &GeneratorOptions,
    keep_data: bool,
) {
    let mut node = fresh.node;
    let old_meta = existing.node.get("metadata").cloned();
    if let Some(meta) = get_mut(&mut node, "metadata") {
        for key in ["labels", "annotations"] {
            let mut merged = string_data(old_meta.as_ref().and_then(|m| m.get(key)));
            merged.extend(string_data(meta.get(key)));
            if !merged.is_empty() {
                set(meta, key, string_map_node(&merged));
            }
        }
        for key in ["name", "namespace"] {
            if let Some(v) = old_meta.as_ref().and_then(|m| m.get(key)) {
                set(meta, key, v.clone());
            }
        }
    }
    for field in ["data", "binaryData"] {
        let mut merged: BTreeMap<String, String> = if keep_data {
            string_data(existing.node.get(field))
        } else {
            BTreeMap::new()
        };
        let new = node.get(field).map(|n| string_data(Some(n)));
        merged.extend(new.clone().unwrap_or_default());
        // kyaml drops a map field set to an empty map (`SetDataMap` on a merge); without
        // a merge the generated object stays as it is (a Secret's `data: {}`).
        if merged.is_empty() && (keep_data || new.is_none()) {
            if let Value::Map(fields) = &mut node.value {
                fields.retain(|e| e.key != field);
            }
        } else {
            set(&mut node, field, string_map_node(&merged));
        }
    }
    // The object stays where it was (kubectl keeps its origin); `take_over` moves it on a
    // replace.
    (node.file, node.start, node.end) =
        (existing.node.file, existing.node.start, existing.node.end);
    if let (Some(m), Some(old)) = (get_mut(&mut node, "metadata"), old_meta) {
        (m.file, m.start, m.end) = (old.file, old.start, old.end);
    }
    existing.node = node;
    if opts.disable_name_suffix_hash == Some(true) {
        existing.needs_hash = false;
    }
}

/// `behavior: replace`: the object now comes from the overlay's generator.
fn take_over(existing: &mut Resource, file: &Path, kind: &str, pos: Pos, kid: FileId) {
    existing.origin = Origin::Generator {
        configured_in: file.to_owned(),
        kind: generator_kind(kind),
        name: None,
    };
    let root = &mut existing.node;
    (root.file, root.start, root.end) = (kid, pos, pos);
    if let Some(m) = get_mut(root, "metadata") {
        (m.file, m.start, m.end) = (kid, pos, pos);
    }
}

/// The generator kind recorded in an origin annotation for a generated `kind`.
pub(super) fn generator_kind(kind: &str) -> &'static str {
    if kind == "Secret" {
        "SecretGenerator"
    } else {
        "ConfigMapGenerator"
    }
}

/// A literal's value with one pair of surrounding quotes removed, as kustomize does.
fn unquote(v: &str) -> &str {
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn merged_options(
    global: Option<&GeneratorOptions>,
    own: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut out = global.cloned().unwrap_or_default();
    if let Some(o) = own {
        for (k, v) in &o.labels {
            out.labels.retain(|(k2, _)| k2 != k);
            out.labels.push((k.clone(), v.clone()));
        }
        for (k, v) in &o.annotations {
            out.annotations.retain(|(k2, _)| k2 != k);
            out.annotations.push((k.clone(), v.clone()));
        }
        if o.disable_name_suffix_hash.is_some() {
            out.disable_name_suffix_hash = o.disable_name_suffix_hash;
        }
        if o.immutable.is_some() {
            out.immutable = o.immutable;
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// kustomize writes long base64 values as lines of 70 characters, each ending in a newline.
fn wrap_base64(s: String) -> String {
    if s.len() <= 70 {
        return s;
    }
    let mut out = String::with_capacity(s.len() + s.len() / 70 + 1);
    for chunk in s.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Generated data as kustomize writes it: `data` (base64 for Secrets) and, for ConfigMaps,
/// `binaryData` for values that are not UTF-8.
fn encode_data(
    kind: &str,
    data: &[(String, Vec<u8>)],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut text = BTreeMap::new();
    let mut binary = BTreeMap::new();
    for (k, v) in data {
        if kind == "Secret" {
            text.insert(k.clone(), wrap_base64(base64(v)));
        } else {
            match std::str::from_utf8(v) {
                Ok(s) => {
                    text.insert(k.clone(), s.to_owned());
                }
                Err(_) => {
                    binary.insert(k.clone(), wrap_base64(base64(v)));
                }
            }
        }
    }
    (text, binary)
}

fn string_map_node(m: &BTreeMap<String, String>) -> Node {
    Node::synthetic(Value::Map(
        m.iter()
            .map(|(k, v)| Entry {
                key: k.clone(),
                key_pos: Pos::default(),
                value: text(v),
            })
            .collect(),
    ))
}

fn generated(
    kind: &str,
    args: &GeneratorArgs,
    data: &[(String, Vec<u8>)],
    opts: &GeneratorOptions,
    source: &Path,
) -> Resource {
    let mut meta = vec![("name", text(&args.name))];
    if let Some(ns) = &args.namespace {
        meta.push(("namespace", text(ns)));
    }
    let pairs = |p: &[(String, String)]| {
        Node::synthetic(Value::Map(
            p.iter()
                .map(|(k, v)| Entry {
                    key: k.clone(),
                    key_pos: Pos::default(),
                    value: text(v),
                })
                .collect(),
        ))
    };
    if !opts.labels.is_empty() {
        meta.push(("labels", pairs(&opts.labels)));
    }
    if !opts.annotations.is_empty() {
        meta.push(("annotations", pairs(&opts.annotations)));
    }
    let mut fields = vec![
        ("apiVersion", text("v1")),
        ("kind", text(kind)),
        ("metadata", map(meta)),
    ];
    let (encoded, binary) = encode_data(kind, data);
    if !binary.is_empty() {
        fields.push(("binaryData", string_map_node(&binary)));
    }
    // kustomize creates a Secret's `data` map up front (`LoadMapIntoSecretData`), so an
    // empty Secret keeps `data: {}`; a ConfigMap's only appears with its first key.
    if !encoded.is_empty() || kind == "Secret" {
        fields.push(("data", string_map_node(&encoded)));
    }
    if kind == "Secret" {
        fields.push((
            "type",
            text(args.secret_type.as_deref().unwrap_or("Opaque")),
        ));
    }
    if opts.immutable == Some(true) {
        fields.push(("immutable", Node::synthetic(Value::Bool(true))));
    }
    Resource {
        node: map(fields),
        source: source.to_owned(),
        org_name: args.name.clone(),
        org_namespace: args.namespace.clone().unwrap_or_default(),
        needs_hash: opts.disable_name_suffix_hash != Some(true),
        prefixes: Vec::new(),
        suffixes: Vec::new(),
        prev_names: Vec::new(),
        prev_ids: Vec::new(),
        ref_vars: Vec::new(),
        transformations: Vec::new(),
        template_origins: Vec::new(),
        removed_fields: Vec::new(),
        origin: Origin::Generator {
            configured_in: source.to_owned(),
            kind: generator_kind(kind),
            name: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        std::fs::write(dir.join(rel), text).expect("write test file");
    }

    #[test]
    fn merge_target_is_found_by_current_or_previous_id() {
        use crate::render::kustomize::resource::test_resources;
        use crate::render::kustomize::transformers::apply_affix;
        let mut ra = test_resources(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: x}\n",
        );
        apply_affix(&mut ra[0], "team-", true);
        for name in ["team-settings", "settings"] {
            let found = merge_target(&mut ra, "ConfigMap", name, "default").expect("found");
            assert_eq!(found.name(), "team-settings");
        }
        assert!(merge_target(&mut ra, "ConfigMap", "other", "").is_err());
        assert!(merge_target(&mut ra, "Secret", "settings", "").is_err());
    }

    fn args(name: &str) -> GeneratorArgs {
        GeneratorArgs {
            name: name.to_owned(),
            ..GeneratorArgs::default()
        }
    }

    fn data(pairs: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect()
    }

    #[test]
    fn multi_line_values_starting_with_a_tab_are_unreadable_to_kustomize() {
        // Each checked against `kubectl kustomize` (v5.5.0) on a configMapGenerator file.
        for bad in [
            "\tfoo\n",
            "\t\n",
            "\tfoo\n\n\n",
            "\t foo\n",
            "\tü\n",
            "\t\tx\ny\n",
        ] {
            assert!(unreadable_literal(bad), "{bad:?}");
        }
        for ok in [
            "\tfoo",
            "\tfoo \n",
            "\tfoo\nbar ",
            "\tfoo\r\nx",
            "\tfoo\n\u{1}",
            "x\n\tfoo\n",
        ] {
            assert!(!unreadable_literal(ok), "{ok:?}");
        }
    }

    #[test]
    fn base64_pads_like_the_standard_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn long_base64_is_wrapped_at_70_characters() {
        let short = "a".repeat(70);
        assert_eq!(wrap_base64(short.clone()), short);
        let long = format!("{}bc", "a".repeat(70));
        assert_eq!(wrap_base64(long), format!("{}\nbc\n", "a".repeat(70)));
    }

    #[test]
    fn config_maps_keep_text_and_move_binary_values_to_binary_data() {
        let d = data(&[("text", b"hello"), ("bin", &[0xff, 0x00])]);
        let (text, binary) = encode_data("ConfigMap", &d);
        assert_eq!(text.get("text").map(String::as_str), Some("hello"));
        assert_eq!(binary.get("bin").map(String::as_str), Some("/wA="));
        let (secret, binary) = encode_data("Secret", &d);
        assert_eq!(secret.get("text").map(String::as_str), Some("aGVsbG8="));
        assert_eq!(secret.get("bin").map(String::as_str), Some("/wA="));
        assert!(binary.is_empty());
    }

    #[test]
    fn literals_lose_one_pair_of_matching_quotes() {
        assert_eq!(unquote("'a b'"), "a b");
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("''"), "");
    }

    #[test]
    fn own_options_override_the_kustomizations() {
        let global = GeneratorOptions {
            labels: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            disable_name_suffix_hash: Some(true),
            ..GeneratorOptions::default()
        };
        let own = GeneratorOptions {
            labels: vec![("a".into(), "3".into())],
            disable_name_suffix_hash: Some(false),
            immutable: Some(true),
            ..GeneratorOptions::default()
        };
        let merged = merged_options(Some(&global), Some(&own));
        assert_eq!(
            merged.labels,
            [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(merged.disable_name_suffix_hash, Some(false));
        assert_eq!(merged.immutable, Some(true));
        assert_eq!(merged_options(None, None).labels, []);
    }

    #[test]
    fn generated_secrets_are_opaque_encoded_and_hashed() {
        let mut a = args("creds");
        a.namespace = Some("ops".into());
        let opts = GeneratorOptions {
            annotations: vec![("note".into(), "x".into())],
            ..GeneratorOptions::default()
        };
        let r = generated(
            "Secret",
            &a,
            &data(&[("pw", b"foo")]),
            &opts,
            Path::new("/repo/kustomization.yaml"),
        );
        assert_eq!(
            (r.kind(), r.name(), r.namespace()),
            ("Secret", "creds", "ops")
        );
        assert_eq!(r.node.str_at(&["data", "pw"]), Some("Zm9v"));
        assert_eq!(r.node.str_at(&["type"]), Some("Opaque"));
        assert_eq!(
            r.node.str_at(&["metadata", "annotations", "note"]),
            Some("x")
        );
        assert!(r.needs_hash);
        assert!(r.node.get("immutable").is_none());
        assert_eq!(
            r.origin,
            Origin::Generator {
                configured_in: PathBuf::from("/repo/kustomization.yaml"),
                kind: "SecretGenerator",
                name: None
            }
        );
        let fixed = GeneratorOptions {
            disable_name_suffix_hash: Some(true),
            immutable: Some(true),
            ..GeneratorOptions::default()
        };
        let cm = generated("ConfigMap", &args("c"), &[], &fixed, Path::new("k.yaml"));
        assert!(!cm.needs_hash);
        assert!(cm.node.get("data").is_none(), "no empty data map");
        assert_eq!(
            cm.node.get("immutable").map(|n| &n.value),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn a_build_reads_literals_files_and_env_files_and_hashes_the_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        write(
            dir,
            "kustomization.yaml",
            "configMapGenerator:\n- name: cfg\n  literals: [A=1]\n- name: more\n  literals: [\"Q='quoted'\"]\n  files: [key=file.txt]\n  envs: [vars.env]\n",
        );
        write(dir, "file.txt", "contents\n");
        write(dir, "vars.env", "# comment\n\nX=1\n  Y = 2\n");
        let out = Renderer::new(dir).render(dir).expect("render");
        // The suffix `kubectl kustomize` prints for `A=1` (see hash.rs).
        assert_eq!(out[0].name(), "cfg-89g4tffbfk");
        let more = &out[1];
        assert_eq!(more.node.str_at(&["data", "Q"]), Some("quoted"));
        assert_eq!(more.node.str_at(&["data", "key"]), Some("contents\n"));
        assert_eq!(more.node.str_at(&["data", "X"]), Some("1"));
        // kustomize keeps the key as written: `Y ` (with its space).
        assert_eq!(more.node.str_at(&["data", "Y "]), Some(" 2"));
    }

    #[test]
    fn repeated_keys_are_errors_and_unknown_behaviors_create() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        write(
            dir,
            "kustomization.yaml",
            "configMapGenerator:\n- name: cfg\n  literals: [A=1, A=2]\n",
        );
        let err = Renderer::new(dir).render(dir).expect_err("repeated key");
        assert!(
            err.message.contains("illegally repeats the key `A`"),
            "{err}"
        );
        write(
            dir,
            "kustomization.yaml",
            "configMapGenerator:\n- name: cfg\n  behavior: upsert\n  literals: [A=1]\n",
        );
        let created = Renderer::new(dir)
            .render(dir)
            .expect("unknown behavior creates");
        assert_eq!(created[0].node.str_at(&["data", "A"]), Some("1"));
    }

    #[test]
    fn overlays_merge_into_or_replace_a_bases_generated_object() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("base")).expect("mkdir");
        std::fs::create_dir_all(root.join("merge")).expect("mkdir");
        std::fs::create_dir_all(root.join("replace")).expect("mkdir");
        write(
            root,
            "base/kustomization.yaml",
            "configMapGenerator:\n- name: cfg\n  literals: [A=1, B=2]\n",
        );
        write(
            root,
            "merge/kustomization.yaml",
            "resources: [../base]\nconfigMapGenerator:\n- name: cfg\n  behavior: merge\n  literals: [B=3]\n  options: {labels: {l: v}}\n",
        );
        write(
            root,
            "replace/kustomization.yaml",
            "resources: [../base]\nconfigMapGenerator:\n- name: cfg\n  behavior: replace\n  literals: [C=4]\n",
        );
        let renderer = Renderer::new(root);
        let merged = renderer.render(&root.join("merge")).expect("merge");
        let data = string_data(merged[0].node.get("data"));
        assert_eq!(data.len(), 2);
        assert_eq!((data["A"].as_str(), data["B"].as_str()), ("1", "3"));
        assert_eq!(
            merged[0].node.str_at(&["metadata", "labels", "l"]),
            Some("v")
        );
        let replaced = renderer.render(&root.join("replace")).expect("replace");
        let data = string_data(replaced[0].node.get("data"));
        assert_eq!(data.keys().collect::<Vec<_>>(), ["C"]);
        let Origin::Generator { configured_in, .. } = &replaced[0].origin else {
            panic!("a generated object");
        };
        assert!(configured_in.ends_with("replace/kustomization.yaml"));
        std::fs::create_dir_all(root.join("missing")).expect("mkdir");
        write(
            root,
            "missing/kustomization.yaml",
            "configMapGenerator:\n- name: cfg\n  behavior: merge\n  literals: [B=3]\n",
        );
        let err = renderer
            .render(&root.join("missing"))
            .expect_err("nothing to merge");
        assert!(
            err.message.contains("id ConfigMap/cfg does not exist"),
            "{err}"
        );
    }
}
