//! kustomize's name-reference fix-up (`nameref` transformer): once names have their final
//! prefix, suffix and content hash, every field that refers to an object by the name it
//! was loaded with is rewritten to the name it ends up with.
//!
//! Which fields refer to which kinds comes from the build's transformer configuration:
//! kustomize's own `namereference.yaml` and the `nameReference` of `configurations:` files.

use super::RenderError;
use super::fieldspec::{FieldSpec, group_version};
use super::resource::{Resource, get_mut, set, text};
use super::tconfig::NameBackRef;
use crate::yaml::{Node, Value};

/// An object references may point at: where it started and where it ended up.
struct Referee {
    kind: String,
    group: String,
    version: String,
    org_name: String,
    org_namespace: String,
    name: String,
    namespace: String,
    cluster_scoped: bool,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    prev_names: Vec<String>,
    /// Whether it has a previous id (renamed, or moved to another namespace).
    has_prev: bool,
}

/// An unset namespace is the `default` namespace.
fn same_namespace(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default" } else { s }.to_owned();
    norm(a) == norm(b)
}

/// The referee a reference to `name` (seen from namespace `ns`) resolves to, if exactly one:
/// several objects loaded under one name are told apart by the prefixes and suffixes they
/// share with the referrer, as kustomize does.
fn resolve<'a>(
    candidates: &[&'a Referee],
    name: &str,
    ns: Option<&str>,
    referrer: (&[String], &[String]),
) -> Option<&'a Referee> {
    let found: Vec<&Referee> = candidates
        .iter()
        .copied()
        .filter(|t| {
            // kustomize's `previousNameMatches` reads previous ids only: an object that
            // was never renamed or moved is never what a reference needs updating to.
            t.has_prev
                && (t.org_name == name || t.prev_names.iter().any(|p| p == name))
                && ns.is_none_or(|ns| {
                    t.cluster_scoped
                        || same_namespace(&t.org_namespace, ns)
                        || same_namespace(&t.namespace, ns)
                })
        })
        .collect();
    match found.as_slice() {
        [one] => Some(one),
        [] => None,
        many => {
            let same: Vec<&Referee> = many
                .iter()
                .copied()
                .filter(|t| t.prefixes == referrer.0 && t.suffixes == referrer.1)
                .collect();
            match same.as_slice() {
                [one] => Some(one),
                _ => None,
            }
        }
    }
}

/// kustomize's name-reference fix-up: wherever an object refers to another by the name it
/// was loaded with, write the name it ends up with (prefix, suffix, content hash); a
/// reference by name and namespace (RoleBinding subjects) also gets the new namespace.
/// `refs`: the build's `nameReference` configuration.
pub(super) fn fix_name_references(
    ra: &mut [Resource],
    refs: &[NameBackRef],
) -> Result<(), RenderError> {
    let referees: Vec<Referee> = ra
        .iter()
        .map(|r| Referee {
            kind: r.kind().to_owned(),
            group: group_version(r.api_version()).0.to_owned(),
            version: group_version(r.api_version()).1.to_owned(),
            org_name: r.org_name.clone(),
            org_namespace: r.org_namespace.clone(),
            name: r.name().to_owned(),
            namespace: r.namespace().to_owned(),
            cluster_scoped: r.is_cluster_scoped(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
            prev_names: r.prev_names.clone(),
            has_prev: !r.prev_names.is_empty()
                || r.name() != r.org_name
                || r.namespace() != r.org_namespace,
        })
        .collect();
    // kustomize's `previousIdSelectedByGvk`: empty parts of the configured kind match any.
    let candidates: Vec<Vec<&Referee>> = refs
        .iter()
        .map(|nr| {
            referees
                .iter()
                .filter(|t| {
                    t.kind == nr.kind
                        && (nr.group.is_empty() || nr.group == t.group)
                        && (nr.version.is_empty() || nr.version == t.version)
                })
                .collect()
        })
        .collect();
    for r in ra.iter_mut() {
        fix_references_in(r, refs, &candidates)?;
    }
    Ok(())
}

/// kustomize's `nameref.Filter.setMapping`: a reference held as a map (`{name, namespace}`)
/// must have a `name`, whatever it refers to; a configured field spec that reaches a map
/// without one (a namespace spec with `create: true` may have made it) fails the build.
fn check_reference_map(r: &Resource, spec: &FieldSpec) -> Result<(), RenderError> {
    let lacks_name = |n: &Node| matches!(n.value, Value::Map(_)) && n.get("name").is_none();
    let mut bad = false;
    spec.visit_existing(&r.node, &mut |n| match &n.value {
        Value::Seq(items) => bad |= items.iter().any(lacks_name),
        _ => bad |= lacks_name(n),
    });
    if !bad {
        return Ok(());
    }
    Err(RenderError::at(
        &r.source,
        r.node.start,
        format!(
            "updating name reference in '{}' field of '{}': path config error; no 'name' field in node",
            spec.path.join("/"),
            r.id()
        ),
    ))
}

/// The referring object, as a reference in it is resolved: its namespace and affixes.
struct Referrer<'a> {
    /// The kind the reference points at (from the name-reference config).
    kind: &'a str,
    candidates: &'a [&'a Referee],
    namespace: &'a str,
    /// A cluster-scoped referrer may refer to objects of any namespace.
    cluster_scoped: bool,
    prefixes: &'a [String],
    suffixes: &'a [String],
}

