//! The repository as its users see it: kustomization roots, the bases and Components they
//! use, Helm charts, and the GitOps entry points (Argo CD `Application`/`ApplicationSet`,
//! Flux `Kustomization`/`HelmRelease`) that point at paths. Edges are file-level (an overlay
//! uses a base directory, a patch file, an env file...), so the reverse graph answers "which
//! roots can a change to this file affect" without rendering anything.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::discover::kustomization::{RefKind, normalize, references};
use crate::discover::{Discovery, KUSTOMIZATION_FILE_NAMES, SourceFile, relative};
use crate::source::FileTable;
use crate::yaml::{self, LoadLimits, Node, Pos};

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A kustomization directory that is rendered on its own (overlays, bases, clusters).
    Root,
    /// A `kind: Component` kustomization.
    Component,
    /// A directory with `Chart.yaml`.
    Chart,
    /// A file a kustomization refers to (a resource, patch or generator input).
    File,
    /// A directory referred to that holds no kustomization (a missing path, or a plain
    /// manifest directory an entry point deploys).
    Directory,
    /// An Argo CD or Flux object that deploys a path.
    EntryPoint,
}

/// One node. `id` is the path relative to the scanned root for files and directories, and
/// `Kind namespace/name` for entry points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub kind: NodeKind,
    /// The file that defines the node (the kustomization, `Chart.yaml`, or the manifest
    /// holding the entry point).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Whether the path exists (always true for entry points).
    pub exists: bool,
}

/// How a node uses another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    Resource,
    Component,
    Patch,
    Generator,
    Config,
    /// An entry point deploys a path.
    Deploys,
    /// Flux `dependsOn`.
    DependsOn,
}

impl From<RefKind> for EdgeKind {
    fn from(k: RefKind) -> EdgeKind {
        match k {
            RefKind::Resource => EdgeKind::Resource,
            RefKind::Component => EdgeKind::Component,
            RefKind::Patch => EdgeKind::Patch,
            RefKind::Generator => EdgeKind::Generator,
            RefKind::Config => EdgeKind::Config,
        }
    }
}

/// `from` uses `to`; `file:line:column` is where `from` says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// The repository graph, nodes and edges sorted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoGraph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<Edge>,
    /// The documents of the files declaring Argo CD or Flux objects (path relative to the
    /// scanned root): read once here, also what entry points are rendered from.
    #[serde(skip)]
    pub gitops_documents: Vec<(String, Vec<Node>)>,
}

/// Whether a change to any of `changed` reaches the closure entry `input`: the file itself,
/// or (`dir/`) a path under the directory other than the directory itself.
fn hits(input: &str, changed: &BTreeSet<String>) -> bool {
    match input.strip_suffix('/') {
        Some(dir) => changed.iter().any(|c| c != dir && at_or_under(c, dir)),
        None => changed.contains(input),
    }
}

/// A set of node ids ([`RepoGraph::affected_nodes`]).
pub type NodeSet<'a> = HashSet<&'a str, foldhash::fast::RandomState>;

/// An edge whose target does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dangling {
    pub edge: Edge,
    pub what: String,
}

struct Builder<'a> {
    table: &'a FileTable,
    scan_root: &'a Path,
    conventions: &'a crate::config::layout::Conventions,
    nodes: BTreeMap<String, GraphNode>,
    edges: BTreeSet<Edge>,
    gitops_documents: Vec<(String, Vec<Node>)>,
}

impl Builder<'_> {
    fn rel(&self, p: &Path) -> String {
        relative(self.scan_root, p)
    }

    fn node(&mut self, id: String, kind: NodeKind, file: Option<String>, exists: bool) {
        let (environment, cluster) = if matches!(kind, NodeKind::Root | NodeKind::Component) {
            self.conventions.classify(&id)
        } else {
            (None, None)
        };
        let entry = self.nodes.entry(id.clone()).or_insert(GraphNode {
            id,
            kind,
            file: None,
            environment,
            cluster,
            exists,
        });
        // A directory first seen as a target, then found to hold a kustomization, upgrades.
        if entry.kind == NodeKind::Directory || entry.kind == NodeKind::File {
            entry.kind = kind;
        }
        if file.is_some() {
            entry.file = file;
        }
        entry.exists |= exists;
    }

    /// The node a reference to `target` lands on: a kustomization directory, a chart, a
    /// plain directory or a file.
    /// `dir`: the reference can only be a directory (an entry point's path).
    fn target(&mut self, target: &Path, dir: bool) -> String {
        let id = self.rel(target);
        if self.nodes.contains_key(&id) {
            return id;
        }
        let (kind, exists) = target_kind(self.table, target, dir);
        self.node(id.clone(), kind, None, exists);
        id
    }

    /// A node for a target whose kind was found beforehand (see [`target_kind`]).
    fn resolved_target(&mut self, id: String, found: Option<(NodeKind, bool)>) -> String {
        if let Some((kind, exists)) = found
            && !self.nodes.contains_key(&id)
        {
            self.node(id.clone(), kind, None, exists);
        }
        id
    }

    fn edge(&mut self, from: &str, to: String, kind: EdgeKind, file: &str, pos: Pos) {
        self.edges.insert(Edge {
            from: from.to_owned(),
            to,
            kind,
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
        });
    }
}

