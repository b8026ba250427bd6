//! kustomize's default output order ("legacy" sort, `SortOrderTransformer.go`): kinds in
//! `ORDER_FIRST` first, in that order; kinds in `ORDER_LAST` last; every other kind between
//! them by group/version/kind; ties broken by `Kind.version.group|namespace|name`.

use std::cmp::Ordering;

const ORDER_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const ORDER_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The identity kustomize sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResId<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

fn type_order(kind: &str, first: &[&str], last: &[&str]) -> i32 {
    if let Some(i) = first.iter().position(|k| *k == kind) {
        return i as i32 - first.len() as i32;
    }
    if let Some(i) = last.iter().position(|k| *k == kind) {
        return 1 + i as i32;
    }
    0
}

/// The key of kustomize's `Gvk.IsLessThan` (the order `TransformerConfig` keeps its field
/// specs in): the kind's place in the legacy order, then `group_version_kind` with `~G`,
/// `~V`, `~K` standing for an empty part (so unset parts sort after set ones).
pub fn gvk_sort_key(group: &str, version: &str, kind: &str) -> (i32, String) {
    let or = |s: &str, empty: &str| {
        if s.is_empty() {
            empty.to_owned()
        } else {
            s.to_owned()
        }
    };
    (
        type_order(kind, &ORDER_FIRST, &ORDER_LAST),
        format!(
            "{}_{}_{}",
            or(group, "~G"),
            or(version, "~V"),
            or(kind, "~K")
        ),
    )
}

fn group_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn or<'a>(s: &'a str, placeholder: &'a str) -> &'a str {
    if s.is_empty() { placeholder } else { s }
}

/// `legacyGVKSortString`: `group_version_kind` with `~G`, `~V`, `~K` for empty parts.
fn gvk_sort_string(id: &ResId<'_>) -> String {
    let (g, v) = group_version(id.api_version);
    format!("{}_{}_{}", or(g, "~G"), or(v, "~V"), or(id.kind, "~K"))
}

/// `legacyResIDSortString`: `Kind.version.group|namespace|name` with placeholders.
fn id_sort_string(id: &ResId<'_>) -> String {
    let (g, v) = group_version(id.api_version);
    format!(
        "{}.{}.{}|{}|{}",
        or(id.kind, "[noKind]"),
        or(v, "[noVer]"),
        or(g, "[noGrp]"),
        or(id.namespace, "~X"),
        or(id.name, "~N")
    )
}

/// Compares two resources in kustomize's legacy output order.
pub fn legacy_cmp(a: &ResId<'_>, b: &ResId<'_>) -> Ordering {
    legacy_cmp_with(a, b, &ORDER_FIRST, &ORDER_LAST)
}

/// The legacy order with the kinds to put first and last given (`sortOptions:
/// legacySortOptions`), as kustomize's `SortOrderTransformer` compares.
pub fn legacy_cmp_with(a: &ResId<'_>, b: &ResId<'_>, first: &[&str], last: &[&str]) -> Ordering {
    let same_gvk = group_version(a.api_version) == group_version(b.api_version) && a.kind == b.kind;
    if !same_gvk {
        let (ta, tb) = (
            type_order(a.kind, first, last),
            type_order(b.kind, first, last),
        );
        if ta != tb {
            return ta.cmp(&tb);
        }
        // kustomize puts a core-group Namespace after Namespaces of other groups.
        let core = |id: &ResId<'_>| group_version(id.api_version).0.is_empty();
        if a.kind == "Namespace" && b.kind == "Namespace" && (core(a) || core(b)) {
            return gvk_sort_string(b).cmp(&gvk_sort_string(a));
        }
        return gvk_sort_string(a).cmp(&gvk_sort_string(b));
    }
    id_sort_string(a).cmp(&id_sort_string(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id<'a>(api_version: &'a str, kind: &'a str, name: &'a str) -> ResId<'a> {
        ResId {
            api_version,
            kind,
            namespace: "",
            name,
        }
    }

    #[test]
    fn kinds_first_last_and_between() {
        let mut ids = [
            id(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "v",
            ),
            id("apps/v1", "Deployment", "b"),
            id("example.com/v1", "Widget", "w"),
            id("v1", "Service", "s"),
            id("apps/v1", "Deployment", "a"),
            id("v1", "Namespace", "n"),
            id("batch/v1", "Job", "j"),
        ];
        ids.sort_by(legacy_cmp);
        let names: Vec<&str> = ids.iter().map(|i| i.name).collect();
        assert_eq!(names, ["n", "s", "a", "b", "j", "w", "v"]);
    }
}