/// Rewrites every reference held by `r`; `candidates[i]`: the objects `refs[i]` may point at.
fn fix_references_in(
    r: &mut Resource,
    refs: &[NameBackRef],
    candidates: &[Vec<&Referee>],
) -> Result<(), RenderError> {
    let referrer_ns = r.namespace().to_owned();
    let cluster_scoped = r.is_cluster_scoped();
    let affixes = (r.prefixes.clone(), r.suffixes.clone());
    let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
    for (nr, candidates) in refs.iter().zip(candidates) {
        let referrer = Referrer {
            kind: &nr.kind,
            candidates,
            namespace: &referrer_ns,
            cluster_scoped,
            prefixes: &affixes.0,
            suffixes: &affixes.1,
        };
        for spec in nr
            .referrers
            .iter()
            .filter(|s| s.selects(&api_version, &kind))
        {
            check_reference_map(r, spec)?;
            if !candidates.is_empty() {
                fix_field(&mut r.node, spec, &referrer);
            }
        }
    }
    Ok(())
}

/// Rewrites the references found at one field spec of `node`.
fn fix_field(node: &mut Node, spec: &FieldSpec, referrer: &Referrer) {
    let Some((last, parent_path)) = spec.path.split_last() else {
        return;
    };
    let parent_spec = FieldSpec {
        path: parent_path.to_vec(),
        create: false,
        ..spec.clone()
    };
    parent_spec.visit(node, &mut |parent| match &mut parent.value {
        Value::Seq(items) => {
            for i in items.iter_mut() {
                update(referrer, i, last, false);
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
                update(referrer, parent, last, false);
            } else if let Some(child) = get_mut(parent, last) {
                match &mut child.value {
                    Value::Seq(items) => {
                        for i in items.iter_mut() {
                            update(referrer, i, "name", true);
                        }
                    }
                    _ => update(referrer, child, "name", true),
                }
            }
        }
        _ => {}
    });
}

/// Rewrites the reference in `holder.field` (a name, or a list of names); `by_map`: the
/// holder is a `{name, namespace}` map, whose namespace is used and updated too.
fn update(referrer: &Referrer, holder: &mut Node, field: &str, by_map: bool) {
    // A reference that names its kind (roleRef, scaleTargetRef, subjects)
    // only matches that kind.
    if let Some(k) = holder.get("kind").and_then(Node::as_str)
        && k != referrer.kind
    {
        return;
    }
    // kustomize's `SubsetThatCouldBeReferencedByResource`: a cluster-scoped referrer sees
    // every namespace, unless the reference names one.
    let ns = match holder.get("namespace").and_then(Node::as_str) {
        Some(ns) if by_map => Some(ns.to_owned()),
        _ if referrer.cluster_scoped => None,
        _ => Some(referrer.namespace.to_owned()),
    };
    let affixes = (referrer.prefixes, referrer.suffixes);
    let mut new_namespace = None;
    if let Some(target) = get_mut(holder, field) {
        match &mut target.value {
            Value::String(name) => {
                if let Some(t) = resolve(referrer.candidates, name, ns.as_deref(), affixes) {
                    *name = t.name.clone();
                    if !t.cluster_scoped && !t.namespace.is_empty() {
                        new_namespace = Some(t.namespace.clone());
                    }
                }
            }
            Value::Seq(items) => {
                for i in items.iter_mut() {
                    if let Value::String(name) = &mut i.value
                        && let Some(t) = resolve(referrer.candidates, name, ns.as_deref(), affixes)
                    {
                        *name = t.name.clone();
                    }
                }
            }
            _ => {}
        }
    }
    if by_map && let Some(ns) = new_namespace {
        set(holder, "namespace", text(&ns));
    }
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
        // The Deployment stays in `default`: the ConfigMap was loaded there too, so the
        // reference follows it (org namespace) even after it moved.
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
",
        );
        set_namespace(&mut ra[0], "ops");
        apply_affix(&mut ra[0], "p-", true);
        fix_name_references(&mut ra, refs()).expect("fixes");
        let subject = &seq(ra[1].node.get("subjects"))[0];
        assert_eq!(subject.str_at(&["name"]), Some("p-robot"));
        assert_eq!(subject.str_at(&["namespace"]), Some("ops"));
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
    fn no_namespace_is_the_default_namespace() {
        assert!(same_namespace("", "default"));
        assert!(same_namespace("default", ""));
        assert!(!same_namespace("", "prod"));
    }
}