/// What a reference to `target` lands on when it is no kustomization or chart directory: a
/// plain directory or a file, and whether it exists. `dir`: it can only be a directory.
fn target_kind(table: &FileTable, target: &Path, dir: bool) -> (NodeKind, bool) {
    if table.is_dir(target) {
        (NodeKind::Directory, true)
    } else if dir {
        (NodeKind::Directory, false)
    } else {
        (NodeKind::File, table.is_file(target))
    }
}

/// Builds the graph of what `discovery` found under `scan_root`. Kustomizations that do not
/// parse contribute their node only (rendering reports why).
pub fn build(
    scan_root: &Path,
    discovery: &Discovery,
    conventions: &crate::config::layout::Conventions,
    table: &FileTable,
) -> RepoGraph {
    let mut b = Builder {
        table,
        scan_root,
        conventions,
        nodes: BTreeMap::new(),
        edges: BTreeSet::new(),
        gitops_documents: Vec::new(),
    };
    for k in &discovery.kustomizations {
        let Some(dir) = k.abs.parent() else { continue };
        let kind = if discovery.components.contains(k) {
            NodeKind::Component
        } else {
            NodeKind::Root
        };
        b.node(b.rel(dir), kind, Some(k.rel.clone()), true);
    }
    for c in &discovery.charts {
        if let Some(dir) = c.abs.parent() {
            b.node(b.rel(dir), NodeKind::Chart, Some(c.rel.clone()), true);
        }
    }
    // Reading and parsing the files is most of the work, and each file is on its own: it
    // runs on the current thread pool, the edges and nodes are then added in order.
    // A target that is no node yet is looked up on disk here too (a stat per referenced
    // file, else the serial part of the build).
    let known = &b.nodes;
    let parsed: Vec<_> = discovery
        .kustomizations
        .par_iter()
        .filter_map(|k| {
            let dir = k.abs.parent()?;
            // Discovery parsed it already (a discovery of another making may not have).
            let refs = match discovery.references.get(&k.abs) {
                Some(refs) => std::borrow::Cow::Borrowed(refs.as_slice()),
                None => {
                    std::borrow::Cow::Owned(references(&k.abs, &table.text(&k.abs).ok()?).ok()?)
                }
            };
            let targets: Vec<_> = refs
                .iter()
                .map(|r| {
                    let id = relative(scan_root, &r.target);
                    let found =
                        (!known.contains_key(&id)).then(|| target_kind(table, &r.target, false));
                    (id, found)
                })
                .collect();
            Some((k, dir, refs, targets))
        })
        .collect();
    for (k, dir, refs, targets) in parsed {
        let from = b.rel(dir);
        for (r, (id, found)) in refs.iter().zip(targets) {
            let to = b.resolved_target(id, found);
            b.edge(&from, to, r.kind.into(), &k.rel, r.pos);
        }
    }
    let manifests: Vec<&SourceFile> = discovery
        .manifests
        .iter()
        .chain(&discovery.partials)
        .filter(|m| !discovery.plain.contains(&m.abs))
        .collect();
    manifests.par_iter().for_each(|m| {
        let _ = table.bytes(&m.abs);
    });
    for m in manifests {
        entry_points(&mut b, &m.abs, &m.rel);
    }
    let mut nodes: Vec<GraphNode> = b.nodes.into_values().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    RepoGraph {
        nodes,
        edges: b.edges.into_iter().collect(),
        gitops_documents: b.gitops_documents,
    }
}

/// Whether `text` may hold an Argo CD or Flux object (what [`build`] parses for entry points).
pub fn may_name_entry_points(text: &str) -> bool {
    text.contains("argoproj.io") || text.contains("toolkit.fluxcd.io")
}

