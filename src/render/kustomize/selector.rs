//! Which objects a patch, replacement or transformer config selects (kustomize's
//! `Selector`, and the Kubernetes label selectors inside it).
//!
//! Patches match group, version, kind, name and namespace as anchored regular
//! expressions; replacements match them exactly, against any of the object's ids. Kept out of
//! `kustomization.rs` so that the parser and `replacement.rs` can both use the type.

use super::fieldspec::group_version;
use super::resource::Resource;
use crate::yaml::{Node, Pos, Value};

/// Which objects a patch applies to (kustomize `Selector`); name, namespace, kind, group and
/// version are anchored regular expressions.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
    pub pos: Pos,
}

/// `pattern` matches the whole of `value` (kustomize anchors selector fields).
fn full_match(pattern: &str, value: &str) -> Result<bool, String> {
    // Most targets name a kind or a name outright: no pattern to build and look up (a patch
    // is tried on every object of its kustomization, twice per name).
    if super::patterns::is_literal(pattern) && !pattern.contains('.') {
        return Ok(pattern == value);
    }
    super::patterns::is_match(&format!("^(?:{pattern})$"), value)
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}

/// A Kubernetes label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z),n>3`, as
/// apimachinery's `labels.Parse` reads it) against a label or annotation map.
fn matches_selector(n: Option<&Node>, selector: &str) -> Result<bool, String> {
    let get = |k: &str| -> Option<String> {
        let v = n.and_then(|m| m.get(k))?;
        Some(match &v.value {
            Value::String(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Float(f) => f.to_string(),
            _ => String::new(),
        })
    };
    let bad = |term: &str| format!("unable to parse requirement `{term}` of selector `{selector}`");
    // Terms are comma-separated, but commas inside `( )` belong to a set.
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    for term in terms.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let set_op = term
            .find(" in ")
            .map(|i| (i, 4, true))
            .or_else(|| term.find(" notin ").map(|i| (i, 7, false)));
        let ok = if let Some((i, len, is_in)) = set_op {
            let key = term[..i].trim();
            let set = term[i + len..].trim();
            let inner = set
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| bad(term))?;
            let values: Vec<&str> = inner.split(',').map(str::trim).collect();
            let found = get(key).is_some_and(|v| values.contains(&v.as_str()));
            if is_in { found } else { !found }
        } else if let Some((k, v)) = term.split_once("!=") {
            get(k.trim()).as_deref() != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            get(k.trim()).as_deref() == Some(v.trim())
        } else if let Some((k, v)) = term.split_once('>').or_else(|| term.split_once('<')) {
            let bound: i64 = v.trim().parse().map_err(|_| bad(term))?;
            let greater = term.contains('>');
            get(k.trim())
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| if greater { x > bound } else { x < bound })
        } else if let Some(k) = term.strip_prefix('!') {
            get(k.trim()).is_none()
        } else if term.contains(char::is_whitespace) || term.contains('(') {
            return Err(bad(term));
        } else {
            get(term).is_some()
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Regular-expression matching, as patch targets select objects (kustomize's
/// `resWrangler.Select`): the name matches the original or the current name, the namespace
/// the original or the current effective namespace (none is `default`), group, version and
/// kind the current ones.
pub(super) fn selects(sel: &Selector, r: &Resource) -> Result<bool, String> {
    let effective = |ns: &str| -> String {
        if r.is_cluster_scoped() {
            "_non_namespaceable_".to_owned()
        } else if ns.is_empty() {
            "default".to_owned()
        } else {
            ns.to_owned()
        }
    };
    let either = |wanted: &Option<String>, org: &str, cur: &str| -> Result<bool, String> {
        match wanted.as_deref().filter(|w| !w.is_empty()) {
            None => Ok(true),
            Some(w) => Ok(full_match(w, org)? || full_match(w, cur)?),
        }
    };
    let (org_ns, cur_ns) = (effective(&r.org_namespace), effective(r.namespace()));
    if !either(&sel.namespace, &org_ns, &cur_ns)? || !either(&sel.name, &r.org_name, r.name())? {
        return Ok(false);
    }
    let by_gvk = Selector {
        name: None,
        namespace: None,
        ..sel.clone()
    };
    selector_matches(&by_gvk, r, &full_match)
}

/// Whether `r` is selected: every group/version/kind/name/namespace the selector sets
/// matches by `field_matches(wanted, actual)`, and so do its label and annotation selectors.
fn selector_matches(
    sel: &Selector,
    r: &Resource,
    field_matches: &dyn Fn(&str, &str) -> Result<bool, String>,
) -> Result<bool, String> {
    let (g, v) = group_version(r.api_version());
    let checks = [
        (&sel.group, g),
        (&sel.version, v),
        (&sel.kind, r.kind()),
        (&sel.name, r.name()),
        (&sel.namespace, r.namespace()),
    ];
    for (wanted, actual) in checks {
        if let Some(w) = wanted.as_deref().filter(|w| !w.is_empty())
            && !field_matches(w, actual)?
        {
            return Ok(false);
        }
    }
    meta_matches(sel, r)
}

/// kustomize's `ResId.IsSelectedBy`, as replacements pick their source and targets: one of
/// the object's ids (current or previous, `MakeResIds`) has the selector's kind and name
/// exactly and the same effective namespace (unset is `default`); group and version are
/// the object's.
pub(super) fn id_selects(sel: &Selector, r: &Resource) -> bool {
    fn set(f: &Option<String>) -> Option<&str> {
        f.as_deref().filter(|w| !w.is_empty())
    }
    let effective = |kind: &str, ns: &str| -> String {
        if crate::model::kinds::is_cluster_scoped_kind(kind) {
            "~cluster".to_owned()
        } else if ns.is_empty() {
            "default".to_owned()
        } else {
            ns.to_owned()
        }
    };
    let (g, v) = group_version(r.api_version());
    if set(&sel.group).is_some_and(|w| w != g) || set(&sel.version).is_some_and(|w| w != v) {
        return false;
    }
    r.ids().iter().any(|id| {
        set(&sel.kind).is_none_or(|w| w == id.kind)
            && set(&sel.name).is_none_or(|w| w == id.name)
            && set(&sel.namespace).is_none_or(|w| {
                effective(sel.kind.as_deref().unwrap_or(""), w)
                    == effective(&id.kind, &id.namespace)
            })
    })
}

/// The label and annotation selectors of `sel` against the object's current metadata.
fn meta_matches(sel: &Selector, r: &Resource) -> Result<bool, String> {
    let meta = r.node.get("metadata");
    if let Some(ls) = &sel.label_selector
        && !matches_selector(meta.and_then(|m| m.get("labels")), ls)?
    {
        return Ok(false);
    }
    if let Some(a) = &sel.annotation_selector
        && !matches_selector(meta.and_then(|m| m.get("annotations")), a)?
    {
        return Ok(false);
    }
    Ok(true)
}

/// kustomize's (v5.5) replacement target selection: `select`'s label and annotation
/// selectors match the object and its id fields one of the object's ids; a `reject` with
/// label or annotation selectors rejects by those, one naming an id rejects when any of
/// the object's ids is selected by it.
pub(super) fn target_selects(
    select: Option<&Selector>,
    reject: &[Selector],
    r: &Resource,
) -> Result<bool, String> {
    if let Some(sel) = select
        && !(meta_matches(sel, r)? && id_selects(sel, r))
    {
        return Ok(false);
    }
    for rej in reject {
        if (rej.label_selector.is_some() || rej.annotation_selector.is_some())
            && meta_matches(rej, r)?
        {
            return Ok(false);
        }
        let names_an_id = [
            &rej.group,
            &rej.version,
            &rej.kind,
            &rej.name,
            &rej.namespace,
        ]
        .iter()
        .any(|f| f.as_deref().is_some_and(|w| !w.is_empty()));
        if names_an_id && id_selects(rej, r) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::kustomize::resource::{set, test_resource, text};

    #[test]
    fn a_plain_pattern_matches_the_whole_value_only() {
        for (pattern, value, matches) in [
            ("web", "web", true),
            ("web", "web-1", false),
            ("web", "my-web", false),
            ("", "", true),
            ("", "web", false),
            ("web", "web\n", false),
            ("a.c", "abc", true),
            ("a.c", "a.c", true),
            ("we(b|x)", "wex", true),
            ("Deploy.*", "Deployment", true),
        ] {
            assert_eq!(
                full_match(pattern, value),
                Ok(matches),
                "{pattern} ~ {value:?}"
            );
            let anchored = super::super::patterns::is_match(&format!("^(?:{pattern})$"), value);
            assert_eq!(anchored, Ok(matches), "{pattern} ~ {value:?} as a regex");
        }
    }

    fn web() -> Resource {
        test_resource(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-frontend
  namespace: prod
  labels: {app: web, tier: front, replicas: 3}
  annotations: {team: blue}
",
        )
    }

    fn sel(f: impl FnOnce(&mut Selector)) -> Selector {
        let mut s = Selector::default();
        f(&mut s);
        s
    }

    #[test]
    fn fields_are_anchored_regular_expressions_for_patches() {
        let r = web();
        assert_eq!(
            selects(&sel(|s| s.name = Some("web-.*".into())), &r),
            Ok(true)
        );
        assert_eq!(
            selects(&sel(|s| s.name = Some("web".into())), &r),
            Ok(false)
        );
        assert_eq!(
            selects(&sel(|s| s.name = Some("frontend".into())), &r),
            Ok(false)
        );
        let gvk = sel(|s| {
            s.group = Some("apps".into());
            s.version = Some("v1".into());
            s.kind = Some("Deployment|StatefulSet".into());
            s.namespace = Some("prod".into());
        });
        assert_eq!(selects(&gvk, &r), Ok(true));
        assert_eq!(
            selects(&sel(|s| s.group = Some("batch".into())), &r),
            Ok(false)
        );
        // An empty field selects everything, like an unset one.
        assert_eq!(
            selects(&sel(|s| s.kind = Some(String::new())), &r),
            Ok(true)
        );
        assert!(selects(&sel(|s| s.name = Some("(".into())), &r).is_err());
    }

    #[test]
    fn patch_targets_match_the_original_or_current_name_and_effective_namespace() {
        let mut r = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
        r.set_name("b-a");
        set(r.metadata(), "namespace", text("basens"));
        let by = |name: &str, ns: &str| {
            selects(
                &sel(|s| {
                    s.name = Some(name.into());
                    s.namespace = Some(ns.into());
                }),
                &r,
            )
        };
        assert_eq!(
            by("a", "default"),
            Ok(true),
            "loaded name, loaded (unset) namespace"
        );
        assert_eq!(by("b-a", "basens"), Ok(true));
        assert_eq!(
            by("a", "basens"),
            Ok(true),
            "either name with either namespace"
        );
        assert_eq!(by("x", "basens"), Ok(false));
        assert_eq!(by("a", "other"), Ok(false));
    }

    #[test]
    fn replacements_match_any_id_exactly() {
        let mut r = web();
        assert!(!id_selects(&sel(|s| s.name = Some("web-.*".into())), &r));
        assert!(id_selects(
            &sel(|s| s.name = Some("web-frontend".into())),
            &r
        ));
        // After a prefix and a namespace change, the earlier ids still select the object
        // (kustomize's previous ids, with `default` for an unset namespace).
        r.store_previous_id();
        r.set_name("p-web-frontend");
        let old = |ns: &str| {
            sel(|s| {
                s.name = Some("web-frontend".into());
                s.namespace = Some(ns.into());
            })
        };
        assert!(id_selects(&old("prod"), &r));
        assert!(!id_selects(&old("default"), &r));
        let reject = [old("prod")];
        assert_eq!(target_selects(None, &reject, &r), Ok(false));
        assert_eq!(target_selects(Some(&old("prod")), &[], &r), Ok(true));
    }

    #[test]
    fn label_selectors_with_equality_and_sets() {
        let r = web();
        let labels = |ls: &str| selects(&sel(|s| s.label_selector = Some(ls.into())), &r);
        assert_eq!(labels("app=web"), Ok(true));
        assert_eq!(labels("app==web,tier=front"), Ok(true));
        assert_eq!(labels("app=web,tier=back"), Ok(false));
        assert_eq!(labels("app!=api"), Ok(true));
        assert_eq!(labels("app!=web"), Ok(false));
        assert_eq!(labels("tier in (back, front)"), Ok(true));
        assert_eq!(labels("tier in (back)"), Ok(false));
        assert_eq!(labels("tier notin (front)"), Ok(false));
        assert_eq!(labels("env notin (prod)"), Ok(true));
        assert_eq!(labels("app,!env"), Ok(true));
        assert_eq!(labels("env"), Ok(false));
        assert_eq!(labels("!app"), Ok(false));
        assert_eq!(labels("replicas>2"), Ok(true));
        assert_eq!(labels("replicas<2"), Ok(false));
        assert!(labels("tier in back").is_err());
        assert!(labels("replicas>x").is_err());
        assert!(labels("a b").is_err());
    }

    #[test]
    fn annotation_selectors_read_annotations_not_labels() {
        let r = web();
        let ann = |a: &str| selects(&sel(|s| s.annotation_selector = Some(a.into())), &r);
        assert_eq!(ann("team=blue"), Ok(true));
        assert_eq!(ann("team in (red,green)"), Ok(false));
        assert_eq!(ann("app=web"), Ok(false));
        let both = sel(|s| {
            s.label_selector = Some("app=web".into());
            s.annotation_selector = Some("team=red".into());
        });
        assert_eq!(selects(&both, &r), Ok(false));
    }

    #[test]
    fn an_object_without_labels_matches_only_negative_requirements() {
        let r = test_resource("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        let labels = |ls: &str| selects(&sel(|s| s.label_selector = Some(ls.into())), &r);
        assert_eq!(labels("app=web"), Ok(false));
        assert_eq!(labels("!app"), Ok(true));
        assert_eq!(labels("app notin (web)"), Ok(true));
    }
}
