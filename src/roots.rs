//! Checking rendered roots: every kustomization directory except Components is rendered
//! natively and its objects are evaluated, each finding pointing at the source line that
//! produced the offending field (base file, patch, or the kustomization entry that wrote it).
//! The same source line seen through many roots is one finding listing those roots.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::discover::{SourceFile, relative};
use crate::finding::{Finding, Location, ObjectRef, Severity};
use crate::policy::{EvalError, Evaluator, EvaluatorPool, PolicySet, Violation};
use crate::render::{RenderError, Renderer, Resource};
use crate::rules::{self, RuleInfo};
use crate::yaml::Pos;

/// What checking the roots produced.
pub struct RootsOutcome {
    pub findings: Vec<Finding>,
    pub roots: usize,
    pub objects: usize,
    /// Every file a render read (resources and patches): checked through rendering, so not
    /// again as plain manifests.
    pub consumed: BTreeSet<PathBuf>,
}

/// Kustomization directories that are roots (Components are not), sorted.
fn root_dirs(kustomizations: &[SourceFile], components: &[SourceFile]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = kustomizations
        .iter()
        .filter(|k| !components.contains(k))
        .filter_map(|k| k.abs.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

struct Shared<'a> {
    scan_root: &'a Path,
    renderer: &'a Renderer,
    rules: &'a BTreeMap<String, RuleInfo>,
    disabled: &'a [String],
    validators: &'a crate::validate::Validators,
    /// Policy results by (object, context other than the root): an object that comes out of
    /// several roots identical (a base seen through a cluster that includes it unchanged)
    /// is evaluated once. `None` when results depend on the root's other objects
    /// (Gatekeeper's inventory).
    memo: Option<Mutex<HashMap<u64, PolicyResults>>>,
    /// Whether policies read `data.kgate.root` (then the memo cannot share across roots).
    reads_root: bool,
}

type PolicyResults = Vec<Result<Violation, EvalError>>;

/// The memo key: the object and everything rules see of the context (the root path only when
/// a policy reads it).
fn memo_key(input: &serde_json::Value, context: &serde_json::Value, with_root: bool) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.to_string().hash(&mut h);
    if let serde_json::Value::Object(m) = context {
        for (k, v) in m.iter().filter(|(k, _)| with_root || *k != "root") {
            k.hash(&mut h);
            v.to_string().hash(&mut h);
        }
    }
    h.finish()
}

fn location_of(
    s: &Shared<'_>,
    r: &Resource,
    file: crate::yaml::FileId,
    pos: Pos,
    end: Option<Pos>,
) -> Location {
    let path = s
        .renderer
        .file_path(file)
        .unwrap_or_else(|| r.source.clone());
    let pos = if pos == Pos::default() {
        Pos { line: 1, column: 1 }
    } else {
        pos
    };
    let mut loc = Location::new(relative(s.scan_root, &path), pos);
    if let Some(end) = end {
        loc = loc.with_end(end);
    }
    loc
}

/// Rendered objects: a node's file is the renderer's file id, falling back to the file the
/// object was read from (or the kustomization that generated it).
struct RenderedLocator<'a> {
    shared: &'a Shared<'a>,
    resource: &'a Resource,
}

impl crate::evaluate::Locator for RenderedLocator<'_> {
    fn location(&self, file: crate::yaml::FileId, pos: Pos, end: Option<Pos>) -> Location {
        location_of(self.shared, self.resource, file, pos, end)
    }
}

fn object_ref(r: &Resource) -> ObjectRef {
    ObjectRef {
        api_version: r.api_version().to_owned(),
        kind: r.kind().to_owned(),
        namespace: Some(r.namespace().to_owned()).filter(|n| !n.is_empty()),
        name: Some(r.name().to_owned()).filter(|n| !n.is_empty()),
    }
}

fn render_error_finding(s: &Shared<'_>, e: &RenderError, root: &str) -> Finding {
    if e.unavailable {
        return Finding {
            rule: rules::RENDER_UNAVAILABLE.to_owned(),
            severity: Severity::Note,
            message: e.message.clone(),
            help: "Render the chart in CI (`kustomize build --enable-helm`) and check the output with `kgate check` until Helm rendering lands.".to_owned(),
            location: Location::new(relative(s.scan_root, &e.file), e.pos),
            object: None,
            pointer: None,
            roots: vec![root.to_owned()],
        };
    }
    Finding {
        rule: rules::RENDER_ERROR.to_owned(),
        severity: Severity::Error,
        message: e.message.clone(),
        help: "Fix the kustomization so that `kustomize build` succeeds; nothing in this root was checked.".to_owned(),
        location: Location::new(relative(s.scan_root, &e.file), e.pos),
        object: None,
        pointer: None,
        roots: vec![root.to_owned()],
    }
}

