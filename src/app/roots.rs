//! Checking rendered roots: every kustomization directory except Components is rendered
//! natively and its objects are evaluated, each finding pointing at the source line that
//! produced the offending field (base file, patch, or the kustomization entry that wrote it).
//! The same source line seen through many roots is one finding listing those roots.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::discover::{SourceFile, relative};
use crate::model::rules::{self, RuleInfo};
use crate::model::{Finding, Location, ObjectRef, Severity};
use crate::policy::reads::Reads;
use crate::policy::{EvalError, Evaluator, EvaluatorPool, PolicySet, Violation};
use crate::render::{RenderError, Renderer, Resource};
use crate::yaml::Pos;

use super::handover::{Rendering, RendersDone, RootChecked, RootChecks, RootsPlan};
pub use super::merge::merge_across_roots;
use super::object_scope::{ObjectScope, RootScope};
use super::results_memo::{Memoized, PolicyResults, memo_key, root_key};
pub use super::results_memo::{ResultsMemo, SharedResults};
use super::schedule::RendersFirst;

mod bases;
mod taken;

use bases::{kept_base_findings, surely_covered};

/// What checking the roots produced.
pub struct RootsOutcome {
    pub findings: Vec<Finding>,
    pub roots: usize,
    pub objects: usize,
    /// Objects evaluated: with `--changed-since`, those the change can affect.
    pub evaluated: usize,
    /// Every file a render read (resources and patches): checked through rendering, so not
    /// again as plain manifests. (A hash set: ordering a repository's few thousand paths took
    /// milliseconds, each comparison walking both paths' components.)
    pub consumed: crate::source::PathSet,
    /// The rendered objects (or the render error) of the kustomization roots named in
    /// `RootSettings::keep`, by root.
    pub rendered: Rendered,
    /// The renderer's memo, with `RootSettings::keep` and no `RootSettings::reuse`.
    pub memo: Option<crate::render::Memo>,
    /// How many times Helm ran.
    pub helm_runs: usize,
    /// How many object and root evaluations the results by content spared this check.
    pub results_reused: (usize, usize),
    /// The roots whose check was taken from the other check's
    /// ([`RootSettings::root_checks`]): their findings and counts are not in this outcome,
    /// nor their renders in `rendered` (they render as the other check's).
    pub taken: BTreeSet<String>,
}

/// Rendered roots handed back to the caller (`kgate diff --since` compares them rather than
/// rendering every root a second time).
pub type Rendered = BTreeMap<String, Result<Vec<Resource>, RenderError>>;

/// Kustomization directories that are roots (Components are not), sorted.
pub(super) fn root_dirs(kustomizations: &[SourceFile], components: &[SourceFile]) -> Vec<PathBuf> {
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
    /// Policy results by content (see [`ResultsMemo`]). `None` when results depend on the
    /// root's other objects (Gatekeeper's inventory).
    memo: Option<SharedResults>,
    /// How many object and root evaluations the memo spared this check (another check
    /// sharing the memo counts its own).
    hits: [std::sync::atomic::AtomicUsize; 2],
    /// Whether rules across objects are memoized too: only for `kgate diff --since` (its
    /// checks keep their renders), whose REF side starts from the working tree's results
    /// (within one check, hashing every root's objects costs about what the few equal roots
    /// save: session 7's measurement in `benches/RESULTS.md`).
    memo_roots: bool,
    /// What policies read of objects and contexts (what the memo key keeps).
    reads: &'a Reads,
    /// Roots that are only bases of other roots, with the nodes that use them.
    bases: &'a BTreeMap<String, Vec<String>>,
    /// Findings of the rules across objects on each base, kept only where no root that
    /// uses the base renders (`kept_base_findings`).
    base_findings: Mutex<Vec<(String, Vec<Finding>)>>,
    /// Roots that did not render.
    failed: Mutex<BTreeSet<String>>,
    /// The roots this check renders, and those rendered (or failed) so far.
    rendering: BTreeSet<String>,
    done: Mutex<BTreeSet<String>>,
    /// The severity of a chart root's finding when Helm is missing (`helm.missingSeverity`).
    missing_helm: Severity,
    /// With `--changed-since`: which objects the change can affect.
    scope: Option<&'a ObjectScope<'a>>,
    /// Objects evaluated (all, or those the change can affect).
    affected_objects: std::sync::atomic::AtomicUsize,
    /// Whether each file id's file changed (`affects` asks it of every node's file: a
    /// cluster root's thousand objects share a few hundred files).
    changed_ids: Mutex<HashMap<crate::yaml::FileId, bool>>,
    /// Roots whose render to keep (`RootSettings::keep`), and what was kept.
    keep: Option<&'a BTreeSet<String>>,
    kept: Mutex<Rendered>,
    /// Units of work whose render has not returned yet, and what to tell each time one
    /// returns, with how many are left ([`RootSettings::on_rendered`]).
    renders_left: std::sync::atomic::AtomicUsize,
    on_left: &'a (dyn Fn(usize) + Sync),
    /// Where the checks of roots that are no base go, for the other check to take
    /// ([`RootSettings::root_checks`]), and where this check takes them from.
    checks_out: Option<&'a RootChecks>,
    checks_in: Option<&'a RootChecks>,
    /// The roots whose check this check took from the other (`taken::take_check`).
    taken: Mutex<BTreeSet<String>>,
}

