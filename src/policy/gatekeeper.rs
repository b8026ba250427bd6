//! OPA Gatekeeper policies from the repository, run as the admission controller would run
//! them: every `ConstraintTemplate` (`templates.gatekeeper.sh`) contributes its Rego, every
//! Constraint (`constraints.gatekeeper.sh`, of a kind a template defines) selects objects
//! with its `spec.match` and passes `spec.parameters`. The template's `violation` rule sees
//! `input.review.object` and `input.parameters`, so policies from the gatekeeper-library work
//! unchanged. `enforcementAction` sets the severity: `deny` error, `warn` warning,
//! `dryrun` note.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{EvalError, PolicyError, PolicySource, Violation, add_policy, new_engine};

/// A Gatekeeper object of the repository: where it is, and the line its Rego starts on (the
/// line of the `rego:` value, for a ConstraintTemplate), so an engine error can point there.
#[derive(Debug, Clone)]
pub struct GatekeeperObject {
    pub path: String,
    /// The object's first line.
    pub line: u32,
    /// The line of the template's `rego:` scalar, if it has one.
    pub rego_line: Option<u32>,
    pub object: Value,
}

/// A template or constraint of the repository kgate cannot evaluate. It is the repository's
/// content, not kgate's configuration, so it becomes a finding and the rest is still checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: String,
    pub line: u32,
    pub message: String,
    /// Error for Rego kgate cannot compile; note for a template that needs what no offline
    /// check has (`external_data`, Gatekeeper's external data providers).
    pub severity: Severity,
}
use crate::model::Severity;
use crate::model::rules::RuleInfo;

/// A template's Rego, compiled in an engine of its own: Gatekeeper compiles each template
/// apart, so two templates may ship different versions of the same `lib.*` package (the
/// library's seccomp and seccompv2 do) without their rules conflicting.
#[derive(Clone)]
struct Template {
    kind: String,
    package: String,
    engine: regorus::Engine,
    /// Whether the Rego mentions the inventory at all; others never need `data` replaced.
    referential: bool,
}

/// One constraint: which objects it selects, with which parameters, and the rule it reports.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub info: RuleInfo,
    /// Index into the templates.
    template: usize,
    parameters: Value,
    matcher: Value,
}

/// The repository's Gatekeeper templates and constraints.
pub struct Gatekeeper {
    templates: Vec<Template>,
    constraints: Vec<Constraint>,
}

/// One worker thread's copies of the template engines, and the inventory they should see.
pub struct Engines {
    engines: Vec<regorus::Engine>,
    inventory: regorus::Value,
    /// Bumped by every `set_inventory`; an engine holds the inventory of `loaded[i]`.
    generation: u64,
    loaded: Vec<u64>,
}

/// The template a ConstraintTemplate object defines, its Rego (and libs) loaded into an
/// engine of its own; `None` for other objects and templates without Rego.
fn template_of(path: &str, obj: &Value) -> Result<Option<Template>, PolicyError> {
    if obj["kind"] != "ConstraintTemplate"
        || !obj["apiVersion"]
            .as_str()
            .is_some_and(|a| a.starts_with("templates.gatekeeper.sh/"))
    {
        return Ok(None);
    }
    let Some(kind) = obj["spec"]["crd"]["spec"]["names"]["kind"].as_str() else {
        return Err(PolicyError::Load {
            path: path.to_owned(),
            message: "ConstraintTemplate without spec.crd.spec.names.kind".to_owned(),
        });
    };
    let source = rego_source(obj);
    let Some(rego) = source["rego"].as_str() else {
        return Ok(None);
    };
    let mut engine = new_engine();
    super::budget::install_sprintf(&mut engine);
    super::budget::install_expanders(&mut engine);
    let mut referential = rego.contains("inventory");
    for (i, lib) in source["libs"].as_array().into_iter().flatten().enumerate() {
        if let Some(text) = lib.as_str() {
            referential |= text.contains("inventory");
            add_policy(
                &mut engine,
                &PolicySource {
                    path: format!("{path} ({kind} lib {i})"),
                    text: text.to_owned(),
                },
            )?;
        }
    }
    let package = add_policy(
        &mut engine,
        &PolicySource {
            path: format!("{path} ({kind})"),
            text: rego.to_owned(),
        },
    )?;
    Ok(Some(Template {
        kind: kind.to_owned(),
        package,
        engine,
        referential,
    }))
}

