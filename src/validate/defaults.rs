//! Structural defaulting, as the API server applies it to a request before validating it:
//! every field the schema gives a `default` and the object leaves out is filled in, at any
//! depth, so rules written against defaulted objects (a CEL rule reading `self.kind` of a
//! Gateway API `backendRef`, whose `kind` defaults to `Service`) see what the server sees.
//! A `default` is applied only where the object holds the enclosing map, as the server does
//! (a default never creates its parent).

use serde_json::Value;

/// Follows local `$ref`s (`#/$defs/...`) and single-element `allOf` wrappers within `doc`
/// (the Kubernetes OpenAPI wraps referenced types as `allOf: [{$ref}]` beside `default`).
fn resolve<'a>(doc: &'a Value, mut s: &'a Value) -> &'a Value {
    for _ in 0..64 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => s = target,
                None => return s,
            }
        } else if let Some(Value::Array(all)) = s.get("allOf")
            && all.len() == 1
            && s.get("properties").is_none()
        {
            s = &all[0];
        } else {
            return s;
        }
    }
    s
}

/// Whether any schema reachable from `doc` declares a `default` (most do not: then the
/// object is validated as it is, without a copy).
pub(super) fn has_defaults(doc: &Value) -> bool {
    match doc {
        Value::Object(m) => m.iter().any(|(k, v)| k == "default" || has_defaults(v)),
        Value::Array(a) => a.iter().any(has_defaults),
        _ => false,
    }
}

/// Fills in the defaults of `schema` (within `doc`) missing from `value`.
pub(super) fn apply(doc: &Value, schema: &Value, value: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    let schema = resolve(doc, schema);
    match value {
        Value::Object(fields) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                    for v in fields.values_mut() {
                        apply(doc, extra, v, depth + 1);
                    }
                }
                return;
            };
            for (name, sub) in props {
                if !fields.contains_key(name)
                    && let Some(d) = default_of(doc, sub)
                {
                    fields.insert(name.clone(), d.clone());
                }
                if let Some(v) = fields.get_mut(name) {
                    apply(doc, sub, v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items").filter(|i| i.is_object()) {
                for v in items {
                    apply(doc, sub, v, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// A property's `default`, written beside its `$ref` or on the schema it refers to. A null
/// default is no default (the server skips it for non-nullable fields).
fn default_of<'a>(doc: &'a Value, sub: &'a Value) -> Option<&'a Value> {
    sub.get("default")
        .or_else(|| resolve(doc, sub).get("default"))
        .filter(|d| !d.is_null())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn missing_fields_get_their_defaults_at_every_depth_but_parents_are_not_created() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {
                "refs": {"type": "array", "items": {"$ref": "#/$defs/Ref"}},
                "tls": {"type": "object", "properties": {"mode": {"type": "string", "default": "Terminate"}}},
                "port": {"type": "integer", "default": 80}
            }}},
            "$defs": {"Ref": {"type": "object", "properties": {
                "kind": {"type": "string", "default": "Service"},
                "group": {"type": "string", "default": ""},
                "name": {"type": "string"}}}}});
        assert!(has_defaults(&schema));
        let mut v = json!({"spec": {"refs": [{"name": "a"}, {"name": "b", "kind": "Other"}], "port": 8080}});
        apply(&schema, &schema, &mut v, 0);
        assert_eq!(
            v,
            json!({"spec": {"port": 8080, "refs": [
                {"name": "a", "kind": "Service", "group": ""},
                {"name": "b", "kind": "Other", "group": ""}]}})
        );
        assert!(!has_defaults(
            &json!({"properties": {"a": {"type": "string"}}})
        ));
    }
}