impl Shared<'_> {
    /// Root `rel` rendered (`ok`) or failed: done, failed, told to the other check, and
    /// counted as rendered last (the last count hands the memo over, after which the other
    /// check asks what was told).
    fn root_rendered(&self, rel: &str, ok: bool) {
        if let (false, Ok(mut failed)) = (ok, self.failed.lock()) {
            failed.insert(rel.to_owned());
        }
        if let Ok(mut done) = self.done.lock() {
            done.insert(rel.to_owned());
        }
        self.publish_render(rel, ok);
        self.rendered();
    }

    /// One unit of work's render has returned (a root's, or a whole entry point's or chart's).
    fn rendered(&self) {
        let before = self
            .renders_left
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        (self.on_left)(before - 1);
    }
}

/// The results of `compute` for `key` among the memo's results `of`, computed once.
fn memoized(
    s: &Shared<'_>,
    key: impl Fn(&Shared<'_>) -> u64,
    of: Memoized,
    compute: impl FnOnce() -> PolicyResults,
) -> PolicyResults {
    let Some(memo) = &s.memo else {
        return compute();
    };
    let key = key(s);
    let hit = memo
        .lock()
        .ok()
        .and_then(|mut m| m.map(of).get(&key).cloned());
    if let Some(hit) = hit {
        s.hits[of as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return hit;
    }
    let fresh = compute();
    if let Ok(mut m) = memo.lock() {
        m.map(of).insert(key, fresh.clone());
    }
    fresh
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
    // Helm output located at a values line: the template line that wrote the field.
    if let Some((tf, tp)) = r.template_origin(file, pos.line)
        && let Some(template) = s.renderer.file_path(tf)
    {
        loc.related = Some(Box::new(Location::new(
            relative(s.scan_root, &template),
            tp,
        )));
    }
    loc
}

/// Rendered objects: a node's file is the renderer's file id, falling back to the file the
/// object was read from (or the kustomization that generated it).
struct RenderedLocator<'a> {
    shared: &'a Shared<'a>,
    resource: &'a Resource,
}

impl crate::policy::findings::Locator for RenderedLocator<'_> {
    fn location(&self, file: crate::yaml::FileId, pos: Pos, end: Option<Pos>) -> Location {
        location_of(self.shared, self.resource, file, pos, end)
    }

    fn removed(&self, pointer: &str) -> Option<Location> {
        let (file, pos) = self.resource.removed_field(pointer)?;
        Some(location_of(self.shared, self.resource, file, pos, None))
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
    if crate::render::helm::output::is_missing_helm(e) {
        return Finding {
            hide_source: false,
            rule: rules::RENDER_UNAVAILABLE.to_owned(),
            severity: s.missing_helm,
            message: e.message.clone(),
            help: crate::render::helm::INSTALL_HINT.to_owned(),
            location: Location::new(relative(s.scan_root, &e.file), e.pos),
            object: None,
            pointer: None,
            roots: vec![root.to_owned()],
        };
    }
    if e.unavailable {
        return Finding {
            hide_source: false,
            rule: rules::RENDER_UNAVAILABLE.to_owned(),
            severity: Severity::Note,
            message: e.message.clone(),
            help: "Vendor what the root needs into the repository (or allow what it needs, such as `helm.allowNetwork`), or render it in CI and check the output with `kgate check`.".to_owned(),
            location: Location::new(relative(s.scan_root, &e.file), e.pos),
            object: None,
            pointer: None,
            roots: vec![root.to_owned()],
        };
    }
    Finding {
        hide_source: false,
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
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    // Its findings and counts come with the other check's (`RootsOutcome::taken`).
    if s.take_check(dir) {
        return RootChecked::default();
    }
    let rendered = render_root(s, dir);
    check_root_render(s, ev, rendered, settings)
}

/// A kustomization root rendered, named as the graph names it, and counted as rendered.
type RootRender = (String, Result<Vec<Resource>, RenderError>);

/// A root's findings and how many objects it checked (and the change can affect).
type Checked = RootChecked;

/// [`check_root`]'s render.
fn render_root(s: &Shared<'_>, dir: &Path) -> RootRender {
    let rel = relative(s.scan_root, dir);
    let rendered = s.renderer.render(dir);
    s.root_rendered(&rel, rendered.is_ok());
    (rel, rendered)
}

/// [`check_root`]'s checks of its render.
fn check_root_render(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    (rel, rendered): RootRender,
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    let checked = match rendered {
        Ok(resources) => check_rendered(s, ev, (&rel, &rel, Some(&rel)), resources, settings),
        Err(e) => {
            let finding = render_error_finding(s, &e, &rel);
            keep_render(s, &rel, Err(e));
            RootChecked::failed(finding)
        }
    };
    s.publish_check(&rel, &checked);
    checked
}

/// An Argo CD Application whose path is a chart: the chart rendered as Argo CD renders it
/// (release name, destination namespace, value files, values, parameters).
fn check_helm_entry(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    helm: &crate::render::helm::Helm,
    e: &crate::render::entry::EntryRender,
    source: &crate::render::entry::HelmSource,
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    let at_entry = |message: String, unavailable: bool| {
        let mut err = crate::render::RenderError::at(&s.scan_root.join(&e.file), e.pos, message);
        err.unavailable = unavailable;
        RootChecked::failed(render_error_finding(s, &err, &e.id))
    };
    if let Some(remote) = &source.remote {
        return at_entry(
            format!(
                "{}: {remote} needs the network (a chart repository), so it was not rendered",
                e.id
            ),
            true,
        );
    }
    if let Some(m) = source.missing.first() {
        return at_entry(
            format!("{}: values from {m}, which is not in the repository", e.id),
            false,
        );
    }
    let chart = s.scan_root.join(&e.path);
    let chart = std::fs::canonicalize(&chart).unwrap_or(chart);
    let mut values_files = Vec::new();
    let mut set_file = Vec::new();
    let named = source.file_parameters.iter().map(|(n, f)| (Some(n), f));
    for (name, f) in source.value_files.iter().map(|f| (None, f)).chain(named) {
        let path = s.scan_root.join(f);
        match std::fs::canonicalize(&path) {
            Ok(p) if p.starts_with(s.scan_root) => {
                // Read as Helm values: not a plain manifest.
                s.renderer.file_id(&p);
                match name {
                    Some(n) => set_file.push((n.clone(), p)),
                    None => values_files.push(p),
                }
            }
            _ => {
                return at_entry(
                    format!("{}: value file {f} is not in the repository", e.id),
                    false,
                );
            }
        }
    }
    let t = crate::render::helm::Template {
        chart,
        release: source.release.clone(),
        namespace: source.namespace.clone(),
        values_files,
        values_texts: source.values.clone(),
        set: source.parameters.clone(),
        set_file,
        include_crds: !source.skip_crds,
        layers: source.layers.clone(),
        ..crate::render::helm::Template::default()
    };
    let file_id = |f: &Path| s.renderer.file_id(f);
    match crate::render::helm::output::render_template(helm, &t, &e.path, &file_id) {
        Ok(resources) => check_rendered(s, ev, (&e.id, &e.path, None), resources, settings),
        Err(err) => {
            let mut f = render_error_finding(s, &err, &e.id);
            if err.unavailable {
                // Nothing in the chart is wrong: point at the Application.
                f.location = Location::new(e.file.clone(), e.pos);
            }
            f.message = format!("{} (rendering what {} deploys)", f.message, e.id);
            keep_render(s, &e.id, Err(err));
            RootChecked::failed(f)
        }
    }
}

/// A chart directory on its own, rendered by Helm with its default values.
fn check_chart(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    helm: &crate::render::helm::Helm,
    dir: &Path,
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    let rel = relative(s.scan_root, dir);
    let file_id = |f: &Path| s.renderer.file_id(f);
    match crate::render::helm::output::render_chart(helm, dir, &rel, &file_id) {
        Ok(resources) => check_rendered(s, ev, (&rel, &rel, None), resources, settings),
        Err(e) => {
            let finding = render_error_finding(s, &e, &rel);
            keep_render(s, &rel, Err(e));
            RootChecked::failed(finding)
        }
    }
}

/// Keeps the render of the root `rel` when it is one to keep (`RootSettings::keep`).
fn keep_render(s: &Shared<'_>, rel: &str, render: Result<Vec<Resource>, RenderError>) {
    if s.keep.is_some_and(|k| k.contains(rel))
        && let Ok(mut kept) = s.kept.lock()
    {
        kept.insert(rel.to_owned(), render);
    } else if render.as_ref().is_ok_and(|r| r.len() >= BIG_RENDER) {
        // A cluster's thousand objects took 2-3 ms to free, at the end of its check.
        drop_aside(render);
    }
}

/// A render this large is freed on a thread of its own (a thread per small one would cost
/// more than freeing it).
const BIG_RENDER: usize = 256;

/// Chart directories that are roots: subcharts (under another chart's directory) are part
/// of their parent's rendering.
fn chart_dirs(charts: &[SourceFile]) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = charts
        .iter()
        .filter_map(|c| c.abs.parent().map(Path::to_path_buf))
        .collect();
    let mut roots: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !dirs.iter().any(|o| o != *d && d.starts_with(o)))
        .cloned()
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// An entry point whose options change what its path deploys: the kustomization its options
/// amount to, rendered, with Flux's variables substituted, checked as a root of its own
/// (named after the entry point; environment and cluster from its path).
fn check_entry(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    helm: &crate::render::helm::Helm,
    e: &crate::render::entry::EntryRender,
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    if let Some(note) = &e.note {
        let mut err = crate::render::RenderError::at(
            &s.scan_root.join(&e.file),
            e.pos,
            format!("{}: {note}", e.id),
        );
        err.unavailable = true;
        return RootChecked::failed(render_error_finding(s, &err, &e.id));
    }
    if let Some(source) = &e.helm {
        return check_helm_entry(s, ev, helm, e, source, settings);
    }
    let file = s.scan_root.join(&e.file);
    let mut resources = match s
        .renderer
        .render_virtual(s.scan_root, &file, &e.kustomization)
    {
        Ok(r) => r,
        Err(err) => {
            let mut f = render_error_finding(s, &err, &e.id);
            // The generated kustomization has no file of its own: point at the entry point.
            if f.location.path == e.file {
                f.location = Location::new(e.file.clone(), e.pos);
            }
            f.message = format!("{} (building what {} deploys)", f.message, e.id);
            keep_render(s, &e.id, Err(err));
            return RootChecked::failed(f);
        }
    };
    // Fields the controller's options set were read from a kustomization that exists only
    // in memory: point them at the entry point that declares the options.
    let entry_file = s.renderer.file_id(&file);
    for r in resources.iter_mut() {
        restamp(&mut r.node, entry_file, e.pos);
    }
    let mut extra = Vec::new();
    let undefined = |message: String, location: Location| {
        Finding {
        hide_source: false,
        rule: rules::UNDEFINED_SUBSTITUTION.to_owned(),
        severity: Severity::Error,
        message,
        help: "Define the variable in `postBuild.substitute` or in a ConfigMap/Secret of `postBuild.substituteFrom`, or give it a default: `${VAR:=value}`.".to_owned(),
        location,
        object: None,
        pointer: None,
        roots: vec![e.id.clone()],
    }
    };
    if let Some(sub) = &e.substitute {
        for m in &sub.missing {
            extra.push(undefined(
                format!(
                    "{} substitutes variables from {m}, which is not in the repository",
                    e.id
                ),
                Location::new(e.file.clone(), e.pos),
            ));
        }
        for r in resources.iter_mut() {
            let disabled = r
                .node
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get("kustomize.toolkit.fluxcd.io/substitute"))
                .and_then(|v| v.as_str())
                == Some("disabled");
            if disabled {
                continue;
            }
            for (name, node) in crate::render::entry::substitute_node(&mut r.node, &sub.vars) {
                let location = location_of(s, r, node.file, node.start, Some(node.end));
                extra.push(undefined(
                    format!(
                        "`${{{name}}}` is not defined for {} and has no default: Flux would apply an empty string",
                        e.id
                    ),
                    location,
                ));
            }
        }
    }
    // The entry point's options apply to every object it deploys.
    let scope_root = (!s.scope.is_some_and(|sc| sc.changed(&e.file))).then_some(e.path.as_str());
    let mut checked = check_rendered(s, ev, (&e.id, &e.path, scope_root), resources, settings);
    checked.findings.extend(extra);
    checked
}

