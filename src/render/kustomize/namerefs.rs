//! kustomize's name-reference fix-up (`nameref` transformer): once names have their final
//! prefix, suffix and content hash, every field that refers to an object by the name it
//! was loaded with is rewritten to the name it ends up with.
//!
//! Which fields refer to which kinds comes from the build's transformer configuration:
//! kustomize's own `namereference.yaml` and the `nameReference` of `configurations:` files.

use std::collections::HashMap;
use std::sync::Arc;

use super::RenderError;
use super::fieldspec::{FieldSpec, group_version};
use super::resource::{Resource, get_mut, set};
use super::tconfig::NameBackRef;
use crate::yaml::{Node, Value};

/// An object references may point at: where it started and where it ended up.
struct Referee {
    kind: String,
    group: String,
    version: String,
    org_namespace: String,
    name: String,
    namespace: String,
    cluster_scoped: bool,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    /// The names of kustomize's previous ids (set by the namespace, prefix/suffix and hash
    /// transformers): a `{name, namespace}` reference only resolves to an object that has one.
    prev_id_names: Vec<String>,
    /// The object's `metadata.namespace` node: a reference given its namespace points at
    /// where that came from (`--provenance`).
    namespace_node: Option<Node>,
}

impl Referee {
    /// kustomize's id of the object as it is now (`Kind.version.group/name.namespace`, as
    /// `Resource::id`), for errors only: made when one is told, not for every object.
    fn id(&self) -> String {
        let or = |s: &str, none: &'static str| if s.is_empty() { none } else { s }.to_owned();
        format!(
            "{}.{}.{}/{}.{}",
            self.kind,
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]"),
            self.name,
            or(&self.namespace, "[noNs]")
        )
    }
}

/// An unset namespace is the `default` namespace.
fn same_namespace(a: &str, b: &str) -> bool {
    // Asked for every reference against every object of its kind: no allocation.
    fn norm(s: &str) -> &str {
        if s.is_empty() { "default" } else { s }
    }
    norm(a) == norm(b)
}

/// The referee a reference to `name` resolves to among `candidates` (the objects the
/// referrer can reach), if exactly one: kustomize only considers objects with a previous id
/// of that name (`previousNameMatches`: the namespace, prefix/suffix and hash transformers
/// record them); several are told apart by the prefixes and suffixes they share with the
/// referrer.
fn resolve<'a>(
    candidates: &[&'a Referee],
    name: &str,
    referrer: (&[String], &[String]),
    by_map: bool,
) -> Result<Option<&'a Referee>, String> {
    let found: Vec<&Referee> = candidates
        .iter()
        .copied()
        .filter(|t| t.prev_id_names.iter().any(|n| n == name))
        .collect();
    if found.len() <= 1 {
        return Ok(found.first().copied());
    }
    // kustomize's `selectReferral`: affixes the referrer shares (an empty list matching
    // any), then exactly; several left are fine only if they would write the same thing.
    let mut same: Vec<&Referee> = found
        .iter()
        .copied()
        .filter(|t| affixes_equal(t, referrer, true))
        .collect();
    if same.len() > 1 {
        same.retain(|t| affixes_equal(t, referrer, false));
    }
    let Some(first) = same.first().copied() else {
        return Ok(None);
    };
    if same
        .iter()
        .all(|t| t.name == first.name && (!by_map || t.namespace == first.namespace))
    {
        return Ok(Some(first));
    }
    let ids: Vec<String> = same.iter().map(|t| t.id()).collect();
    Err(format!(
        "found multiple possible referrals: {}",
        ids.join(", ")
    ))
}

/// kustomize's `PrefixesSuffixesEquals`: both affix lists end alike (`SameEndingSubSlice`);
/// with `allow_empty`, an empty list on either side matches anything.
fn affixes_equal(t: &Referee, referrer: (&[String], &[String]), allow_empty: bool) -> bool {
    let ends_alike = |a: &[String], b: &[String]| {
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        if short.is_empty() {
            return long.is_empty() || allow_empty;
        }
        long.ends_with(short)
    };
    ends_alike(&t.prefixes, referrer.0) && ends_alike(&t.suffixes, referrer.1)
}

