//! kyaml's `openapi:` schema is global to one build: a renderer shared by several roots (as
//! `kgate check` shares one) must not let one root's custom schema leak into another's
//! memoized bases, in either order.

use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: server, image: server}, {name: sidecar, image: sidecar}]
";
const PATCH: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: server, image: nginx}]}}}
";

fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "base/deploy.yaml", DEPLOY);
    write(root, "base/patch.yaml", PATCH);
    write(
        root,
        "base/kustomization.yaml",
        "resources: [deploy.yaml]\npatches: [{path: patch.yaml}]\n",
    );
    // A schema with no Kubernetes types: under it, containers are replaced, not merged.
    write(root, "custom/schema.json", "{\"definitions\": {}}\n");
    write(
        root,
        "custom/kustomization.yaml",
        "openapi: {path: schema.json}\nresources: [../base]\n",
    );
    write(root, "plain/kustomization.yaml", "resources: [../base]\n");
    tmp
}

fn containers(out: &str) -> usize {
    out.matches("image:").count()
}

#[test]
fn a_custom_schema_stays_in_its_own_build() {
    for order in [["custom", "plain"], ["plain", "custom"]] {
        let tmp = repo();
        let renderer = kgate::render::Renderer::new(tmp.path());
        for root in order {
            let dir = tmp.path().join(root);
            let out = renderer.render_to_string(&dir).expect("renders");
            let want = if root == "custom" { 1 } else { 2 };
            assert_eq!(containers(&out), want, "{root} after {order:?}:\n{out}");
        }
    }
}