fn restamp(node: &mut crate::yaml::Node, file: crate::yaml::FileId, pos: Pos) {
    if node.file == file {
        node.start = pos;
        node.end = pos;
    }
    match &mut node.value {
        crate::yaml::Value::Map(entries) => {
            for e in entries {
                restamp(&mut e.value, file, pos);
            }
        }
        crate::yaml::Value::Seq(items) => {
            for i in items {
                restamp(i, file, pos);
            }
        }
        _ => {}
    }
}

/// `(name, context_path, scope_root)`: the root's name in findings, the path its context
/// (environment, cluster) comes from, and its graph node when `--changed-since` scopes it.
type RootNames<'a> = (&'a str, &'a str, Option<&'a str>);

/// Evaluates the rendered objects of one root: `name` is the root as findings list it,
/// `context_path` the path its environment and cluster come from (see [`RootNames`]). With
/// `--changed-since`, only the objects the change can affect are evaluated and reported
/// (`scope_root`: the root's node in the repository graph; `None` when every object counts
/// as affected). The objects are kept for `kgate diff` when the root is
/// one to keep (`keep_render`).
fn check_rendered(
    s: &Shared<'_>,
    ev: &mut Evaluator,
    (name, context_path, scope_root): RootNames<'_>,
    resources: Vec<Resource>,
    settings: &crate::policy::context::ContextSettings,
) -> Checked {
    let rel = name.to_owned();
    let is_base = s.bases.contains_key(name);
    let context = settings.for_root(Some(context_path));
    let validator = s
        .validators
        .for_context(context["environment"].as_str(), context["cluster"].as_str());
    let roots = [rel.clone()];
    let enabled = |id: &str| !s.disabled.iter().any(|d| d == id);
    let in_root = (s.scope.zip(scope_root)).map(|(scope, root)| scope.in_root(root));
    let affected: Vec<bool> = resources
        .iter()
        .map(|r| {
            in_root
                .as_ref()
                .is_none_or(|in_root| affects(s, in_root, r))
        })
        .collect();
    let affected_count = affected.iter().filter(|a| **a).count();
    s.affected_objects
        .fetch_add(affected_count, std::sync::atomic::Ordering::Relaxed);
    // Only the objects something reads are made JSON: with some objects unaffected, the
    // affected ones and the objects of their namespaces, which is all root-scope rules that
    // relate objects within a namespace see (`root_focus`); the others stand as `{}` in
    // place. Every object when all are affected, or when a rule or Gatekeeper's inventory
    // needs the whole root. (A cluster root is ~1,000 objects; a one-app change affects a
    // handful.)
    let kept = if affected.iter().all(|a| *a) || ev.needs_whole_root(enabled) {
        None
    } else {
        let nodes: Vec<&crate::yaml::Node> = resources.iter().map(|r| &r.node).collect();
        super::root_focus::kept(&nodes, &affected)
    };
    let inputs: Vec<serde_json::Value> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| match &kept {
            Some(kept) if !kept[i] => serde_json::Value::Object(serde_json::Map::new()),
            _ => crate::validate::as_stored(r.node.to_json()),
        })
        .collect();
    ev.set_inventory(&inputs);
    let context_key = s.reads.context_key(&context).to_string();
    // Each object made a policy input once, when a rule first needs it: the object rules and
    // the rules across objects share it.
    let converted: Vec<std::cell::OnceCell<regorus::Value>> =
        inputs.iter().map(|_| std::cell::OnceCell::new()).collect();
    let rego = |i: usize| {
        converted[i]
            .get_or_init(|| crate::policy::value::rego_value(&inputs[i]))
            .clone()
    };
    let mut per_object: Vec<Vec<Result<Violation, EvalError>>> = inputs
        .iter()
        .zip(&affected)
        .enumerate()
        .map(|(i, (input, affected))| {
            if !affected {
                return Vec::new();
            }
            let mut results = crate::app::objects::schema_results(validator, input, s.disabled);
            let policy = memoized(
                s,
                |s| memo_key(input, &context_key, s.reads),
                Memoized::Objects,
                || ev.evaluate_value(input, || rego(i), &context, enabled),
            );
            results.extend(policy);
            results
        })
        .collect();
    // Rules across objects (`custom.scope: root`) name the object each finding concerns.
    // A base alone lacks what its overlays add: its findings are set aside, and kept only
    // where no root using it renders (`kept_base_findings`); a base already known to be
    // covered (`surely_covered`: roots are checked costliest first, so its users are mostly
    // done) need not run them.
    // Only findings on affected objects count; rules relating objects within a namespace
    // see the affected objects' namespaces only (`root_focus`), the others the whole root.
    let deferred = is_base && surely_covered(s, name);
    let root_results = if deferred || !affected.iter().any(|a| *a) {
        Vec::new()
    } else {
        // The objects `kept` keeps, the others `{}` in place (as they are in the inputs
        // already when `kept` left them out). Without `kept`, the whole root's objects are
        // focused here when a rule needs them all.
        let focus = (kept.clone()).or_else(|| super::root_focus::kept(&inputs, &affected));
        // Findings on unaffected objects are dropped below: the rules need not look for
        // them (`input.subjects`).
        let subjects: Option<Vec<usize>> = (!affected.iter().all(|a| *a)).then(|| {
            let indexes = affected.iter().enumerate().filter(|(_, a)| **a);
            indexes.map(|(i, _)| i).collect()
        });
        let mut evaluate = || {
            let objects: Vec<regorus::Value> = (0..inputs.len()).map(rego).collect();
            let focus: Option<Vec<regorus::Value>> = (focus.as_ref())
                .map(|keep| super::root_focus::focused(&objects, keep, regorus::Value::new_object));
            let focus = focus.as_deref();
            ev.evaluate_root(&objects, focus, subjects.as_deref(), &context, enabled)
        };
        if s.memo_roots {
            // The focus and the subjects follow from the objects and which are affected.
            let focused = subjects.as_ref().map(|_| &affected[..]);
            memoized(
                s,
                |s| root_key(&inputs, &context_key, s.reads, focused),
                Memoized::Roots,
                evaluate,
            )
        } else {
            evaluate()
        }
    };
    let mut scoped: Vec<Vec<Result<Violation, EvalError>>> = vec![Vec::new(); resources.len()];
    distribute(
        root_results,
        if is_base {
            &mut scoped
        } else {
            &mut per_object
        },
    );
    for (results, affected) in per_object
        .iter_mut()
        .chain(scoped.iter_mut())
        .zip(affected.iter().chain(affected.iter()))
    {
        if !affected {
            results.clear();
        }
    }
    let out = findings_of(s, &resources, per_object, &roots, validator.strict());
    if is_base {
        let set_aside = findings_of(s, &resources, scoped, &roots, validator.strict());
        if let (false, Ok(mut kept)) = (set_aside.is_empty(), s.base_findings.lock()) {
            kept.push((rel, set_aside));
        }
    }
    let objects = resources.len();
    keep_render(s, name, Ok(resources));
    RootChecked {
        findings: out,
        objects,
        affected: affected_count,
    }
}

