//! How many times a check's render asks for each kustomization directory's build, from the
//! repository graph: once per root rendered, once per `resources` entry naming it in each
//! build that uses it (a build is made once and then served by the memo), once per
//! application of a component naming it, and once per directory an entry point's generated
//! kustomization lists. The renderer's memo drops a build after its last use
//! (`Renderer::expecting`); a use the count misses only costs a second build.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::discover::graph::{Edge, EdgeKind, NodeKind, NodeSet, RepoGraph};
use crate::render::entry::EntryRender;
use crate::source::{lexical, relative};

/// (foldhash: std's SipHash of every edge's and request's path was most of the count.)
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The counts, keyed by the directories' canonical paths (the renderer's memo keys).
pub fn expected_builds(
    graph: &RepoGraph,
    scan_root: &Path,
    roots: &[PathBuf],
    entries: &[EntryRender],
) -> crate::source::PathMap<usize> {
    Count::of(graph, scan_root, roots, entries).to_map(scan_root)
}

/// [`expected_builds`] of a render whose memo REF's side of `kgate diff --since` renders
/// from next, with the same discovery, graph and selection (`changed`: the files the change
/// edited, relative to the scanned root): each build the change does not reach is also
/// counted once per request REF's render of the builds it reaches makes, so that this
/// render keeps it for REF rather than REF reading it from the render cache again (see
/// [`Count::ref_requests`]). Second, REF's own counts: the same roots of the same graph ask
/// for the same builds, so they are this render's before REF's requests are added (REF
/// counted them again, ~7 M instructions beside the working tree's last render).
pub fn expected_builds_then_ref(
    graph: &RepoGraph,
    scan_root: &Path,
    roots: &[PathBuf],
    entries: &[EntryRender],
    changed: &BTreeSet<String>,
) -> (crate::source::PathMap<usize>, crate::source::PathMap<usize>) {
    let count = Count::of(graph, scan_root, roots, entries);
    let refs = count.to_map(scan_root);
    let roots: Vec<String> = roots.iter().map(|d| relative(scan_root, d)).collect();
    // REF's requests are a few hundred builds' counts raised: the map is copied and those
    // raised (making it again from the ids was ~6 M instructions).
    let mut ours = refs.clone();
    let canonical = canonical_root(scan_root);
    for (id, more) in count.ref_requests(&roots, &graph.affected_nodes(changed)) {
        *ours.entry(lexical(&canonical.join(id))).or_default() += more;
    }
    (ours, refs)
}

/// The scanned root made canonical (as the memo keys are).
fn canonical_root(scan_root: &Path) -> PathBuf {
    std::fs::canonicalize(scan_root).unwrap_or_else(|_| scan_root.to_owned())
}

struct Count<'g> {
    graph: &'g RepoGraph,
    /// The `resources` and `components` edges of each node.
    by_from: FastMap<&'g str, Vec<&'g Edge>>,
    /// The requests for each kustomization; one first asked for is queued to be built (once).
    uses: FastMap<String, usize>,
    todo: Vec<String>,
}