/// Where a template's Rego is: `targets[0]` (`rego` + `libs`), or in newer templates that also
/// carry a CEL (K8sNativeValidation) version, the `source` of the `code` entry whose engine is
/// Rego; `Null` when there is no target.
fn rego_source(obj: &Value) -> &Value {
    let Some(target) = obj["spec"]["targets"].as_array().and_then(|t| t.first()) else {
        return &Value::Null;
    };
    if target["rego"].is_string() {
        return target;
    }
    target["code"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["engine"] == "Rego")
        .map_or(target, |c| &c["source"])
}

/// If the template's Rego (or one of its libs) calls `external_data`, the line of the first
/// call within the Rego (`Some(None)` when the call is in a lib). Gatekeeper answers it by
/// asking a provider service at admission time, so offline the template cannot be evaluated.
fn external_data_call(obj: &Value) -> Option<Option<u32>> {
    static CALL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\bexternal_data\s*\(").expect("valid regex")
    });
    let source = rego_source(obj);
    let rego = source["rego"].as_str()?;
    if let Some(m) = CALL.find(rego) {
        let line = rego[..m.start()].matches('\n').count() as u32 + 1;
        return Some(Some(line));
    }
    let in_lib = source["libs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|lib| CALL.is_match(lib));
    in_lib.then_some(None)
}

/// A template that calls `external_data`: a note at the call, not an error on every object.
fn offline_problem(o: &GatekeeperObject, kind: &str, rego_line: Option<u32>) -> LoadProblem {
    let line = match (o.rego_line, rego_line) {
        (Some(start), Some(n)) => start + n - 1,
        _ => o.line,
    };
    LoadProblem {
        path: o.path.clone(),
        line,
        message: format!(
            "the ConstraintTemplate for {kind} calls external_data (a Gatekeeper external data provider, asked at admission time): kgate checks offline and cannot evaluate it"
        ),
        severity: Severity::Note,
    }
}

/// The constraint a Gatekeeper constraint object declares, bound to its template by kind
/// (`by_kind`: kind -> template index); `None` for other objects.
fn constraint_of(
    path: &str,
    obj: &Value,
    by_kind: &BTreeMap<String, usize>,
) -> Result<Option<Constraint>, PolicyError> {
    if !obj["apiVersion"]
        .as_str()
        .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/"))
    {
        return Ok(None);
    }
    let (Some(kind), Some(name)) = (obj["kind"].as_str(), obj["metadata"]["name"].as_str()) else {
        return Ok(None);
    };
    let Some(&template) = by_kind.get(kind) else {
        return Err(PolicyError::Load {
            path: path.to_owned(),
            message: format!(
                "constraint {kind}/{name}: no ConstraintTemplate in the repository defines the kind {kind}"
            ),
        });
    };
    let severity = match obj["spec"]["enforcementAction"].as_str().unwrap_or("deny") {
        "warn" => Severity::Warning,
        "dryrun" => Severity::Note,
        _ => Severity::Error,
    };
    let id = format!(
        "{}-{}",
        kind.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    );
    Ok(Some(Constraint {
        info: RuleInfo {
            id,
            title: format!("Gatekeeper constraint {kind}/{name}"),
            description: format!(
                "The repository's Gatekeeper constraint `{kind}/{name}` ({path}), evaluated with its ConstraintTemplate's Rego as the admission controller would."
            ),
            severity,
            remediation: "See the message; the constraint and its template are in the repository."
                .to_owned(),
            source: path.to_owned(),
            kinds: Vec::new(),
            root_scope: false,
            repo_scope: false,
            needs_params: false,
            sensitive: false,
        },
        template,
        parameters: obj["spec"]["parameters"].clone(),
        matcher: obj["spec"]["match"].clone(),
    }))
}

