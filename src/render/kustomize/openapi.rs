//! The Kubernetes OpenAPI schema kustomize merges with: v1.21.2, the version kyaml (kustomize
//! v5.5) compiles in, reduced by `openapi/generate.py` to what strategic merge reads (types,
//! `$ref`s, `items`, `additionalProperties` and the patch-strategy extensions).
//!
//! The lookups mirror kyaml's `openapi.ResourceSchema` (`SchemaForResourceType`, `Field`,
//! `Elements`, `PatchStrategyAndKeyList`), so a kind or field kustomize has no schema for
//! (a CRD, `autoscaling/v2`, which is newer than 1.21) has none here either and its lists are
//! replaced rather than merged, exactly as `kubectl kustomize` does.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    strategy: Option<String>,
    merge_key: Option<String>,
    list_map_keys: Option<Vec<String>>,
    items: Option<Box<Schema>>,
    additional_properties: Option<Box<Schema>>,
    #[serde(default)]
    properties: BTreeMap<String, Schema>,
}

#[derive(Debug, Deserialize)]
struct Document {
    gvk: BTreeMap<String, String>,
    definitions: BTreeMap<String, Schema>,
}

fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!("openapi/kubernetes-v1.21.2.json"))
            .expect("the vendored OpenAPI subset is valid JSON (checked by a unit test)")
    })
}

/// Follows `$ref`s to the schema they name; `None` when a reference does not resolve (kyaml
/// then has no schema either).
fn resolve(mut s: &'static Schema) -> Option<&'static Schema> {
    while let Some(r) = &s.reference {
        s = document().definitions.get(r)?;
    }
    Some(s)
}

/// The schema of a resource type, by `apiVersion` and `kind` as kyaml indexes them (from
/// `x-kubernetes-group-version-kind`).
pub fn for_resource(api_version: &str, kind: &str) -> Option<&'static Schema> {
    let name = document().gvk.get(&format!("{api_version}|{kind}"))?;
    document().definitions.get(name)
}

impl Schema {
    /// The schema of a field: a declared property, else the value schema of a map type.
    pub fn field(&'static self, name: &str) -> Option<&'static Schema> {
        let s = match self.properties.get(name) {
            Some(s) => s,
            None => self.additional_properties.as_deref()?,
        };
        resolve(s)
    }

    /// The schema of an array's items (`None` unless the type is exactly `array`).
    pub fn elements(&'static self) -> Option<&'static Schema> {
        if self.ty.as_deref() != Some("array") {
            return None;
        }
        resolve(self.items.as_deref()?)
    }

    /// The patch strategy (`""` when unset) and the merge keys: `x-kubernetes-list-map-keys`
    /// when present, else the single `x-kubernetes-patch-merge-key`, else none (a list of
    /// primitives merged by value, like `finalizers`). Only meaningful with a strategy.
    pub fn patch_strategy_and_keys(&self) -> (&str, Vec<String>) {
        let Some(strategy) = self.strategy.as_deref() else {
            return ("", Vec::new());
        };
        if let Some(keys) = &self.list_map_keys {
            return (strategy, keys.clone());
        }
        (strategy, self.merge_key.iter().cloned().collect())
    }

    /// Whether lists of this field merge element by element (`merge` among the strategies).
    pub fn merges_lists(&self) -> bool {
        self.strategy
            .as_deref()
            .is_some_and(|s| s.split(',').any(|p| p == "merge"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name_and_ports_by_port_and_protocol() {
        let pod = for_resource("apps/v1", "Deployment")
            .and_then(|d| d.field("spec"))
            .and_then(|s| s.field("template"))
            .and_then(|t| t.field("spec"))
            .expect("Deployment has a pod template spec");
        let containers = pod.field("containers").expect("containers");
        assert!(containers.merges_lists());
        assert_eq!(containers.patch_strategy_and_keys().1, ["name"]);
        let ports = containers
            .elements()
            .and_then(|c| c.field("ports"))
            .expect("container ports");
        assert_eq!(
            ports.patch_strategy_and_keys(),
            ("merge", vec!["containerPort".into(), "protocol".into()])
        );
        let volumes = pod.field("volumes").expect("volumes");
        assert_eq!(volumes.patch_strategy_and_keys().0, "merge,retainKeys");
        assert!(volumes.merges_lists());
        assert!(
            !pod.field("tolerations")
                .expect("tolerations")
                .merges_lists()
        );
    }

    #[test]
    fn maps_use_their_value_schema_and_unknown_kinds_have_none() {
        let meta = for_resource("v1", "ConfigMap")
            .and_then(|c| c.field("metadata"))
            .expect("metadata");
        assert!(meta.field("finalizers").expect("finalizers").merges_lists());
        assert!(meta.field("labels").and_then(|l| l.field("any")).is_some());
        assert!(for_resource("autoscaling/v2", "HorizontalPodAutoscaler").is_none());
        assert!(for_resource("autoscaling/v2beta2", "HorizontalPodAutoscaler").is_some());
        assert!(for_resource("example.com/v1", "Widget").is_none());
    }
}
