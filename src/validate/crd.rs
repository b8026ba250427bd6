//! CustomResourceDefinitions as schemas: each served version's `openAPIV3Schema` (a structural
//! OpenAPI v3 schema) becomes a JSON Schema for `<group>/<version>` `<kind>`.

use serde_json::{Map, Value, json};

/// One custom resource schema a CRD defines.
#[derive(Debug, Clone, PartialEq)]
pub struct CrdSchema {
    pub api_version: String,
    pub kind: String,
    pub schema: Value,
}

/// The schemas of a `CustomResourceDefinition` object (`apiextensions.k8s.io/v1`, or the
/// legacy `v1beta1` with `spec.validation`); empty for anything else.
pub fn schemas_of(crd: &Value) -> Vec<CrdSchema> {
    if crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return Vec::new();
    }
    let spec = &crd["spec"];
    let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str()) else {
        return Vec::new();
    };
    let shared = &spec["validation"]["openAPIV3Schema"];
    let mut versions: Vec<(&str, &Value)> = Vec::new();
    if let Value::Array(list) = &spec["versions"] {
        for v in list {
            if let Some(name) = v["name"].as_str() {
                let schema = match &v["schema"]["openAPIV3Schema"] {
                    Value::Null => shared,
                    s => s,
                };
                versions.push((name, schema));
            }
        }
    }
    // The legacy single `spec.version` (apiextensions v1beta1) may repeat one of `versions`.
    if let Some(v) = spec["version"].as_str()
        && !versions.iter().any(|(name, _)| *name == v)
    {
        versions.push((v, shared));
    }
    versions
        .into_iter()
        .filter(|(_, schema)| schema.is_object())
        .map(|(version, schema)| CrdSchema {
            api_version: format!("{group}/{version}"),
            kind: kind.to_owned(),
            schema: to_json_schema(schema, true),
        })
        .collect()
}

/// Converts a structural OpenAPI v3 schema to JSON Schema: `nullable` becomes a `null` type,
/// `x-kubernetes-int-or-string` a string-or-integer type; at the top, `apiVersion`, `kind`
/// and `metadata` are declared (CRD schemas often leave them out, and strict mode would
/// otherwise call them unknown).
pub fn to_json_schema(s: &Value, top: bool) -> Value {
    let Value::Object(m) = s else {
        return s.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let v = match k.as_str() {
            "properties" | "patternProperties" | "definitions" | "$defs" => match v {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, p)| (name.clone(), to_json_schema(p, false)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" if v.is_object() => to_json_schema(v, false),
            "allOf" | "anyOf" | "oneOf" => match v {
                Value::Array(a) => {
                    Value::Array(a.iter().map(|x| to_json_schema(x, false)).collect())
                }
                other => other.clone(),
            },
            "nullable" | "x-kubernetes-int-or-string" => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    if m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        out.insert("type".into(), json!(["integer", "string"]));
        // The structural form spells the same thing as anyOf; the type says it already.
        out.remove("anyOf");
    }
    if m.get("nullable") == Some(&Value::Bool(true)) {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(ts)) if !ts.contains(&json!("null")) => ts.push(json!("null")),
            _ => {}
        }
    }
    if top {
        let props = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            for (k, schema) in [
                ("apiVersion", json!({"type": "string"})),
                ("kind", json!({"type": "string"})),
                ("metadata", json!({"type": "object"})),
            ] {
                props.entry(k).or_insert(schema);
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_become_schemas_with_nullable_and_int_or_string() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced",
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {"type": "object", "properties": {
                            "size": {"type": "integer"},
                            "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                            "note": {"type": "string", "nullable": true}
                        }}}
                    }}},
                    {"name": "v2", "served": true, "storage": false}
                ]
            }
        });
        let s = schemas_of(&crd);
        assert_eq!(s.len(), 1, "v2 has no schema");
        assert_eq!(s[0].api_version, "example.com/v1");
        assert_eq!(s[0].kind, "Widget");
        let spec = &s[0].schema["properties"]["spec"]["properties"];
        assert_eq!(spec["port"]["type"], json!(["integer", "string"]));
        assert_eq!(spec["note"]["type"], json!(["string", "null"]));
        assert_eq!(s[0].schema["properties"]["kind"], json!({"type": "string"}));
        assert!(schemas_of(&json!({"kind": "ConfigMap"})).is_empty());
    }
}
