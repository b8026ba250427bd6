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
    // Joined, not `format!`ed: a cluster makes two keys for each of a thousand objects.
    [or(g, "~G"), or(v, "~V"), or(id.kind, "~K")].join("_")
}

/// `legacyResIDSortString`: `Kind.version.group|namespace|name` with placeholders.
fn id_sort_string(id: &ResId<'_>) -> String {
    let (g, v) = group_version(id.api_version);
    let gvk = [or(id.kind, "[noKind]"), or(v, "[noVer]"), or(g, "[noGrp]")].join(".");
    [gvk.as_str(), or(id.namespace, "~X"), or(id.name, "~N")].join("|")
}

/// Compares two resources in kustomize's legacy output order.
pub fn legacy_cmp(a: &ResId<'_>, b: &ResId<'_>) -> Ordering {
    legacy_cmp_with(a, b, &ORDER_FIRST, &ORDER_LAST)
}

/// The legacy order with the kinds to put first and last given (`sortOptions:
/// legacySortOptions`), as kustomize's `SortOrderTransformer` compares.
pub fn legacy_cmp_with(a: &ResId<'_>, b: &ResId<'_>, first: &[&str], last: &[&str]) -> Ordering {
    LegacyKey::new(a, first, last).cmp(&LegacyKey::new(b, first, last))
}

/// What the legacy order compares of a resource, computed once per resource: sorting a
/// cluster root's thousand objects built two strings per comparison (4% of a `kgate diff`).
#[derive(Debug, PartialEq, Eq)]
pub struct LegacyKey {
    /// Group, version and kind.
    gvk: (String, String, String),
    type_order: i32,
    /// `legacyGVKSortString`.
    gvk_string: String,
    /// `legacyResIDSortString`.
    id_string: String,
}

impl LegacyKey {
    /// `id`'s key, with the kinds to put first and last.
    pub fn new(id: &ResId<'_>, first: &[&str], last: &[&str]) -> LegacyKey {
        let (g, v) = group_version(id.api_version);
        LegacyKey {
            gvk: (g.to_owned(), v.to_owned(), id.kind.to_owned()),
            type_order: type_order(id.kind, first, last),
            gvk_string: gvk_sort_string(id),
            id_string: id_sort_string(id),
        }
    }

    /// `id`'s key in the default order.
    pub fn default_order(id: &ResId<'_>) -> LegacyKey {
        LegacyKey::new(id, &ORDER_FIRST, &ORDER_LAST)
    }
}

impl Ord for LegacyKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self, other);
        if a.gvk != b.gvk {
            if a.type_order != b.type_order {
                return a.type_order.cmp(&b.type_order);
            }
            // kustomize puts a core-group Namespace after Namespaces of other groups.
            let namespace = |k: &LegacyKey| k.gvk.2 == "Namespace";
            let core = |k: &LegacyKey| k.gvk.0.is_empty();
            if namespace(a) && namespace(b) && (core(a) || core(b)) {
                return b.gvk_string.cmp(&a.gvk_string);
            }
            return a.gvk_string.cmp(&b.gvk_string);
        }
        a.id_string.cmp(&b.id_string)
    }
}

impl PartialOrd for LegacyKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
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
