//! GitOps entry points as render instructions: an Argo CD `Application` with
//! `spec.source.kustomize` options, or a Flux `Kustomization` with `targetNamespace`,
//! `namePrefix`/`nameSuffix`, `images`, `patches`, `commonMetadata` or `postBuild`, deploys
//! something other than its path's plain build. kgate builds what the controller would
//! apply: the controller's options become a kustomization over the path (rendered natively),
//! and Flux's `postBuild` variables are substituted in the result.

pub mod appset;
pub mod helm;
pub mod sources;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

pub use helm::HelmSource;
use sources::{VariableSources, variable_sources};

use crate::source::{FileTable, SourceFile};
use crate::yaml::{self, Node, Pos};

/// One entry point to render as its own root.
#[derive(Debug, Clone)]
pub struct EntryRender {
    /// `Application argocd/web`: the root's name in findings.
    pub id: String,
    /// The manifest declaring it, relative to the scanned root.
    pub file: String,
    pub pos: Pos,
    /// The deployed path, relative to the scanned root.
    pub path: String,
    /// The kustomization the controller's options amount to (JSON is YAML).
    pub kustomization: String,
    /// Flux `postBuild` variables, when any.
    pub substitute: Option<Substitution>,
    /// An Argo CD Helm source: the chart at `path` rendered by Helm (the kustomization is
    /// then unused).
    pub helm: Option<HelmSource>,
    /// Why what the entry point deploys cannot be rendered here (a `render-unavailable`
    /// note at the entry point), such as an ApplicationSet generator kgate does not evaluate.
    pub note: Option<String>,
    /// The file its definition was generated from, relative to the scanned root: the file
    /// of an ApplicationSet git `files` generator whose content made this Application.
    pub generated_from: Option<String>,
}

/// Flux `postBuild`: the variables and where they come from.
#[derive(Debug, Clone, Default)]
pub struct Substitution {
    pub vars: BTreeMap<String, String>,
    /// `substituteFrom` entries not found in the repository (and not optional).
    pub missing: Vec<String>,
}

/// An Argo CD image override (`nginx:1.2`, `nginx=registry/nginx:1.2`, `nginx@sha256:...`)
/// as a kustomize `images:` entry.
fn argo_image(s: &str) -> Value {
    let (name, target) = match s.split_once('=') {
        Some((n, t)) => (n, t),
        None => (s.split(['@']).next().unwrap_or(s), s),
    };
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    let mut entry = json!({"name": name});
    let (without_digest, digest) = match target.split_once('@') {
        Some((t, d)) => (t, Some(d)),
        None => (target, None),
    };
    let (new_name, tag) = match without_digest.rfind(':') {
        Some(i) if !without_digest[i..].contains('/') => {
            (&without_digest[..i], Some(&without_digest[i + 1..]))
        }
        _ => (without_digest, None),
    };
    if new_name != name {
        entry["newName"] = json!(new_name);
    }
    if let Some(t) = tag {
        entry["newTag"] = json!(t);
    }
    if let Some(d) = digest {
        entry["digest"] = json!(d);
    }
    entry
}

