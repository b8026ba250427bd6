//! The repository as the repo-structure rules (`custom.scope: repo`) see it: apps with their
//! base and overlays, clusters, the roots and edges of the graph, and which clusters deploy
//! which app. Reachability is computed here, once, rather than in Rego.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::discover::graph::{EdgeKind, GraphNode, NodeKind, RepoGraph};

/// `input` for repository rules. `app_globs` are the `layout.apps` patterns (`apps/*`).
pub fn repo_input(graph: &RepoGraph, environments: &[String], app_globs: &[String]) -> Value {
    let apps = app_roots(graph, app_globs);
    let clusters = cluster_roots(graph);
    let deployed_by = deployed_by(graph, &clusters);
    let apps: Vec<Value> = apps
        .into_iter()
        .map(|(path, (base, overlays))| {
            let mut clusters: BTreeSet<&str> = BTreeSet::new();
            for o in overlays.values().chain(base.iter()) {
                clusters.extend(deployed_by.get(o.as_str()).into_iter().flatten());
            }
            json!({
                "name": path.rsplit('/').next().unwrap_or(&path),
                "path": path,
                "base": base,
                "overlays": overlays,
                "clusters": clusters,
            })
        })
        .collect();
    let clusters: Vec<Value> = clusters
        .iter()
        .map(|c| {
            json!({
                "name": c.cluster,
                "path": c.id,
                "file": c.file,
                "environment": c.environment,
                "entryPoints": cluster_entry_points(graph, c),
            })
        })
        .collect();
    // What uses each node: kustomizations listing it, entry points deploying it.
    let mut used_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &graph.edges {
        used_by
            .entry(e.to.as_str())
            .or_default()
            .insert(e.from.as_str());
    }
    let with_used_by = |n: &GraphNode| {
        let mut v = serde_json::to_value(n).unwrap_or(Value::Null);
        v["usedBy"] = json!(used_by.get(n.id.as_str()).cloned().unwrap_or_default());
        v
    };
    let roots: Vec<Value> = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Root | NodeKind::Component))
        .map(with_used_by)
        .collect();
    let entry_point_nodes: Vec<Value> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::EntryPoint)
        .map(with_used_by)
        .collect();
    json!({
        "environments": environments,
        "apps": apps,
        "clusters": clusters,
        "roots": roots,
        "entryPoints": entry_point_nodes,
        "edges": serde_json::to_value(&graph.edges).unwrap_or(Value::Null),
    })
}

/// An app's base root (if any) and its overlay root per environment.
type AppRoots = (Option<String>, BTreeMap<String, String>);

/// The apps by path: directories matching an `app_globs` pattern that hold roots. Flux's
/// reference layout is read too: `apps/base/<app>` are the apps' bases and each sibling of
/// `base` (`apps/staging`, `apps/production`) that uses one is its overlay for that
/// environment; `apps/base` is not an app named `base`.
fn app_roots(graph: &RepoGraph, app_globs: &[String]) -> BTreeMap<String, AppRoots> {
    let matchers: Vec<globset::GlobMatcher> = app_globs
        .iter()
        .filter_map(|g| {
            globset::GlobBuilder::new(g.trim_start_matches("./").trim_end_matches('/'))
                .literal_separator(true)
                .build()
                .ok()
        })
        .map(|g| g.compile_matcher())
        .collect();
    // An app is a directory matching a pattern that holds roots: its `base`, and an overlay
    // per environment (a root below it with an environment, by the path conventions).
    let mut apps: BTreeMap<String, AppRoots> = BTreeMap::new();
    for n in graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Root && n.exists)
    {
        let parts: Vec<&str> = n.id.split('/').collect();
        let Some((k, app)) = (1..parts.len())
            .map(|k| (k, parts[..k].join("/")))
            .find(|(_, prefix)| matchers.iter().any(|m| m.is_match(prefix)))
        else {
            continue;
        };
        if parts[k - 1] == "base" {
            // Flux's layout: the app is the directory below `base`, its own base.
            let app = parts[..=k].join("/");
            let entry = apps.entry(app.clone()).or_default();
            if n.id == app {
                entry.0 = Some(app.clone());
                entry
                    .1
                    .extend(flux_overlays(graph, &app, &parts[..k - 1].join("/")));
            }
            continue;
        }
        let entry = apps.entry(app.clone()).or_default();
        if n.id == format!("{app}/base") {
            entry.0 = Some(n.id.clone());
        } else if let Some(env) = &n.environment {
            // The shallowest root of an environment is its overlay.
            let e = entry.1.entry(env.clone()).or_insert_with(|| n.id.clone());
            if n.id.len() < e.len() {
                *e = n.id.clone();
            }
        }
    }
    apps
}