fn check_root(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    dir: &Path,
    settings: &crate::context::ContextSettings,
) -> (Vec<Finding>, usize) {
    let rel = relative(s.scan_root, dir);
    let resources = match s.renderer.render(dir) {
        Ok(r) => r,
        Err(e) => return (vec![render_error_finding(s, &e, &rel)], 0),
    };
    let context = settings.for_root(Some(&rel));
    let validator = s
        .validators
        .for_context(context["environment"].as_str(), context["cluster"].as_str());
    let roots = [rel.clone()];
    let enabled = |id: &str| !s.disabled.iter().any(|d| d == id);
    let inputs: Vec<serde_json::Value> = resources.iter().map(|r| r.node.to_json()).collect();
    ev.set_inventory(&inputs);
    let mut per_object: Vec<Vec<Result<Violation, EvalError>>> = resources
        .iter()
        .zip(&inputs)
        .map(|(_, input)| {
            let mut results = crate::check::schema_results(validator, input, s.disabled);
            let key = s
                .memo
                .as_ref()
                .map(|_| memo_key(input, &context, s.reads_root));
            let cached = key.and_then(|k| {
                s.memo
                    .as_ref()
                    .and_then(|m| m.lock().ok().and_then(|m| m.get(&k).cloned()))
            });
            let policy = match cached {
                Some(hit) => hit,
                None => {
                    let fresh = ev.evaluate(input.clone(), &context, enabled);
                    if let (Some(k), Some(m)) = (key, &s.memo)
                        && let Ok(mut m) = m.lock()
                    {
                        m.insert(k, fresh.clone());
                    }
                    fresh
                }
            };
            results.extend(policy);
            results
        })
        .collect();
    // Rules across objects (`custom.scope: root`) name the object each finding concerns.
    for result in ev.evaluate_root(&inputs, &context, enabled) {
        let index = match &result {
            Ok(v) => v.object.filter(|i| *i < resources.len()),
            Err(_) => Some(0),
        };
        match (index, result) {
            (Some(i), r) if !per_object.is_empty() => per_object[i].push(r),
            (_, Ok(v)) => per_object.get_mut(0).into_iter().for_each(|p| {
                p.push(Err(EvalError {
                    rule: v.rule.clone(),
                    message: format!(
                        "a root-scope violation must name its object by index (`object`): {}",
                        v.message
                    ),
                }))
            }),
            (_, Err(_)) => {}
        }
    }
    let mut out = Vec::new();
    for (r, results) in resources.iter().zip(per_object) {
        let locator = RenderedLocator {
            shared: s,
            resource: r,
        };
        let mut found =
            crate::evaluate::findings(results, &r.node, &object_ref(r), &roots, s.rules, &locator);
        crate::check::strict_severity(&mut found, validator.strict());
        out.extend(found);
    }
    (out, resources.len())
}

/// Merges findings that come from the same source line through different roots: one
/// finding per line and problem, listing every root. The rendered pointer is not part of the
/// identity (a component's patch may put the same container at another index in one root);
/// the pointer and object shown are those the first root (in path order) sees.
pub fn merge_across_roots(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: BTreeMap<(String, Location, String), Finding> = BTreeMap::new();
    for f in findings {
        let key = (f.rule.clone(), f.location.clone(), f.message.clone());
        match merged.get_mut(&key) {
            Some(existing) => {
                if (&f.roots, &f.object, &f.pointer)
                    < (&existing.roots, &existing.object, &existing.pointer)
                {
                    existing.object = f.object;
                    existing.pointer = f.pointer;
                }
                existing.roots.extend(f.roots);
                existing.roots.sort();
                existing.roots.dedup();
            }
            None => {
                merged.insert(key, f);
            }
        }
    }
    merged.into_values().collect()
}

/// Renders and checks every root among `kustomizations`.
/// What checking roots needs from the configuration.
pub struct RootSettings<'a> {
    pub rules: &'a BTreeMap<String, RuleInfo>,
    pub disabled: &'a [String],
    pub context: &'a crate::context::ContextSettings,
    pub max_file_size: u64,
    pub validators: &'a crate::validate::Validators,
    pub progress: Option<&'a crate::check::Progress>,
}

pub fn check_roots(
    scan_root: &Path,
    repo_root: &Path,
    kustomizations: &[SourceFile],
    components: &[SourceFile],
    policies: &PolicySet,
    settings: &RootSettings<'_>,
) -> RootsOutcome {
    let renderer = Renderer::new(repo_root).with_max_file_size(settings.max_file_size);
    let dirs = root_dirs(kustomizations, components);
    let context = settings.context;
    let shared = Shared {
        scan_root,
        renderer: &renderer,
        rules: settings.rules,
        disabled: settings.disabled,
        validators: settings.validators,
        memo: policies
            .gatekeeper_rules()
            .is_empty()
            .then(|| Mutex::new(HashMap::new())),
        reads_root: policies.reads_root(),
    };
    let evaluators = EvaluatorPool::new(policies);
    if let Some(p) = settings.progress {
        p.total
            .store(dirs.len(), std::sync::atomic::Ordering::Relaxed);
    }
    let per_root: Vec<(Vec<Finding>, usize)> = dirs
        .par_iter()
        .map(|dir| {
            let out = evaluators.with(|ev| check_root(&shared, ev, dir, context));
            if let Some(p) = settings.progress {
                p.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            out
        })
        .collect();
    let mut findings = Vec::new();
    let mut objects = 0;
    for (f, n) in per_root {
        findings.extend(f);
        objects += n;
    }
    RootsOutcome {
        findings: merge_across_roots(findings),
        roots: dirs.len(),
        objects,
        consumed: renderer.files_read().into_iter().collect(),
    }
}