/// Whether the change can affect the rendered object `r` of a root (`in_root`: its scope).
fn affects(s: &Shared<'_>, in_root: &RootScope<'_>, r: &Resource) -> bool {
    let mut ids = Vec::new();
    collect_files(&r.node, &mut ids);
    let from_changed_file = match s.changed_ids.lock() {
        Ok(mut known) => ids.into_iter().any(|id| {
            *known.entry(id).or_insert_with(|| {
                (s.renderer.file_path(id))
                    .is_some_and(|p| in_root.changed(&relative(s.scan_root, &p)))
            })
        }),
        Err(_) => true,
    };
    let source = crate::source::relative_str(s.scan_root, &r.source);
    from_changed_file || in_root.affects(&source, std::iter::empty())
}

/// The distinct files the nodes of `node` come from.
fn collect_files(node: &crate::yaml::Node, out: &mut Vec<crate::yaml::FileId>) {
    if node.file != crate::yaml::FileId::UNKNOWN && !out.contains(&node.file) {
        out.push(node.file);
    }
    match &node.value {
        crate::yaml::Value::Map(entries) => {
            entries.iter().for_each(|e| collect_files(&e.value, out))
        }
        crate::yaml::Value::Seq(items) => items.iter().for_each(|i| collect_files(i, out)),
        _ => {}
    }
}

