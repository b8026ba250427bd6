//! Findings about the repository as a whole: what the walk could not read, entry points
//! that deploy missing paths, repository-scope (structure) rules, and the definitions
//! (CustomResourceDefinitions, Gatekeeper templates) the repository brings with it.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{Config, ConfigError};
use crate::discover::Discovery;
use crate::model::rules::{self, RuleInfo};
use crate::model::{Affected, Finding, Location, Severity};
use crate::policy::gatekeeper::GatekeeperObject;
use crate::source::FileTable;
use crate::yaml::Pos;

/// What the repository-scope rules are evaluated on.
pub fn repo_scope_input(
    graph: &crate::discover::graph::RepoGraph,
    config: &Config,
    context: &crate::policy::context::ContextSettings,
) -> serde_json::Value {
    let app_globs: Vec<String> = config.layout.apps.iter().map(|a| a.value.clone()).collect();
    super::repo_input::repo_input(graph, &context.environments, &app_globs)
}

/// The repository-scope rules' results on `input` (see [`repo_findings`]).
pub fn repo_scope_results(
    policies: &crate::policy::PolicySet,
    input: &serde_json::Value,
    context: &crate::policy::context::ContextSettings,
    not_run: &[String],
) -> Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>> {
    let enabled = |id: &str| !not_run.iter().any(|d| d == id);
    policies
        .evaluator()
        .evaluate_repo(input, &context.for_root(None), enabled)
}

/// The key of the repository-scope rules' results: what their input is made of (the graph's
/// nodes and edges, the environments, the apps' patterns: see [`repo_scope_input`]), the
/// context, the rules not run and the policies. Hashing those costs a tenth of building the
/// input (a JSON value of the whole graph, about 15 ms for 800 roots), which results taken
/// from the render cache, or from the other side of `kgate diff --since`, never need.
pub fn repo_results_key(
    policies: &crate::policy::PolicySet,
    graph: &crate::discover::graph::RepoGraph,
    config: &Config,
    context: &crate::policy::context::ContextSettings,
    not_run: &[String],
) -> [u8; 32] {
    let app_globs: Vec<&str> = config
        .layout
        .apps
        .iter()
        .map(|a| a.value.as_str())
        .collect();
    let mut hasher = blake3::Hasher::new();
    hasher.update(&policies.fingerprint());
    let mut key = KeyBytes::new(&mut hasher);
    // The graph in a binary form (JSON cost a one-app `--changed-since` 3% of its
    // instructions, most of it escaping ~1 MB of paths that need none).
    key.graph(graph);
    // The rest is small, and JSON delimits it; a value that cannot be written leaves a key
    // no run repeats.
    let rest = (
        &context.environments,
        &app_globs,
        &context.for_root(None),
        not_run,
    );
    match serde_json::to_vec(&rest) {
        Ok(json) => key.bytes(&json),
        Err(_) => key.bytes(&std::process::id().to_le_bytes()),
    }
    key.flush();
    *hasher.finalize().as_bytes()
}

/// What [`repo_results_key`] hashes, written unambiguously: every string and list preceded
/// by its length, every optional field by whether it is there, every enum by its index.
/// Buffered: the hasher is fastest fed large slices.
struct KeyBytes<'a> {
    hasher: &'a mut blake3::Hasher,
    buf: Vec<u8>,
}

impl<'a> KeyBytes<'a> {
    const FLUSH_AT: usize = 1 << 16;

    fn new(hasher: &'a mut blake3::Hasher) -> Self {
        KeyBytes {
            hasher,
            buf: Vec::with_capacity(Self::FLUSH_AT + 1024),
        }
    }

    fn flush(&mut self) {
        self.hasher.update(&self.buf);
        self.buf.clear();
    }