/// kustomize's name-reference fix-up: wherever an object refers to another by the name it
/// was loaded with, write the name it ends up with (prefix, suffix, content hash); a
/// reference by name and namespace (RoleBinding subjects) also gets the new namespace.
/// `refs`: the build's `nameReference` configuration.
pub(super) fn fix_name_references(
    ra: &mut [Resource],
    refs: &[NameBackRef],
) -> Result<(), RenderError> {
    // The referrer field specs that select each kind of object, found once per kind: a cluster
    // root has a thousand objects of a dozen kinds, and the configuration hundreds of specs.
    let mut by_kind = Vec::new();
    for r in ra.iter() {
        check_reference_maps(r, &specs_of(refs, r, &mut by_kind))?;
    }
    let referees: Vec<Referee> = ra
        .iter()
        .map(|r| Referee {
            kind: r.kind().to_owned(),
            group: group_version(r.api_version()).0.to_owned(),
            version: group_version(r.api_version()).1.to_owned(),
            org_namespace: r.org_namespace.clone(),
            name: r.name().to_owned(),
            namespace: r.namespace().to_owned(),
            namespace_node: r
                .node
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .cloned(),
            cluster_scoped: r.is_cluster_scoped(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
            prev_id_names: r.prev_ids.iter().map(|id| id.name.clone()).collect(),
        })
        .collect();
    // kustomize's `previousIdSelectedByGvk`: empty parts of the configured kind match any.
    // Computed once per build, not once per referring object.
    let candidates: Vec<Candidates> = refs
        .iter()
        .map(|nr| {
            Candidates::new(
                referees
                    .iter()
                    .filter(|t| {
                        t.kind == nr.kind
                            && (nr.group.is_empty() || nr.group == t.group)
                            && (nr.version.is_empty() || nr.version == t.version)
                    })
                    .collect(),
            )
        })
        .collect();
    for r in ra.iter_mut() {
        let specs = specs_of(refs, r, &mut by_kind);
        fix_references_in(r, refs, &specs, &candidates)
            .map_err(|m| RenderError::at(&r.source, r.node.start, m))?;
    }
    Ok(())
}

/// The referrer field specs selecting one kind of object, in configuration order, each with
/// the index of its name reference in `refs`.
type SelectedSpecs<'a> = std::rc::Rc<Vec<(usize, &'a FieldSpec)>>;

/// The specs selecting `r`'s kind, from `by_kind` (a build has a few kinds: a list, no key
/// to allocate) or found and kept there.
fn specs_of<'a>(
    refs: &'a [NameBackRef],
    r: &Resource,
    by_kind: &mut Vec<(String, String, SelectedSpecs<'a>)>,
) -> SelectedSpecs<'a> {
    let (api_version, kind) = (r.api_version(), r.kind());
    if let Some((_, _, specs)) = by_kind
        .iter()
        .find(|(a, k, _)| a == api_version && k == kind)
    {
        return std::rc::Rc::clone(specs);
    }
    let specs = selected_specs(refs, api_version, kind);
    by_kind.push((
        api_version.to_owned(),
        kind.to_owned(),
        std::rc::Rc::clone(&specs),
    ));
    specs
}

fn selected_specs<'a>(refs: &'a [NameBackRef], api_version: &str, kind: &str) -> SelectedSpecs<'a> {
    let select = || -> Vec<(usize, usize)> {
        (refs.iter().enumerate())
            .flat_map(|(i, nr)| nr.referrers.iter().enumerate().map(move |(j, s)| (i, j, s)))
            .filter(|(_, _, s)| s.selects(api_version, kind))
            .map(|(i, j, _)| (i, j))
            .collect()
    };
    let at = |(i, j): &(usize, usize)| (*i, &refs[*i].referrers[*j]);
    if !super::tconfig::is_shared_name_reference(refs) {
        return std::rc::Rc::new(select().iter().map(at).collect());
    }
    // The default configuration's (nearly every build's), found once per kind for the whole
    // process: each root's build looked through its three hundred specs again.
    type Selected = std::collections::HashMap<(String, String), Arc<[(usize, usize)]>>;
    static DEFAULTS: std::sync::LazyLock<std::sync::Mutex<Selected>> =
        std::sync::LazyLock::new(Default::default);
    let key = (api_version.to_owned(), kind.to_owned());
    let known = DEFAULTS.lock().ok().and_then(|m| m.get(&key).cloned());
    let found = known.unwrap_or_else(|| {
        let found: Arc<[(usize, usize)]> = select().into();
        if let Ok(mut m) = DEFAULTS.lock() {
            m.insert(key, Arc::clone(&found));
        }
        found
    });
    std::rc::Rc::new(found.iter().map(at).collect())
}

