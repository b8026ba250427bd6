//! The crate's shape, kept by a test: modules depend downward only, and no two source files
//! import each other (directly or through others).
//!
//! ```text
//! app -> {discover, render, validate, policy, gate, report} -> config -> source -> model -> yaml
//! ```
//!
//! Stages do not import one another: they exchange plain data from `model`. Imports are read
//! from the source text (`crate::a::b` and `super::x` paths, in `use` lines and inline), so a
//! new edge shows up here before it becomes a cycle. `docs/architecture.md` explains the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of each top-level module of the library; a module may import only lower layers
/// (and its own files).
const LAYERS: &[(&str, u32)] = &[
    ("yaml", 0),
    ("model", 1),
    ("source", 2),
    ("config", 3),
    ("discover", 4),
    ("render", 4),
    ("validate", 4),
    ("policy", 4),
    ("gate", 4),
    ("report", 4),
    ("app", 5),
];

/// No source file may grow past this many lines.
const MAX_LINES: usize = 1200;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/render/kustomize/engine.rs` -> `["render", "kustomize", "engine"]`; `mod.rs` names its
/// directory.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

/// Every module path `text` names through `crate::` or `super::` (with `{a, b::c}` groups
/// expanded), comments excluded.
fn referenced_paths(me: &[String], text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path_re = regex::Regex::new(r"\b(crate|super)((?:::[A-Za-z_0-9]+)*)(::\{[^}]*\})?")
        .expect("valid regex");
    let mut out = Vec::new();
    for c in path_re.captures_iter(&code) {
        let mut base: Vec<String> = if &c[1] == "crate" {
            Vec::new()
        } else {
            // `super` of module `a::b` (`a/b.rs` or `a/b/mod.rs`) is `a`.
            let mut p = me.to_vec();
            p.pop();
            p
        };
        base.extend(
            c[2].split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        match c.get(3) {
            Some(group) => {
                let inner = group
                    .as_str()
                    .trim_start_matches("::{")
                    .trim_end_matches('}');
                for item in inner.split(',') {
                    let mut p = base.clone();
                    p.extend(
                        item.split("::")
                            .map(str::trim)
                            .filter(|s| !s.is_empty() && *s != "self")
                            .map(str::to_owned),
                    );
                    out.push(p);
                }
            }
            None => out.push(base),
        }
    }
    out
}

struct Crate {
    /// Module path -> file.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// Module -> the modules (files) it imports.
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn read_crate() -> Crate {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: BTreeMap<Vec<String>, PathBuf> = paths
        .iter()
        .filter(|p| !p.starts_with(src.join("cli")) && !p.ends_with("main.rs"))
        .map(|p| (module_path(&src, p), p.clone()))
        .collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (me, file) in &files {
        let text = std::fs::read_to_string(file).expect("source is readable");
        for mut p in referenced_paths(me, &text) {
            // The longest prefix that is a file is the module imported.
            while !p.is_empty() && !files.contains_key(&p) {
                p.pop();
            }
            if !p.is_empty() && &p != me {
                edges.entry(me.clone()).or_default().insert(p);
            }
        }
    }
    Crate { files, edges }
}

#[test]
fn modules_import_only_lower_layers_and_no_stage_imports_another() {
    let krate = read_crate();
    let layers: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (from, targets) in &krate.edges {
        let Some(top) = from.first() else { continue };
        let Some(&from_layer) = layers.get(top.as_str()) else {
            wrong.push(format!("{}: module not in LAYERS", from.join("/")));
            continue;
        };
        for to in targets {
            let to_top = &to[0];
            if to_top == top {
                continue;
            }
            let to_layer = layers.get(to_top.as_str()).copied().unwrap_or(u32::MAX);
            if to_layer >= from_layer {
                wrong.push(format!("{} -> {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layer order (see docs/architecture.md):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_cycle_between_files() {
    let krate = read_crate();
    // Tarjan's strongly connected components over the file graph.
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a [String], usize>,
        low: BTreeMap<&'a [String], usize>,
        stack: Vec<&'a [String]>,
        on_stack: BTreeSet<&'a [String]>,
        cycles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a [String]) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w: &'a [String] = w.as_slice();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.join("/"));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.cycles.push(component);
            }
        }
    }
    let mut s = State {
        edges: &krate.edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        cycles: Vec::new(),
    };
    for m in krate.files.keys() {
        if !s.index.contains_key(m.as_slice()) {
            visit(&mut s, m.as_slice());
        }
    }
    assert!(
        s.cycles.is_empty(),
        "files that import each other (break the cycle by moving the shared type down): {:?}",
        s.cycles
    );
}

#[test]
fn no_source_file_is_too_long() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let long: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(p).ok()?.lines().count();
            (n > MAX_LINES).then(|| format!("{}: {n} lines", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    // The reader must find `crate::` and `super::` imports, grouped or not, and ignore
    // comments; otherwise the tests above would pass vacuously.
    let me = vec![
        "render".to_owned(),
        "kustomize".to_owned(),
        "engine".to_owned(),
    ];
    let text = "use crate::model::{Finding, rules::RuleInfo};\nuse super::vars::x;\n// crate::app::check\nlet a = crate::yaml::Pos::default();";
    let got = referenced_paths(&me, text);
    assert!(got.contains(&vec!["model".into(), "Finding".into()]));
    assert!(got.contains(&vec!["model".into(), "rules".into(), "RuleInfo".into()]));
    assert!(got.contains(&vec![
        "render".into(),
        "kustomize".into(),
        "vars".into(),
        "x".into()
    ]));
    assert!(got.contains(&vec!["yaml".into(), "Pos".into(), "default".into()]));
    assert!(!got.iter().any(|p| p.first().is_some_and(|f| f == "app")));
    let krate = read_crate();
    assert!(krate.files.len() > 40, "{} files", krate.files.len());
    let app_check = krate
        .edges
        .get(&vec!["app".to_owned(), "check".to_owned()])
        .expect("app/check imports");
    assert!(app_check.contains(&vec!["app".to_owned(), "settings".to_owned()]));
}
