//! `--changed-since` down to objects: of the roots a change reaches, which rendered objects it
//! can affect. A cluster root that includes two hundred overlays is re-rendered when one app
//! changes, but only that app's objects are evaluated and reported; the others' findings were
//! there before the change.
//!
//! An object can be affected in two ways:
//! - a value in it comes from a changed file (provenance: every node knows its file), or
//! - it passes through a kustomization layer whose own inputs changed: the kustomization
//!   file, a patch, a generator input, a configuration, a component. Such a change can remove
//!   or rename something, which leaves no trace in the object's provenance, so every object
//!   of that layer counts (a layer: the kustomization directory and everything it includes as
//!   resources, transitively).
//!
//! An object whose source the graph does not know (Helm output, remote resources) is counted
//! as affected: the root was selected because the change reaches it.

use std::collections::{BTreeMap, BTreeSet};

use crate::discover::graph::{EdgeKind, NodeKind, RepoGraph, at_or_under};

/// Files and directories (prefixes) a layer's objects come from.
#[derive(Debug, Default, Clone)]
struct Reach {
    files: BTreeSet<String>,
    dirs: Vec<String>,
}

impl Reach {
    fn contains(&self, path: &str) -> bool {
        self.files.contains(path) || self.dirs.iter().any(|d| at_or_under(path, d))
    }
}

/// A root's layers (the nodes it includes, itself too) and where their objects come from.
type Layers = (BTreeSet<String>, Reach);

/// Which objects of each root a change can affect.
#[derive(Debug)]
pub struct ObjectScope<'g> {
    known: std::sync::Arc<ScopeKnown>,
    graph: &'g RepoGraph,
}

/// What an [`ObjectScope`] found of a change in a graph: another check of the same change in
/// the same graph (`kgate diff --since`'s REF side, in place) takes it rather than finding
/// it again on its serial path ([`ObjectScope::sharing`]).
#[derive(Debug, Default)]
pub struct ScopeKnown {
    changed: BTreeSet<String>,
    /// Kustomization nodes whose own inputs changed, with the sources of their objects.
    changed_layers: BTreeMap<String, Reach>,
    /// For every root asked about: the nodes it includes (its layers).
    layers_of: std::sync::Mutex<BTreeMap<String, std::sync::Arc<Layers>>>,
}

/// Edges along which a node's objects come into the node that uses it.
fn carries_objects(kind: EdgeKind) -> bool {
    matches!(
        kind,
        EdgeKind::Resource | EdgeKind::Component | EdgeKind::Deploys
    )
}