/// kustomize's `nameref.Filter.setMapping`: a reference held as a map (`{name, namespace}`)
/// must have a `name`, whatever it refers to; a configured field spec that reaches a map
/// without one (a namespace spec with `create: true` may have made it) fails the build.
fn check_reference_maps(r: &Resource, specs: &[(usize, &FieldSpec)]) -> Result<(), RenderError> {
    let lacks_name = |n: &Node| matches!(n.value, Value::Map(_)) && n.get("name").is_none();
    for (_, spec) in specs {
        let mut bad = false;
        spec.visit_existing(&r.node, &mut |n| match &n.value {
            Value::Seq(items) => bad |= items.iter().any(lacks_name),
            _ => bad |= lacks_name(n),
        });
        if bad {
            return Err(RenderError::at(
                &r.source,
                r.node.start,
                format!(
                    "updating name reference in '{}' field of '{}': path config error; no 'name' field in node",
                    spec.path.join("/"),
                    r.id()
                ),
            ));
        }
    }
    Ok(())
}

/// The objects one name reference can point at, in order, and those known by each of their
/// previous names (what a reference holds).
struct Candidates<'a> {
    all: Vec<&'a Referee>,
    by_name: HashMap<&'a str, Vec<&'a Referee>, foldhash::fast::RandomState>,
}

impl<'a> Candidates<'a> {
    fn new(all: Vec<&'a Referee>) -> Candidates<'a> {
        let mut by_name: HashMap<&str, Vec<&Referee>, _> = HashMap::default();
        for t in &all {
            for n in &t.prev_id_names {
                let listed = by_name.entry(n.as_str()).or_insert_with(Vec::new);
                // Once per object, though it may have had the name more than once.
                if !listed.last().is_some_and(|l| std::ptr::eq(*l, *t)) {
                    listed.push(*t);
                }
            }
        }
        Candidates { all, by_name }
    }
}

/// The referring object, as a reference in it is resolved: its namespace and affixes.
struct Referrer<'a> {
    /// The kind the reference points at (from the name-reference config).
    kind: &'a str,
    candidates: &'a Candidates<'a>,
    namespace: &'a str,
    cluster_scoped: bool,
    /// A RoleBinding's ServiceAccount subjects' namespaces: objects there may be referred
    /// to from another namespace (kustomize's `getNamespacesForRoleBinding`).
    subject_namespaces: &'a [String],
    prefixes: &'a [String],
    suffixes: &'a [String],
}

/// Whether the referrer can refer to `t` at all: kustomize's
/// `SubsetThatCouldBeReferencedByResource` then `sameCurrentNamespaceAsReferrer`. A
/// cluster-scoped referrer reaches everything; a namespaced one cluster-scoped objects,
/// objects now in its own namespace, and (a RoleBinding) ServiceAccounts in the namespace
/// of one of its ServiceAccount subjects.
fn reachable(referrer: &Referrer, t: &Referee) -> bool {
    referrer.cluster_scoped
        || t.cluster_scoped
        || same_namespace(&t.namespace, referrer.namespace)
        || (t.kind == "ServiceAccount" && referrer.subject_namespaces.contains(&t.namespace))
}

/// The candidates for a `{name, namespace}` reference (`setMapping`, RoleBinding
/// subjects): with a namespace, the objects loaded in it (else those now in it); without,
/// all; of those, the reachable ones.
fn by_map_candidates<'a>(referrer: &Referrer<'a>, holder_ns: Option<&str>) -> Vec<&'a Referee> {
    // `GroupedByOriginalNamespace` keys: the effective namespace (a literal `namespace: ""`
    // in the reference matches none).
    let in_ns = |t_ns: &str, ns: &str| !ns.is_empty() && same_namespace(t_ns, ns);
    let all = referrer.candidates.all.iter().copied();
    let pool: Vec<&Referee> = match holder_ns {
        None => all.collect(),
        Some(ns) => {
            let loaded: Vec<&Referee> = all
                .clone()
                .filter(|t| !t.cluster_scoped && in_ns(&t.org_namespace, ns))
                .collect();
            if loaded.is_empty() {
                all.filter(|t| !t.cluster_scoped && in_ns(&t.namespace, ns))
                    .collect()
            } else {
                loaded
            }
        }
    };
    pool.into_iter()
        .filter(|t| reachable(referrer, t))
        .collect()
}

