//! The Kubernetes OpenAPI schema kustomize merges with: v1.21.2, the version kyaml (kustomize
//! v5.5) compiles in, reduced by `openapi/generate.py` to what strategic merge reads (types,
//! `$ref`s, `items`, `additionalProperties` and the patch-strategy extensions).
//!
//! The lookups mirror kyaml's `openapi.ResourceSchema` (`SchemaForResourceType`, `Field`,
//! `Elements`, `PatchStrategyAndKeyList`), so a kind or field kustomize has no schema for
//! (a CRD, `autoscaling/v2`, which is newer than 1.21) has none here either and its lists are
//! replaced rather than merged, exactly as `kubectl kustomize` does.
//!
//! A kustomization's `openapi: {path: schema.json}` swaps in a custom schema for the rest of
//! the build, as kyaml's global `SetSchema` does: the first kustomization of the build (the
//! root, then in the order they are accumulated) that names one sets it. kyaml parses its
//! built-in schema on the first lookup only, so a custom schema set before any strategic
//! merge replaces the Kubernetes types (their lists are replaced too), while one set after
//! a merge has looked a type up is added on top of them. The state lives per thread: one
//! build runs on one thread ([`begin_build`]).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use crate::yaml::{self, LoadLimits, Node, Value};

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
struct Document {
    gvk: BTreeMap<String, String>,
    definitions: BTreeMap<String, Schema>,
}

const BUILTIN: &str = include_str!("openapi/kubernetes-v1.21.2.json");

/// The whole built-in document, parsed: only for a custom schema laid over it.
fn builtin() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(BUILTIN)
            .expect("the vendored OpenAPI subset is valid JSON (checked by a unit test)")
    })
}

/// The built-in document indexed: its kinds' definition names parsed, each definition parsed
/// when first asked for. A run patches a few kinds, which reach a tenth of the ~600
/// definitions; parsing them all was ~7 M instructions (and ~300 page faults) of every run
/// that applies a strategic-merge patch.
struct Indexed {
    gvk: BTreeMap<String, String>,
    definitions: HashMap<String, (std::ops::Range<usize>, OnceLock<Schema>)>,
}

fn indexed() -> &'static Indexed {
    use crate::yaml::json_members::object_members;
    static INDEX: OnceLock<Indexed> = OnceLock::new();
    INDEX.get_or_init(|| {
        let gvk = object_members(BUILTIN, "\"gvk\":")
            .into_iter()
            .filter_map(|(key, range)| Some((key, serde_json::from_str(&BUILTIN[range]).ok()?)))
            .collect();
        let definitions = object_members(BUILTIN, "\"definitions\":")
            .into_iter()
            .map(|(name, range)| (name, (range, OnceLock::new())))
            .collect();
        Indexed { gvk, definitions }
    })
}

/// The definition `name` of the schema in force for this thread's build.
fn definition(name: &str) -> Option<&'static Schema> {
    if let Some(doc) = build_state().custom {
        return doc.definitions.get(name);
    }
    let (range, parsed) = indexed().definitions.get(name)?;
    Some(parsed.get_or_init(|| {
        serde_json::from_str(&BUILTIN[range.clone()]).expect(
            "the vendored OpenAPI subset's definitions are schemas (checked by a unit test)",
        )
    }))
}

/// The schema state of the build running on this thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildSchema {
    /// The custom schema in force (with or without the built-in types under it).
    custom: Option<&'static Document>,
    /// Lookups of the built-in schema so far (kyaml has parsed it once this is non-zero).
    pub builtin_lookups: u64,
}

impl BuildSchema {
    /// Whether a custom schema is in force.
    pub fn has_custom(&self) -> bool {
        self.custom.is_some()
    }
}

thread_local! {
    static BUILD: Cell<BuildSchema> = Cell::new(BuildSchema::default());
}

/// Starts a build on this thread: the built-in schema, not yet looked up.
pub fn begin_build() {
    BUILD.with(|b| b.set(BuildSchema::default()));
}

/// The schema state of this thread's build.
pub fn build_state() -> BuildSchema {
    BUILD.with(Cell::get)
}

