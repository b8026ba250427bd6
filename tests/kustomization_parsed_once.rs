//! A kustomization is parsed once per run: discovery keeps the documents it parsed in the
//! file table and the renderer builds from them (`FileTable::keep_documents`), the same
//! build as from a parse of its own; a text discovery could not parse (a repeated key,
//! which kustomize reads as the last value) is parsed by the renderer as kustomize reads it.

use std::path::Path;
use std::sync::Arc;

use kgate::source::FileTable;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn rendered(table: Arc<FileTable>, root: &Path, dir: &str) -> String {
    let renderer = kgate::render::Renderer::new(root).with_sources(table);
    let objects = renderer.render(&root.join(dir)).expect("renders");
    objects
        .iter()
        .map(|r| serde_json::to_string(&r.node.to_json()).expect("json"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_renderer_builds_from_discoverys_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    write(&root, "base/kustomization.yaml", "resources: [cm.yaml]\n");
    write(
        &root,
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n",
    );
    write(
        &root,
        "prod/kustomization.yaml",
        "resources: [../base]\nnamePrefix: prod-\n",
    );
    // A repeated key: an error to discovery's reading, the last value to kustomize's.
    write(
        &root,
        "dup/kustomization.yaml",
        "resources: [../base]\nnamePrefix: a-\nnamePrefix: b-\n",
    );

    let table = Arc::new(FileTable::new(&root, 1 << 20));
    let found = kgate::discover::discover(&root, std::slice::from_ref(&root), &[], &table)
        .expect("discovers");
    assert_eq!(found.kustomizations.len(), 3);
    let kept = |rel: &str| {
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path).expect("read");
        // Taken to look, and kept again for the renderer.
        let docs = table.take_documents(&path, &text);
        if let Some(docs) = &docs {
            table.keep_documents(&path, Arc::from(text.as_str()), docs.clone());
        }
        docs.is_some()
    };
    assert!(kept("base/kustomization.yaml") && kept("prod/kustomization.yaml"));
    assert!(!kept("dup/kustomization.yaml"), "not parsed without error");

    let prod = rendered(table.clone(), &root, "prod");
    let path = root.join("prod/kustomization.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        table.take_documents(&path, &text).is_none(),
        "taken by the renderer"
    );
    // The same build as from the renderer's own parse.
    let fresh = || Arc::new(FileTable::new(&root, 1 << 20));
    assert_eq!(prod, rendered(fresh(), &root, "prod"));
    assert!(prod.contains("prod-c"), "{prod}");
    let dup = rendered(table, &root, "dup");
    assert_eq!(dup, rendered(fresh(), &root, "dup"));
    assert!(dup.contains("\"b-c\""), "the last namePrefix: {dup}");
}