/// Argo CD and Flux objects in `file` that deploy paths of this repository. Paths in them are
/// relative to the repository root, which is the scanned root here.
fn entry_points(b: &mut Builder<'_>, abs: &Path, rel: &str) {
    let Ok(text) = b.table.text(abs) else {
        return;
    };
    // Most manifests are neither; skip the parse.
    if !may_name_entry_points(&text) {
        return;
    }
    let (docs, _) = yaml::parse_documents(&text, LoadLimits::default());
    b.gitops_documents.push((
        rel.to_owned(),
        docs.iter().map(|d| d.root.clone()).collect(),
    ));
    for doc in docs {
        let obj = &doc.root;
        let (Some(api), Some(kind)) = (
            obj.get("apiVersion").and_then(Node::as_str),
            obj.get("kind").and_then(Node::as_str),
        ) else {
            continue;
        };
        let group = api.split('/').next().unwrap_or("");
        let name = obj.str_at(&["metadata", "name"]).unwrap_or("");
        let ns = obj.str_at(&["metadata", "namespace"]).unwrap_or("");
        let id = if ns.is_empty() {
            format!("{kind} {name}")
        } else {
            format!("{kind} {ns}/{name}")
        };
        let refs = match (group, kind) {
            ("argoproj.io", "Application") => argo_application_refs(obj),
            ("argoproj.io", "ApplicationSet") => argo_application_set_refs(obj),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => flux_kustomization_refs(obj, ns),
            ("helm.toolkit.fluxcd.io", "HelmRelease") => flux_helm_release_refs(obj),
            _ => continue,
        };
        b.node(id.clone(), NodeKind::EntryPoint, Some(rel.to_owned()), true);
        link_entry_refs(b, &id, rel, refs);
    }
}

/// What one entry point refers to, before it is resolved against the scan root.
#[derive(Default)]
struct EntryRefs<'a> {
    /// Paths deployed as written (templated ones are skipped when linking).
    paths: Vec<&'a Node>,
    /// Paths in a repository kgate cannot tell (an Argo CD source without `repoURL`, which a
    /// kustomize patch fills in later, or with a `${VAR}` in it): linked when they exist
    /// here, never reported as dangling when they do not (they may be in another repository).
    maybe_elsewhere: Vec<&'a Node>,
    /// Git directory generator globs, expanded against the tree.
    globs: Vec<&'a Node>,
    /// `dependsOn` targets by node id, with the position of the reference.
    depends: Vec<(String, Pos)>,
    /// Template paths filled from list generator elements.
    expanded: Vec<(String, Pos)>,
}

/// The source paths of an Argo CD `Application` (`spec.source` and `spec.sources`).
fn argo_application_refs(obj: &Node) -> EntryRefs<'_> {
    let spec = obj.get("spec");
    let sources = spec
        .and_then(|s| s.get("source"))
        .into_iter()
        .chain(seq(spec.and_then(|s| s.get("sources"))));
    let mut refs = EntryRefs::default();
    for s in sources {
        let Some(path) = s.get("path") else { continue };
        let repo = s.get("repoURL").and_then(Node::as_str);
        if repo.is_none_or(|r| r.contains("${") || r.contains("{{")) {
            refs.maybe_elsewhere.push(path);
        } else {
            refs.paths.push(path);
        }
    }
    refs
}

/// The git directory globs, template paths and list-expanded paths of an Argo CD
/// `ApplicationSet`.
fn argo_application_set_refs(obj: &Node) -> EntryRefs<'_> {
    let mut refs = EntryRefs::default();
    let spec = obj.get("spec");
    for g in seq(spec.and_then(|s| s.get("generators"))) {
        for d in seq(g.get("git").and_then(|g| g.get("directories"))) {
            let excluded = d.get("exclude").and_then(Node::as_str) == Some("true")
                || matches!(
                    d.get("exclude").map(|n| &n.value),
                    Some(yaml::Value::Bool(true))
                );
            if !excluded && let Some(p) = d.get("path") {
                refs.globs.push(p);
            }
        }
    }
    let template = spec
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"));
    let sources = template
        .and_then(|s| s.get("source"))
        .into_iter()
        .chain(seq(template.and_then(|s| s.get("sources"))));
    let template_paths: Vec<&Node> = sources.filter_map(|s| s.get("path")).collect();
    // A list generator's elements fill the template's `{{key}}` (or
    // `{{ .key }}`) placeholders: one path per element.
    for g in seq(spec.and_then(|s| s.get("generators"))) {
        for element in seq(g.get("list").and_then(|l| l.get("elements"))) {
            for t in &template_paths {
                let Some(p) = t.as_str() else {
                    continue;
                };
                refs.expanded
                    .push((fill_list_placeholders(p, element), element.start));
            }
        }
    }
    refs.paths = template_paths;
    refs
}

/// `path` with each `{{key}}`, `{{ .key }}` and `{{.key}}` replaced by the list
/// generator `element`'s string value for `key`.
fn fill_list_placeholders(path: &str, element: &Node) -> String {
    let mut p = path.to_owned();
    if let yaml::Value::Map(entries) = &element.value {
        for e in entries {
            if let Some(v) = e.value.as_str() {
                for pattern in [
                    format!("{{{{{}}}}}", e.key),
                    format!("{{{{ .{} }}}}", e.key),
                    format!("{{{{.{}}}}}", e.key),
                ] {
                    p = p.replace(&pattern, v);
                }
            }
        }
    }
    p
}