/// Puts back a state [`build_state`] gave (what an abandoned attempt changed is undone).
pub fn restore_build(state: BuildSchema) {
    BUILD.with(|b| b.set(state));
}

/// Records that a memoized part of the build looked the built-in schema up.
pub fn note_builtin_lookup() {
    BUILD.with(|b| {
        let mut s = b.get();
        s.builtin_lookups += 1;
        b.set(s);
    });
}

/// kyaml's `SetSchema` for one kustomization's `openapi` field: `version` (only the built-in
/// v1.21.2 exists) or the text of the `path` file. Nothing changes once a custom schema is
/// in force.
pub fn set_schema(version: Option<&str>, custom: Option<&str>) -> Result<(), String> {
    let state = build_state();
    if state.custom.is_some() {
        return Ok(());
    }
    match (version, custom) {
        (Some(_), Some(_)) => {
            Err("builtin version and custom schema provided, cannot use both".to_owned())
        }
        (Some(v), None) if !v.is_empty() && v != "v1.21.2" => {
            Err("the specified OpenAPI version is not built in".to_owned())
        }
        (_, None) => Ok(()),
        (None, Some(text)) => {
            let doc = custom_document(text, state.builtin_lookups > 0)?;
            BUILD.with(|b| {
                b.set(BuildSchema {
                    custom: Some(doc),
                    ..state
                })
            });
            Ok(())
        }
    }
}

/// The document of a custom schema (on top of the built-in one when `with_builtin`), parsed
/// once per distinct text and kept for the life of the process.
fn custom_document(text: &str, with_builtin: bool) -> Result<&'static Document, String> {
    static DOCS: OnceLock<Mutex<HashMap<(String, bool), &'static Document>>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (text.to_owned(), with_builtin);
    if let Some(d) = docs.lock().ok().and_then(|d| d.get(&key).copied()) {
        return Ok(d);
    }
    let mut doc = if with_builtin {
        builtin().clone()
    } else {
        Document {
            gvk: BTreeMap::new(),
            definitions: BTreeMap::new(),
        }
    };
    parse_swagger(text, &mut doc)?;
    let leaked: &'static Document = Box::leak(Box::new(doc));
    if let Ok(mut d) = docs.lock() {
        d.insert(key, leaked);
    }
    Ok(leaked)
}

/// Adds the `definitions` of an OpenAPI (swagger 2) document, JSON or YAML, to `doc`.
fn parse_swagger(text: &str, doc: &mut Document) -> Result<(), String> {
    let (docs, err) = yaml::parse_documents(text, LoadLimits::default());
    if let Some(e) = err {
        return Err(format!("invalid schema file: {e}"));
    }
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Ok(());
    };
    if !matches!(root.value, Value::Map(_) | Value::Null) {
        return Err("invalid schema file: the schema must be a mapping".to_owned());
    }
    let Some(Value::Map(defs)) = root.get("definitions").map(|d| &d.value) else {
        return Ok(());
    };
    for d in defs {
        if let Some(Value::Seq(gvks)) = d
            .value
            .get("x-kubernetes-group-version-kind")
            .map(|g| &g.value)
        {
            for g in gvks {
                let part = |k: &str| g.get(k).and_then(Node::as_str).unwrap_or("").to_owned();
                let (group, version, kind) = (part("group"), part("version"), part("kind"));
                let api = if group.is_empty() {
                    version
                } else {
                    format!("{group}/{version}")
                };
                doc.gvk.insert(format!("{api}|{kind}"), d.key.clone());
            }
        }
        doc.definitions.insert(d.key.clone(), compact(&d.value));
    }
    Ok(())
}