/// The engine's message without kgate's `policy <path>:` prefix (the finding has the path).
fn policy_error_message(e: &PolicyError) -> String {
    match e {
        PolicyError::Load { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A template that does not load, located at the Rego line the engine names when it names
/// one (`rego_line` is the line of the Rego's first line), else at the object.
fn template_problem(o: &GatekeeperObject, e: &PolicyError) -> LoadProblem {
    let message = policy_error_message(e);
    let line = match (o.rego_line, rego_error_line(&message)) {
        (Some(start), Some(n)) => start + n.saturating_sub(1),
        _ => o.line,
    };
    let message = match o.object["spec"]["crd"]["spec"]["names"]["kind"].as_str() {
        Some(kind) => format!(
            "the ConstraintTemplate for {kind} cannot be compiled by kgate's Rego engine: {message}"
        ),
        None => message,
    };
    LoadProblem {
        path: o.path.clone(),
        line,
        message,
        severity: Severity::Error,
    }
}

/// The line (within the Rego text) of the first `<source>:<line>:<column>` an engine error
/// names.
fn rego_error_line(message: &str) -> Option<u32> {
    static AT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r":(\d+):(\d+)").expect("valid regex"));
    AT.captures(message)?.get(1)?.as_str().parse().ok()
}

impl Gatekeeper {
    /// From every object of the repository that is a ConstraintTemplate or a Constraint.
    /// A template whose Rego kgate's engine cannot compile, or a constraint without a
    /// template, is a [`LoadProblem`]: the rest is loaded and evaluated all the same.
    pub fn load(objects: &[GatekeeperObject]) -> (Gatekeeper, Vec<LoadProblem>) {
        let mut templates: Vec<Template> = Vec::new();
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        let mut problems = Vec::new();
        // Kinds whose template did not load -> index of its problem, which lists the
        // constraints left unevaluated because of it.
        let mut broken: BTreeMap<String, usize> = BTreeMap::new();
        for o in objects {
            if o.object["kind"] == "ConstraintTemplate"
                && let Some(kind) = o.object["spec"]["crd"]["spec"]["names"]["kind"].as_str()
                && let Some(call) = external_data_call(&o.object)
            {
                broken.insert(kind.to_owned(), problems.len());
                problems.push(offline_problem(o, kind, call));
                continue;
            }
            let t = match template_of(&o.path, &o.object) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(e) => {
                    if let Some(kind) = o.object["spec"]["crd"]["spec"]["names"]["kind"].as_str() {
                        broken.insert(kind.to_owned(), problems.len());
                    }
                    problems.push(template_problem(o, &e));
                    continue;
                }
            };
            // A kind defined twice (the same template under two clusters' directories): the
            // last definition is the one constraints use.
            match by_kind.get(&t.kind) {
                Some(&i) => templates[i] = t,
                None => {
                    by_kind.insert(t.kind.clone(), templates.len());
                    templates.push(t);
                }
            }
        }
        let mut constraints = Vec::new();
        let mut unevaluated: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for o in objects {
            match constraint_of(&o.path, &o.object, &by_kind) {
                Ok(Some(c)) => constraints.push(c),
                Ok(None) => {}
                Err(e) => {
                    let kind = o.object["kind"].as_str().unwrap_or_default();
                    match broken.get(kind) {
                        Some(&i) => unevaluated.entry(i).or_default().push(format!(
                            "{kind}/{}",
                            o.object["metadata"]["name"].as_str().unwrap_or_default()
                        )),
                        None => problems.push(LoadProblem {
                            path: o.path.clone(),
                            line: o.line,
                            message: policy_error_message(&e),
                            severity: Severity::Error,
                        }),
                    }
                }
            }
        }
        for (i, mut names) in unevaluated {
            names.sort();
            problems[i].message.push_str(&format!(
                "; so its constraints {} were not evaluated",
                names.join(", ")
            ));
        }
        constraints.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        let gatekeeper = Gatekeeper {
            templates,
            constraints,
        };
        (gatekeeper, problems)
    }

    pub fn rules(&self) -> Vec<RuleInfo> {
        self.constraints.iter().map(|c| c.info.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// Every violation of `object` against the constraints that select it.
    pub fn evaluate(
        &self,
        engines: &mut Engines,
        object: &Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<Violation, EvalError>> {
        let mut out = Vec::new();
        for c in &self.constraints {
            if !enabled(&c.info.id) || !selects(&c.matcher, object) {
                continue;
            }
            let t = &self.templates[c.template];
            let input = json!({
                "review": review(object),
                "parameters": if c.parameters.is_null() { json!({}) } else { c.parameters.clone() },
            });
            let Some(engine) = engines.ready(c.template, t.referential) else {
                continue;
            };
            engine.set_input(regorus::Value::from(input));
            match super::guard::eval_rule(engine, format!("{}.violation", t.package)) {
                Ok(value) => out.extend(super::violations_of(&c.info.id, &value)),
                Err(e) => out.push(Err(EvalError {
                    rule: c.info.id.clone(),
                    message: format!("{} ({})", e, t.kind),
                })),
            }
        }
        out
    }

    /// Private engines for one worker thread.
    pub fn engines(&self) -> Engines {
        Engines {
            engines: self.templates.iter().map(|t| t.engine.clone()).collect(),
            inventory: regorus::Value::new_object(),
            generation: 0,
            loaded: vec![0; self.templates.len()],
        }
    }
}

impl Engines {
    /// The engine of template `i`, holding the current inventory if the template reads it.
    /// Installing `data` makes regorus re-analyse the template's modules, so it is done
    /// lazily, for templates that run and read the inventory, once per inventory.
    fn ready(&mut self, i: usize, referential: bool) -> Option<&mut regorus::Engine> {
        let engine = self.engines.get_mut(i)?;
        if referential && self.loaded[i] != self.generation {
            engine.clear_data();
            // A failure leaves the inventory empty: referential checks then see no objects.
            let _ = engine.add_data(self.inventory.clone());
            self.loaded[i] = self.generation;
        }
        Some(engine)
    }

    /// Makes `objects` (a rendered root, or a file's objects) the cluster state that
    /// referential templates read, as Gatekeeper's synced `data.inventory`:
    /// `namespace[<ns>][<apiVersion>][<kind>][<name>]` and `cluster[<apiVersion>][<kind>][<name>]`.
    pub fn set_inventory(&mut self, objects: &[Value]) {
        let mut namespaced = serde_json::Map::new();
        let mut cluster = serde_json::Map::new();
        for o in objects {
            let (Some(api), Some(kind), Some(name)) = (
                o["apiVersion"].as_str(),
                o["kind"].as_str(),
                o["metadata"]["name"].as_str(),
            ) else {
                continue;
            };
            let slot = if crate::model::kinds::is_cluster_scoped_kind(kind) {
                &mut cluster
            } else {
                let ns = o["metadata"]["namespace"].as_str().unwrap_or("default");
                let entry = namespaced.entry(ns).or_insert_with(|| json!({}));
                let Some(m) = entry.as_object_mut() else {
                    continue;
                };
                m
            };
            let by_kind = slot
                .entry(api)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|m| m.entry(kind).or_insert_with(|| json!({})));
            if let Some(m) = by_kind.and_then(|k| k.as_object_mut()) {
                m.insert(name.to_owned(), o.clone());
            }
        }
        self.inventory = regorus::Value::from(
            json!({"inventory": {"namespace": namespaced, "cluster": cluster}}),
        );
        self.generation += 1;
    }
}

/// `input.review` for an object of the repository: the AdmissionRequest the API server would
/// send when it is created. As in Gatekeeper's serialization, `userInfo` is always an object
/// (templates read `input.review.userInfo.username` and the like) and `name`/`namespace` are
/// absent rather than null when the object has none.
fn review(object: &Value) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let mut review = json!({
        "object": object,
        "kind": {"group": group, "version": version, "kind": object["kind"]},
        "operation": "CREATE",
        "userInfo": {},
    });
    for field in ["name", "namespace"] {
        if let Some(v) = object["metadata"][field].as_str() {
            review[field] = json!(v);
        }
    }
    review
}

/// CustomResourceDefinitions for the constraint kinds the templates define (Gatekeeper
/// generates them in the cluster): `spec.parameters` is validated against the template's
/// `openAPIV3Schema`, `spec.match` and `spec.enforcementAction` are accepted as Gatekeeper
/// accepts them.
pub fn constraint_crds(objects: &[GatekeeperObject]) -> Vec<Value> {
    objects
        .iter()
        .map(|o| &o.object)
        .filter(|o| o["kind"] == "ConstraintTemplate")
        .filter_map(|o| {
            let kind = o["spec"]["crd"]["spec"]["names"]["kind"].as_str()?;
            let parameters = match &o["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"] {
                Value::Object(s) => Value::Object(s.clone()),
                _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            };
            let schema = json!({"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "match": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "enforcementAction": {"type": "string"},
                    "parameters": parameters,
                }},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            }}});
            Some(json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": format!("{}.constraints.gatekeeper.sh", kind.to_ascii_lowercase())},
                "spec": {
                    "group": "constraints.gatekeeper.sh",
                    "names": {"kind": kind},
                    "versions": [
                        {"name": "v1beta1", "served": true, "schema": schema.clone()},
                        {"name": "v1alpha1", "served": true, "schema": schema.clone()},
                        {"name": "v1", "served": true, "schema": schema},
                    ],
                },
            }))
        })
        .collect()
}