/// Root-scope results into the list of the object each names by index (an error without an
/// object goes to the first).
fn distribute(
    results: Vec<Result<Violation, EvalError>>,
    per_object: &mut [Vec<Result<Violation, EvalError>>],
) {
    for result in results {
        let index = match &result {
            Ok(v) => v.object.filter(|i| *i < per_object.len()),
            Err(_) => Some(0),
        };
        match (index, result) {
            (Some(i), r) if !per_object.is_empty() => per_object[i].push(r),
            (_, Ok(v)) => per_object.first_mut().into_iter().for_each(|p| {
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
}

fn findings_of(
    s: &Shared<'_>,
    resources: &[Resource],
    per_object: Vec<Vec<Result<Violation, EvalError>>>,
    roots: &[String],
    strict: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (r, results) in resources.iter().zip(per_object) {
        let locator = RenderedLocator {
            shared: s,
            resource: r,
        };
        let mut found = crate::policy::findings::findings(
            results,
            &r.node,
            &object_ref(r),
            roots,
            s.rules,
            &locator,
        );
        crate::app::objects::strict_severity(&mut found, strict);
        out.extend(found);
    }
    out
}

/// Renders and checks every root among `kustomizations`.
/// What checking roots needs from the configuration.
pub struct RootSettings<'a> {
    pub checks: &'a crate::app::objects::ObjectChecks<'a>,
    pub context: &'a crate::policy::context::ContextSettings,
    pub validators: &'a crate::validate::Validators,
    pub progress: Option<&'a crate::app::settings::Progress>,
    /// Entry points whose options change what they deploy, checked as roots of their own.
    pub entries: &'a [crate::render::entry::EntryRender],
    /// The bases, the object scope's findings and the order of the roots.
    pub plan: &'a RootsPlan,
    /// The repository graph: how often the render will ask for each build
    /// (`build_uses::expected_builds`).
    pub graph: &'a crate::discover::graph::RepoGraph,
    /// Those counts made ahead for these roots and entry points (taken once).
    pub expected: Mutex<Option<crate::source::PathMap<usize>>>,
    /// Helm chart directories (`Chart.yaml` files), each a root rendered by Helm.
    pub charts: &'a [SourceFile],
    /// How Helm runs (for charts and `helmCharts`).
    pub helm: &'a crate::render::helm::HelmSettings,
    /// `helm.missingSeverity`.
    pub missing_helm: Severity,
    /// With `--changed-since`: which objects of the selected roots the change can affect
    /// (made from `plan`'s findings).
    pub scope: Option<&'a ObjectScope<'a>>,
    /// Kustomization roots whose rendered objects to hand back (`RootsOutcome::rendered`,
    /// with the renderer's memo in `RootsOutcome::memo`).
    pub keep: Option<&'a BTreeSet<String>>,
    /// Another render's memo over the same paths, and the files whose content differs from
    /// it: its builds that read none of them are reused (`kgate diff --since`'s REF side).
    pub reuse: Option<(&'a crate::render::Memo, &'a BTreeSet<PathBuf>)>,
    /// Whether another check (`kgate diff --since`'s REF side) reuses this one's memo next,
    /// rendering again what `scope`'s change reaches.
    pub ref_next: bool,
    /// Policy results shared with another check with the same policies and configuration
    /// (`kgate diff --since`'s two sides): equal inputs are evaluated once.
    pub results: Option<&'a SharedResults>,
    /// The render cache across runs.
    pub store: Option<std::sync::Arc<crate::render::RenderStore>>,
    /// Called once, on the worker that renders last, when every root is rendered and only
    /// checks remain, with the memo handed over (`RootsOutcome::memo` is then `None`): with
    /// `keep`, and no `reuse`. `kgate diff --since` starts REF's side then, beside the
    /// working tree's last checks.
    pub on_rendered: Option<&'a (dyn Fn(Rendering) + Sync)>,
    /// `kgate diff --since` in place (`roots/taken.rs`): the working tree's side, whose memo
    /// REF's reuses next (`ref_next`), gives its checks of the roots that are no base here;
    /// REF's side (`reuse`) takes such a root's check when the root renders the same.
    pub root_checks: Option<&'a RootChecks>,
}

/// One unit of `check_roots`' work.
enum Work<'w> {
    Root(&'w Path),
    Entry(&'w crate::render::entry::EntryRender),
    Chart(&'w Path),
}

pub fn check_roots(
    scan_root: &Path,
    repo_root: &Path,
    kustomizations: &[SourceFile],
    components: &[SourceFile],
    policies: &PolicySet,
    settings: &RootSettings<'_>,
) -> RootsOutcome {
    let helm = std::sync::Arc::new(crate::render::helm::Helm::new(settings.helm.clone()));
    let mut renderer = Renderer::new(repo_root)
        .with_sources(settings.checks.sources.clone())
        .with_helm(helm.clone());
    if let Some((memo, changed)) = settings.reuse {
        renderer = renderer.with_memo(memo, changed);
    }
    if let Some(store) = &settings.store {
        renderer = renderer.with_store(store.clone());
    }
    let dirs = root_dirs(kustomizations, components);
    // A check that keeps its renders hands its memo back (`RootsOutcome::memo`) for another
    // check to reuse, unless it reuses another's itself (`kgate diff --since`'s REF side).
    let hands_back = settings.keep.is_some() && settings.reuse.is_none();
    // The files the change edited, when REF's side of `diff --since` renders from this
    // render's memo next.
    let then_ref = (settings.scope)
        .filter(|_| hands_back && settings.ref_next)
        .map(|s| s.changed_files());
    if hands_back {
        renderer = renderer.recording_reads();
    }
    // REF's side takes the builds the change reaches that come out the same there.
    if let Some(changed) = then_ref {
        let changed = changed.iter().map(|rel| scan_root.join(rel)).collect();
        renderer = renderer.keeping_reached(&changed);
    }
    // With the render cache, builds are counted even when the memo is handed back: what the
    // other check does not find in the memo it finds in the cache (copying every build into
    // the memo and out of it again was a tenth of a cached `diff --since`).
    // REF's own counts, when the working tree's side made them (handed over with
    // `Rendering::OneLeft`).
    let mut ref_counts = None;
    if !hands_back || settings.store.is_some() {
        use super::build_uses::{expected_builds, expected_builds_then_ref};
        // The working tree's side of `diff --since` keeps what REF's render will ask for.
        // Counted ahead (REF's side, while it waited), with no REF to count for.
        let ahead = (settings.expected.lock().ok())
            .and_then(|mut e| e.take())
            .filter(|_| then_ref.is_none());
        let (graph, entries) = (settings.graph, settings.entries);
        renderer = renderer.expecting(match (ahead, then_ref) {
            (Some(ahead), _) => ahead,
            (None, Some(changed)) => {
                let (ours, refs) =
                    expected_builds_then_ref(graph, scan_root, &dirs, entries, changed);
                ref_counts = Some(refs);
                ours
            }
            (None, None) => expected_builds(graph, scan_root, &dirs, entries),
        });
    }
    let ref_counts = Mutex::new(ref_counts);
    let charts = chart_dirs(settings.charts);
    let entries = settings.entries;
    let context = settings.context;
    let on_rendered = settings.on_rendered.filter(|_| hands_back);
    // Whether the memo went to the other check (the count reaches none once).
    let handed_over = std::sync::atomic::AtomicBool::new(false);
    let on_left = |left: usize| match (on_rendered, left) {
        (Some(f), 1) => f(Rendering::OneLeft(
            ref_counts.lock().ok().and_then(|mut c| c.take()),
        )),
        (Some(f), 0) => {
            handed_over.store(true, std::sync::atomic::Ordering::Release);
            f(Rendering::Done(RendersDone {
                plan: settings.plan.clone(),
                memo: renderer.memo(),
                helm_runs: helm.runs(),
                sources: settings.checks.sources.clone(),
                store: settings.store.clone(),
            }));
        }
        _ => {}
    };
    let shared = Shared {
        scan_root,
        renderer: &renderer,
        rules: settings.checks.rules,
        disabled: settings.checks.disabled,
        validators: settings.validators,
        memo: policies
            .gatekeeper_rules()
            .is_empty()
            .then(|| settings.results.cloned().unwrap_or_default()),
        hits: Default::default(),
        memo_roots: settings.keep.is_some(),
        reads: policies.reads(),
        bases: &settings.plan.bases,
        base_findings: Mutex::new(Vec::new()),
        failed: Mutex::new(BTreeSet::new()),
        rendering: dirs.iter().map(|d| relative(scan_root, d)).collect(),
        done: Mutex::new(BTreeSet::new()),
        missing_helm: settings.missing_helm,
        scope: settings.scope,
        affected_objects: std::sync::atomic::AtomicUsize::new(0),
        changed_ids: Mutex::new(HashMap::new()),
        keep: settings.keep,
        kept: Mutex::new(BTreeMap::new()),
        renders_left: std::sync::atomic::AtomicUsize::new(
            dirs.len() + entries.len() + charts.len(),
        ),
        on_left: &on_left,
        checks_out: settings.root_checks.filter(|_| then_ref.is_some()),
        checks_in: settings.root_checks.filter(|_| settings.reuse.is_some()),
        taken: Mutex::new(BTreeSet::new()),
    };
    let evaluators = EvaluatorPool::new(policies);
    if let Some(p) = settings.progress {
        p.total
            .store(dirs.len(), std::sync::atomic::Ordering::Relaxed);
    }
    // Helm first (a process each, slow), then the roots costliest first, then the other
    // entry points: one queue, so no phase waits for another's last root.
    let work: Vec<Work<'_>> = (dirs.iter().map(|d| Work::Root(d)))
        .chain(entries.iter().map(Work::Entry))
        .chain(charts.iter().map(|d| Work::Chart(d)))
        .collect();
    let names: Vec<String> = dirs.iter().map(|d| relative(scan_root, d)).collect();
    let is_helm = |i: &usize| match work[*i] {
        Work::Chart(_) => true,
        Work::Entry(e) => e.helm.is_some(),
        Work::Root(_) => false,
    };
    let (helm_work, other_entries): (Vec<usize>, Vec<usize>) =
        (dirs.len()..work.len()).partition(is_helm);
    let plan = &settings.plan;
    let costliest = match plan.order.get().filter(|o| o.len() == names.len()) {
        Some(theirs) => theirs.clone(),
        None => {
            let order = super::schedule::costliest_first(&names, &plan.bases);
            let _ = plan.order.set(order.clone());
            order
        }
    };
    let order: Vec<usize> = helm_work
        .into_iter()
        .chain(costliest)
        .chain(other_entries)
        .collect();
    // A check that hands its memo over renders every root before it checks any: the other
    // check starts at its last render, which checks taken in between held back (traced:
    // three overlay checks put the hand-over 5.7 ms after the cluster's render).
    let renders_first = on_rendered.is_some();
    let checks = RendersFirst::new(work.len());
    let per_root: Vec<Option<Checked>> = super::schedule::in_order(&order, |i| {
        checks.start();
        let out = match work[i] {
            Work::Root(dir) if renders_first => {
                checks.rendered(i, render_root(&shared, dir));
                None
            }
            Work::Root(dir) => Some(evaluators.with(|ev| check_root(&shared, ev, dir, context))),
            Work::Entry(e) => {
                Some(evaluators.with(|ev| check_entry(&shared, ev, &helm, e, context)))
            }
            Work::Chart(dir) => {
                Some(evaluators.with(|ev| check_chart(&shared, ev, &helm, dir, context)))
            }
        };
        // A root counts as rendered in `render_root`, before its checks.
        if !matches!(work[i], Work::Root(_)) {
            shared.rendered();
        }
        if renders_first {
            checks.check_all(order.len(), |render| {
                evaluators.with(|ev| check_root_render(&shared, ev, render, context))
            });
        }
        if let (Some(p), Work::Root(_)) = (settings.progress, &work[i]) {
            p.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        out
    });
    let per_root = checks.merged(per_root);
    let mut findings = kept_base_findings(&shared);
    let mut objects = 0;
    for checked in per_root {
        findings.extend(checked.findings);
        objects += checked.objects;
    }
    let results_reused = (
        shared.hits[0].load(std::sync::atomic::Ordering::Relaxed),
        shared.hits[1].load(std::sync::atomic::Ordering::Relaxed),
    );
    // An entry point's own file is where its options (and Argo CD values) are read from,
    // and still a manifest of its own.
    let consumed = renderer
        .files_read()
        .into_iter()
        .filter(|f| {
            !entries.iter().any(|e| {
                scan_root.join(&e.file) == *f
                    || e.helm.as_ref().is_some_and(|h| h.manifests.contains(f))
            })
        })
        .collect();
    let handed_over = handed_over.load(std::sync::atomic::Ordering::Acquire);
    let memo = (hands_back && !handed_over).then(|| renderer.memo());
    let evaluated = shared
        .affected_objects
        .load(std::sync::atomic::Ordering::Relaxed);
    let rendered = shared.kept.into_inner().unwrap_or_default();
    let taken = shared.taken.into_inner().unwrap_or_default();
    let results = shared.memo;
    drop_aside((renderer, results));
    RootsOutcome {
        findings: merge_across_roots(findings),
        roots: dirs.len() + entries.len() + charts.len(),
        objects,
        evaluated,
        consumed,
        rendered,
        memo,
        helm_runs: helm.runs(),
        results_reused,
        taken,
    }
}

/// Frees `value` on a thread of its own. Every build of a whole check (and the policy results
/// memo) is many small allocations, ~10 ms on 2 cores to free, which the serial end of a
/// check (merging findings, the report) need not wait for; a process that exits first never
/// frees them at all.
pub(super) fn drop_aside<T: Send + 'static>(value: T) {
    // Should the thread not start, `value` is freed here, as before.
    let _ = std::thread::Builder::new()
        .name("kgate-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str) -> SourceFile {
        SourceFile {
            rel: rel.to_owned(),
            abs: Path::new("/repo").join(rel),
        }
    }

    #[test]
    fn components_are_not_roots_even_though_they_render_alone() {
        // `kgate render components/tls` builds a Component like kubectl does; `kgate check`
        // still renders it only through the kustomizations that use it.
        let kustomizations = [
            file("apps/web/overlays/prod/kustomization.yaml"),
            file("components/tls/kustomization.yaml"),
        ];
        let components = [file("components/tls/kustomization.yaml")];
        assert_eq!(
            root_dirs(&kustomizations, &components),
            [PathBuf::from("/repo/apps/web/overlays/prod")]
        );
    }
}