/// The namespaces of a RoleBinding's ServiceAccount subjects that name one.
fn role_binding_subject_namespaces(r: &Resource) -> Vec<String> {
    if r.kind() != "RoleBinding" {
        return Vec::new();
    }
    let Some(Value::Seq(subjects)) = r.node.get("subjects").map(|s| &s.value) else {
        return Vec::new();
    };
    subjects
        .iter()
        .filter(|s| s.get("kind").and_then(Node::as_str) == Some("ServiceAccount"))
        .filter_map(|s| s.get("namespace").and_then(Node::as_str).map(str::to_owned))
        .collect()
}

/// Rewrites every reference held by `r`.
/// Fails, as kustomize does, where a reference matches several objects it cannot tell apart.
fn fix_references_in(
    r: &mut Resource,
    refs: &[NameBackRef],
    specs: &[(usize, &FieldSpec)],
    candidates: &[Candidates],
) -> Result<(), String> {
    if specs.iter().all(|(i, _)| candidates[*i].all.is_empty()) {
        return Ok(());
    }
    let referrer_ns = r.namespace().to_owned();
    let referrer_cluster_scoped = r.is_cluster_scoped();
    let subject_namespaces = role_binding_subject_namespaces(r);
    let affixes = (r.prefixes.clone(), r.suffixes.clone());
    for &(i, spec) in specs {
        if candidates[i].all.is_empty() {
            continue;
        }
        let referrer = Referrer {
            kind: &refs[i].kind,
            candidates: &candidates[i],
            namespace: &referrer_ns,
            cluster_scoped: referrer_cluster_scoped,
            subject_namespaces: &subject_namespaces,
            prefixes: &affixes.0,
            suffixes: &affixes.1,
        };
        fix_field(&mut r.node, spec, &referrer).map_err(|m| {
            let (path, id) = (spec.path.join("/"), r.id());
            format!(
                "updating name reference in '{path}' field of '{id}': considering field '{path}' of object {id}: {m}"
            )
        })?;
    }
    Ok(())
}

/// Rewrites the references found at one field spec of `node`.
fn fix_field(node: &mut Node, spec: &FieldSpec, referrer: &Referrer) -> Result<(), String> {
    let Some((last, parent_path)) = spec.path.split_last() else {
        return Ok(());
    };
    // kustomize's `roleRefFilter`: only a `roleRef` reads the kind it names.
    let role_ref = parent_path.last().is_some_and(|p| p == "roleRef") && last == "name";
    let mut failed: Result<(), String> = Ok(());
    spec.visit_parents(node, &mut |parent| {
        if failed.is_err() {
            return;
        }
        failed = fix_parent(referrer, parent, last, role_ref);
    });
    failed
}