/// The path and `dependsOn` targets of a Flux `Kustomization` in namespace `ns`.
fn flux_kustomization_refs<'a>(obj: &'a Node, ns: &str) -> EntryRefs<'a> {
    let mut refs = EntryRefs::default();
    let spec = obj.get("spec");
    refs.paths.extend(spec.and_then(|s| s.get("path")));
    for d in seq(spec.and_then(|s| s.get("dependsOn"))) {
        if let Some(n) = d.get("name").and_then(Node::as_str) {
            let dns = d.get("namespace").and_then(Node::as_str).unwrap_or(ns);
            let target = if dns.is_empty() {
                format!("Kustomization {n}")
            } else {
                format!("Kustomization {dns}/{n}")
            };
            refs.depends.push((target, d.start));
        }
    }
    refs
}

/// The chart path of a Flux `HelmRelease`, when its chart comes from a `GitRepository`.
fn flux_helm_release_refs(obj: &Node) -> EntryRefs<'_> {
    let mut refs = EntryRefs::default();
    let chart = obj
        .get("spec")
        .and_then(|s| s.get("chart"))
        .and_then(|c| c.get("spec"));
    let from_git = chart
        .and_then(|c| c.get("sourceRef"))
        .and_then(|r| r.get("kind"))
        .and_then(Node::as_str)
        == Some("GitRepository");
    if from_git {
        refs.paths.extend(chart.and_then(|c| c.get("chart")));
    }
    refs
}

/// Adds the entry point `id`'s edges: its paths, expanded paths and globs as
/// `Deploys`, then its `DependsOn` targets, in that order.
fn link_entry_refs(b: &mut Builder<'_>, id: &str, rel: &str, refs: EntryRefs<'_>) {
    for p in refs.paths {
        let Some(s) = p.as_str() else { continue };
        // A templated path (`{{path}}`, `${CLUSTER}`) is resolved by the controller.
        if s.contains("{{") || s.contains("${") {
            continue;
        }
        let target = normalize(&b.scan_root.join(s.trim_start_matches("./")));
        let to = b.target(&target, true);
        b.edge(id, to, EdgeKind::Deploys, rel, p.start);
    }
    for p in refs.maybe_elsewhere {
        let Some(s) = p.as_str() else { continue };
        let target = normalize(&b.scan_root.join(s.trim_start_matches("./")));
        if s.contains("{{") || s.contains("${") || !b.table.exists(&target) {
            continue;
        }
        let to = b.target(&target, true);
        b.edge(id, to, EdgeKind::Deploys, rel, p.start);
    }
    for (p, pos) in refs.expanded {
        // Placeholders no element fills are left to the controller.
        if p.contains("{{") {
            continue;
        }
        let target = normalize(&b.scan_root.join(p.trim_start_matches("./")));
        let to = b.target(&target, true);
        b.edge(id, to, EdgeKind::Deploys, rel, pos);
    }
    for g in refs.globs {
        let Some(s) = g.as_str() else { continue };
        let matches = glob_dirs(b.scan_root, b.table, s);
        if matches.is_empty() {
            // No directory matches: the generator produces no Application.
            let target = normalize(&b.scan_root.join(s));
            let to = b.rel(&target);
            b.node(to.clone(), NodeKind::Directory, None, false);
            b.edge(id, to, EdgeKind::Deploys, rel, g.start);
        }
        for dir in matches {
            let to = b.target(&dir, true);
            b.edge(id, to, EdgeKind::Deploys, rel, g.start);
        }
    }
    for (target, pos) in refs.depends {
        b.edge(id, target, EdgeKind::DependsOn, rel, pos);
    }
}