/// Gatekeeper's `spec.match`, as its `match.Matches` decides: kinds (apiGroups and kinds,
/// `*` or empty for any), scope, namespaces and excludedNamespaces (`kube-*` / `*-system`
/// globs), name (same globs), labelSelector (matchLabels and matchExpressions), and
/// namespaceSelector on a Namespace's own labels. A Namespace is "in" the namespace it names;
/// an object that declares no namespace is not disqualified by `namespaces` or
/// `excludedNamespaces` (as `gator` decides: in a repository it gets the namespace its sync
/// tool deploys it to). The namespaceSelector of other namespaced objects needs the live
/// cluster's namespace labels and is treated as matching.
fn selects(m: &Value, object: &Value) -> bool {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    let kind = object["kind"].as_str().unwrap_or("");
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    let labels = &object["metadata"]["labels"];
    let is_namespace = kind == "Namespace" && group.is_empty();
    let namespace = if is_namespace {
        name
    } else {
        object["metadata"]["namespace"].as_str().unwrap_or("")
    };
    if let Some(kinds) = m["kinds"].as_array().filter(|k| !k.is_empty()) {
        let any = kinds.iter().any(|k| {
            let has = |field: &str, v: &str| match k[field].as_array() {
                Some(list) if !list.is_empty() => list
                    .iter()
                    .any(|x| x.as_str().is_some_and(|x| x == "*" || x == v)),
                _ => true,
            };
            has("apiGroups", group) && has("kinds", kind)
        });
        if !any {
            return false;
        }
    }
    let listed = |field: &str| {
        m[field].as_array().filter(|l| !l.is_empty()).map(|l| {
            l.iter()
                .any(|n| n.as_str().is_some_and(|n| glob_matches(n, namespace)))
        })
    };
    if !namespace.is_empty()
        && (listed("namespaces") == Some(false) || listed("excludedNamespaces") == Some(true))
    {
        return false;
    }
    let cluster_scoped = crate::model::kinds::is_cluster_scoped_kind(kind);
    match m["scope"].as_str() {
        Some("Cluster") if !cluster_scoped => return false,
        Some("Namespaced") if cluster_scoped => return false,
        _ => {}
    }
    if let Some(pattern) = m["name"].as_str().filter(|n| !n.is_empty())
        && !glob_matches(pattern, name)
    {
        return false;
    }
    if !m["labelSelector"].is_null() && !label_selector_matches(&m["labelSelector"], labels) {
        return false;
    }
    if is_namespace
        && !m["namespaceSelector"].is_null()
        && !label_selector_matches(&m["namespaceSelector"], labels)
    {
        return false;
    }
    true
}