impl<'g> ObjectScope<'g> {
    /// The scope of `changed` (paths relative to the scanned root, as the graph's).
    pub fn new(graph: &'g RepoGraph, changed: &BTreeSet<String>) -> ObjectScope<'g> {
        let known = |changed_layers| {
            std::sync::Arc::new(ScopeKnown {
                changed: changed.clone(),
                changed_layers,
                layers_of: Default::default(),
            })
        };
        let bare = ObjectScope {
            known: known(BTreeMap::new()),
            graph,
        };
        let changed_layers = (graph.nodes.iter())
            .filter(|n| matches!(n.kind, NodeKind::Root | NodeKind::Component))
            .filter(|n| bare.own_inputs_changed(&n.id))
            .map(|n| (n.id.clone(), bare.walk(&n.id).1))
            .collect();
        ObjectScope {
            known: known(changed_layers),
            graph,
        }
    }

    /// The scope `known` describes, in `graph`: the graph `known` was found in, or a copy.
    pub fn sharing(graph: &'g RepoGraph, known: std::sync::Arc<ScopeKnown>) -> ObjectScope<'g> {
        ObjectScope { known, graph }
    }

    /// What it found, for [`ObjectScope::sharing`].
    pub fn known(&self) -> std::sync::Arc<ScopeKnown> {
        self.known.clone()
    }

    fn edges_from(&self, id: &str) -> &[crate::discover::graph::Edge] {
        let edges = &self.graph.edges;
        let from = edges.partition_point(|e| e.from.as_str() < id);
        let to = from + edges[from..].iter().take_while(|e| e.from == id).count();
        &edges[from..to]
    }

    /// Whether the node's kustomization, or anything it reads besides the resources it
    /// includes, changed. A component's whole content counts: it transforms the layer that
    /// uses it.
    fn own_inputs_changed(&self, id: &str) -> bool {
        let Some(node) = self.graph.node(id) else {
            return false;
        };
        let file_changed = match &node.file {
            Some(f) => self.known.changed.contains(f),
            // A directory that becomes a kustomization.
            None => self.known.changed.iter().any(|c| at_or_under(c, id)),
        };
        file_changed
            || self.edges_from(id).iter().any(|e| match e.kind {
                EdgeKind::Patch | EdgeKind::Generator | EdgeKind::Config => {
                    self.known.changed.contains(&e.to)
                        || (self.known.changed.iter()).any(|c| c != &e.to && at_or_under(c, &e.to))
                }
                EdgeKind::Component => self.graph.touched(&e.to, &self.known.changed),
                _ => false,
            })
    }

    /// The nodes `id` includes (itself too) and the files and directories their objects
    /// come from.
    fn walk(&self, id: &str) -> (BTreeSet<String>, Reach) {
        let mut nodes = BTreeSet::new();
        let mut reach = Reach::default();
        let mut stack = vec![id.to_owned()];
        while let Some(n) = stack.pop() {
            if !nodes.insert(n.clone()) {
                continue;
            }
            match self.graph.node(&n) {
                Some(node) => {
                    match node.kind {
                        NodeKind::File => {
                            reach.files.insert(n.clone());
                        }
                        NodeKind::Directory | NodeKind::Chart => reach.dirs.push(n.clone()),
                        _ => {}
                    }
                    // Generated objects come from the kustomization file itself.
                    if let Some(f) = &node.file {
                        reach.files.insert(f.clone());
                    }
                }
                None => {
                    reach.files.insert(n.clone());
                }
            }
            for e in self.edges_from(&n) {
                if carries_objects(e.kind) {
                    stack.push(e.to.clone());
                }
            }
        }
        (nodes, reach)
    }

    /// The changed files (relative to the scanned root).
    pub fn changed_files(&self) -> &BTreeSet<String> {
        &self.known.changed
    }

    /// Whether `path` (relative to the scanned root) is one of the changed files.
    pub fn changed(&self, path: &str) -> bool {
        self.known.changed.contains(path)
    }

    /// Whether the change can affect an object of `root` (a graph node id: a kustomization
    /// directory or the path an entry point deploys) read from `source` whose values come
    /// from `files` (all paths relative to the scanned root).
    pub fn affects<'a>(
        &self,
        root: &str,
        source: &str,
        files: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        self.in_root(root).affects(source, files)
    }

    /// The scope of `root`'s objects, for asking of each (a cluster root has a thousand): its
    /// layers are walked once per root and check.
    pub fn in_root(&self, root: &str) -> RootScope<'_> {
        let walked = (self.known.layers_of.lock().ok()).map(|mut cache| {
            cache
                .entry(root.to_owned())
                .or_insert_with(|| std::sync::Arc::new(self.walk(root)))
                .clone()
        });
        // Only the changed layers the root includes can affect its objects.
        let changed_layers = match &walked {
            Some(w) => (self.known.changed_layers.iter())
                .filter(|(layer, _)| w.0.contains(*layer))
                .map(|(_, reach)| reach)
                .collect(),
            None => Vec::new(),
        };
        RootScope {
            changed: &self.known.changed,
            reach: walked,
            changed_layers,
        }
    }
}

/// What decides which objects of one root a change can affect ([`ObjectScope::in_root`]).
pub struct RootScope<'s> {
    changed: &'s BTreeSet<String>,
    /// The root's layers and where their objects come from; `None`: unknown (all affected).
    reach: Option<std::sync::Arc<Layers>>,
    /// The sources of the changed layers among the root's.
    changed_layers: Vec<&'s Reach>,
}

