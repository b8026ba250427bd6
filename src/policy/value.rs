//! Rendered objects as the policy engine holds them. regorus makes its `Value` from a
//! `serde_json::Value` it owns, through serde's visitor: every object was first copied, then
//! rebuilt key by key with a memory check and an interning lookup per entry (4% of an
//! uncached check, once for the object rules and again for each root's rules across
//! objects). Made here from a reference, each object is converted once per root and shared
//! (regorus values are reference-counted) by both.

use std::collections::BTreeMap;

use regorus::Value;

/// `value` as regorus holds it: what `regorus::Value::from(value.clone())` gives.
pub fn rego_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        // In serde's order: an unsigned integer, a negative one, else a float (JSON has no
        // non-finite number, so every float converts).
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u),
            (None, Some(i), _) => Value::from(i),
            (None, None, Some(f)) if f.is_finite() => Value::from(f),
            _ => Value::Undefined,
        },
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(rego_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (Value::String(k.as_str().into()), rego_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Equal to regorus' own conversion, down to the numbers' kinds and the keys' order.
    #[test]
    fn converts_as_regorus_does() {
        let values = [
            json!(null),
            json!(true),
            json!(0),
            json!(18446744073709551615_u64),
            json!(-9223372036854775808_i64),
            json!(-1),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(""),
            json!("héllo"),
            json!([]),
            json!({}),
            json!({"z": 1, "a": [1, "x", {"b": null, "a": false}], "m": {"": 2.25}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web",
                "labels": {"app": "web"}, "annotations": {}},
                "spec": {"replicas": 3, "template": {"spec": {"containers": [
                    {"name": "a", "image": "nginx:1", "resources": {"limits": {"cpu": "1"}}}]}}}}),
        ];
        for v in values {
            let ours = rego_value(&v);
            let theirs = Value::from(v.clone());
            assert_eq!(ours, theirs, "{v}");
            // The same JSON back, numbers included (`1` stays an integer, `1.5` a float).
            assert_eq!(
                serde_json::to_string(&ours).expect("serializes"),
                serde_json::to_string(&theirs).expect("serializes"),
                "{v}"
            );
        }
    }
}