/// Gatekeeper's wildcard: `prefix*`, `*suffix`, or an exact name.
fn glob_matches(pattern: &str, s: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        s.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        s.ends_with(suffix)
    } else {
        pattern == s
    }
}

/// A Kubernetes label selector: every `matchLabels` pair and every `matchExpressions`
/// requirement (In, NotIn, Exists, DoesNotExist) holds. An unknown operator matches nothing,
/// as the API server would have refused the selector.
fn label_selector_matches(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels[k].as_str();
    let pairs = selector["matchLabels"].as_object().is_none_or(|want| {
        want.iter()
            .all(|(k, v)| v.as_str() == label(k) && label(k).is_some())
    });
    let expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let values = || {
                e["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
            };
            match e["operator"].as_str() {
                Some("In") => label(key).is_some_and(|l| values().any(|v| v == l)),
                Some("NotIn") => label(key).is_none_or(|l| values().all(|v| v != l)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        });
    pairs && expressions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_kinds_namespaces_and_labels() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "kube-system", "labels": {"a": "b"}}});
        assert!(selects(
            &json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
            &pod
        ));
        assert!(!selects(
            &json!({"kinds": [{"apiGroups": ["apps"], "kinds": ["Pod"]}]}),
            &pod
        ));
        assert!(selects(
            &json!({"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]}),
            &pod
        ));
        assert!(!selects(&json!({"excludedNamespaces": ["kube-*"]}), &pod));
        assert!(!selects(&json!({"namespaces": ["prod"]}), &pod));
        assert!(selects(
            &json!({"labelSelector": {"matchLabels": {"a": "b"}}}),
            &pod
        ));
        assert!(!selects(
            &json!({"labelSelector": {"matchLabels": {"a": "c"}}}),
            &pod
        ));
        assert!(selects(&Value::Null, &pod));
        assert!(!selects(&json!({"scope": "Cluster"}), &pod));
        assert!(selects(&json!({"scope": "Namespaced"}), &pod));
        assert!(!selects(&json!({"excludedNamespaces": ["*-system"]}), &pod));
        assert!(selects(&json!({"name": "p*"}), &pod));
        assert!(!selects(&json!({"name": "*q"}), &pod));
        assert!(selects(
            &json!({"kinds": [{"apiGroups": [""], "kinds": []}]}),
            &pod
        ));
    }

    #[test]
    fn objects_without_namespace_and_namespaces_match_as_gator_decides() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        // Deployed to whatever namespace its sync tool picks: neither list disqualifies it.
        assert!(selects(&json!({"namespaces": ["default"]}), &pod));
        assert!(selects(&json!({"excludedNamespaces": ["default"]}), &pod));
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "labels": {"tier": "system"}}});
        assert!(!selects(&json!({"excludedNamespaces": ["kube-*"]}), &ns));
        assert!(selects(&json!({"namespaces": ["kube-system"]}), &ns));
        assert!(selects(
            &json!({"namespaceSelector": {"matchLabels": {"tier": "system"}}}),
            &ns
        ));
        assert!(!selects(
            &json!({"namespaceSelector": {"matchLabels": {"tier": "apps"}}}),
            &ns
        ));
    }

    #[test]
    fn review_is_an_admission_request_for_creation() {
        let r = review(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        );
        assert_eq!(
            r["kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        assert_eq!(r["name"], "d");
        assert_eq!(r["operation"], "CREATE");
        assert_eq!(r["userInfo"], json!({}));
        assert!(r.get("namespace").is_none(), "{r}");
        let r = review(
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}}),
        );
        assert_eq!(r["kind"]["group"], "");
        assert_eq!(r["namespace"], "n");
    }

    #[test]
    fn label_selector_expressions() {
        let labels = json!({"app": "web", "tier": "front"});
        let sel = |e: Value| json!({"matchExpressions": [e]});
        assert!(label_selector_matches(
            &sel(json!({"key": "app", "operator": "In", "values": ["web", "api"]})),
            &labels
        ));
        assert!(!label_selector_matches(
            &sel(json!({"key": "app", "operator": "NotIn", "values": ["web"]})),
            &labels
        ));
        assert!(label_selector_matches(
            &sel(json!({"key": "team", "operator": "NotIn", "values": ["x"]})),
            &labels
        ));
        assert!(label_selector_matches(
            &sel(json!({"key": "tier", "operator": "Exists"})),
            &labels
        ));
        assert!(label_selector_matches(
            &sel(json!({"key": "team", "operator": "DoesNotExist"})),
            &labels
        ));
        assert!(!label_selector_matches(
            &sel(json!({"key": "team", "operator": "Bogus"})),
            &labels
        ));
        assert!(label_selector_matches(
            &json!({"matchLabels": {"app": "web"}, "matchExpressions": []}),
            &labels
        ));
        assert!(!label_selector_matches(
            &json!({"matchLabels": {"app": "api"}}),
            &labels
        ));
    }
}
