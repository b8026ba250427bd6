//! CEL validation rules (`x-kubernetes-validations`) of CRD and built-in schemas, evaluated
//! as the API server does at create time: each rule with `self` bound to the value of the
//! field it is declared on; a rule that is false rejects the object with its `message`.
//!
//! Transition rules (those reading `oldSelf`) only run on updates, so they do not apply to a
//! manifest. A rule the embedded interpreter cannot run (a Kubernetes CEL extension it
//! lacks) is reported as such, never passed silently.

use serde_json::Value;

use super::{Problem, SCHEMA_INVALID, display_path, escape};
pub use crate::model::rules::CEL_UNEVALUATED;

/// Follows local `$ref`s (`#/$defs/...`) within `doc`.
fn resolve<'a>(doc: &'a Value, mut s: &'a Value) -> &'a Value {
    for _ in 0..64 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => s = target,
                None => return s,
            },
            None => return s,
        }
    }
    s
}

/// Every CEL problem of `instance` against the schema `doc`.
pub(super) fn check(doc: &Value, instance: &Value, out: &mut Vec<Problem>) {
    walk(doc, doc, instance, instance, "", out);
}

fn walk(
    doc: &Value,
    schema: &Value,
    root: &Value,
    value: &Value,
    pointer: &str,
    out: &mut Vec<Problem>,
) {
    let schema = resolve(doc, schema);
    if value.is_null() {
        return;
    }
    if let Some(Value::Array(rules)) = schema.get("x-kubernetes-validations") {
        for rule in rules {
            evaluate(rule, root, &CelSelf { doc, schema, value }, pointer, out);
        }
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for s in all {
            walk(doc, s, root, value, pointer, out);
        }
    }
    match value {
        Value::Object(fields) => {
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in fields {
                let sub = props
                    .and_then(|p| p.get(k))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    walk(doc, sub, root, v, &format!("{pointer}/{}", escape(k)), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items").filter(|i| i.is_object()) {
                for (i, v) in items.iter().enumerate() {
                    walk(doc, sub, root, v, &format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// The value a rule's `self` is bound to, with the schema it was declared on.
struct CelSelf<'a> {
    doc: &'a Value,
    schema: &'a Value,
    value: &'a Value,
}

/// CEL's reserved words: a property with one of these names is read as `__name__` in a rule.
const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// A declared property's name as Kubernetes CEL exposes it: reserved words become
/// `__word__`, and `__`, `.`, `-`, `/` are spelled `__underscores__`, `__dot__`, `__dash__`,
/// `__slash__` (the escaping of the Kubernetes CEL docs).
fn escape_property(name: &str) -> String {
    if RESERVED.contains(&name) {
        return format!("__{name}__");
    }
    name.replace("__", "__underscores__")
        .replace('.', "__dot__")
        .replace('-', "__dash__")
        .replace('/', "__slash__")
}

/// `value` with the names of the properties its schema declares escaped, at every depth
/// (map keys of `additionalProperties` are data and stay as they are).
fn escaped(doc: &Value, schema: &Value, value: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    match value {
        Value::Object(fields) if depth < 64 => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            fields
                .iter()
                .map(|(k, v)| match (props.and_then(|p| p.get(k)), extra) {
                    (Some(sub), _) => (escape_property(k), escaped(doc, sub, v, depth + 1)),
                    (None, Some(sub)) => (k.clone(), escaped(doc, sub, v, depth + 1)),
                    (None, None) => (k.clone(), v.clone()),
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        }
        Value::Array(items) if depth < 64 => {
            let sub = schema.get("items").filter(|i| i.is_object());
            items
                .iter()
                .map(|v| sub.map_or_else(|| v.clone(), |s| escaped(doc, s, v, depth + 1)))
                .collect::<Vec<_>>()
                .into()
        }
        _ => value.clone(),
    }
}

fn evaluate(rule: &Value, root: &Value, this: &CelSelf<'_>, pointer: &str, out: &mut Vec<Problem>) {
    let Some(expr) = rule.get("rule").and_then(Value::as_str) else {
        return;
    };
    if expr.contains("oldSelf") {
        return;
    }
    // `fieldPath` (`.spec.replicas`) narrows where the message points.
    let at = match rule.get("fieldPath").and_then(Value::as_str) {
        Some(fp) if fp.starts_with('.') => {
            let rel: String = fp
                .split('.')
                .skip(1)
                .map(|s| format!("/{}", escape(s)))
                .collect();
            format!("{pointer}{rel}")
        }
        _ => pointer.to_owned(),
    };
    let path = display_path(root, &at);
    let unevaluated = |why: String| Problem {
        rule: CEL_UNEVALUATED,
        pointer: at.clone(),
        message: format!("{path}: CEL rule `{expr}` was not evaluated: {why}"),
    };
    let program = match cel::Program::compile(expr) {
        Ok(p) => p,
        Err(e) => {
            out.push(unevaluated(format!("it does not parse ({e})")));
            return;
        }
    };
    let mut ctx = cel::Context::default();
    // Escaped names only matter to a rule that spells one (they all hold `__`).
    let view;
    let value = if expr.contains("__") {
        view = escaped(this.doc, this.schema, this.value, 0);
        &view
    } else {
        this.value
    };
    let self_value = match cel::to_value(value) {
        Ok(v) => v,
        Err(e) => {
            out.push(unevaluated(e.to_string()));
            return;
        }
    };
    ctx.add_variable_from_value("self", self_value);
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(true)) => {}
        Ok(cel::Value::Bool(false)) => {
            let message = rule
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| format!("failed rule: {expr}"), str::to_owned);
            out.push(Problem {
                rule: SCHEMA_INVALID,
                pointer: at.clone(),
                message: format!("{path}: {message}"),
            });
        }
        Ok(other) => out.push(unevaluated(format!("it returned {other:?}, not a boolean"))),
        Err(e) => {
            let text = e.to_string();
            // The API server fails the rule when it reads a field the object lacks.
            if text.contains("No such key") {
                out.push(Problem {
                    rule: SCHEMA_INVALID,
                    pointer: at.clone(),
                    message: format!("{path}: CEL rule `{expr}` fails: {text}"),
                });
            } else {
                out.push(unevaluated(text));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(schema: Value, instance: Value) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        check(&schema, &instance, &mut out);
        out.into_iter()
            .map(|p| (p.rule.to_owned(), p.pointer, p.message))
            .collect()
    }

    #[test]
    fn rules_run_with_self_bound_to_their_field() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
                {"rule": "self.name.startsWith('app-')", "fieldPath": ".name"},
                {"rule": "self.minReplicas == oldSelf.minReplicas"}
            ],
            "properties": {"tags": {"type": "array", "items": {"type": "string",
                "x-kubernetes-validations": [{"rule": "size(self) <= 5", "message": "tags are at most 5 characters"}]}}}
        }}});
        let good =
            json!({"spec": {"minReplicas": 1, "maxReplicas": 3, "name": "app-web", "tags": ["a"]}});
        assert_eq!(run(schema.clone(), good), vec![]);
        let bad = json!({"spec": {"minReplicas": 5, "maxReplicas": 3, "name": "web", "tags": ["ok", "toolong"]}});
        assert_eq!(
            run(schema, bad),
            vec![
                (
                    "schema-invalid".into(),
                    "/spec".into(),
                    "spec: minReplicas must not exceed maxReplicas".into()
                ),
                (
                    "schema-invalid".into(),
                    "/spec/name".into(),
                    "spec.name: failed rule: self.name.startsWith('app-')".into()
                ),
                (
                    "schema-invalid".into(),
                    "/spec/tags/1".into(),
                    "spec.tags[1]: tags are at most 5 characters".into()
                ),
            ]
        );
    }

    #[test]
    fn reserved_property_names_are_read_escaped() {
        // Gateway API's parentRefs rule compares `__namespace__` of two references.
        let schema = json!({"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "namespace": {"type": "string"}}},
            "x-kubernetes-validations": [{"rule": "self.all(p, has(p.__namespace__) ? p.__namespace__ != 'x' : true)", "message": "not x"}]});
        assert_eq!(
            run(schema.clone(), json!([{"name": "a", "namespace": "y"}])),
            vec![]
        );
        let bad = run(schema, json!([{"name": "a", "namespace": "x"}]));
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].2, "(object): not x");
        assert_eq!(escape_property("a-b.c/d"), "a__dash__b__dot__c__slash__d");
    }

    #[test]
    fn rules_the_interpreter_cannot_run_are_reported_not_passed() {
        let schema = json!({"x-kubernetes-validations": [{"rule": "self.x.frobnicate()"}]});
        let got = run(schema, json!({"x": "y"}));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, CEL_UNEVALUATED);
    }
}