/// Flux's layout: the roots `<parent>/<env>` that use the app's base `base` directly, by
/// environment name.
fn flux_overlays(graph: &RepoGraph, base: &str, parent: &str) -> Vec<(String, String)> {
    graph
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Resource && e.to == base)
        .filter_map(|e| {
            let env = e.from.strip_prefix(parent)?.strip_prefix('/')?;
            (!env.contains('/') && env != "base").then(|| (env.to_owned(), e.from.clone()))
        })
        .collect()
}

/// The existing cluster roots: each cluster's own directory, not the kustomizations below it.
fn cluster_roots(graph: &RepoGraph) -> Vec<&GraphNode> {
    graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Root && n.cluster.is_some() && n.exists)
        // The cluster directory itself, not the kustomizations below it.
        .filter(|n| {
            let parent = n.id.rsplit_once('/').map_or("", |(p, _)| p);
            !graph
                .nodes
                .iter()
                .any(|m| m.kind == NodeKind::Root && m.cluster == n.cluster && m.id == parent)
        })
        .collect()
}

/// The entry points that deploy the root `id`: those whose path is the root, or a directory
/// above it that is not a kustomization (Flux builds every kustomization below such a path,
/// as the bootstrap `flux-system` Kustomization deploys `clusters/<name>`).
fn entry_points_of<'a>(graph: &'a RepoGraph, id: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = graph
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Deploys)
        .filter(|e| {
            e.to == id
                || (crate::discover::graph::at_or_under(id, &e.to)
                    && graph
                        .node(&e.to)
                        .is_some_and(|n| n.kind == NodeKind::Directory))
        })
        .map(|e| e.from.as_str())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The entry points that deploy a cluster root. A cluster's `flux-system` directory is Flux's
/// bootstrap: `flux bootstrap` applies it and writes its `gotk-sync.yaml` (the Kustomization
/// that deploys the cluster directory), which repositories often commit as a placeholder
/// comment; the bootstrap counts as its entry point.
fn cluster_entry_points<'a>(graph: &'a RepoGraph, c: &'a GraphNode) -> Vec<&'a str> {
    let found = entry_points_of(graph, &c.id);
    if found.is_empty() && c.id.rsplit('/').next() == Some("flux-system") {
        return vec!["flux bootstrap"];
    }
    found
}

/// The directory of a cluster root: its shortest ancestor (or itself) whose last segment
/// holds the cluster's name (`clusters/production` for `clusters/production/flux-system`).
fn cluster_dir(c: &GraphNode) -> &str {
    let name = c.cluster.as_deref().unwrap_or_default();
    c.id.match_indices('/')
        .map(|(i, _)| &c.id[..i])
        .chain(std::iter::once(c.id.as_str()))
        .find(|prefix| {
            prefix
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(name))
        })
        .unwrap_or(&c.id)
}

/// For each node, the clusters that deploy it, transitively: through resources and
/// components, and through the Argo CD and Flux entry points declared in the cluster's
/// directory (and the paths they deploy, a plain directory counting for every root below).
fn deployed_by<'a>(
    graph: &'a RepoGraph,
    clusters: &[&'a GraphNode],
) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let mut forward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &graph.edges {
        if matches!(
            e.kind,
            EdgeKind::Resource | EdgeKind::Component | EdgeKind::Deploys
        ) {
            forward
                .entry(e.from.as_str())
                .or_default()
                .push(e.to.as_str());
        }
    }
    for dir in graph.nodes.iter().filter(|n| n.kind == NodeKind::Directory) {
        let below = graph.nodes.iter().filter(|n| {
            n.kind == NodeKind::Root
                && n.id != dir.id
                && crate::discover::graph::at_or_under(&n.id, &dir.id)
        });
        forward
            .entry(dir.id.as_str())
            .or_default()
            .extend(below.map(|n| n.id.as_str()));
    }
    let mut deployed_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in clusters {
        let dir = cluster_dir(c);
        let mut seen = BTreeSet::new();
        let mut stack = vec![c.id.as_str()];
        stack.extend(
            graph
                .nodes
                .iter()
                .filter(|n| n.kind == NodeKind::EntryPoint)
                .filter(|n| {
                    n.file
                        .as_deref()
                        .is_some_and(|f| crate::discover::graph::at_or_under(f, dir))
                })
                .map(|n| n.id.as_str()),
        );
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            deployed_by.entry(n).or_default().insert(c.id.as_str());
            stack.extend(forward.get(n).into_iter().flatten());
        }
    }
    deployed_by
}