/// The references under one parent node of a field spec's last segment.
fn fix_parent(
    referrer: &Referrer,
    parent: &mut Node,
    last: &str,
    role_ref: bool,
) -> Result<(), String> {
    match &mut parent.value {
        Value::Seq(items) => {
            for i in items.iter_mut() {
                update(referrer, i, last, false, role_ref)?;
            }
        }
        Value::Map(_) => {
            // `subjects` and webhook `service` refer by a map (name, namespace)
            // rather than by a string.
            let by_map = get_mut(parent, last).is_some_and(|c| match &c.value {
                Value::Map(_) => true,
                Value::Seq(items) => items.iter().any(|i| matches!(i.value, Value::Map(_))),
                _ => false,
            });
            if !by_map {
                update(referrer, parent, last, false, role_ref)?;
            } else if let Some(child) = get_mut(parent, last) {
                match &mut child.value {
                    Value::Seq(items) => {
                        for i in items.iter_mut() {
                            update(referrer, i, "name", true, false)?;
                        }
                    }
                    _ => update(referrer, child, "name", true, false)?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rewrites the reference in `holder.field` (a name, or a list of names); `by_map`: the
/// holder is a `{name, namespace}` map, whose namespace is used and updated too; `role_ref`:
/// the holder is a `roleRef`, whose `kind` must be the referee's.
fn update(
    referrer: &Referrer,
    holder: &mut Node,
    field: &str,
    by_map: bool,
    role_ref: bool,
) -> Result<(), String> {
    // A `roleRef` only matches the kind it names; kustomize reads no other reference's kind
    // (a `scaleTargetRef` naming a StatefulSet follows a renamed Deployment of that name,
    // a subject of any kind follows a ServiceAccount).
    if let Some(k) = holder.get("kind").and_then(Node::as_str)
        && k != referrer.kind
        && role_ref
    {
        return Ok(());
    }
    let holder_ns = holder.get("namespace").and_then(Node::as_str);
    // A map reference's candidates depend on its namespace; another's are the reachable
    // ones known by the name it holds (filtering every candidate for every reference of
    // every object was most of a cluster's name references).
    let by_namespace = by_map.then(|| by_map_candidates(referrer, holder_ns));
    let pool = |name: &str| -> Vec<&Referee> {
        match &by_namespace {
            Some(pool) => pool.clone(),
            None => (referrer.candidates.by_name.get(name).into_iter().flatten())
                .copied()
                .filter(|t| reachable(referrer, t))
                .collect(),
        }
    };
    let affixes = (referrer.prefixes, referrer.suffixes);
    let mut new_namespace = None;
    if let Some(target) = get_mut(holder, field) {
        match &mut target.value {
            Value::String(name) => {
                if let Some(t) = resolve(&pool(name), name, affixes, by_map)? {
                    *name = t.name.clone();
                    if !t.cluster_scoped && !t.namespace.is_empty() {
                        new_namespace = t.namespace_node.clone();
                    }
                }
            }
            Value::Seq(items) => {
                for i in items.iter_mut() {
                    if let Value::String(name) = &mut i.value
                        && let Some(t) = resolve(&pool(name), name, affixes, by_map)?
                    {
                        *name = t.name.clone();
                    }
                }
            }
            _ => {}
        }
    }
    if by_map && let Some(ns) = new_namespace {
        set(holder, "namespace", ns);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::resource::test_resources;
    use crate::render::kustomize::tconfig::TransformerConfig;
    use crate::render::kustomize::transformers::{apply_affix, set_namespace};

    fn refs() -> &'static [NameBackRef] {
        &TransformerConfig::builtin().name_reference
    }

    /// The candidates known by a name are those with it among their previous names, each
    /// once and in their order, whatever else they were called.
    #[test]
    fn candidates_are_listed_once_per_name_in_order() {
        let referee = |id: &str, names: &[&str]| Referee {
            kind: "ConfigMap".to_owned(),
            group: String::new(),
            version: "v1".to_owned(),
            org_namespace: String::new(),
            name: id.to_owned(),
            namespace: String::new(),
            cluster_scoped: false,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            prev_id_names: names.iter().map(|n| (*n).to_owned()).collect(),
            namespace_node: None,
        };
        let (a, b, c) = (
            referee("a", &["cm", "a", "cm"]),
            referee("b", &["cm"]),
            referee("c", &["other"]),
        );
        let candidates = Candidates::new(vec![&a, &b, &c]);
        let ids = |name: &str| -> Vec<&str> {
            (candidates.by_name.get(name).into_iter().flatten())
                .map(|t| t.name.as_str())
                .collect()
        };
        assert_eq!(ids("cm"), ["a", "b"]);
        assert_eq!(ids("a"), ["a"]);
        assert_eq!(ids("other"), ["c"]);
        assert!(ids("b").is_empty());
        assert_eq!(candidates.all.len(), 3);
    }

    #[test]
    fn the_default_configurations_specs_are_found_once_for_the_process() {
        let shared = super::super::tconfig::shared_defaults();
        let copy = shared.name_reference.clone();
        assert!(super::super::tconfig::is_shared_name_reference(
            &shared.name_reference
        ));
        assert!(!super::super::tconfig::is_shared_name_reference(&copy));
        for (api_version, kind, some) in [
            ("apps/v1", "Deployment", true),
            ("v1", "Pod", true),
            ("batch/v1", "CronJob", true),
            ("example.com/v1", "Unknown", false),
        ] {
            let found = |refs: &[NameBackRef]| -> Vec<(usize, FieldSpec)> {
                (selected_specs(refs, api_version, kind).iter())
                    .map(|(i, s)| (*i, (*s).clone()))
                    .collect()
            };
            let computed = found(&copy);
            // The second time from the process' memo: the same specs, in the same order.
            assert_eq!(found(&shared.name_reference), computed, "{kind}");
            assert_eq!(found(&shared.name_reference), computed, "{kind}");
            assert_eq!(!computed.is_empty(), some, "{kind}");
        }
    }

    const APP: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: app
          envFrom:
            - configMapRef: {name: cfg}
            - configMapRef: {name: unrelated}
      volumes:
        - {name: v, configMap: {name: cfg}}
";

    fn pod_spec(r: &Resource) -> &Node {
        r.node
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .expect("pod spec")
    }

    fn seq(n: Option<&Node>) -> &[Node] {
        match n.map(|n| &n.value) {
            Some(Value::Seq(items)) => items,
            _ => &[],
        }
    }

    #[test]
    fn env_from_and_volumes_follow_a_prefixed_config_map() {
        let mut ra = test_resources(APP);
        for r in ra.iter_mut() {
            apply_affix(r, "dev-", true);
        }
        fix_name_references(&mut ra, refs()).expect("fixes");
        let spec = pod_spec(&ra[1]);
        let container = &seq(spec.get("containers"))[0];
        let env_from = seq(container.get("envFrom"));
        assert_eq!(
            env_from[0].str_at(&["configMapRef", "name"]),
            Some("dev-cfg")
        );
        // A name no object had stays as it is.
        assert_eq!(
            env_from[1].str_at(&["configMapRef", "name"]),
            Some("unrelated")
        );
        let volume = &seq(spec.get("volumes"))[0];
        assert_eq!(volume.str_at(&["configMap", "name"]), Some("dev-cfg"));
    }

    #[test]
    fn references_resolve_within_the_referrers_namespace() {
        let mut ra = test_resources(APP);
        set_namespace(&mut ra[0], "other");
        apply_affix(&mut ra[0], "x-", true);
        // The Deployment stays in `default` and the ConfigMap moved to `other`: kustomize
        // only looks at objects now in the referrer's namespace (kubectl leaves `cfg`).
        fix_name_references(&mut ra, refs()).expect("fixes");
        let container = &seq(pod_spec(&ra[1]).get("containers"))[0];
        assert_eq!(
            seq(container.get("envFrom"))[0].str_at(&["configMapRef", "name"]),
            Some("cfg")
        );
        set_namespace(&mut ra[1], "other");
        fix_name_references(&mut ra, refs()).expect("fixes");
        let container = &seq(pod_spec(&ra[1]).get("containers"))[0];
        assert_eq!(
            seq(container.get("envFrom"))[0].str_at(&["configMapRef", "name"]),
            Some("x-cfg")
        );
        let mut elsewhere = test_resources(APP);
        set_namespace(&mut elsewhere[1], "prod");
        elsewhere[0].org_namespace = "staging".to_owned();
        apply_affix(&mut elsewhere[0], "x-", true);
        fix_name_references(&mut elsewhere, refs()).expect("fixes");
        let container = &seq(pod_spec(&elsewhere[1]).get("containers"))[0];
        assert_eq!(
            seq(container.get("envFrom"))[0].str_at(&["configMapRef", "name"]),
            Some("cfg"),
            "a ConfigMap of another namespace is not the one referenced"
        );
    }

    fn seq_of_subjects() -> Node {
        test_resources(
            "subjects:\n  - {kind: ServiceAccount, name: robot, namespace: ops}\n  - {kind: Group, name: robot}\n",
        )
        .remove(0)
        .node
        .get("subjects")
        .cloned()
        .expect("subjects")
    }

    #[test]
    fn subjects_get_the_new_name_and_namespace_of_a_service_account() {
        let mut ra = test_resources(
            "apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: robot}
subjects:
  - {kind: ServiceAccount, name: robot}
  - {kind: Group, name: robot, namespace: ops}
",
        );
        set_namespace(&mut ra[0], "ops");
        apply_affix(&mut ra[0], "p-", true);
        fix_name_references(&mut ra, refs()).expect("fixes");
        let subjects = seq(ra[1].node.get("subjects"));
        // The RoleBinding (in `default`) reaches the account in `ops` only through a
        // ServiceAccount subject naming `ops`; there is none, so nothing changes.
        assert_eq!(subjects[0].str_at(&["name"]), Some("robot"));
        assert_eq!(subjects[1].str_at(&["name"]), Some("robot"));
        set(&mut ra[1].node, "subjects", seq_of_subjects());
        fix_name_references(&mut ra, refs()).expect("fixes");
        let subjects = seq(ra[1].node.get("subjects"));
        assert_eq!(subjects[0].str_at(&["name"]), Some("p-robot"));
        assert_eq!(subjects[0].str_at(&["namespace"]), Some("ops"));
        // A subject's kind is not read: the Group named like the account follows it too.
        assert_eq!(subjects[1].str_at(&["name"]), Some("p-robot"));
        // roleRef names a Role: the ServiceAccount of the same name is not it.
        assert_eq!(ra[1].node.str_at(&["roleRef", "name"]), Some("robot"));
    }

    #[test]
    fn same_names_are_told_apart_by_the_referrers_affixes() {
        let mut ra = test_resources(&format!(
            "{APP}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\n"
        ));
        apply_affix(&mut ra[0], "a-", true);
        apply_affix(&mut ra[1], "a-", true);
        apply_affix(&mut ra[2], "b-", true);
        fix_name_references(&mut ra, refs()).expect("fixes");
        let container = &seq(pod_spec(&ra[1]).get("containers"))[0];
        assert_eq!(
            seq(container.get("envFrom"))[0].str_at(&["configMapRef", "name"]),
            Some("a-cfg")
        );
    }

    #[test]
    fn a_cluster_scoped_referrer_sees_every_namespace() {
        let yaml = "apiVersion: v1
kind: Service
metadata: {name: hook, namespace: system}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec: {serviceName: hook}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {serviceName: hook}
";
        let custom = super::super::tconfig::parse(
            std::path::Path::new("c.yaml"),
            "nameReference:\n- kind: Service\n  fieldSpecs:\n  - {kind: CustomResourceDefinition, path: spec/serviceName}\n  - {kind: ConfigMap, path: data/serviceName}\n",
        )
        .expect("config");
        let mut ra = test_resources(yaml);
        apply_affix(&mut ra[0], "p-", true);
        fix_name_references(&mut ra, &custom.name_reference).expect("fixes");
        assert_eq!(ra[1].node.str_at(&["spec", "serviceName"]), Some("p-hook"));
        // A namespaced referrer in `default` does not see the Service in `system`.
        assert_eq!(ra[2].node.str_at(&["data", "serviceName"]), Some("hook"));
    }

    #[test]
    fn a_map_reference_without_a_name_is_an_error() {
        let mut ra = test_resources(
            "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
  - name: a
    clientConfig:
      service: {namespace: x}
",
        );
        let err = fix_name_references(&mut ra, refs()).expect_err("no name");
        assert!(
            err.to_string()
                .contains("'webhooks/clientConfig/service' field of 'ValidatingWebhookConfiguration.v1.admissionregistration.k8s.io/v.[noNs]': path config error; no 'name' field in node"),
            "{err}"
        );
    }

    #[test]
    fn a_reference_to_two_distinct_objects_is_an_error_unless_affixes_tell_them_apart() {
        let two = "apiVersion: v1
kind: ServiceAccount
metadata: {name: worker}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: worker, namespace: b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: worker}
";
        let mut ra = test_resources(two);
        set_namespace(&mut ra[0], "a");
        set_namespace(&mut ra[1], "b");
        let err = fix_name_references(&mut ra, refs()).expect_err("ambiguous");
        assert!(
            err.to_string().contains(
                "found multiple possible referrals: ServiceAccount.v1.[noGrp]/worker.a, ServiceAccount.v1.[noGrp]/worker.b"
            ),
            "{err}"
        );
        // The binding shares its prefix with one of them: that one is meant.
        let mut ra = test_resources(two);
        set_namespace(&mut ra[0], "a");
        set_namespace(&mut ra[1], "b");
        apply_affix(&mut ra[0], "p-", true);
        apply_affix(&mut ra[2], "p-", true);
        apply_affix(&mut ra[1], "q-", true);
        fix_name_references(&mut ra, refs()).expect("resolves");
        let subject = &seq(ra[2].node.get("subjects"))[0];
        assert_eq!(subject.str_at(&["name"]), Some("p-worker"));
        assert_eq!(subject.str_at(&["namespace"]), Some("a"));
    }

    #[test]
    fn no_namespace_is_the_default_namespace() {
        assert!(same_namespace("", "default"));
        assert!(same_namespace("default", ""));
        assert!(!same_namespace("", "prod"));
    }
}