/// The parts of a schema strategic merge reads (as `openapi/generate.py` keeps them).
fn compact(n: &Node) -> Schema {
    let s = |k: &str| n.get(k).and_then(Node::as_str).map(str::to_owned);
    let sub = |k: &str| {
        n.get(k)
            .filter(|c| matches!(c.value, Value::Map(_)))
            .map(|c| Box::new(compact(c)))
    };
    let properties = match n.get("properties").map(|p| &p.value) {
        Some(Value::Map(props)) => props
            .iter()
            .map(|e| (e.key.clone(), compact(&e.value)))
            .collect(),
        _ => BTreeMap::new(),
    };
    let list_map_keys = match n.get("x-kubernetes-list-map-keys").map(|k| &k.value) {
        Some(Value::Seq(keys)) => Some(
            keys.iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    Schema {
        reference: s("$ref").map(|r| r.trim_start_matches("#/definitions/").to_owned()),
        ty: s("type"),
        strategy: s("x-kubernetes-patch-strategy"),
        merge_key: s("x-kubernetes-patch-merge-key"),
        list_map_keys,
        items: sub("items"),
        additional_properties: sub("additionalProperties"),
        properties,
    }
}

/// Follows `$ref`s to the schema they name; `None` when a reference does not resolve (kyaml
/// then has no schema either).
fn resolve(mut s: &'static Schema) -> Option<&'static Schema> {
    while let Some(r) = &s.reference {
        s = definition(r)?;
    }
    Some(s)
}

/// The schema of a resource type, by `apiVersion` and `kind` as kyaml indexes them (from
/// `x-kubernetes-group-version-kind`).
pub fn for_resource(api_version: &str, kind: &str) -> Option<&'static Schema> {
    if !build_state().has_custom() {
        note_builtin_lookup();
    }
    let key = format!("{api_version}|{kind}");
    let name = match build_state().custom {
        Some(doc) => doc.gvk.get(&key)?,
        None => indexed().gvk.get(&key)?,
    };
    definition(name)
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

    /// The index finds every kind and definition of the built-in document, and each
    /// definition parsed alone is the one the whole document gives.
    #[test]
    fn the_lazy_index_equals_the_whole_document() {
        let (whole, index) = (builtin(), indexed());
        assert_eq!(index.gvk, whole.gvk);
        assert!(whole.definitions.len() > 500, "{}", whole.definitions.len());
        assert_eq!(index.definitions.len(), whole.definitions.len());
        begin_build();
        for (name, schema) in &whole.definitions {
            assert_eq!(definition(name), Some(schema), "{name}");
        }
        assert_eq!(definition("io.k8s.nothing.v1.Nothing"), None);
    }

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

    const CUSTOM: &str = r##"{"definitions": {"v1.Widget": {
        "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
        "properties": {"spec": {"properties": {"parts": {"type": "array",
          "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "id",
          "items": {"$ref": "#/definitions/v1.Part"}}}}}},
      "v1.Part": {"properties": {"id": {"type": "string"}}}}}"##;

    fn parts() -> Option<(&'static str, Vec<String>)> {
        let parts = for_resource("example.com/v1", "Widget")?
            .field("spec")?
            .field("parts")?;
        parts.elements()?.field("id")?;
        let (strategy, keys) = parts.patch_strategy_and_keys();
        Some((
            if strategy == "merge" {
                "merge"
            } else {
                "other"
            },
            keys,
        ))
    }

    #[test]
    fn a_custom_schema_replaces_the_builtin_one_unless_it_was_looked_up() {
        begin_build();
        assert!(parts().is_none());
        assert_eq!(build_state().builtin_lookups, 1);
        // Looked up already: the custom definitions come on top of the built-in ones.
        set_schema(None, Some(CUSTOM)).expect("custom schema");
        assert_eq!(parts(), Some(("merge", vec!["id".to_owned()])));
        assert!(for_resource("apps/v1", "Deployment").is_some());
        // A second schema changes nothing; a fresh build starts from the built-in one.
        set_schema(None, Some("{\"definitions\": {}}")).expect("ignored");
        assert!(parts().is_some());
        begin_build();
        set_schema(None, Some(CUSTOM)).expect("custom schema");
        assert!(parts().is_some());
        assert!(for_resource("apps/v1", "Deployment").is_none());
        begin_build();
        assert_eq!(
            set_schema(Some("v1.20.4"), None),
            Err("the specified OpenAPI version is not built in".to_owned())
        );
        assert!(set_schema(Some("v1.21.2"), None).is_ok());
        assert!(set_schema(Some("v1.21.2"), Some(CUSTOM)).is_err());
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
