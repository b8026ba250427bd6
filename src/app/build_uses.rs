//! How many times a check's render asks for each kustomization directory's build, from the
//! repository graph: once per root rendered, once per `resources` entry naming it in each
//! build that uses it (a build is made once and then served by the memo), once per
//! application of a component naming it, and once per directory an entry point's generated
//! kustomization lists. The renderer's memo drops a build after its last use
//! (`Renderer::expecting`); a use the count misses only costs a second build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::discover::graph::{Edge, EdgeKind, NodeKind, RepoGraph};
use crate::render::entry::EntryRender;
use crate::source::{lexical, relative};

/// The counts, keyed by the directories' canonical paths (the renderer's memo keys).
pub fn expected_builds(
    graph: &RepoGraph,
    scan_root: &Path,
    roots: &[PathBuf],
    entries: &[EntryRender],
) -> crate::source::PathMap<usize> {
    let mut count = Count {
        graph,
        by_from: HashMap::new(),
        uses: HashMap::new(),
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
        count.build(&id, &mut Vec::new());
    }
    let canonical = std::fs::canonicalize(scan_root).unwrap_or_else(|_| scan_root.to_owned());
    count
        .uses
        .into_iter()
        .map(|(id, n)| (lexical(&canonical.join(id)), n))
        .collect()
}

struct Count<'g> {
    graph: &'g RepoGraph,
    /// The `resources` and `components` edges of each node.
    by_from: HashMap<&'g str, Vec<&'g Edge>>,
    /// The requests for each kustomization; one first asked for is queued to be built (once).
    uses: HashMap<String, usize>,
    todo: Vec<String>,
}

impl Count<'_> {
    /// One request for `id`'s build, when it is a kustomization.
    fn used(&mut self, id: &str) {
        if self.graph.node(id).is_none_or(|n| n.kind != NodeKind::Root) {
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

    /// The requests building `id` makes (a kustomization, or a component applied once);
    /// `applying` holds the components being applied, against a cycle.
    fn build(&mut self, id: &str, applying: &mut Vec<String>) {
        let edges = self.by_from.get(id).cloned().unwrap_or_default();
        for e in edges {
            match e.kind {
                EdgeKind::Resource => self.used(&e.to),
                EdgeKind::Component if !applying.contains(&e.to) => {
                    applying.push(e.to.clone());
                    self.build(&e.to, applying);
                    applying.pop();
                }
                _ => {}
            }
        }
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

    /// Two clusters over one overlay and its base, a component naming a second base, and an
    /// entry point deploying a cluster: each build is asked for once per root, per user's
    /// entry and per component application; what is not rendered is not counted.
    #[test]
    fn uses_follow_resources_components_and_entry_points() {
        let mut nodes = vec![
            node("base", NodeKind::Root),
            node("extra", NodeKind::Root),
            node("overlay", NodeKind::Root),
            node("comp", NodeKind::Component),
            node("c1", NodeKind::Root),
            node("c2", NodeKind::Root),
            node("unused", NodeKind::Root),
            node("base/deploy.yaml", NodeKind::File),
        ];
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let graph = RepoGraph {
            nodes,
            edges: vec![
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
            ..RepoGraph::default()
        };
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
}