/// Whether the relative path `path` is `dir` or below it.
pub fn at_or_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn seq(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(yaml::Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Directories under `root` of `table`'s file set matching an Argo CD git-generator path glob
/// (`apps/*/overlays/prod`).
fn glob_dirs(root: &Path, table: &FileTable, pattern: &str) -> Vec<PathBuf> {
    let Ok(glob) = globset::GlobBuilder::new(pattern.trim_start_matches("./"))
        .literal_separator(true)
        .build()
    else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    let mut walker = ignore::WalkBuilder::new(root);
    walker.hidden(true).git_ignore(true).git_global(false);
    let mut out = Vec::new();
    for (path, is_dir) in table.walk(root, &walker) {
        if is_dir
            && let Ok(rel) = path.strip_prefix(root)
            && !rel.as_os_str().is_empty()
            && matcher.is_match(rel)
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

impl RepoGraph {
    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.nodes
            .binary_search_by(|n| n.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.nodes[i])
    }

    /// Kustomization roots that are only bases: another kustomization uses them as a
    /// resource, and no Argo CD or Flux entry point deploys them. A base is incomplete by
    /// design (its ConfigMap may live in a sibling base, its NetworkPolicy in the overlay),
    /// so rules across a root's objects run only on the roots that are deployed.
    /// Each base with the nodes that use it as a resource.
    pub fn bases(&self) -> BTreeMap<String, Vec<String>> {
        // Most `resources` edges name files: only those naming a kustomization are gathered
        // (cloning every edge's ends into the map first was ~1% of a one-app check).
        let roots: NodeSet<'_> = (self.nodes.iter())
            .filter(|n| n.kind == NodeKind::Root)
            .map(|n| n.id.as_str())
            .collect();
        let deployed: NodeSet<'_> = (self.edges.iter())
            .filter(|e| e.kind == EdgeKind::Deploys)
            .map(|e| e.to.as_str())
            .collect();
        let mut used: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for e in &self.edges {
            if e.kind == EdgeKind::Resource
                && e.from != e.to
                && roots.contains(e.to.as_str())
                && !deployed.contains(e.to.as_str())
            {
                used.entry(e.to.as_str()).or_default().push(e.from.clone());
            }
        }
        used.into_iter()
            .map(|(id, users)| (id.to_owned(), users))
            .collect()
    }

    /// Edges of entry points whose target path does not exist. (A kustomization's missing
    /// reference is a `render-error` of every root that renders it, at the same line.)
    pub fn dangling(&self) -> Vec<Dangling> {
        self.edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Deploys)
            .filter(|e| self.node(&e.to).is_some_and(|n| !n.exists))
            .map(|e| Dangling {
                edge: e.clone(),
                what: format!("{} deploys path `{}`, which does not exist", e.from, e.to),
            })
            .collect()
    }

    /// Every file the node `id` reads when rendered: its kustomization file and, through its
    /// references, every file and kustomization it uses (transitively), as paths relative to
    /// the scanned root. A directory contributes its kustomization file, or, for a plain
    /// directory, itself as a prefix (`dir/`).
    pub fn closure(&self, id: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack = vec![id.to_owned()];
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            out.extend(self.own_inputs(&n));
            stack.extend(self.uses(&n).map(|e| e.to.clone()));
        }
        out
    }

    /// What the node `id` itself contributes to a closure (see [`RepoGraph::closure`]).
    fn own_inputs(&self, id: &str) -> Vec<String> {
        let Some(node) = self.node(id) else {
            return vec![id.to_owned()];
        };
        let mut out = Vec::new();
        match node.kind {
            NodeKind::File => out.push(id.to_owned()),
            NodeKind::Directory | NodeKind::Chart => out.push(format!("{id}/")),
            _ => {}
        }
        if let Some(f) = &node.file
            && node.kind != NodeKind::EntryPoint
        {
            out.push(f.clone());
        }
        // A missing kustomization directory becomes one when it is created.
        if !node.exists {
            out.extend(
                KUSTOMIZATION_FILE_NAMES
                    .iter()
                    .map(|name| format!("{id}/{name}")),
            );
        }
        out
    }

    /// Whether one of `node`'s own inputs (`own_inputs`) is in `changed` ([`hits`]).
    fn own_inputs_hit(&self, node: &GraphNode, changed: &BTreeSet<String>) -> bool {
        let id = node.id.as_str();
        let itself = match node.kind {
            NodeKind::File => hits(id, changed),
            // `id/`: what is under the directory.
            NodeKind::Directory | NodeKind::Chart => {
                changed.iter().any(|c| c != id && at_or_under(c, id))
            }
            _ => false,
        };
        let file = (node.file.as_deref())
            .filter(|_| node.kind != NodeKind::EntryPoint)
            .is_some_and(|f| hits(f, changed));
        itself
            || file
            || (!node.exists
                && (KUSTOMIZATION_FILE_NAMES.iter())
                    .any(|name| changed.contains(&format!("{id}/{name}"))))
    }

    /// The edges from `id` a closure follows (all but Flux `dependsOn`).
    fn uses<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        let from = self.edges.partition_point(|e| e.from.as_str() < id);
        self.edges[from..]
            .iter()
            .take_while(move |e| e.from == id)
            .filter(|e| e.kind != EdgeKind::DependsOn)
    }

    /// Whether a change to any of `changed` (paths relative to the scanned root) can affect
    /// what the node `id` renders.
    pub fn touched(&self, id: &str, changed: &BTreeSet<String>) -> bool {
        self.closure(id).iter().any(|f| hits(f, changed))
    }

    /// Roots (rendered kustomization directories and Helm charts) that a change to any of
    /// `changed` (paths relative to the scanned root) can affect: those whose closure holds a changed input
    /// ([`RepoGraph::touched`]), found in one pass backwards from the nodes (and missing
    /// targets) whose own inputs changed, rather than one closure per root (each cluster's
    /// holds thousands of paths).
    pub fn affected_roots(&self, changed: &BTreeSet<String>) -> BTreeSet<String> {
        let reached = self.affected_nodes(changed);
        self.nodes
            .iter()
            .filter(|n| {
                matches!(n.kind, NodeKind::Root | NodeKind::Chart)
                    && reached.contains(n.id.as_str())
            })
            .map(|n| n.id.clone())
            .collect()
    }

    /// Every node (and missing target) a change to any of `changed` can affect: those whose
    /// closure holds a changed input ([`RepoGraph::touched`]).
    pub fn affected_nodes(&self, changed: &BTreeSet<String>) -> NodeSet<'_> {
        // (foldhash: std's SipHash of every edge's target was most of this.)
        let mut users: HashMap<&str, Vec<&str>, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(self.nodes.len(), Default::default());
        for e in self.edges.iter().filter(|e| e.kind != EdgeKind::DependsOn) {
            users
                .entry(e.to.as_str())
                .or_default()
                .push(e.from.as_str());
        }
        // Every node, and the targets that are none (a closure reaches those too), whose own
        // inputs changed (as `own_inputs` gives them, asked without making them: this runs
        // over every node and edge of the graph, up to three times per `diff --since`).
        let nodes = (self.nodes.iter())
            .filter(|n| self.own_inputs_hit(n, changed))
            .map(|n| n.id.as_str());
        let dangling = (self.edges.iter())
            .map(|e| e.to.as_str())
            .filter(|to| hits(to, changed) && self.node(to).is_none());
        let mut reached = NodeSet::default();
        let mut stack: Vec<&str> = nodes.chain(dangling).collect();
        while let Some(id) = stack.pop() {
            if reached.insert(id) {
                stack.extend(users.get(id).into_iter().flatten().copied());
            }
        }
        reached
    }

    /// Graphviz.
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph kgate {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for n in &self.nodes {
            let shape = match n.kind {
                NodeKind::Root => "box",
                NodeKind::Component => "component",
                NodeKind::Chart => "folder",
                NodeKind::File => "note",
                NodeKind::Directory => "folder",
                NodeKind::EntryPoint => "hexagon",
            };
            let style = if n.exists {
                ""
            } else {
                ", color=red, style=dashed"
            };
            s.push_str(&format!("  {:?} [shape={shape}{style}];\n", n.id));
        }
        for e in &self.edges {
            s.push_str(&format!(
                "  {:?} -> {:?} [label={:?}];\n",
                e.from,
                e.to,
                kind_name(e.kind)
            ));
        }
        s.push_str("}\n");
        s
    }

    /// A tree per entry point and per root, for people.
    pub fn to_human(&self) -> String {
        let mut s = String::new();
        let used: BTreeSet<&str> = self.edges.iter().map(|e| e.to.as_str()).collect();
        let tops = self.nodes.iter().filter(|n| {
            n.kind == NodeKind::EntryPoint
                || (n.kind == NodeKind::Root && !used.contains(n.id.as_str()))
        });
        for top in tops {
            self.tree(&mut s, &top.id, None, 0, &mut BTreeSet::new());
        }
        let count = |k: NodeKind| self.nodes.iter().filter(|n| n.kind == k).count();
        s.push_str(&format!(
            "{} roots, {} components, {} charts, {} entry points, {} edges\n",
            count(NodeKind::Root),
            count(NodeKind::Component),
            count(NodeKind::Chart),
            count(NodeKind::EntryPoint),
            self.edges.len()
        ));
        s
    }

    fn tree(
        &self,
        s: &mut String,
        id: &str,
        via: Option<EdgeKind>,
        depth: usize,
        path: &mut BTreeSet<String>,
    ) {
        let node = self.node(id);
        let mut line = format!("{}{}", "  ".repeat(depth), id);
        if let Some(n) = node {
            let mut tags = vec![kind_label(n.kind).to_owned()];
            if let Some(e) = &n.environment {
                tags.push(format!("env {e}"));
            }
            if let Some(c) = &n.cluster {
                tags.push(format!("cluster {c}"));
            }
            if !n.exists {
                tags.push("MISSING".to_owned());
            }
            line.push_str(&format!(" [{}]", tags.join(", ")));
        }
        if let Some(k) = via
            && !matches!(k, EdgeKind::Resource | EdgeKind::Deploys)
        {
            line.push_str(&format!(" ({})", kind_name(k)));
        }
        s.push_str(&line);
        s.push('\n');
        if !path.insert(id.to_owned()) {
            return;
        }
        let from = self.edges.partition_point(|e| e.from.as_str() < id);
        for e in self.edges[from..].iter().take_while(|e| e.from == id) {
            self.tree(s, &e.to, Some(e.kind), depth + 1, path);
        }
        path.remove(id);
    }
}