impl<'g> Count<'g> {
    /// The requests of rendering `roots` and `entries`.
    fn of(
        graph: &'g RepoGraph,
        scan_root: &Path,
        roots: &[PathBuf],
        entries: &[EntryRender],
    ) -> Count<'g> {
        let mut count = Count {
            graph,
            by_from: FastMap::default(),
            uses: FastMap::default(),
            todo: Vec::new(),
        };
        for e in &graph.edges {
            if matches!(e.kind, EdgeKind::Resource | EdgeKind::Component) && e.from != e.to {
                count.by_from.entry(e.from.as_str()).or_default().push(e);
            }
        }
        for dir in roots {
            count.used(&relative(scan_root, dir));
        }
        for entry in entries
            .iter()
            .filter(|e| e.helm.is_none() && e.note.is_none())
        {
            for path in entry_resources(&entry.kustomization) {
                count.used(&relative(scan_root, &lexical(&scan_root.join(path))));
            }
        }
        while let Some(id) = count.todo.pop() {
            count.build(&id);
        }
        count
    }

    /// The counts by the directories' canonical paths.
    fn to_map(&self, scan_root: &Path) -> crate::source::PathMap<usize> {
        let canonical = canonical_root(scan_root);
        (self.uses.iter())
            .map(|(id, n)| (lexical(&canonical.join(id)), *n))
            .collect()
    }

    /// Whether `id` is a kustomization (a build the memo holds).
    fn is_kustomization(&self, id: &str) -> bool {
        self.graph
            .node(id)
            .is_some_and(|n| n.kind == NodeKind::Root)
    }

    /// One request for `id`'s build, when it is a kustomization.
    fn used(&mut self, id: &str) {
        if !self.is_kustomization(id) {
            return;
        }
        match self.uses.entry(id.to_owned()) {
            std::collections::hash_map::Entry::Occupied(mut n) => *n.get_mut() += 1,
            std::collections::hash_map::Entry::Vacant(n) => {
                n.insert(1);
                self.todo.push(id.to_owned());
            }
        }
    }

    /// The requests building `id` makes.
    fn build(&mut self, id: &str) {
        for to in self.requests(id) {
            self.used(to);
        }
    }

    /// The `resources` entries building `id` asks for, in order: its own, and those of each
    /// component it applies (once per application; a component already being applied is
    /// skipped, against a cycle).
    fn requests(&self, id: &str) -> Vec<&'g str> {
        fn gather<'g>(
            by_from: &FastMap<&'g str, Vec<&'g Edge>>,
            id: &str,
            applying: &mut Vec<&'g str>,
            out: &mut Vec<&'g str>,
        ) {
            for e in by_from.get(id).into_iter().flatten() {
                match e.kind {
                    EdgeKind::Resource => out.push(&e.to),
                    EdgeKind::Component if !applying.contains(&e.to.as_str()) => {
                        applying.push(&e.to);
                        gather(by_from, &e.to, applying, out);
                        applying.pop();
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        gather(&self.by_from, id, &mut Vec::new(), &mut out);
        out
    }

    /// The requests REF's render makes of this render's memo: REF builds again each root
    /// and kustomization the change reaches (`affected`), once, and asks for each build it
    /// names that the change does not reach, which the memo can serve: those, counted.
    fn ref_requests(&self, roots: &[String], affected: &NodeSet<'_>) -> FastMap<&'g str, usize> {
        let mut more: FastMap<&'g str, usize> = FastMap::default();
        let mut built: HashSet<String> = HashSet::new();
        let mut todo: Vec<String> = (roots.iter())
            .filter(|r| affected.contains(r.as_str()))
            .cloned()
            .collect();
        while let Some(id) = todo.pop() {
            if !built.insert(id.clone()) {
                continue;
            }
            for to in self.requests(&id) {
                if !self.is_kustomization(to) {
                    continue;
                }
                if affected.contains(to) {
                    todo.push(to.to_owned());
                } else {
                    *more.entry(to).or_default() += 1;
                }
            }
        }
        more
    }
}

/// The `resources` of an entry point's generated kustomization (JSON).
fn entry_resources(kustomization: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(kustomization) else {
        return Vec::new();
    };
    value["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::graph::GraphNode;

    fn node(id: &str, kind: NodeKind) -> GraphNode {
        GraphNode {
            id: id.to_owned(),
            kind,
            file: None,
            environment: None,
            cluster: None,
            exists: true,
        }
    }

    fn edge(from: &str, to: &str, kind: EdgeKind, line: u32) -> Edge {
        Edge {
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
            file: format!("{from}/kustomization.yaml"),
            line,
            column: 1,
        }
    }

    /// A graph of `nodes` and `edges` (sorted as the graph keeps them).
    fn graph(mut nodes: Vec<GraphNode>, mut edges: Vec<Edge>) -> RepoGraph {
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        edges.sort_by(|a, b| a.from.cmp(&b.from));
        RepoGraph {
            nodes,
            edges,
            ..RepoGraph::default()
        }
    }

    /// Two clusters over one overlay and its base, a component naming a second base, and an
    /// entry point deploying a cluster: each build is asked for once per root, per user's
    /// entry and per component application; what is not rendered is not counted.
    #[test]
    fn uses_follow_resources_components_and_entry_points() {
        let graph = graph(
            vec![
                node("base", NodeKind::Root),
                node("extra", NodeKind::Root),
                node("overlay", NodeKind::Root),
                node("comp", NodeKind::Component),
                node("c1", NodeKind::Root),
                node("c2", NodeKind::Root),
                node("unused", NodeKind::Root),
                node("base/deploy.yaml", NodeKind::File),
            ],
            vec![
                edge("overlay", "base", EdgeKind::Resource, 2),
                edge("overlay", "comp", EdgeKind::Component, 4),
                edge("comp", "extra", EdgeKind::Resource, 2),
                edge("c1", "overlay", EdgeKind::Resource, 2),
                edge("c2", "overlay", EdgeKind::Resource, 2),
                // The same base twice in one file is two requests.
                edge("c2", "base", EdgeKind::Resource, 3),
                edge("c2", "base", EdgeKind::Resource, 4),
                edge("base", "base/deploy.yaml", EdgeKind::Resource, 2),
                edge("unused", "base", EdgeKind::Resource, 2),
            ],
        );
        let root = Path::new("/repo");
        let entry = EntryRender {
            id: "Kustomization flux-system/c1".into(),
            file: "flux.yaml".into(),
            pos: crate::yaml::Pos::default(),
            path: "c1".into(),
            kustomization: r#"{"resources":["./c1"]}"#.into(),
            substitute: None,
            helm: None,
            note: None,
            generated_from: None,
        };
        let uses = expected_builds(&graph, root, &[root.join("c1"), root.join("c2")], &[entry]);
        let of = |id: &str| uses.get(&root.join(id)).copied();
        assert_eq!(of("c1"), Some(2));
        assert_eq!(of("c2"), Some(1));
        assert_eq!(of("overlay"), Some(2));
        assert_eq!(of("base"), Some(3));
        assert_eq!(of("extra"), Some(1));
        assert_eq!(of("unused"), None);
        assert_eq!(of("comp"), None);
        assert_eq!(of("base/deploy.yaml"), None);
    }

    /// The working tree's side of `diff --since` also counts what REF's render will ask its
    /// memo for: REF builds the cluster and the overlay the change reaches again, and asks
    /// for the overlay it does not reach, once (not for that overlay's base, which comes
    /// with it, nor for the changed base, which REF builds itself).
    #[test]
    fn refs_requests_are_counted_for_the_builds_the_change_does_not_reach() {
        let roots = ["cluster", "o1", "o2", "b1", "b2"];
        let files = ["b1/deploy.yaml", "b2/deploy.yaml"];
        let graph = graph(
            (roots.iter().map(|id| node(id, NodeKind::Root)))
                .chain(files.iter().map(|id| node(id, NodeKind::File)))
                .collect(),
            [
                ("cluster", "o1"),
                ("cluster", "o2"),
                ("o1", "b1"),
                ("o2", "b2"),
                ("b1", "b1/deploy.yaml"),
                ("b2", "b2/deploy.yaml"),
            ]
            .iter()
            .map(|(from, to)| edge(from, to, EdgeKind::Resource, 2))
            .collect(),
        );
        let root = Path::new("/repo");
        let roots = [root.join("cluster"), root.join("o1"), root.join("o2")];
        let changed: BTreeSet<String> = ["b1/deploy.yaml".to_owned()].into();
        let alone = expected_builds(&graph, root, &roots, &[]);
        let (then_ref, refs) = expected_builds_then_ref(&graph, root, &roots, &[], &changed);
        // REF's own counts, handed to it, are what it would count itself.
        assert_eq!(
            refs.iter().collect::<std::collections::BTreeMap<_, _>>(),
            alone.iter().collect::<std::collections::BTreeMap<_, _>>()
        );
        let of = |uses: &crate::source::PathMap<usize>, id: &str| uses.get(&root.join(id)).copied();
        for id in ["cluster", "o1", "o2", "b1", "b2"] {
            assert_eq!(
                of(&alone, id),
                Some(if id == "o1" || id == "o2" { 2 } else { 1 })
            );
        }
        assert_eq!(of(&then_ref, "o2"), Some(3));
        for id in ["cluster", "o1", "b1", "b2"] {
            assert_eq!(of(&then_ref, id), of(&alone, id), "{id}");
        }
    }
}
