//! `kgate render --provenance` on kustomize features whose values come from other places
//! than the resource files: `configurations:` field specs of custom resources, a
//! `kind: Component` built as the root, and built-in plugin configs under `transformers:` and
//! `generators:` (files and inline text). Every value must name the file and line that set it.

use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/kustomize")
        .join(name)
        .join("input")
}

fn provenance(name: &str) -> String {
    let input = case(name);
    kgate::render::Renderer::new(&input)
        .render_with_provenance(&input, &input)
        .expect("renders")
}

/// The line of `text` whose content (comment stripped) is exactly `value_line`, and the
/// origin its comment names, among the lines after the first one containing `after`.
fn origin_of(out: &str, after: &str, value_line: &str) -> String {
    let start = out
        .find(after)
        .unwrap_or_else(|| panic!("{after} in\n{out}"));
    out[start..]
        .lines()
        .find_map(|l| {
            let (code, origin) = l.split_once("  # ")?;
            (code.trim() == value_line).then(|| origin.to_owned())
        })
        .unwrap_or_else(|| panic!("`{value_line}` after `{after}` in\n{out}"))
}

#[test]
fn configured_field_specs_point_at_the_kustomization_entry() {
    let out = provenance("configurations_crd_field_specs");
    // Written by commonLabels / commonAnnotations / images (at the `newTag` that set it) /
    // replicas through the
    // configuration's field specs for the App custom resource.
    assert_eq!(
        origin_of(&out, "matchLabels", "team: web"),
        "kustomization.yaml:3"
    );
    assert_eq!(
        origin_of(&out, "podTemplate", "owner: platform"),
        "kustomization.yaml:5"
    );
    assert_eq!(
        origin_of(&out, "spec:", "image: registry.example.com/web:v2"),
        "kustomization.yaml:9"
    );
    assert_eq!(origin_of(&out, "spec:", "size: 4"), "kustomization.yaml:10");
    // What the configurations did not touch still comes from the resource file.
    assert_eq!(
        origin_of(&out, "sidecars", "- image: busybox"),
        "app.yaml:10"
    );
    // A var substituted through a configured varReference keeps the line it was written on.
    assert_eq!(
        origin_of(&out, "args", "- --host=web.example.com"),
        "app.yaml:11"
    );
}

#[test]
fn name_references_of_custom_resources_keep_their_lines() {
    let out = provenance("configurations_crd_name_reference");
    assert_eq!(
        origin_of(&out, "kind: Certificate", "name: team-selfsigned"),
        "certificate.yaml:9"
    );
    assert_eq!(
        origin_of(&out, "kind: Certificate", "secretName: team-tls"),
        "certificate.yaml:11"
    );
    assert_eq!(
        origin_of(&out, "kind: Certificate", "namespace: apps"),
        "kustomization.yaml:2"
    );
}

#[test]
fn a_component_built_alone_attributes_like_a_kustomization() {
    let out = provenance("component_rendered_alone");
    assert_eq!(
        origin_of(&out, "kind: Deployment", "name: c-web"),
        "kustomization.yaml:5"
    );
    assert_eq!(
        origin_of(&out, "kind: Deployment", "team: web"),
        "kustomization.yaml:6"
    );
    assert_eq!(
        origin_of(&out, "kind: Deployment", "image: nginx:1.27"),
        "kustomization.yaml:13"
    );
    assert_eq!(
        origin_of(&out, "kind: Service", "- port: 80"),
        "service.yaml:9"
    );
    assert_eq!(
        origin_of(&out, "data:", "MODE: fast"),
        "kustomization.yaml:9"
    );
}

#[test]
fn plugin_configs_attribute_to_the_config_file_or_inline_text() {
    let out = provenance("build_metadata_transformer_annotations");
    // A LabelTransformer config file, and an inline AnnotationsTransformer config whose
    // text starts on line 27 of the kustomization.
    assert_eq!(
        origin_of(&out, "kind: Deployment", "tier: web"),
        "labels.yaml:1"
    );
    assert_eq!(
        origin_of(&out, "kind: Deployment", "inline: \"yes\""),
        "kustomization.yaml:27"
    );
    let out = provenance("plugin_configs_inline_first_without_generator_options");
    // Data of an inline generator config, at the config's first line in the kustomization
    // (as a `configMapGenerator` entry's data is at the entry); a name last set by a config
    // file's prefix.
    assert_eq!(
        origin_of(&out, "data:", "B: \"2\""),
        "kustomization.yaml:11"
    );
    assert_eq!(
        origin_of(&out, "A: \"1\"", "name: a-b-own"),
        "prefix-a.yaml:1"
    );
    let out = provenance("transformers_replacement_transformer_config");
    // Copied by a ReplacementTransformer config from a local-config source.
    assert_eq!(
        origin_of(&out, "kind: Deployment", "- image: nginx:1.27"),
        "values.yaml:8"
    );
}