fn kind_label(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Root => "root",
        NodeKind::Component => "component",
        NodeKind::Chart => "chart",
        NodeKind::File => "file",
        NodeKind::Directory => "directory",
        NodeKind::EntryPoint => "entry point",
    }
}

fn kind_name(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Resource => "resource",
        EdgeKind::Component => "component",
        EdgeKind::Patch => "patch",
        EdgeKind::Generator => "generator",
        EdgeKind::Config => "config",
        EdgeKind::Deploys => "deploys",
        EdgeKind::DependsOn => "depends-on",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn repo() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        write(
            r,
            "apps/web/base/kustomization.yaml",
            "resources: [deployment.yaml]\n",
        );
        write(
            r,
            "apps/web/base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        );
        write(
            r,
            "apps/web/overlays/prod/kustomization.yaml",
            "resources: [../../base]\ncomponents: [../../../../components/tls]\npatches:\n  - path: replicas.yaml\n",
        );
        write(
            r,
            "apps/web/overlays/prod/replicas.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
        );
        write(
            r,
            "apps/api/base/kustomization.yaml",
            "resources: [deployment.yaml]\n",
        );
        write(
            r,
            "apps/api/base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
        );
        write(
            r,
            "components/tls/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
        );
        write(
            r,
            "clusters/prod-eu/kustomization.yaml",
            "resources:\n  - ../../apps/web/overlays/prod\n",
        );
        write(
            r,
            "argocd/apps.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: prod-eu, namespace: argocd}\nspec:\n  source:\n    repoURL: https://git.example.com/platform.git\n    path: clusters/prod-eu\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: gone, namespace: argocd}\nspec:\n  source:\n    repoURL: https://git.example.com/platform.git\n    path: clusters/staging\n---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: clusters, namespace: argocd}\nspec:\n  generators:\n    - list:\n        elements:\n          - {cluster: prod-eu}\n          - {cluster: dev-us}\n  template:\n    spec:\n      source:\n        path: 'clusters/{{cluster}}'\n---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: bases, namespace: argocd}\nspec:\n  generators:\n    - git:\n        directories:\n          - path: apps/*/base\n",
        );
        tmp
    }

    fn graph(root: &Path) -> RepoGraph {
        let table = FileTable::new(root, u64::MAX);
        let d = crate::discover::discover(root, &[root.to_path_buf()], &[], &table).unwrap();
        build(
            root,
            &d,
            &crate::config::layout::Conventions::defaults(&["prod".to_owned()]),
            &table,
        )
    }

    #[test]
    fn nodes_edges_and_entry_points() {
        let tmp = repo();
        let g = graph(tmp.path());
        let kinds: Vec<(&str, NodeKind)> =
            g.nodes.iter().map(|n| (n.id.as_str(), n.kind)).collect();
        assert!(kinds.contains(&("apps/web/overlays/prod", NodeKind::Root)));
        assert!(kinds.contains(&("components/tls", NodeKind::Component)));
        assert!(kinds.contains(&("Application argocd/prod-eu", NodeKind::EntryPoint)));
        let edges: Vec<(&str, &str, EdgeKind)> = g
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.kind))
            .collect();
        for want in [
            (
                "apps/web/overlays/prod",
                "apps/web/base",
                EdgeKind::Resource,
            ),
            (
                "apps/web/overlays/prod",
                "components/tls",
                EdgeKind::Component,
            ),
            (
                "apps/web/overlays/prod",
                "apps/web/overlays/prod/replicas.yaml",
                EdgeKind::Patch,
            ),
            (
                "clusters/prod-eu",
                "apps/web/overlays/prod",
                EdgeKind::Resource,
            ),
            (
                "Application argocd/prod-eu",
                "clusters/prod-eu",
                EdgeKind::Deploys,
            ),
            (
                "ApplicationSet argocd/bases",
                "apps/api/base",
                EdgeKind::Deploys,
            ),
            (
                "ApplicationSet argocd/bases",
                "apps/web/base",
                EdgeKind::Deploys,
            ),
        ] {
            assert!(edges.contains(&want), "missing {want:?} in {edges:#?}");
        }
        let prod = g.node("apps/web/overlays/prod").unwrap();
        assert_eq!(prod.environment.as_deref(), Some("prod"));
        let dangling: Vec<(u32, &str)> = g
            .dangling()
            .iter()
            .map(|d| {
                (
                    d.edge.line,
                    if d.what.contains("clusters/staging") {
                        "staging"
                    } else if d.what.contains("clusters/dev-us") {
                        "dev-us"
                    } else {
                        "?"
                    },
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        // The Application's missing path, and the list element whose cluster has no directory.
        assert_eq!(dangling, [(15, "staging"), (25, "dev-us")]);
    }

    #[test]
    fn a_missing_path_of_an_unknown_repository_is_not_dangling() {
        // No repoURL (a kustomize patch of the app-of-apps adds it) or a templated one: the
        // path may be in another repository. One that exists here is still deployed.
        let tmp = repo();
        write(
            tmp.path(),
            "argocd/apps.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: patched}\nspec:\n  source:\n    path: consolelink\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: templated}\nspec:\n  source:\n    repoURL: ${GIT_BASEURL}/infra\n    path: namespaces/ci\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: here}\nspec:\n  source:\n    path: clusters/prod-eu\n",
        );
        let g = graph(tmp.path());
        let dangling: Vec<String> = g.dangling().into_iter().map(|d| d.edge.to).collect();
        assert!(
            !dangling
                .iter()
                .any(|d| d == "consolelink" || d == "namespaces/ci"),
            "{dangling:?}"
        );
        assert!(
            g.edges
                .iter()
                .any(|e| e.from == "Application here" && e.to == "clusters/prod-eu")
        );
    }

    #[test]
    fn a_base_change_affects_its_overlays_and_clusters_only() {
        let tmp = repo();
        let g = graph(tmp.path());
        let changed: BTreeSet<String> = ["apps/web/base/deployment.yaml".to_owned()].into();
        let got: Vec<String> = g.affected_roots(&changed).into_iter().collect();
        assert_eq!(
            got,
            [
                "apps/web/base",
                "apps/web/overlays/prod",
                "clusters/prod-eu"
            ]
        );
        let changed: BTreeSet<String> = ["components/tls/kustomization.yaml".to_owned()].into();
        let got: Vec<String> = g.affected_roots(&changed).into_iter().collect();
        assert_eq!(got, ["apps/web/overlays/prod", "clusters/prod-eu"]);
        // A file nothing refers to affects no root.
        let changed: BTreeSet<String> = ["apps/web/base/unused.yaml".to_owned()].into();
        assert!(g.affected_roots(&changed).is_empty());
    }

    /// The one backwards pass finds exactly the roots whose closure holds a change, for every
    /// single changed path of the fixture, paths in directories, a kustomization created
    /// where one is missing, and a cycle between two roots.
    #[test]
    fn affected_roots_are_the_roots_whose_closure_holds_a_change() {
        let tmp = repo();
        let r = tmp.path();
        write(r, "loop/a/kustomization.yaml", "resources: [../b]\n");
        write(
            r,
            "loop/b/kustomization.yaml",
            "resources: [../a, cm.yaml]\n",
        );
        write(
            r,
            "loop/b/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        );
        write(r, "charts/db/Chart.yaml", "apiVersion: v2\nname: db\n");
        write(r, "charts/db/templates/cm.yaml", "kind: ConfigMap\n");
        let g = graph(r);
        let by_closure = |changed: &BTreeSet<String>| -> BTreeSet<String> {
            g.nodes
                .iter()
                .filter(|n| {
                    matches!(n.kind, NodeKind::Root | NodeKind::Chart) && g.touched(&n.id, changed)
                })
                .map(|n| n.id.clone())
                .collect()
        };
        let mut cases: Vec<BTreeSet<String>> = g
            .nodes
            .iter()
            .flat_map(|n| [Some(n.id.clone()), n.file.clone()])
            .flatten()
            .chain(g.edges.iter().map(|e| e.to.clone()))
            .chain([
                "clusters/staging/kustomization.yaml".to_owned(),
                "apps/web/new.yaml".to_owned(),
            ])
            .map(|p| [p].into())
            .collect();
        cases.push(
            [
                "loop/b/cm.yaml".to_owned(),
                "apps/api/base/deployment.yaml".to_owned(),
            ]
            .into(),
        );
        let mut some = 0;
        for changed in &cases {
            let want = by_closure(changed);
            some += usize::from(!want.is_empty());
            assert_eq!(g.affected_roots(changed), want, "{changed:?}");
        }
        assert!(some > 5, "the cases affect roots");
        let cm: BTreeSet<String> = ["loop/b/cm.yaml".to_owned()].into();
        assert_eq!(
            g.affected_roots(&cm),
            ["loop/a".to_owned(), "loop/b".to_owned()].into()
        );
        // A chart is a root: a file in it reaches it.
        let template: BTreeSet<String> = ["charts/db/templates/cm.yaml".to_owned()].into();
        assert_eq!(g.affected_roots(&template), ["charts/db".to_owned()].into());
    }

    #[test]
    fn dot_and_human_output() {
        let tmp = repo();
        let g = graph(tmp.path());
        let dot = g.to_dot();
        assert!(dot.starts_with("digraph kgate {"));
        assert!(
            dot.contains(
                "\"clusters/prod-eu\" -> \"apps/web/overlays/prod\" [label=\"resource\"];"
            )
        );
        let human = g.to_human();
        assert!(human.contains("Application argocd/prod-eu [entry point]\n  clusters/prod-eu [root, env prod, cluster prod-eu]\n    apps/web/overlays/prod [root, env prod]\n"), "{human}");
        assert!(
            human.contains("clusters/staging [directory, MISSING]"),
            "{human}"
        );
    }
}