    fn len(&mut self, n: usize) {
        self.buf.extend_from_slice(&(n as u64).to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
        if self.buf.len() >= Self::FLUSH_AT {
            self.flush();
        }
    }

    fn optional(&mut self, s: Option<&str>) {
        match s {
            None => self.buf.push(0),
            Some(s) => {
                self.buf.push(1);
                self.bytes(s.as_bytes());
            }
        }
    }

    fn graph(&mut self, graph: &crate::discover::graph::RepoGraph) {
        self.len(graph.nodes.len());
        // Destructured, so that a field added to a node or an edge cannot be left out.
        for crate::discover::graph::GraphNode {
            id,
            kind,
            file,
            environment,
            cluster,
            exists,
        } in &graph.nodes
        {
            self.buf.push(*kind as u8);
            self.buf.push(u8::from(*exists));
            self.optional(file.as_deref());
            self.optional(environment.as_deref());
            self.optional(cluster.as_deref());
            self.bytes(id.as_bytes());
        }
        self.len(graph.edges.len());
        for crate::discover::graph::Edge {
            from,
            to,
            kind,
            file,
            line,
            column,
        } in &graph.edges
        {
            self.buf.push(*kind as u8);
            self.buf.extend_from_slice(&line.to_le_bytes());
            self.buf.extend_from_slice(&column.to_le_bytes());
            self.bytes(from.as_bytes());
            self.bytes(to.as_bytes());
            self.bytes(file.as_bytes());
        }
    }
}

/// [`repo_scope_results`] from the render cache when a run before stored them under `key`
/// ([`repo_results_key`]); else evaluated on `input()` (and stored when no rule failed: a
/// failure may be a time limit, which another run may not hit).
pub fn stored_repo_results(
    store: Option<&crate::render::RenderStore>,
    policies: &crate::policy::PolicySet,
    key: &[u8; 32],
    input: impl FnOnce() -> serde_json::Value,
    context: &crate::policy::context::ContextSettings,
    not_run: &[String],
) -> Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>> {
    let compute = || repo_scope_results(policies, &input(), context, not_run);
    let Some(store) = store else {
        return compute();
    };
    let stored = store
        .get("repository-rules", key)
        .and_then(|bytes| postcard::from_bytes::<Vec<crate::policy::RepoViolation>>(&bytes).ok());
    if let Some(violations) = stored {
        return violations.into_iter().map(Ok).collect();
    }
    let results = compute();
    let violations: Option<Vec<&crate::policy::RepoViolation>> =
        results.iter().map(|r| r.as_ref().ok()).collect();
    if let Some(bytes) = violations.and_then(|v| postcard::to_stdvec(&v).ok()) {
        store.put("repository-rules", key, &bytes);
    }
    results
}

/// Findings of the repository-scope rules. With `--changed-since`, only those about a changed
/// file or a directory holding one (a structure problem elsewhere is not this change's).
pub fn repo_findings(
    results: Vec<Result<crate::policy::RepoViolation, crate::policy::EvalError>>,
    rules: &std::collections::BTreeMap<String, RuleInfo>,
    affected: Option<&Affected>,
) -> Vec<Finding> {
    let relevant = |file: &str| {
        affected.is_none_or(|a| {
            a.everything.is_some()
                || a.changed
                    .iter()
                    .any(|c| crate::discover::graph::at_or_under(c, file))
        })
    };
    results
        .into_iter()
        .filter_map(|r| match r {
            Ok(v) => {
                if !relevant(&v.file) {
                    return None;
                }
                let info = rules.get(&v.rule);
                let pos = Pos {
                    line: v.line.unwrap_or(1).max(1),
                    column: 1,
                };
                Some(Finding {
                    hide_source: false,
                    severity: info.map_or(Severity::Error, |i| i.severity),
                    help: info.map(|i| i.remediation.clone()).unwrap_or_default(),
                    rule: v.rule,
                    message: v.message,
                    location: Location::new(v.file, pos),
                    object: None,
                    pointer: None,
                    roots: Vec::new(),
                })
            }
            Err(e) => Some(Finding {
                hide_source: false,
                rule: rules::POLICY_ERROR.to_owned(),
                severity: Severity::Error,
                message: format!(
                    "repository rule `{}` could not be evaluated: {}",
                    e.rule, e.message
                ),
                help: "Fix the policy; the repository layout was not fully checked.".to_owned(),
                location: Location::new(
                    rules
                        .get(&e.rule)
                        .map_or_else(|| e.rule.clone(), |i| i.source.clone()),
                    Pos { line: 1, column: 1 },
                ),
                object: None,
                pointer: None,
                roots: Vec::new(),
            }),
        })
        .collect()
}

/// `dangling-reference` findings for entry points deploying missing paths (with
/// `--changed-since`, only those declared in changed files).
pub fn dangling_findings(
    graph: &crate::discover::graph::RepoGraph,
    affected: Option<&Affected>,
) -> Vec<Finding> {
    graph
        .dangling()
        .into_iter()
        .filter(|d| {
            affected.is_none_or(|a| a.everything.is_some() || a.changed.contains(&d.edge.file))
        })
        .map(|d| Finding {
            hide_source: false,
            rule: rules::DANGLING_REFERENCE.to_owned(),
            severity: Severity::Error,
            message: d.what,
            help: "Point the entry point at the directory that exists, or remove it.".to_owned(),
            location: Location::new(
                d.edge.file.clone(),
                Pos {
                    line: d.edge.line,
                    column: d.edge.column,
                },
            ),
            object: None,
            pointer: None,
            roots: Vec::new(),
        })
        .collect()
}

pub fn validate_rule_ids(config: &Config, rules: &[RuleInfo]) -> Result<(), ConfigError> {
    let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for id in &config.rules.disable {
        if !known.contains(&id.value.as_str()) {
            return Err(config.unknown_rule_error(id, &known));
        }
    }
    for (id, globs) in &config.rules.disable_in {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: globs.first().map(|g| g.pos).unwrap_or_default(),
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    for (id, p) in &config.rules.params {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: p.pos,
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    for (id, sev) in &config.rules.severity {
        if !known.contains(&id.as_str()) {
            let spanned = crate::config::Spanned {
                value: id.clone(),
                pos: sev.pos,
            };
            return Err(config.unknown_rule_error(&spanned, &known));
        }
    }
    Ok(())
}

pub fn discovery_findings(d: &Discovery) -> Vec<Finding> {
    let start = Pos { line: 1, column: 1 };
    let out: Vec<Finding> = d
        .problems
        .iter()
        .map(|p| Finding {
            hide_source: false,
            rule: rules::UNREADABLE_FILE.to_owned(),
            severity: Severity::Error,
            message: p.message.clone(),
            help: "Make the path readable inside the repository, or exclude it with `exclude:` in .kgate.yaml.".to_owned(),
            location: Location::new(p.rel.clone(), start),
            object: None,
            pointer: None,
            roots: Vec::new(),
        })
        .collect();
    // Kustomization files that do not parse, and charts, are reported by rendering.
    out
}

/// Every CustomResourceDefinition in the repository's manifests and in the configured
/// schema directories, and every Gatekeeper ConstraintTemplate and Constraint (with its
/// path relative to `root`).
pub fn repo_definitions(
    discovery: &Discovery,
    schema_dirs: &[PathBuf],
    sources: &FileTable,
    root: &Path,
) -> (Vec<serde_json::Value>, Vec<GatekeeperObject>) {
    // Those a narrowed check leaves out too: a custom resource or a constraint's objects are
    // checked against the definitions of the whole repository.
    // A plain one (known by its hash to hold neither) is not read.
    let mut files: Vec<PathBuf> = (discovery.manifests.iter())
        .chain(&discovery.narrowed_out)
        .filter(|m| !discovery.plain.contains(&m.abs))
        .map(|m| m.abs.clone())
        .collect();
    for dir in schema_dirs {
        // A symlink whose target leaves the schema directory is not read (the directory
        // itself is confined to the repository when the settings are resolved).
        let real_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        for entry in ignore::WalkBuilder::new(dir).build().flatten() {
            let p = entry.path();
            let inside = std::fs::canonicalize(p).is_ok_and(|r| r.starts_with(&real_dir));
            if inside
                && p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                files.push(p.to_path_buf());
            }
        }
    }
    let found: Vec<(bool, GatekeeperObject)> = files
        .par_iter()
        .flat_map_iter(|path| {
            // A file over the size limit is reported where it is loaded (`file-too-large`).
            let Ok(text) = sources.text(path) else {
                return Vec::new();
            };
            if !may_hold_definitions(&text) {
                return Vec::new();
            }
            let rel = crate::source::relative(root, path);
            let (docs, _) = crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
            docs.into_iter()
                .filter_map(|d| definition(&rel, &d.root))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut crds = Vec::new();
    let mut gatekeeper = Vec::new();
    for (is_crd, o) in found {
        if is_crd {
            crds.push(o.object);
        } else {
            gatekeeper.push(o);
        }
    }
    (crds, gatekeeper)
}

/// Whether a file's `text` may hold a definition [`repo_definitions`] reads.
fn may_hold_definitions(text: &str) -> bool {
    text.contains("CustomResourceDefinition") || text.contains("gatekeeper.sh/")
}

/// Whether [`repo_definitions`] may differ between two checks whose files differ in `paths`
/// only (absolute; `ours` and `theirs` serve each check's contents, a path absent from one
/// failing there or hidden by it, and not asked then, as a read would count as one that
/// needs the other revision's tree): a path under a schema directory, or whose text on
/// either side may hold a definition. A path neither side reads as a file (a directory) may
/// hold anything.
pub fn definitions_may_differ<'p>(
    paths: impl IntoIterator<Item = &'p PathBuf>,
    ours: &FileTable,
    theirs: &FileTable,
    schema_dirs: &[PathBuf],
) -> bool {
    let text = |table: &FileTable, path: &Path| {
        if table.is_hidden(path) {
            return Err(());
        }
        table.text(path).map_err(|_| ())
    };
    paths.into_iter().any(|path| {
        let texts = [text(ours, path), text(theirs, path)];
        schema_dirs.iter().any(|d| path.starts_with(d))
            || texts.iter().all(Result::is_err)
            || (texts.iter().flatten()).any(|t| may_hold_definitions(t))
    })
}

/// A CustomResourceDefinition (`true`) or a Gatekeeper template or constraint (`false`).
fn definition(rel: &str, node: &crate::yaml::Node) -> Option<(bool, GatekeeperObject)> {
    let object = node.to_json();
    let kind = object.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let api = object
        .get("apiVersion")
        .and_then(|k| k.as_str())
        .unwrap_or("");
    let is_crd = kind == "CustomResourceDefinition";
    if !is_crd
        && !api.starts_with("templates.gatekeeper.sh/")
        && !api.starts_with("constraints.gatekeeper.sh/")
    {
        return None;
    }
    Some((
        is_crd,
        GatekeeperObject {
            path: rel.to_owned(),
            line: node.start.line,
            rego_line: rego_node(node).map(|n| n.start.line),
            object,
        },
    ))
}

/// The node of a ConstraintTemplate's Rego: `spec.targets[0].rego`, or the `source.rego` of
/// its `code` entry whose engine is Rego.
fn rego_node(node: &crate::yaml::Node) -> Option<&crate::yaml::Node> {
    use crate::yaml::Value;
    let Value::Seq(targets) = &node.get("spec")?.get("targets")?.value else {
        return None;
    };
    let target = targets.first()?;
    if let Some(rego) = target.get("rego") {
        return Some(rego);
    }
    let Value::Seq(code) = &target.get("code")?.value else {
        return None;
    };
    code.iter()
        .find(|c| c.str_at(&["engine"]) == Some("Rego"))?
        .get("source")?
        .get("rego")
}

/// `gatekeeper-invalid` findings: the repository's templates kgate cannot compile and its
/// constraints without a template (with `--changed-since`, only those in changed files).
pub fn gatekeeper_findings(
    problems: Vec<crate::policy::gatekeeper::LoadProblem>,
    affected: Option<&Affected>,
) -> Vec<Finding> {
    problems
        .into_iter()
        .filter(|p| affected.is_none_or(|a| a.everything.is_some() || a.changed.contains(&p.path)))
        .map(|p| Finding {
            hide_source: false,
            rule: rules::GATEKEEPER_INVALID.to_owned(),
            severity: p.severity,
            help: if p.severity == Severity::Error {
                "Rewrite the Rego so that OPA and kgate's engine (regorus) both compile it, or exclude the file; the other templates and all objects were still checked."
            } else {
                "Nothing to fix: Gatekeeper evaluates these constraints at admission; the other templates and all objects were still checked."
            }
            .to_owned(),
            message: p.message,
            location: Location::new(
                p.path,
                Pos {
                    line: p.line.max(1),
                    column: 1,
                },
            ),
            object: None,
            pointer: None,
            roots: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::graph::{GraphNode, NodeKind, RepoGraph};
    use crate::policy::context::ContextSettings;

    /// Two checks' definitions may differ when a differing file holds one on either side or
    /// lies under a schema directory, or is no file; a path one side hides is absent there,
    /// and not asked for (a hidden read sends `kgate diff --since` to REF's export).
    #[test]
    fn definitions_may_differ_when_a_differing_file_may_hold_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n";
        for (rel, text) in [
            ("a.yaml", plain),
            ("schemas/s.json", "{}"),
            ("new.yaml", plain),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let theirs = FileTable::new(root, 1 << 20);
        let ours = |at_ref: &str| {
            let table = FileTable::new(root, 1 << 20).hiding([root.join("new.yaml")]);
            table.preload(
                &root.join("a.yaml"),
                std::sync::Arc::from(at_ref.as_bytes()),
            );
            table
        };
        let schemas = [root.join("schemas")];
        let differ = |ours: &FileTable, rel: &str| {
            let paths = [root.join(rel)];
            definitions_may_differ(&paths, ours, &theirs, &schemas)
        };
        let edited = ours("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n");
        assert!(!differ(&edited, "a.yaml"));
        assert!(differ(&ours(crd), "a.yaml"), "a CRD at REF");
        assert!(differ(&edited, "schemas/s.json"));
        assert!(differ(&edited, "schemas"), "a directory");
        assert!(
            !differ(&edited, "new.yaml"),
            "added: plain in the working tree"
        );
        assert!(edited.hidden_reads().is_empty());
    }

    #[test]
    fn the_repository_rules_key_follows_what_their_input_is_made_of() {
        let policies = crate::policy::PolicySet::load(&crate::policy::builtin_sources())
            .expect("the built-in policies load");
        let config = Config::default();
        let context = ContextSettings::from_config(&config);
        let node = |id: &str| GraphNode {
            id: id.to_owned(),
            kind: NodeKind::Root,
            file: Some(format!("{id}/kustomization.yaml")),
            environment: None,
            cluster: None,
            exists: true,
        };
        let graph = RepoGraph {
            nodes: vec![node("apps/a/base"), node("apps/a/overlays/prod")],
            ..RepoGraph::default()
        };
        let key = |g: &RepoGraph, c: &Config, ctx: &ContextSettings, not_run: &[String]| {
            repo_results_key(&policies, g, c, ctx, not_run)
        };
        let first = key(&graph, &config, &context, &[]);
        assert_eq!(first, key(&graph.clone(), &config, &context, &[]));

        // Each part the input is made of, and what the rules are run with, moves the key.
        let mut other = graph.clone();
        other.nodes[1].environment = Some("prod".to_owned());
        assert_ne!(first, key(&other, &config, &context, &[]));
        let mut moved = graph.clone();
        moved.nodes[1].file = None;
        moved.nodes[1].environment = Some("apps/a/overlays/prod/kustomization.yaml".to_owned());
        assert_ne!(first, key(&moved, &config, &context, &[]));
        let mut envs = context.clone();
        envs.environments.push("qa".to_owned());
        assert_ne!(first, key(&graph, &config, &envs, &[]));
        let mut apps = Config::default();
        apps.layout.apps[0].value = "services/*".to_owned();
        assert_ne!(first, key(&graph, &apps, &context, &[]));
        assert_ne!(
            first,
            key(
                &graph,
                &config,
                &context,
                &["missing-environment-overlay".to_owned()]
            )
        );
        let mut gone = graph.clone();
        gone.nodes[1].exists = false;
        assert_ne!(first, key(&gone, &config, &context, &[]));
        let mut component = graph.clone();
        component.nodes[1].kind = NodeKind::Component;
        assert_ne!(first, key(&component, &config, &context, &[]));
        let edge = |line: u32| crate::discover::graph::Edge {
            from: "apps/a/overlays/prod".to_owned(),
            to: "apps/a/base".to_owned(),
            kind: crate::discover::graph::EdgeKind::Resource,
            file: "apps/a/overlays/prod/kustomization.yaml".to_owned(),
            line,
            column: 3,
        };
        let mut used = graph.clone();
        used.edges.push(edge(2));
        let with_edge = key(&used, &config, &context, &[]);
        assert_ne!(first, with_edge);
        used.edges[0] = edge(4);
        assert_ne!(with_edge, key(&used, &config, &context, &[]));
        used.edges[0].kind = crate::discover::graph::EdgeKind::Component;
        assert_ne!(with_edge, key(&used, &config, &context, &[]));
        let mut params = context.clone();
        params.params.insert("x".to_owned(), serde_json::json!(1));
        assert_ne!(first, key(&graph, &config, &params, &[]));
    }
}