impl RootScope<'_> {
    /// Whether the change can affect the root's object read from `source` whose values come
    /// from `files` (paths relative to the scanned root).
    pub fn affects<'a>(&self, source: &str, files: impl IntoIterator<Item = &'a str>) -> bool {
        if self.changed.contains(source) {
            return true;
        }
        if files.into_iter().any(|f| self.changed.contains(f)) {
            return true;
        }
        let Some(walked) = &self.reach else {
            return true;
        };
        // Provenance the graph does not know: be safe.
        if !walked.1.contains(source) {
            return true;
        }
        self.changed_layers.iter().any(|r| r.contains(source))
    }

    /// Whether `path` (relative to the scanned root) is one of the changed files.
    pub fn changed(&self, path: &str) -> bool {
        self.changed.contains(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::graph::{Edge, GraphNode};

    fn node(id: &str, kind: NodeKind, file: Option<&str>) -> GraphNode {
        GraphNode {
            id: id.to_owned(),
            kind,
            file: file.map(str::to_owned),
            environment: None,
            cluster: None,
            exists: true,
        }
    }

    fn edge(from: &str, to: &str, kind: EdgeKind) -> Edge {
        Edge {
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
            file: format!("{from}/kustomization.yaml"),
            line: 1,
            column: 1,
        }
    }

    /// Two apps (base + overlay each) and a cluster that includes both overlays; app a's
    /// overlay has a patch.
    fn graph() -> RepoGraph {
        let k = |d: &str| format!("{d}/kustomization.yaml");
        let mut g = RepoGraph::default();
        for d in ["a/base", "a/prod", "b/base", "b/prod", "cluster"] {
            g.nodes.push(node(d, NodeKind::Root, Some(&k(d))));
        }
        for f in [
            "a/base/deploy.yaml",
            "a/prod/patch.yaml",
            "b/base/deploy.yaml",
        ] {
            g.nodes.push(node(f, NodeKind::File, None));
        }
        g.edges = vec![
            edge("a/base", "a/base/deploy.yaml", EdgeKind::Resource),
            edge("a/prod", "a/base", EdgeKind::Resource),
            edge("a/prod", "a/prod/patch.yaml", EdgeKind::Patch),
            edge("b/base", "b/base/deploy.yaml", EdgeKind::Resource),
            edge("b/prod", "b/base", EdgeKind::Resource),
            edge("cluster", "a/prod", EdgeKind::Resource),
            edge("cluster", "b/prod", EdgeKind::Resource),
        ];
        g.nodes.sort_by(|a, b| a.id.cmp(&b.id));
        g.edges.sort();
        g
    }

    fn scope(changed: &[&str]) -> ObjectScope<'static> {
        let graph = Box::leak(Box::new(graph()));
        ObjectScope::new(graph, &changed.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn a_changed_resource_file_affects_only_its_objects() {
        let s = scope(&["a/base/deploy.yaml"]);
        assert!(s.affects("cluster", "a/base/deploy.yaml", []));
        assert!(!s.affects("cluster", "b/base/deploy.yaml", ["b/base/deploy.yaml"]));
    }

    #[test]
    fn a_changed_patch_affects_every_object_of_its_layer_even_without_a_trace() {
        // The patch may have removed what it used to add: the object has no node from it.
        let s = scope(&["a/prod/patch.yaml"]);
        assert!(s.affects("cluster", "a/base/deploy.yaml", ["a/base/deploy.yaml"]));
        assert!(s.affects("a/prod", "a/base/deploy.yaml", []));
        assert!(!s.affects("cluster", "b/base/deploy.yaml", []));
        // The base alone does not go through the overlay's layer.
        assert!(!s.affects("a/base", "a/base/deploy.yaml", []));
    }

    #[test]
    fn a_changed_kustomization_affects_its_layer_and_generated_objects() {
        let s = scope(&["b/prod/kustomization.yaml"]);
        assert!(s.affects("cluster", "b/base/deploy.yaml", []));
        assert!(s.affects("cluster", "b/prod/kustomization.yaml", []));
        assert!(!s.affects("cluster", "a/base/deploy.yaml", []));
    }

    #[test]
    fn values_from_a_changed_file_affect_the_object() {
        // A replacement or a patch elsewhere put a value from the changed file in it.
        let s = scope(&["shared/values.yaml"]);
        assert!(s.affects("cluster", "b/base/deploy.yaml", ["shared/values.yaml"]));
        assert!(!s.affects("cluster", "b/base/deploy.yaml", ["b/base/deploy.yaml"]));
    }

    #[test]
    fn unknown_provenance_is_affected() {
        let s = scope(&["a/base/deploy.yaml"]);
        assert!(s.affects("cluster", "charts/x/templates/d.yaml", []));
    }

    #[test]
    fn the_cluster_kustomization_affects_everything_it_includes() {
        let s = scope(&["cluster/kustomization.yaml"]);
        assert!(s.affects("cluster", "a/base/deploy.yaml", []));
        assert!(s.affects("cluster", "b/base/deploy.yaml", []));
        assert!(!s.affects("b/prod", "b/base/deploy.yaml", []));
    }

    #[test]
    fn a_copy_of_the_graph_shares_what_the_scope_found_and_answers_alike() {
        let s = scope(&["a/prod/patch.yaml"]);
        // A root asked about in one is walked for both.
        assert!(s.affects("cluster", "a/base/deploy.yaml", []));
        let copy = Box::leak(Box::new(graph()));
        let shared = ObjectScope::sharing(copy, s.known());
        let walked = |s: &ObjectScope<'_>| s.known.layers_of.lock().map(|l| l.len()).unwrap_or(0);
        assert_eq!(walked(&shared), 1);
        for (root, source) in [
            ("cluster", "a/base/deploy.yaml"),
            ("cluster", "b/base/deploy.yaml"),
            ("a/prod", "a/base/deploy.yaml"),
            ("a/base", "a/base/deploy.yaml"),
        ] {
            assert_eq!(
                shared.affects(root, source, []),
                s.affects(root, source, [])
            );
        }
        assert_eq!(walked(&s), 3);
    }
}