/// Entry points of the repository that change what their path deploys, from the Argo CD
/// and Flux documents the graph read (`graph.gitops_documents`); `variable_files` are where
/// Flux's variable sources (ConfigMaps, Secrets) are looked up. The Applications of an
/// `ApplicationSet` are generated (see [`appset`]) and each is an entry point of its own.
pub fn entry_renders(
    root: &Path,
    table: &FileTable,
    variable_files: &[SourceFile],
    gitops_documents: &[(String, Vec<Node>)],
) -> Vec<EntryRender> {
    let mut cx = Context {
        root,
        table,
        variable_files,
        sources: None,
        post_builds: Vec::new(),
    };
    post_builds(&mut cx, gitops_documents);
    let mut out = Vec::new();
    for (rel, docs) in gitops_documents {
        for d in docs {
            let o = d.to_json();
            if o["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("argoproj.io/"))
                && o["kind"] == "ApplicationSet"
            {
                application_set(&mut cx, rel, d, &o, &mut out);
                continue;
            }
            let pos = d.get("spec").map_or(d.start, |s| s.start);
            out.extend(entry_of(&mut cx, rel, d, &o, pos));
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// What reading the entry points needs.
struct Context<'a> {
    root: &'a Path,
    table: &'a FileTable,
    variable_files: &'a [SourceFile],
    /// Flux's variable sources, read the first time one is needed.
    sources: Option<VariableSources>,
    /// The Flux Kustomizations with `postBuild`: the path each deploys and its variables.
    post_builds: Vec<(String, Substitution)>,
}

impl Context<'_> {
    fn sources(&mut self) -> &VariableSources {
        self.sources
            .get_or_insert_with(|| variable_sources(self.table, self.variable_files))
    }
}

/// The paths Flux Kustomizations with `postBuild` deploy, with their variables: a
/// HelmRelease under one is substituted before its values are read.
fn post_builds(cx: &mut Context<'_>, gitops_documents: &[(String, Vec<Node>)]) {
    for (_, docs) in gitops_documents {
        for d in docs {
            let o = d.to_json();
            let flux = o["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("kustomize.toolkit.fluxcd.io/"));
            if !flux || o["kind"] != "Kustomization" || !o["spec"]["postBuild"].is_object() {
                continue;
            }
            let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
            let sub = flux_substitution(&o["spec"]["postBuild"], ns, cx.sources());
            let path = o["spec"]["path"].as_str().unwrap_or(".");
            let path = path.trim_start_matches("./").trim_end_matches('/');
            cx.post_builds.push((path.to_owned(), sub));
        }
    }
}

/// The Applications an ApplicationSet generates, each an entry point; generators kgate does
/// not evaluate are one note when the template deploys a chart.
fn application_set(
    cx: &mut Context<'_>,
    rel: &str,
    d: &Node,
    o: &Value,
    out: &mut Vec<EntryRender>,
) {
    let generated = appset::generate(cx.root, cx.table, d);
    let pos = d.get("spec").map_or(d.start, |s| s.start);
    let mut unresolved = Vec::new();
    for (app, from) in &generated.applications {
        let json = app.to_json();
        // An expression kgate could not fill (a Go template function): said, not guessed.
        if json["spec"].to_string().contains("{{") {
            unresolved.push(json["metadata"]["name"].as_str().unwrap_or("").to_owned());
            continue;
        }
        out.extend(entry_of(cx, rel, app, &json, pos).map(|e| EntryRender {
            generated_from: from.clone(),
            ..e
        }));
    }
    let template = &o["spec"]["template"]["spec"];
    let sources = std::iter::once(&template["source"])
        .chain(template["sources"].as_array().into_iter().flatten());
    let helm = sources.into_iter().any(|s| {
        s["helm"].is_object()
            || s["chart"].is_string()
            || s["path"]
                .as_str()
                .is_some_and(|p| !p.contains("{{") && cx.root.join(p).join("Chart.yaml").is_file())
    });
    let mut notes = Vec::new();
    if !generated.unsupported.is_empty() {
        notes.push(format!(
            "the generator {} depends on what is outside the repository (clusters, SCM providers, pull requests) or combines others, so the Helm Applications it generates were not rendered",
            generated
                .unsupported
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unresolved.is_empty() {
        notes.push(format!(
            "the template expressions of the generated Application(s) {} are not ones kgate fills (`{{{{key}}}}`, `{{{{ .key }}}}`, `{{{{ index .path.segments N }}}}`), so they were not rendered",
            unresolved.join(", ")
        ));
    }
    if helm && !notes.is_empty() {
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
        out.push(EntryRender {
            id: format!(
                "ApplicationSet {}",
                [ns, name].join("/").trim_start_matches('/')
            ),
            file: rel.to_owned(),
            pos,
            path: ".".to_owned(),
            kustomization: String::new(),
            substitute: None,
            helm: None,
            note: Some(notes.join("; ")),
            generated_from: None,
        });
    }
}

/// The entry point one Argo CD or Flux document (`o`, the JSON of `d`, declared in `rel`)
/// amounts to, if it changes what its path deploys.
fn entry_of(cx: &mut Context<'_>, rel: &str, d: &Node, o: &Value, pos: Pos) -> Option<EntryRender> {
    let root = cx.root;
    let api = o["apiVersion"].as_str().unwrap_or("");
    let kind = o["kind"].as_str().unwrap_or("");
    let name = o["metadata"]["name"].as_str().unwrap_or("");
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
    let id = if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    };
    let argo = api.starts_with("argoproj.io/") && kind == "Application";
    let helm = if argo {
        helm::argo_helm(root, o, d, &root.join(rel))
    } else if api.starts_with("helm.toolkit.fluxcd.io/") && kind == "HelmRelease" {
        let (d, o) = post_build(cx, rel, d);
        helm::flux_helm(&o, &d, &root.join(rel), cx.sources())
    } else {
        None
    };
    let (mut k, substitute, path, helm) = match helm {
        Some((h, p)) => {
            let path = if p.is_empty() { rel.to_owned() } else { p };
            (serde_json::Map::new(), None, Some(path), Some(h))
        }
        None if argo => {
            let (k, path) = argo_options(o)?;
            (k, None, path, None)
        }
        None if api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization" => {
            let (k, s, p) = flux_options(o, ns, cx)?;
            (k, s, p, None)
        }
        None => return None,
    };
    let path = path?;
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let path = if path.is_empty() { "." } else { path }.to_owned();
    let resources = if api.starts_with("kustomize.toolkit.fluxcd.io/") {
        flux_resources(root, cx.table, &path)
    } else {
        vec![path.clone()]
    };
    k.insert("resources".to_owned(), json!(resources));
    Some(EntryRender {
        id,
        file: rel.to_owned(),
        pos,
        path,
        kustomization: serde_json::to_string_pretty(&Value::Object(k)).unwrap_or_default(),
        substitute,
        helm,
        note: None,
        generated_from: None,
    })
}

/// Kustomization fields an entry point sets, its `postBuild` substitution (Flux) and the
/// path it deploys.
type EntryOptions = (
    serde_json::Map<String, Value>,
    Option<Substitution>,
    Option<String>,
);

/// An Argo CD `Application`'s `spec.source.kustomize` options as kustomization fields, and
/// its source path; `None` when it sets none.
fn argo_options(o: &Value) -> Option<(serde_json::Map<String, Value>, Option<String>)> {
    let opts = &o["spec"]["source"]["kustomize"];
    if !opts.is_object() {
        return None;
    }
    let mut k = serde_json::Map::new();
    for key in [
        "namePrefix",
        "nameSuffix",
        "namespace",
        "commonLabels",
        "commonAnnotations",
        "patches",
        "replicas",
    ] {
        if !opts[key].is_null() {
            k.insert(key.to_owned(), opts[key].clone());
        }
    }
    if let Some(images) = opts["images"].as_array() {
        let images: Vec<Value> = images
            .iter()
            .filter_map(|i| i.as_str())
            .map(argo_image)
            .collect();
        k.insert("images".to_owned(), Value::Array(images));
    }
    Some((k, o["spec"]["source"]["path"].as_str().map(str::to_owned)))
}

/// A HelmRelease (`d`, in `rel`) as the Flux Kustomization whose path holds it applies it:
/// its `postBuild` variables substituted (undefined ones without a default are left as
/// written), and its JSON.
fn post_build(cx: &Context<'_>, rel: &str, d: &Node) -> (Node, Value) {
    let mut d = d.clone();
    let under = |path: &str| path == "." || rel.starts_with(&format!("{path}/"));
    if let Some((_, sub)) = cx.post_builds.iter().find(|(path, _)| under(path)) {
        let disabled = d.str_at(&[
            "metadata",
            "annotations",
            "kustomize.toolkit.fluxcd.io/substitute",
        ]) == Some("disabled");
        if !disabled {
            substitute_node(&mut d, &sub.vars);
        }
    }
    let o = d.to_json();
    (d, o)
}

/// A Flux `Kustomization`'s options as kustomization fields, its `postBuild` substitution
/// and its path; `None` when it changes nothing. `sources` are looked up (and read from
/// `variable_files` the first time) only for a `postBuild`.
fn flux_options(o: &Value, ns: &str, cx: &mut Context<'_>) -> Option<EntryOptions> {
    let spec = &o["spec"];
    let mut k = serde_json::Map::new();
    if let Some(t) = spec["targetNamespace"].as_str() {
        k.insert("namespace".to_owned(), json!(t));
    }
    for key in ["namePrefix", "nameSuffix", "images", "patches"] {
        if !spec[key].is_null() {
            k.insert(key.to_owned(), spec[key].clone());
        }
    }
    if let Some(labels) = spec["commonMetadata"]["labels"].as_object() {
        k.insert("labels".to_owned(), json!([{"pairs": labels}]));
    }
    if let Some(a) = spec["commonMetadata"]["annotations"].as_object() {
        k.insert("commonAnnotations".to_owned(), Value::Object(a.clone()));
    }
    let post = &spec["postBuild"];
    let substitute = post
        .is_object()
        .then(|| flux_substitution(post, ns, cx.sources()));
    if k.is_empty() && substitute.is_none() {
        return None;
    }
    Some((k, substitute, spec["path"].as_str().map(str::to_owned)))
}

/// The variables a Flux `postBuild` (in namespace `ns`) substitutes, and the variable
/// sources it names that are missing.
fn flux_substitution(post: &Value, ns: &str, sources: &VariableSources) -> Substitution {
    let mut s = Substitution::default();
    for from in post["substituteFrom"].as_array().into_iter().flatten() {
        let fkind = from["kind"].as_str().unwrap_or("ConfigMap").to_owned();
        let fname = from["name"].as_str().unwrap_or("").to_owned();
        let found = sources
            .get(&(fkind.clone(), ns.to_owned(), fname.clone()))
            .or_else(|| sources.get(&(fkind.clone(), String::new(), fname.clone())));
        match found {
            Some(src) => s.vars.extend(src.vars.clone()),
            None if from["optional"] == true => {}
            None => s.missing.push(format!("{fkind} {fname}")),
        }
    }
    // `substitute` takes precedence over `substituteFrom`.
    for (key, v) in post["substitute"].as_object().into_iter().flatten() {
        s.vars.insert(
            key.clone(),
            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
        );
    }
    s
}

/// What Flux builds for `path`: the directory itself when it holds a kustomization;
/// otherwise, as kustomize-controller generates one, every YAML manifest below it, and the
/// subdirectories that hold a kustomization (which are built as such). Listed in `table`'s
/// file set (REF's, for `kgate diff --since REF` in place).
fn flux_resources(root: &Path, table: &FileTable, path: &str) -> Vec<String> {
    let dir = root.join(path);
    let has_kustomization = |d: &Path| {
        crate::model::kinds::KUSTOMIZATION_FILE_NAMES
            .iter()
            .any(|n| table.is_file(&d.join(n)))
    };
    if !table.is_dir(&dir) || has_kustomization(&dir) {
        return vec![path.to_owned()];
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for (p, is_dir) in table.list_dir(&d) {
            // Hidden files (`.sops.yaml`) are not manifests.
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let Ok(rel) = p.strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if is_dir {
                if has_kustomization(&p) {
                    out.push(rel);
                } else {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(rel);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        vec![path.to_owned()]
    } else {
        out
    }
}

/// A string with Flux's variables replaced: `${VAR}`, `${VAR:=default}`, `${VAR:-default}`;
/// `$${VAR}` is a literal `${VAR}`. `Err` names the first undefined variable without a
/// default.
pub fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let Some(close) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let inner = &rest[i + 2..i + close];
        let (name, default) = match inner.split_once(":=").or_else(|| inner.split_once(":-")) {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (vars.get(name), default) {
            (Some(v), _) if !v.is_empty() || default.is_none() => out.push_str(v),
            (_, Some(d)) => out.push_str(d),
            (None, None) => return Err(name.to_owned()),
            (Some(v), None) => out.push_str(v),
        }
        rest = &rest[i + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Substitutes in every string of `node`; returns the undefined variables with where they
/// are used.
pub fn substitute_node(node: &mut Node, vars: &BTreeMap<String, String>) -> Vec<(String, Node)> {
    let mut undefined = Vec::new();
    walk(node, vars, &mut undefined);
    undefined
}

fn walk(node: &mut Node, vars: &BTreeMap<String, String>, undefined: &mut Vec<(String, Node)>) {
    match &mut node.value {
        yaml::Value::Map(entries) => {
            for e in entries {
                walk(&mut e.value, vars, undefined);
            }
        }
        yaml::Value::Seq(items) => {
            for i in items {
                walk(i, vars, undefined);
            }
        }
        yaml::Value::String(s) if s.contains("${") => {
            let whole = s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
            match substitute(s, vars) {
                // Flux substitutes the YAML text before it is parsed: `replicas: ${N}`
                // becomes a number.
                Ok(v) if whole => node.value = yaml::resolve_plain_scalar(&v),
                Ok(v) => *s = v,
                Err(name) => undefined.push((name, node.clone())),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_variables() {
        let vars: BTreeMap<String, String> = [
            ("CLUSTER".to_owned(), "eu1".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ]
        .into();
        assert_eq!(substitute("c-${CLUSTER}", &vars).unwrap(), "c-eu1");
        assert_eq!(substitute("${REGION:=west}", &vars).unwrap(), "west");
        assert_eq!(substitute("${EMPTY:-x}", &vars).unwrap(), "x");
        assert_eq!(substitute("$${CLUSTER}", &vars).unwrap(), "${CLUSTER}");
        assert_eq!(substitute("${NOPE}-a", &vars).unwrap_err(), "NOPE");
    }

    #[test]
    fn argo_images() {
        assert_eq!(
            argo_image("nginx:1.2"),
            json!({"name": "nginx", "newTag": "1.2"})
        );
        assert_eq!(
            argo_image("nginx=registry.example.com/nginx:1.3"),
            json!({"name": "nginx", "newName": "registry.example.com/nginx", "newTag": "1.3"})
        );
        assert_eq!(
            argo_image("nginx@sha256:ab"),
            json!({"name": "nginx", "digest": "sha256:ab"})
        );
    }
}
